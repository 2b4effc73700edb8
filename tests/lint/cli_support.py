"""Helpers for the command-line tests: temp projects and the installed ``cat-lint`` script."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

CAT_LINT = Path(sys.executable).parent / "cat-lint"


def make_project(tmp_path: Path, files: dict[str, str], config: str = "") -> Path:
    """A project folder with a ``pyproject.toml`` holding ``[tool.cat-lint]`` plus ``config``."""
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    (project / "pyproject.toml").write_text(f"[tool.cat-lint]\n{config}\n", encoding="utf-8")
    for name, text in files.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return project


def run_cli(args: list[str], cwd: Path, *, env: dict[str, str] | None = None,
            script: Path = CAT_LINT) -> subprocess.CompletedProcess[str]:
    """Run the installed console script; the database is resolved from the project only."""
    environ = {k: v for k, v in os.environ.items() if k not in ("CAT_SQL", "CAT_PROJECT_DIR")}
    environ.update(env or {})
    return subprocess.run([str(script), *args], cwd=cwd, capture_output=True, text=True,
                          env=environ, timeout=120)


def cached_count(proc: subprocess.CompletedProcess[str]) -> tuple[int, int]:
    """(files, from cache) as reported by ``--verbose``."""
    m = re.search(r"cat-lint: (\d+) files, (\d+) from the cache", proc.stderr)
    assert m, proc.stderr
    return int(m.group(1)), int(m.group(2))
