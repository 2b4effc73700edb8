"""The extension's own unit tests (node:test over its pure modules), run as part of pytest."""

from __future__ import annotations

import re
import subprocess

from vscode_support import EXTENSION


def test_extension_unit_tests_pass():
    if not (EXTENSION / "node_modules" / "esbuild").exists():
        raise AssertionError("vscode-extension/node_modules is missing: run `make vsix`")
    result = subprocess.run(["npm", "test", "--silent"], cwd=EXTENSION, capture_output=True, text=True, timeout=300)
    summary = dict(re.findall(r"^# (pass|fail) (\d+)$", result.stdout, re.M))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert int(summary.get("fail", "1")) == 0
    assert int(summary.get("pass", "0")) >= 25, result.stdout[-2000:]


def test_extension_typechecks():
    result = subprocess.run(["npx", "tsc", "--noEmit", "-p", "."], cwd=EXTENSION, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:]
