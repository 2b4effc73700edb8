"""Interoperability with the real Cat (``cheshire-cat-ai==2.0.23``), both ways.

The real package lives in a throwaway virtual environment cached outside the
repository (``~/.cache/cat-devtools/cat-2.0.23-py3.X-venv``), built once per
machine (about a minute), reused afterwards.  The Cat's side runs as a
subprocess (``interop/cat_side.py``) that drives only its own database layer
(``cat.db.Store``, ``UserStore``, the Piccolo tables): no web app starts.

1. What our runtime writes, the Cat's own code reads back exactly.
2. What the Cat writes, our runtime reads; with exact types wherever the Cat
   itself kept them, and otherwise exactly what the Cat's own reader gets
   (its NUMERIC-affinity column already turned 9.0 into 9 on disk).
3. After our runtime overwrites or deletes the duplicate rows the Cat's racy
   save leaves behind, the Cat sees the new state.

Never skipped: where pip cannot install the package (no network, no wheel
for this Python), the tests fail with pip's own words, because interop that
was not checked must not pass for interop that works.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import cat
from cat_lint.project.reader import KeyReader
from cat_lint.project.location import parse_url

pytestmark = pytest.mark.slow

CAT_VERSION = "2.0.23"
CAT_SIDE = Path(__file__).parent / "interop" / "cat_side.py"

ALICE = "3f0c6c0e-8e4b-4c3e-9a51-0c1f3b2b7a11"
BOB = str(uuid.uuid5(uuid.NAMESPACE_DNS, "admin"))  # the Cat's admin id

# Written by one side, read by the other.  JSON-representable so the spec file
# carries it to the Cat unchanged (json keeps 9 vs 9.0, big ints, NaN).
GLOBAL_VALUES = {
    "count": 9,
    "ratio": 9.0,
    "negative_zero": -0.0,
    "scientific": 1e16,
    "pi": 3.141592653589793,
    "huge": 2**70,
    "huge_negative": -(2**70),
    "numeric_text": "9",
    "unicode": "gatto ünïcødé 🐱 «»",
    "nul": "before\x00after",
    "empty_text": "",
    "yes": True,
    "no": False,
    "nothing": None,
    "empty_list": [],
    "empty_dict": {},
    "nested": {"a": [1, 2.5, {"b": None, "c": [True, "x"]}], "ü": "x", "n": 2**64},
    "large": "x" * 200_000,
    "settings_core_config_core": {"llm": "default:default"},
}
USER_VALUES = {
    ALICE: {"todos": [{"text": "buy milk", "done": False}], "score": 3.5, "visits": 2, "shared": "alice's"},
    BOB: {"todos": [], "score": 10, "theme": {"color": "dark"}, "shared": "bob's"},
}

# The Cat stores JSON text in a NUMERIC-affinity column, so SQLite converts
# number-looking text on the way in: this is what the Cat's own reader gets.
CAT_COERCED = {"ratio": 9, "negative_zero": 0, "scientific": 10**16, "huge": float(2**70), "huge_negative": -float(2**70)}


# -- the throwaway environment ----------------------------------------------------


def _cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cat-devtools"


@pytest.fixture(scope="session")
def cat_python(request: pytest.FixtureRequest) -> Path:
    """The python of a venv holding ``cheshire-cat-ai``; built once, then cached."""
    root = _cache_root()
    venv = root / f"cat-{CAT_VERSION}-py{sys.version_info.major}.{sys.version_info.minor}-venv"
    python = venv / "bin" / "python"
    ready = venv / ".cat-devtools-ready"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs never build it at once
        if not ready.exists():
            _build(venv, python, ready, request)
    return python


def _build(venv: Path, python: Path, ready: Path, request: pytest.FixtureRequest) -> None:
    shutil.rmtree(venv, ignore_errors=True)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet", f"cheshire-cat-ai=={CAT_VERSION}"],
        capture_output=True, text=True, timeout=1200,
    )
    if install.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        errors = [line for line in install.stderr.strip().splitlines() if not line.startswith("WARNING")]
        tail = " | ".join(errors[-3:]) or f"pip exited with status {install.returncode}"
        pytest.fail(f"cheshire-cat-ai=={CAT_VERSION} cannot be installed here, so interop is not checked: {tail}",
                    pytrace=False)
    seconds = time.monotonic() - started
    ready.write_text(f"cheshire-cat-ai=={CAT_VERSION} installed in {seconds:.0f}s\n")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"interop: installed cheshire-cat-ai=={CAT_VERSION} into {venv} in {seconds:.0f}s (cached for later runs)")


def run_cat(python: Path, project: Path, command: str, spec: dict) -> dict:
    """Run the Cat's side in ``project`` and return what it reports."""
    spec_file, out_file = project / f"{command}-spec.json", project / f"{command}-out.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    done = subprocess.run(
        [str(python), str(CAT_SIDE), command, str(spec_file), str(out_file)],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, f"the Cat's side failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(out_file.read_text(encoding="utf-8"))


def expected(value) -> dict:
    return {"exists": True, "repr": repr(value), "type": type(value).__name__}


@pytest.fixture
def project(tmp_path: Path):
    root = tmp_path / "project"
    (root / "data" / "core").mkdir(parents=True)
    cat.configure(sql=f"sqlite:///{root / 'data/core/core.db'}", project=root)
    yield root
    cat.configure()


# -- 1. ours -> the Cat ---------------------------------------------------------------


async def test_the_cat_reads_back_exactly_what_our_runtime_wrote(cat_python, project):
    for key, value in GLOBAL_VALUES.items():
        await cat.store.save(key, value)
    await cat.store.save("a_tuple", (1, "two"))
    await cat.store.save("int_keys", {1: "one", 2.5: "x"})
    for uid, items in USER_VALUES.items():
        with cat.request_context(uid):
            for key, value in items.items():
                await cat.user.save(key, value)
    await cat.close()

    spec = {"global": {**GLOBAL_VALUES, "a_tuple": None, "int_keys": None}, "users": USER_VALUES}
    seen = run_cat(cat_python, project, "read", spec)

    for key, value in GLOBAL_VALUES.items():
        assert seen["global"][key] == expected(value), key
    assert seen["global"]["a_tuple"] == expected([1, "two"])
    assert seen["global"]["int_keys"] == expected({"1": "one", "2.5": "x"})
    for uid, items in USER_VALUES.items():
        for key, value in items.items():
            assert seen["users"][uid][key] == expected(value), (uid, key)
    # one row per (user, key): the Cat's ORM parses them all, ids included
    assert seen["user_rows"] == sorted([uid, key] for uid, items in USER_VALUES.items() for key in items)


# -- 2. the Cat -> ours ---------------------------------------------------------------


async def test_our_runtime_reads_what_the_cat_wrote(cat_python, project):
    written = run_cat(cat_python, project, "write", {"global": GLOBAL_VALUES, "users": USER_VALUES})

    for key, value in GLOBAL_VALUES.items():
        ours = await cat.store.load(key, "<unset>")
        cat_own = CAT_COERCED.get(key, value)
        # exactly what the Cat's own reader gets...
        assert written["global"][key] == expected(cat_own), key
        assert repr(ours) == repr(cat_own) and type(ours) is type(cat_own), key
        assert await cat.store.exists(key)
    # ...which is the original value, type included, for everything but the coerced numbers
    exact = [k for k in GLOBAL_VALUES if k not in CAT_COERCED]
    for key in exact:
        assert repr(await cat.store.load(key)) == repr(GLOBAL_VALUES[key]), key
    assert len(exact) >= 14

    for uid, items in USER_VALUES.items():
        with cat.request_context(uid):
            for key, value in items.items():
                assert repr(await cat.user.load(key, "<unset>")) == repr(value), (uid, key)
                assert await cat.user.exists(key)
            assert await cat.user.load("missing", "default") == "default"
    with cat.request_context(str(uuid.uuid4())):
        assert await cat.user.load("todos") is None  # isolation: a third user sees nothing

    # the read-only inspector used by cat-store and the linter agrees
    with KeyReader(parse_url(f"sqlite:///{project / 'data/core/core.db'}", project)) as reader:
        assert reader.get("huge_negative") == (True, -float(2**70))
        assert reader.get("shared", ALICE) == (True, "alice's")
        assert sorted(reader.user_ids()) == sorted(USER_VALUES)
    await cat.close()


async def test_a_nan_the_cat_accepted_is_still_readable(cat_python, project):
    run_cat(cat_python, project, "write", {"global": {"not_a_number": math.nan, "inf": math.inf}})
    assert math.isnan(await cat.store.load("not_a_number"))
    assert await cat.store.load("inf") == math.inf
    await cat.close()


# -- 3. both, on the Cat's duplicate rows -----------------------------------------------


async def test_our_writes_over_the_cats_duplicate_rows_are_what_the_cat_then_reads(cat_python, project):
    spec = {"duplicates": {ALICE: {"dup": [1, 2], "gone": ["a", "b"]}}}
    run_cat(cat_python, project, "write", spec)
    with cat.request_context(ALICE):
        assert await cat.user.load("dup") == 2  # the latest row wins
        await cat.user.save("dup", 3)
        assert await cat.user.delete("gone") is True
        assert await cat.user.exists("gone") is False
    await cat.close()

    seen = run_cat(cat_python, project, "read", spec)
    assert seen["users"][ALICE]["dup"] == expected(3)
    assert seen["users"][ALICE]["gone"] == {"exists": False, "repr": "None", "type": "NoneType"}
    assert seen["user_rows"] == [[ALICE, "dup"]]
