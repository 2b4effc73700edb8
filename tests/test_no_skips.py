"""``CAT_NO_SKIPS=1`` (tests/no_skips.py): skips fail with their reason, expected failures stay expected.

Run on a throwaway test file in a pytest of its own, the way ``.ci/run``
runs the suite, and compared with the same run without the variable.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

DEMO = '''
import pytest

def test_passes():
    pass

def test_skips_in_its_body():
    pytest.skip("no frobnicator here")

@pytest.mark.skipif(True, reason="never on Tuesdays")
def test_skipif():
    pass

@pytest.fixture
def frobnicator():
    pytest.skip("the fixture cannot be had")

def test_skips_in_a_fixture(frobnicator):
    pass

@pytest.mark.xfail(reason="a known bug")
def test_expected_failure():
    assert False
'''


def run(folder: Path, *, no_skips: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CAT_NO_SKIPS"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    if no_skips:
        env["CAT_NO_SKIPS"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no_skips", "-p", "no:cacheprovider", "-q", "-rA", str(folder)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120,
    )


def summary(proc: subprocess.CompletedProcess[str]) -> dict[str, int]:
    last = proc.stdout.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", last)}


def test_skips_fail_with_their_reason_and_xfail_is_untouched(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_demo.py").write_text(DEMO)
    plain = run(tmp_path, no_skips=False)
    assert plain.returncode == 0, plain.stdout
    assert summary(plain) == {"passed": 1, "skipped": 3, "xfailed": 1}, plain.stdout
    strict = run(tmp_path, no_skips=True)
    assert strict.returncode == 1, strict.stdout
    # A skip in the test's body fails; one decided at set-up (skipif, a fixture) errors.
    assert summary(strict) == {"failed": 1, "passed": 1, "xfailed": 1, "errors": 2}, strict.stdout
    for reason in ("no frobnicator here", "never on Tuesdays", "the fixture cannot be had"):
        assert f"CAT_NO_SKIPS=1 makes every skip a failure: {reason}" in strict.stdout, reason


def test_a_module_skipped_at_collection_is_an_error(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_needs.py").write_text(
        'import pytest\n\npytest.importorskip("no_such_module_here")\n\ndef test_x():\n    pass\n')
    assert summary(run(tmp_path, no_skips=False)) == {"skipped": 1}
    strict = run(tmp_path, no_skips=True)
    assert strict.returncode != 0 and "could not import 'no_such_module_here'" in strict.stdout, strict.stdout
    assert summary(strict) == {"error": 1}, strict.stdout
