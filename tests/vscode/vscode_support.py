"""Where the VS Code tests find what `make vsix` and `make vscode-ready` built and installed.

A missing piece fails the test with the command that provides it: these
tests never build or install anything themselves.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "vscode-extension"
CODE_SERVER_VERSION = "4.100.3"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cat-devtools" / "vscode-e2e"
CHROMIUM = "/usr/bin/chromium"
PLAYWRIGHT = EXTENSION / "node_modules" / "playwright-core"


def version() -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^version = "([^"]+)"', text, re.M)
    assert match is not None
    return match.group(1)


def vsix() -> Path:
    path = EXTENSION / f"cat-devtools-linux-x64-{version()}.vsix"
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
