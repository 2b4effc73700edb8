"""The private API cat-devtools still relies on, tried on the newest release on PyPI.

``pyproject.toml`` bounds libcst below the next minor release because
``cat_lint.positions`` subclasses its private ``CodegenState`` (see
tests/lint/test_libcst_internals.py).  The bound keeps users safe; this
test tells us when a newer release exists and whether the internals
still hold on it, so that raising the bound is a decision taken on facts.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from environments import ROOT, pip


def newest(distribution: str) -> str:
    listing = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "index", "versions", distribution],
                             capture_output=True, text=True, timeout=120).stdout
    found = re.search(rf"^{re.escape(distribution)} \(([^)]+)\)", listing, re.M)
    assert found, f"pip index versions {distribution} printed no version:\n{listing}"
    return found.group(1)


def test_the_newest_libcst_release_keeps_what_cat_lint_positions_relies_on(tmp_path: Path):
    latest = newest("libcst")
    if latest == version("libcst"):
        # This test session runs on it: tests/lint/test_libcst_internals.py is the check.
        print(f"libcst {latest}, the newest release, is the one under test")
        return
    env = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    pip("--python", str(env / "bin" / "python"), "install", f"libcst=={latest}", "pytest")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    done = subprocess.run(
        [str(env / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(tmp_path / "pytest.ini"),
         "--rootdir", str(tmp_path), str(ROOT / "tests" / "lint" / "test_libcst_internals.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, (
        f"libcst {latest} (newer than the {version('libcst')} under test) breaks what cat_lint.positions relies on; "
        f"keep the upper bound in pyproject.toml until positions.py is updated:\n{done.stdout[-3000:]}")
