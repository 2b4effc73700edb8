"""CAT000 is the same whatever Python from 3.10 runs cat-lint (issue 16).

The compile cases (``compile_cases.py``: what every Python refuses, and each
construct a version added) are linted under every target version by every
interpreter of 3.10 or newer the machine has (pyenv's and /usr/bin's), with
the worktree on ``PYTHONPATH``.  An interpreter without libcst and pathspec
gets them installed from the package index into a folder of its own under
``~/.cache/cat-devtools/lint-pythons`` (the versions this venv has, wheels
only), once: later runs reuse it.  Every interpreter must give exactly this
one's findings, and for a target of its own version, refuse exactly what
that Python's compiler refuses.  The test needs at least two interpreters
of different versions, and says which ran.
"""

from __future__ import annotations

import glob
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CACHE = Path(os.path.expanduser("~/.cache/cat-devtools/lint-pythons"))


def _interpreters() -> dict[tuple[int, int], str]:
    """One interpreter per Python version from 3.10 on: this one, then pyenv's, then /usr/bin's."""
    found: dict[tuple[int, int], str] = {sys.version_info[:2]: sys.executable}
    candidates = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3")))
    candidates += sorted(glob.glob("/usr/bin/python3.[0-9]*"))
    for path in candidates:
        match = re.search(r"3\.(\d+)", Path(path).parent.parent.name if "pyenv" in path else Path(path).name)
        if match is None or not os.access(path, os.X_OK):
            continue
        version = (3, int(match.group(1)))
        if version >= (3, 10) and version not in found:
            found[version] = path
    return found


def _requirements(version: tuple[int, int]) -> list[str]:
    pins = [f"{name}=={importlib.metadata.version(name)}" for name in ("libcst", "pathspec")]
    if version < (3, 11):
        pins.append("tomli")
    return pins


def _site(python: str, version: tuple[int, int]) -> tuple[str | None, str]:
    """A folder to put on PYTHONPATH so that ``python`` imports cat_lint's dependencies (``""``: it has
    them already), or None and why not."""
    probe = "import libcst, pathspec" + (", tomli" if version < (3, 11) else "")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if subprocess.run([python, "-c", probe], env=env, capture_output=True, timeout=120).returncode == 0:
        return "", "its own packages"
    pins = _requirements(version)
    folder = CACHE / (f"py{version[0]}{version[1]}-" + "-".join(p.replace("==", "_") for p in pins))
    if not folder.is_dir():
        CACHE.mkdir(parents=True, exist_ok=True)
        staging = Path(str(folder) + f".tmp{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        proc = subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                               "--only-binary=:all:", "--target", str(staging), *pins],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            return None, f"pip install failed: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}"
        try:
            staging.rename(folder)
        except OSError:  # another run installed it meanwhile
            shutil.rmtree(staging, ignore_errors=True)
    return str(folder), f"packages in {folder}"


def _results(python: str, site: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), site) if p)}
    proc = subprocess.run([python, str(HERE / "compile_cases.py")], env=env, capture_output=True, text=True,
                          timeout=600, cwd=HERE)
    assert proc.returncode == 0, f"{python}: {proc.stderr}"
    return json.loads(proc.stdout)


def _agrees_with_its_own_python(output: dict, name: str) -> None:
    """For a target of the interpreter's own version, CAT000 is what that Python's compiler says."""
    version = output["python"]
    target = f"py{version[0]}{version[1]}"
    wrong = [case for case, accepted in output["compiles"].items()
             if bool(output["results"][f"{case} | {target}"]) == accepted]
    assert not wrong, f"for target {target}, CAT000 disagrees with Python {name} itself on: {wrong}"


def test_cat000_is_the_same_on_every_python_from_3_10(record_property):
    mine = _results(sys.executable, "")
    _agrees_with_its_own_python(mine, sys.executable)
    here = mine["results"]
    ran, skipped = [f"{sys.version_info[0]}.{sys.version_info[1]} ({sys.executable})"], []
    for version, python in sorted(_interpreters().items()):
        if python == sys.executable:
            continue
        site, how = _site(python, version)
        name = f"{version[0]}.{version[1]} ({python})"
        if site is None:
            skipped.append(f"{name}: {how}")
            continue
        output = _results(python, site)
        assert tuple(output["python"][:2]) == version
        _agrees_with_its_own_python(output, name)
        theirs = output["results"]
        differ = {case: (here[case], theirs.get(case)) for case in here if theirs.get(case) != here[case]}
        assert not differ, f"Python {name} finds otherwise than {sys.executable}:\n" + "\n".join(
            f"  {case}: here {mine}, there {other}" for case, (mine, other) in sorted(differ.items()))
        ran.append(f"{name}, {how}")
    record_property("interpreters", "; ".join(ran))
    print("CAT000 compared on: " + "; ".join(ran) + ("; not run: " + "; ".join(skipped) if skipped else ""))
    assert len(ran) >= 2, f"only {ran} could run the compile cases; not run: {skipped}"


@pytest.mark.parametrize("case", ["refused", "newer"])
def test_the_compile_cases_find_what_they_are_about(case):
    """The comparison above would pass on cases that find nothing: each refused case is CAT000 under
    every target, and each construct of a version is refused for the target before it and accepted from it."""
    sys.path.insert(0, str(HERE))
    try:
        import compile_cases
    finally:
        sys.path.remove(str(HERE))
    found = compile_cases.results()
    if case == "refused":
        for name in compile_cases.REFUSED:
            for target in compile_cases.TARGETS:
                assert len(found[f"refused: {name} | {target}"]) == 1, (name, target)
        return
    for version, source in compile_cases.ADDED_IN.items():
        name = next(n for n, s in compile_cases.NEWER_SYNTAX.items() if s == source)
        before, since = f"py3{version[1] - 1}", f"py3{version[1]}"
        assert "(target-version)" in found[f"newer: {name} | {before}"][0][2]
        assert found[f"newer: {name} | {since}"] == []
