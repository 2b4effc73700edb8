"""The built .vsix: what it carries, and that its bundled server runs.

`make vsix` builds it (a prerequisite of `make test`); these tests read it
as a user's VS Code would receive it.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from vscode_support import package_json, version, vsix

VERSIONS = ("3.10", "3.11", "3.12", "3.13")


@pytest.fixture(scope="module")
def names() -> list[str]:
    with zipfile.ZipFile(vsix()) as archive:
        return archive.namelist()


def top_level(names: list[str], folder: str) -> set[str]:
    prefix = f"extension/bundled/libs/{folder}/"
    return {name[len(prefix):].split("/", 1)[0] for name in names if name.startswith(prefix)}


def test_the_extension_and_the_tools_have_one_version():
    assert package_json()["version"] == version()


def test_the_client_is_one_bundled_file(names: list[str]):
    assert "extension/dist/extension.js" in names
    assert not [n for n in names if "/node_modules/" in n]
    assert not [n for n in names if n.startswith("extension/src/") or n.endswith(".ts")]


@pytest.mark.parametrize("python", VERSIONS)
def test_each_python_has_the_tools_and_never_the_cat_runtime(names: list[str], python: str):
    found = top_level(names, f"py{python}")
    assert {"cat_lint", "cat_lsp", "libcst", "pygls", "lsprotocol"} <= found
    assert not found & {"cat", "cat.py", "cat_devtools_runtime", "cat_devtools_pytest.py"}
    assert not [n for n in found if n.endswith(".pth")]
    # libcst's compiled parser is the one built for this Python.
    native = [n for n in names if n.startswith(f"extension/bundled/libs/py{python}/libcst/") and n.endswith(".so")]
    tag = python.replace(".", "")
    assert native and all(f"cpython-{tag}-x86_64-linux-gnu" in n or ".abi3." in n for n in native), native


def test_python_310_gets_the_backports_its_markers_ask_for(names: list[str]):
    assert {"tomli", "exceptiongroup"} <= top_level(names, "py3.10")
    assert "tomli" not in top_level(names, "py3.11")


def test_the_bundled_server_starts_from_the_vsix(tmp_path: Path):
    """The folder for the running Python, exactly as the extension uses it: first on PYTHONPATH."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    if python not in VERSIONS:
        pytest.fail(f"tests run on Python {python}, which the .vsix does not bundle")
    with zipfile.ZipFile(vsix()) as archive:
        archive.extractall(tmp_path)
    libs = tmp_path / "extension" / "bundled" / "libs" / f"py{python}"
    probe = (
        "import cat_lsp.server, cat_lint.engine, libcst, importlib.util\n"
        "cat = importlib.util.find_spec('cat')\n"
        "print(cat_lsp.server.__file__, libcst.__file__, cat.origin if cat else None)\n"
    )
    env = {"PYTHONPATH": str(libs), "PATH": "/usr/bin:/bin"}
    run = dict(env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True)
    server, libcst, cat = subprocess.run([sys.executable, "-c", probe], **run).stdout.split()
    assert server.startswith(str(libs)) and libcst.startswith(str(libs))
    assert not cat.startswith(str(libs))  # `cat` is the user's (here the test venv's runtime), never ours
    help_text = subprocess.run([sys.executable, "-m", "cat_lsp", "--help"], **run).stdout
    assert "--stdio" in help_text
