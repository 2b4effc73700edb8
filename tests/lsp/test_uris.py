"""The server's URI and path conversions by Windows and POSIX rules, whatever OS runs the tests.

Pure: :mod:`cat_lsp.uris` and :func:`cat_lint.reading.engine_key` take the
path flavour, so ``PureWindowsPath`` stands for a Windows machine here.
"""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath

import pytest

from cat_lint.reading import engine_key
from cat_lsp.uris import from_path, to_path

W = PureWindowsPath
P = PurePosixPath


@pytest.mark.parametrize("uri", [
    "file:///c%3A/Users/a/plugins/p/x.py",  # VS Code
    "file:///C:/Users/a/plugins/p/x.py",  # Python's as_uri, most other clients
    "file:///c:/Users/a/plugins/p/x.py",
    "file:///C%3a/Users/a/plugins/p/x.py",
    "file://localhost/C:/Users/a/plugins/p/x.py",
    "file:///C:/Users/a/plugins/other/../p/./x.py",
])
def test_every_spelling_of_a_drive_letter_names_one_path(uri: str):
    path = to_path(uri, W)
    # The same string, not only an equal path: engine keys and caches are strings.
    assert str(path) == r"C:\Users\a\plugins\p\x.py"


def test_a_windows_path_goes_to_a_uri_and_back():
    path = W(r"C:\Users\a b\plugins\p\café.py")
    uri = from_path(path)
    assert uri == "file:///C:/Users/a%20b/plugins/p/caf%C3%A9.py"
    assert to_path(uri, W) == path and str(to_path(uri, W)) == str(path)


@pytest.mark.parametrize("uri", ["file://server/share/proj/plugins/x.py", "file://server/share/proj/plugins/x.py".upper().replace("FILE", "file")])
def test_unc_paths_both_ways(uri: str):
    path = to_path(uri, W)
    assert path == W(r"\\server\share\proj\plugins\x.py")
    assert path.drive.lower() == r"\\server\share"
    assert from_path(W(r"\\server\share\proj\plugins\x.py")) == "file://server/share/proj/plugins/x.py"
    assert to_path(from_path(path), W) == path


def test_posix_paths():
    assert to_path("file:///home/a/my%20plugin/x.py", P) == P("/home/a/my plugin/x.py")
    assert to_path("file://localhost/home/a/x.py", P) == P("/home/a/x.py")
    assert to_path("file:///home/a/plugins/../x.py", P) == P("/home/a/x.py")
    # Backslashes are ordinary characters in POSIX names.
    assert to_path("file:///home/a/b%5Cc.py", P) == P("/home/a/b\\c.py")
    assert from_path(P("/home/a/a+b.py")) == "file:///home/a/a%2Bb.py"


@pytest.mark.parametrize("uri", ["untitled:Untitled-1", "vscode-notebook-cell:/x.ipynb#a", "file:relative.py", "https://x/y.py", ""])
def test_what_names_no_file(uri: str):
    assert to_path(uri, W) is None
    assert to_path(uri, P) is None


def test_windows_engine_keys_ignore_the_case_of_the_root():
    """The editor's ``c:\\users\\...`` inside the project root cat-lint resolved as ``C:\\Users\\...``."""
    root = W(r"C:\Users\a\proj")
    for path in (W(r"c:\Users\a\proj\plugins\x.py"), W(r"C:\USERS\A\PROJ\plugins\x.py"), W(r"C:\Users\a\proj\plugins\x.py")):
        assert engine_key(path, root) == "plugins/x.py"
    assert engine_key(W(r"C:\Users\a\other\x.py"), root) == "C:/Users/a/other/x.py"
    assert engine_key(W(r"C:\Users\a\project2\x.py"), root) == "C:/Users/a/project2/x.py"
    assert engine_key(W(r"\\server\share\proj\plugins\x.py"), W(r"\\SERVER\share\proj")) == "plugins/x.py"
    # POSIX compares case: /Proj is not /proj.
    assert engine_key(P("/home/a/proj/plugins/x.py"), P("/home/a/proj")) == "plugins/x.py"
    assert engine_key(P("/home/a/Proj/plugins/x.py"), P("/home/a/proj")) == "/home/a/Proj/plugins/x.py"
