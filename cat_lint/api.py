"""The linter as its two front ends call it: ``cat-lint`` and the language server.

Both check files with the same per-file pass and the same crash policy (a
file the engine raises on is reported, every other file still counts).
This module is that seam, typed, so neither front end passes untyped
arguments into :mod:`cat_lint.runner`'s helpers: the command line runs
:func:`lint_files`, whose per-file pass is :func:`first_pass`'s; the server
indexes folders with :func:`first_pass` on its own worker processes and
checks an editor's buffer with :func:`check_document`.

Importing it does not import the engine (nor libcst): a warm command line
run, which checks nothing, never pays for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from cat_lint import runner
from cat_lint.cache import Cache
from cat_lint.findings import FileResult
from cat_lint.keys import LazyIndex
from cat_lint.reading import engine_key, read_sources
from cat_lint.runner import SERIAL_BELOW, RunResult
from cat_lint.sources import Source
from cat_lint.settings import Settings

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from cat_lint.engine import Crash, Engine

__all__ = ["SERIAL_BELOW", "FirstPassResult", "Source", "buffer_source", "check_document", "engine_key",
           "first_pass", "lint_files", "read_files"]


@dataclass
class FirstPassResult:
    """The per-file pass over many files: a result for each file but those the engine crashed on."""

    results: dict[str, FileResult]
    crashes: list[Crash] = field(default_factory=list)


def lint_files(files: Sequence[Path], settings: Settings, root: Path, **options: Any) -> tuple[RunResult, LazyIndex]:
    """The command line's run: both passes over ``files`` (the per-file one is :func:`first_pass`'s).

    ``options`` are :func:`cat_lint.runner.lint_files`'s (cache, jobs, the
    Cat project, context files, stdin), passed on as they are.
    """
    return runner.lint_files(files, settings, root, **options)


def read_files(files: Sequence[Path], root: Path) -> dict[str, Source]:
    """The files as the engine names them (relative to ``root``), read from disk."""
    return read_sources(files, root)


def buffer_source(key: str, text: str) -> Source:
    """An editor's buffer as a file to check: its text as it is, never read from disk."""
    return Source(key, Path(key), b"", "", text=text)


def check_document(source: Source, settings: Settings, engine: Engine | None = None) -> FileResult | Crash:
    """The per-file pass on one decoded file, by ``engine`` (a plain one by default); a ``Crash`` if it raised."""
    return runner.check_one(source, settings, engine)


def first_pass(sources: Mapping[str, Source], settings: Settings, cache: Cache, *, jobs: int = 1,
               executor: Executor | None = None, engine: Engine | None = None) -> FirstPassResult:
    """Per-file results for every source, from ``cache`` where it has them.

    The others are checked on ``executor`` when given (the language
    server's worker processes), else in a pool of ``jobs`` processes when
    there are enough files, else by ``engine`` (a plain one by default)
    here.
    """
    crashes: list[Crash] = []
    results = runner.first_pass(dict(sources), settings, cache, jobs, crashes, executor=executor, engine=engine)
    return FirstPassResult(results, crashes)
