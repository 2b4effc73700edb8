"""The extension end to end, in a real VS Code: code-server with the built .vsix
installed, driven by headless Chromium through playwright-core (tests/vscode/e2e.mjs).

Nothing here builds or installs anything: `make vscode-ready` (a prerequisite
of `make test`) builds the .vsix and installs code-server and Chromium into
the cache.  This test copies the example project, runs its demo so that the
database exists, adds a key that no code uses, installs the .vsix into a
fresh code-server and runs the nine steps of the script, which saves a
screenshot in the folder it names when a step fails.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from vscode_support import CHROMIUM, EXTENSION, PLAYWRIGHT, ROOT, code_server, vsix

pytestmark = pytest.mark.slow

PLUGIN = "plugins/mistakes_unawaited/wrong.py"
COMPLETION_FILE = "plugins/welcome/probe_completion.py"
DATABASE_ONLY_KEY = "db_only_theme"
NEW_KEY = "saved_from_elsewhere"

SAVE_KEYS = textwrap.dedent(
    """
    import asyncio, json, sys
    import cat

    async def main(project, values):
        cat.configure(project=project)
        for key, value in json.loads(values).items():
            await cat.store.save(key, value)
        await cat.close()

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def save_keys(workspace: Path, values: dict) -> None:
    subprocess.run([sys.executable, "-c", SAVE_KEYS, str(workspace), json.dumps(values)], check=True, cwd=workspace, timeout=60)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The example project, its demo run (so its database exists), plus a key only the database has."""
    folder = tmp_path / "project"
    shutil.copytree(ROOT / "examples", folder, ignore=shutil.ignore_patterns("data", "__pycache__"))
    subprocess.run([sys.executable, "demo.py"], cwd=folder, check=True, capture_output=True, timeout=120)
    save_keys(folder, {DATABASE_ONLY_KEY: {"dark": True, "accent": "purple"}})
    (folder / COMPLETION_FILE).write_text("from cat import store\n\n\nasync def probe():\n    pass\n", encoding="utf-8")
    return folder


def stored_globals(workspace: Path) -> dict:
    from cat_lint.project.location import resolve_database
    from cat_lint.project.reader import KeyReader

    with KeyReader(resolve_database(None, workspace)) as reader:
        return {k.key: reader.get(k.key)[1] for k in reader.global_keys()}


def test_extension_in_code_server(workspace: Path, tmp_path: Path):
    server_bin = code_server()
    package = vsix()
    state = tmp_path / "code-server"
    user_data, extensions = state / "user-data", state / "extensions"
    (user_data / "User").mkdir(parents=True)
    settings = user_data / "User" / "settings.json"
    settings.write_text(
        json.dumps(
            {
                "workbench.startupEditor": "none",
                "workbench.tips.enabled": False,
                "security.workspace.trust.enabled": False,
                "telemetry.telemetryLevel": "off",
                "editor.codeActionsOnSave": {"source.fixAll.cat-lint": "explicit"},
                "files.autoSave": "off",
                "editor.acceptSuggestionOnEnter": "off",
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    env = dict(os.environ)
    for name in ("CONFIG", "DATA", "CACHE", "STATE"):
        env[f"XDG_{name}_HOME"] = str(state / "xdg" / name.lower())
    env["HOME"] = str(state / "home")
    common = ["--user-data-dir", str(user_data), "--extensions-dir", str(extensions)]
    subprocess.run([str(server_bin), *common, "--install-extension", str(package)], env=env, check=True,
                   capture_output=True, timeout=120)

    port = free_port()
    log = (state / "code-server.log").open("w")
    process = subprocess.Popen(
        [str(server_bin), "--bind-addr", f"127.0.0.1:{port}", "--auth", "none", "--disable-telemetry",
         "--disable-update-check", "--disable-workspace-trust", *common, str(workspace)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    screenshots = Path(os.environ.get("CAT_E2E_SCREENSHOTS", tmp_path / "screenshots"))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"code-server did not start; its log: {state / 'code-server.log'}")
                time.sleep(0.5)

        values = stored_globals(workspace)
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
            "openKey": DATABASE_ONLY_KEY,
            "openValue": values[DATABASE_ONLY_KEY],
            "saveScript": SAVE_KEYS.replace("sys.argv[2]", repr(json.dumps({NEW_KEY: [1, 2, 3]}))),
            "newKey": NEW_KEY,
            "missingInterpreter": "/nonexistent/bin/python3",
        }
        run_env = dict(env)
        run_env.update(
            PORT=str(port), WORKSPACE=str(workspace), SCREENSHOTS=str(screenshots), CHROMIUM=CHROMIUM,
            PLAYWRIGHT=str(PLAYWRIGHT), PYTHON=sys.executable, EXPECT=json.dumps(expect),
        )
        if os.environ.get("CAT_README_SCREENSHOT"):
            run_env["README_SCREENSHOT"] = os.environ["CAT_README_SCREENSHOT"]
        result = subprocess.run(["node", str(Path(__file__).with_name("e2e.mjs"))], env=run_env, cwd=EXTENSION,
                                capture_output=True, text=True, timeout=900)
        print(result.stdout)
        assert result.returncode == 0, (
            f"a step failed (screenshots in {screenshots}; code-server's log: {state / 'code-server.log'}):\n"
            f"{result.stdout}\n{result.stderr[-3000:]}"
        )
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
