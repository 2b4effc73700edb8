"""The extension end to end, in a real VS Code: code-server with the built .vsix
installed, driven by headless Chromium through playwright-core (tests/vscode/e2e.mjs).

Nothing here builds or installs anything: `make vscode-ready` (a prerequisite
of `make test`) builds the .vsix and installs code-server and Chromium into
the cache.  This test copies the example project, runs its demo so that the
database exists, adds a key that no code uses, starts a fresh code-server
with the .vsix installed and runs the nine steps of the script, which saves
a screenshot in the folder it names when a step fails.  With
CAT_README_SCREENSHOT=PATH it also saves the README's screenshot there.
It runs twice: with the Python the extension finds (this machine's 3.11),
and with Debian unstable's CPython 3.15 as cat.interpreter, so on the 3.15
bundle (installed by `make vscode-ready`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vscode_support import EXTENSION, PYTHON_315, SAVE_KEYS, code_server_session, example_project, save_keys

pytestmark = pytest.mark.slow

PLUGIN = "plugins/mistakes_unawaited/wrong.py"
COMPLETION_FILE = "plugins/welcome/probe_completion.py"
DATABASE_ONLY_KEY = "db_only_theme"
NEW_KEY = "saved_from_elsewhere"
USER_KEY = "preferences"  # the demo saves it for one user


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The example project after its demo, plus a key only the database has and a file to type in."""
    folder = example_project(tmp_path / "project")
    save_keys(folder, {DATABASE_ONLY_KEY: {"dark": True, "accent": "purple"}})
    (folder / COMPLETION_FILE).write_text("from cat import store\n\n\nasync def probe():\n    pass\n", encoding="utf-8")
    return folder


def stored(workspace: Path) -> tuple[dict, dict]:
    """The global keys' values, and one per-user key held by one user (key, user id, value)."""
    from cat_lint.project.location import resolve_database
    from cat_lint.project.reader import KeyReader

    with KeyReader(resolve_database(None, workspace)) as reader:
        values = {k.key: reader.get(k.key)[1] for k in reader.global_keys()}
        (user,) = reader.user_ids(USER_KEY)
        return values, {"key": USER_KEY, "user": user, "value": reader.get(USER_KEY, user)[1]}


def python_315(tmp_path: Path) -> tuple[dict, Path]:
    """cat.interpreter for a run on CPython 3.15's bundle: a wrapper that records each start, then runs it.

    The extension starts the server with the probe's ``sys.executable``, so the
    wrapper makes itself that (as install-newest-pythons.sh's own wrapper does),
    naming the standard library's place with PYTHONHOME.
    """
    if not PYTHON_315.is_file():
        pytest.fail(f"{PYTHON_315} is missing: run `make vscode-ready`")
    usr = PYTHON_315.parents[1]
    lib = usr / "lib" / "x86_64-linux-gnu"
    starts = tmp_path / "python-starts.log"
    wrapper = tmp_path / "bin" / "python3.15"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {starts}\nPYTHONHOME={usr} exec {lib}/ld-linux-x86-64.so.2 '
                       f'--library-path {lib} --argv0 "$0" {usr}/bin/python3.15.bin "$@"\n')
    wrapper.chmod(0o755)
    return {"cat.interpreter": str(wrapper)}, starts


@pytest.mark.parametrize("python", ["the default Python", "CPython 3.15"])
def test_extension_in_code_server(workspace: Path, tmp_path: Path, python: str):
    settings, starts = python_315(tmp_path) if python == "CPython 3.15" else ({}, None)
    values, user_key = stored(workspace)
    expect = {
        "plugin": PLUGIN,
        "problems": [["CAT004", 14], ["CAT004", 15]],
        "completionFile": COMPLETION_FILE,
        "completionLine": 5,
        "databaseOnlyKey": DATABASE_ONLY_KEY,
        "quickFix": {"line": 14, "column": 17, "title": "await"},
        "afterQuickFix": [["CAT004", 15]],
        "savedLines": ['previous = await user.load("mistakes_note")', 'await user.save("mistakes_note", text)'],
        "globalKeys": sorted(values),
        "statusText": "Cat: core.db",
        "openKey": DATABASE_ONLY_KEY,
        "openValue": values[DATABASE_ONLY_KEY],
        "userKey": user_key,
        "goToSaves": {"key": "visits_total", "file": "counter.py", "line": 19},
        "saveScript": SAVE_KEYS.replace("sys.argv[2]", repr(json.dumps({NEW_KEY: [1, 2, 3]}))),
        "newKey": NEW_KEY,
        "livePlugin": "plugins/mistakes_values/wrong.py",
        "liveBefore": ["CAT002", "CAT003"],
        "liveIgnore": ["CAT003"],
        "liveAfter": ["CAT002"],
        "missingInterpreter": "/nonexistent/bin/python3",
    }
    screenshots = Path(os.environ.get("CAT_E2E_SCREENSHOTS", tmp_path / "screenshots"))
    with code_server_session(workspace, tmp_path / "code-server", settings) as session:
        env = dict(session.env, SCREENSHOTS=str(screenshots), PYTHON=sys.executable, EXPECT=json.dumps(expect))
        if os.environ.get("CAT_README_SCREENSHOT"):
            env["README_SCREENSHOT"] = os.environ["CAT_README_SCREENSHOT"]
        result = subprocess.run(["node", str(Path(__file__).with_name("e2e.mjs"))], env=env, cwd=EXTENSION,
                                capture_output=True, text=True, timeout=900)
        print(result.stdout)
        assert result.returncode == 0, (
            f"a step failed (screenshots in {screenshots}; code-server's log: {session.log}):\n"
            f"{result.stdout}\n{result.stderr[-3000:]}"
        )
    if starts is not None:  # the server the steps talked to was 3.15's, from the 3.15 bundle
        assert "-m cat_lsp" in starts.read_text(), starts.read_text()
