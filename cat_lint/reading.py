"""Reading the files to lint, with the cache's help: each one's key, content hash and bytes.

A warm run must cost little more than listing the tree, so a file whose
size and modification time are those the cache recorded is not read at
all (its digest and results come from the cache).  Keys are paths relative
to the project root (POSIX separators), which is what per-file-ignore
patterns and SARIF's relative URIs are written against; files outside the
root keep their absolute path.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath, PureWindowsPath
from typing import Mapping, Sequence

from cat_lint.cache import Cache, content_hash
from cat_lint.findings import FileResult
from cat_lint.limits import MAX_SOURCE_BYTES
from cat_lint.project.location import FileTooLarge, read_regular
from cat_lint.sources import Source, cat000


def engine_key(path: PurePath, root: PurePath) -> str:
    """``path`` relative to ``root`` with ``/`` separators; absolute when outside it.

    Windows paths (by the paths' own flavour, so testable anywhere) compare
    without case, as Windows does: an editor's ``c:\\users\\a\\proj\\x.py``
    lies inside ``C:\\Users\\a\\proj``.
    """
    text, base = str(path), str(root)
    sep = "\\" if isinstance(path, PureWindowsPath) else "/"
    prefix = base if base.endswith(sep) else base + sep
    head = text[:len(prefix)]
    if head == prefix or (sep == "\\" and head.lower() == prefix.lower()):  # pathlib's relative_to, without its cost
        text = text[len(prefix):]
    return text.replace(sep, "/") if sep != "/" else text


def read_sources(files: Sequence[Path], root: Path, given: dict[Path, bytes] | None = None,
                 cache: Cache | None = None) -> dict[str, Source]:
    """Each file's content hash, and its bytes when they had to be read.

    ``given`` holds contents that do not come from the disk (stdin).  A
    file ``cache`` knows by its size and modification time is not read;
    nor is one past ``MAX_SOURCE_BYTES`` (one CAT000 says it is too large).
    """
    sources: dict[str, Source] = {}
    for path in files:
        key = engine_key(path, root)
        if given is not None and path in given:
            data = given[path]
            sources[key] = Source(key, path, data, content_hash(data))
            continue
        status = None
        if cache is not None:
            try:
                status = os.stat(path)
            except OSError:
                status = None
            digest = cache.digest_by_status(key, status) if status is not None else None
            if digest is not None:
                sources[key] = Source(key, path, None, digest)
                continue
        try:
            data = read_regular(path, MAX_SOURCE_BYTES)
        except OSError as exc:
            source = Source(key, path, b"", "")
            source.decode_error = cat000(key, 1, 0, _unread(exc))
            sources[key] = source
            continue
        sources[key] = Source(key, path, data, content_hash(data))
        if cache is not None and status is not None:
            cache.note_status(key, status, sources[key].digest)
    return sources


def _unread(exc: OSError) -> str:
    """Why a file could not be read, as its CAT000 says it."""
    if isinstance(exc, FileTooLarge):
        return (f"the file is too large to lint: {exc.size:,} bytes, past cat-lint's limit of "
                f"{exc.limit:,} bytes; nothing in it was checked")
    return f"cannot read the file: {exc.strerror or exc}"


def cached_results(cache: Cache, sources: Mapping[str, Source]) -> dict[str, FileResult]:
    """The first-pass results the cache holds for ``sources`` (a warm run reads them only for --fix).

    A file that could not be read or decoded gets its one CAT000, and a file
    the cache has no result for an empty one.
    """
    results: dict[str, FileResult] = {}
    for key, source in sources.items():
        result = cache.peek(key, source.digest) if source.decode_error is None else None
        results[key] = result if result is not None else FileResult(
            key, [source.decode_error] if source.decode_error else [])
    return results
