"""Where the VS Code tests find what `make vsix` and `make vscode-ready` built and installed.

A missing piece fails the test with the command that provides it: these
tests never build or install anything themselves.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "vscode-extension"
CODE_SERVER_VERSION = "4.100.3"
CACHE_ROOT = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cat-devtools"
CACHE = CACHE_ROOT / "vscode-e2e"
# Debian unstable's CPython 3.14 and 3.15, unpacked by tests/vscode/install-newest-pythons.sh (bookworm has only 3.11).
NEWEST_PYTHONS = {v: CACHE_ROOT / "python-debian-unstable" / "root" / "usr" / "bin" / f"python{v}" for v in ("3.14", "3.15")}
PYTHON_315 = NEWEST_PYTHONS["3.15"]
# The VS Code platforms `make vsix` builds a package for, besides the universal one.
VSIX_TARGETS = ("win32-x64", "win32-arm64", "darwin-x64", "darwin-arm64", "linux-x64", "linux-arm64", "alpine-x64")
CHROMIUM = "/usr/bin/chromium"
PLAYWRIGHT = EXTENSION / "node_modules" / "playwright-core"


def version() -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^version = "([^"]+)"', text, re.M)
    assert match is not None
    return match.group(1)


def vsix(target: str = "linux-x64") -> Path:
    """The platform-specific package of ``target`` (the end-to-end tests install linux-x64's)."""
    path = EXTENSION / f"cat-devtools-{target}-{version()}.vsix"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make vsix`")
    return path


def universal_vsix() -> Path:
    path = EXTENSION / f"cat-devtools-{version()}.vsix"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make vsix`")
    return path


def code_server() -> Path:
    path = CACHE / f"code-server-{CODE_SERVER_VERSION}" / "node_modules" / ".bin" / "code-server"
    for needed in (path, Path(CHROMIUM), PLAYWRIGHT):
        if not needed.exists():
            pytest.fail(f"{needed} is missing: run `make vscode-ready`")
    return path


def package_json() -> dict:
    return json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))


# Saves global keys with the real runtime, from its own process (as a running Cat would).
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


def save_keys(workspace: Path, values: dict) -> None:
    subprocess.run([sys.executable, "-c", SAVE_KEYS, str(workspace), json.dumps(values)], check=True, cwd=workspace, timeout=60)


def example_project(folder: Path) -> Path:
    """A copy of the example project with its demo run, so that its database exists."""
    shutil.copytree(ROOT / "examples", folder, ignore=shutil.ignore_patterns("data", "__pycache__"))
    subprocess.run([sys.executable, "demo.py"], cwd=folder, check=True, capture_output=True, timeout=120)
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


USER_SETTINGS = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "security.workspace.trust.enabled": False,
    "telemetry.telemetryLevel": "off",
    "editor.codeActionsOnSave": {"source.fixAll.cat-lint": "explicit"},
    "files.autoSave": "off",
    "editor.acceptSuggestionOnEnter": "off",
}


@dataclass
class Session:
    port: int
    env: dict[str, str]  # for node scripts: XDG_* and HOME of this session, plus the browser's paths
    log: Path


@contextmanager
def code_server_session(workspace: Path, state: Path, settings: dict | None = None) -> Iterator[Session]:
    """A fresh code-server (own user data, extensions, XDG folders) with the .vsix installed, serving ``workspace``.

    ``settings`` are added to the user settings (``cat.interpreter``, for one).
    """
    server_bin, package = code_server(), vsix()
    user_data, extensions = state / "user-data", state / "extensions"
    (user_data / "User").mkdir(parents=True)
    (user_data / "User" / "settings.json").write_text(json.dumps(USER_SETTINGS | (settings or {}), indent=2), encoding="utf-8")
    env = dict(os.environ)
    for name in ("CONFIG", "DATA", "CACHE", "STATE"):
        env[f"XDG_{name}_HOME"] = str(state / "xdg" / name.lower())
    env["HOME"] = str(state / "home")
    common = ["--user-data-dir", str(user_data), "--extensions-dir", str(extensions)]
    subprocess.run([str(server_bin), *common, "--install-extension", str(package)], env=env, check=True,
                   capture_output=True, timeout=120)
    port = _free_port()
    log_path = state / "code-server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(server_bin), "--bind-addr", f"127.0.0.1:{port}", "--auth", "none", "--disable-telemetry",
             "--disable-update-check", "--disable-workspace-trust", *common, str(workspace)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                    break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError(f"code-server did not start; its log: {log_path}") from None
                    time.sleep(0.5)
            node_env = dict(env, PORT=str(port), WORKSPACE=str(workspace), CHROMIUM=CHROMIUM, PLAYWRIGHT=str(PLAYWRIGHT))
            yield Session(port, node_env, log_path)
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
