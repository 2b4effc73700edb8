"""File URIs and the paths they name, by the rules of the OS the editor runs on.

The one place where the server turns a document's or a folder's URI into a
path and a path back into a URI.  Editors spell the same Windows file in
several ways (VS Code sends ``file:///c%3A/Users/...``, other clients
``file:///C:/Users/...``) and name network shares as
``file://server/share/...``; the paths made here are the same whatever the
spelling, with the drive letter in upper case, as ``Path.resolve()`` gives
it on Windows and so as ``cat-lint`` names the files it finds.

Each function takes the path flavour (:class:`pathlib.PureWindowsPath` or
:class:`pathlib.PurePosixPath`; the running OS's by default), so that the
Windows rules are tested on any OS.  pygls's own ``pygls.uris`` decides by
the running OS and lower-cases drive letters, hence this module.
"""

from __future__ import annotations

import ntpath
import posixpath
import re
from pathlib import Path, PurePath, PureWindowsPath
from typing import Iterable, Iterator, TypeVar
from urllib.parse import unquote, urlsplit

P = TypeVar("P", bound=PurePath)

_DRIVE = re.compile(r"^/[A-Za-z]:(?:/|$)")


def to_path(uri: str, flavour: type[P] = Path) -> P | None:  # type: ignore[assignment]
    """The file a ``file:`` URI names (normalised: no ``..``, upper-case drive), else ``None``.

    ``None`` also for a URI whose path is not rooted (``file:x``).
    """
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    if parts.scheme.lower() != "file":
        return None
    path, host = unquote(parts.path), unquote(parts.netloc)
    if host.lower() == "localhost":
        host = ""
    if issubclass(flavour, PureWindowsPath):
        if host:
            text = f"//{host}{path}"  # a UNC path: \\server\share\...
        elif _DRIVE.match(path):
            text = path[1].upper() + path[2:]
        else:
            text = path
        text = ntpath.normpath(text) if text else text
    else:
        text = f"//{host}{path}" if host else path
        text = posixpath.normpath(text) if text else text
    result = flavour(text)
    return result if result.root else None


def from_path(path: PurePath) -> str:
    """The ``file:`` URI of an absolute path, in its own flavour's rules (``file://server/share/...`` for UNC)."""
    return path.as_uri()


def iter_paths(uris: Iterable[str]) -> Iterator[Path]:
    """The paths of the ``file:`` URIs among ``uris`` (:func:`to_path`); other URIs are left out."""
    for uri in uris:
        path = to_path(uri)
        if path is not None:
            yield path
