"""Linting a set of files in two passes: per file (in parallel, or from the cache), then the project.

Two passes, because one rule (CAT006, a key read but never written) needs
the whole tree:

1. per file, :meth:`cat_lint.engine.Engine.first_pass`, in worker processes
   (libcst parsing is CPU-bound and holds the GIL); results come from the
   cache when the file's content, the tool and the settings are unchanged;
2. once, :func:`cat_lint.engine.check_project` over every result, with a
   :class:`cat_lint.keys.KeyIndex` of all key uses plus the database's keys;
   this also applies ``select``/``ignore``/per-file-ignores/noqa.

A handful of files is checked in this process: starting workers would cost
more than it saves.  Files are sent to workers in chunks so that the
per-task overhead of the pool stays small next to the parsing itself.
The steps around the passes have homes of their own: reading the files
(:mod:`cat_lint.reading`), decoding them (:mod:`cat_lint.sources`) and
``--fix`` (:mod:`cat_lint.fixing`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from cat_lint.cache import Cache
from cat_lint.findings import FileResult, Finding
from cat_lint.keys import LazyIndex
from cat_lint.reading import cached_results, read_sources
from cat_lint.settings import Settings
from cat_lint.sources import Source, decode

if TYPE_CHECKING:  # the engine (and libcst) is imported only when a file must be checked: a warm run never does
    from concurrent.futures import Executor

    from cat_lint.engine import Crash, Engine

#: Below this many files to check, workers are not worth starting.
SERIAL_BELOW = 16


@dataclass
class RunResult:
    """What a lint run found, with what the output formats and --fix need."""

    root: Path
    sources: dict[str, Source]
    # The first pass's results; None when the whole run came from the cache
    # (:meth:`file_results` reads them from there when --fix asks).
    results: dict[str, FileResult] | None
    findings: dict[str, list[Finding]]
    cache: Cache | None = None  # the run's cache: --fix records the files it rewrites
    cache_hits: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # phase -> seconds, for --verbose
    crashes: list["Crash"] = field(default_factory=list)  # files the engine raised on
    fixed: int = 0
    fixed_files: dict[str, str] = field(default_factory=dict)  # key -> new text

    def file_results(self) -> dict[str, FileResult]:
        """The first-pass result of every file linted, read from the cache if the run did not compute them."""
        if self.results is None:
            self.results = cached_results(self.cache, self.sources) if self.cache is not None else {}
        return self.results

    def all_findings(self) -> list[Finding]:
        return [f for key in sorted(self.findings) for f in self.findings[key]]

    def absolute(self, key: str) -> Path:
        path = Path(key)
        return path if path.is_absolute() else self.root / path


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def check_one(source: Source, settings: Settings, engine: Engine | None = None) -> FileResult | Crash:
    """First pass on one decoded file."""
    from cat_lint.engine import Engine

    if source.decode_error is not None:
        return FileResult(source.key, [source.decode_error])
    assert source.text is not None
    results, crashes = (engine or Engine()).first_pass([(source.key, source.text)], settings)
    return crashes[0] if crashes else results[source.key]


def _batch(files: int, workers: int) -> int:
    """Files per task: several tasks per worker balance uneven files; few enough that
    the pickling and scheduling overhead stays negligible."""
    return max(1, min(64, files // (max(1, workers) * 4)))


def first_pass(sources: dict[str, Source], settings: Settings, cache: Cache,
               jobs: int, crashes: list[Crash] | None = None, *,
               executor: Executor | None = None, engine: Engine | None = None) -> dict[str, FileResult]:
    """Per-file results for every source; files the engine crashed on are left out and listed in ``crashes``.

    Files not in ``cache`` are checked on ``executor`` when given (the
    language server passes its own), else in a process pool of ``jobs``
    workers when there are enough of them, else by ``engine`` (a plain
    one by default) in this process.
    """
    results: dict[str, FileResult] = {}
    crashed: list[Crash] = [] if crashes is None else crashes
    todo: list[Source] = []
    for key, source in sources.items():
        cached = cache.get(key, source.digest) if source.decode_error is None else None
        if cached is not None:
            results[key] = cached
        else:
            todo.append(source)
    for source in todo:
        if source.text is None and source.decode_error is None:
            decode(source)
    parsable = [s for s in todo if s.decode_error is None]
    for source in todo:
        if source.decode_error is not None:
            results[source.key] = FileResult(source.key, [source.decode_error])
    if not parsable:
        return results
    from cat_lint.engine import Engine

    items = [(s.key, s.text) for s in parsable]
    if executor is not None or jobs <= 1 or len(parsable) < SERIAL_BELOW:
        checked, failed = (engine or Engine()).first_pass(items, settings, executor, _batch(len(items), jobs))
    else:
        from concurrent.futures import ProcessPoolExecutor

        workers = min(jobs, len(parsable))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            # The workers are this run's alone: their engines own their processes.
            checked, failed = Engine(owns_process=True).first_pass(items, settings, pool, _batch(len(items), workers))
    results.update(checked)
    crashed.extend(failed)
    for source in todo:
        if source.decode_error is None and source.key in results:
            cache.put(source.key, source.digest, results[source.key])
    return results


def build_index(results: Iterable[FileResult], settings: Settings, db_keys=None):
    from cat_lint.keys import KeyIndex

    index = KeyIndex(db_keys)
    for result in results:
        index.set_file(result.path, result.key_uses)
    return index


def database_keys(settings: Settings, cat_project: Path | None):
    """The database's keys, resolved from the Cat project folder the linted code belongs to.

    ``CAT_PROJECT_DIR`` still wins over that folder, as it does for the runtime.
    """
    from dataclasses import replace

    from cat_lint.keys import load_database_keys

    if cat_project is not None:
        settings = replace(settings, project=str(cat_project))
    return load_database_keys(settings)


def lint_files(files: Sequence[Path], settings: Settings, root: Path, *, use_cache: bool = True,
               jobs: int | None = None, cat_project: Path | None = None,
               context: Sequence[Path] = (), stdin: dict[Path, bytes] | None = None,
               owns_process: bool = False) -> tuple[RunResult, LazyIndex]:
    """Both passes over ``files``; returns the run and the key index (built only if --fix asks).

    ``context`` is the rest of the project when only some of its files are
    linted (pre-commit's staged files, an editor's one file): their key
    uses go into the index, so CAT006 knows every key saved anywhere, but
    they are not reported on.  They go through the same per-file cache.
    ``owns_process``: the caller owns this process (the command line), so
    files checked here may pause Python's cyclic collector (``cat_lint.memory``).
    ``stdin`` gives the content of files read from standard input instead
    of the disk.

    When the cache holds the project pass for exactly these file contents,
    settings and database keys, neither pass runs: a warm run of an
    unchanged tree only reads and hashes the files.
    """
    from cat_lint.cache import project_key

    clock = time.perf_counter()
    timings: dict[str, float] = {}
    crashes: list[Crash] = []
    cache = Cache(root, settings, enabled=use_cache)
    sources = read_sources(files, root, stdin, cache)
    linted = set(files)
    others = read_sources([p for p in context if p not in linted], root, cache=cache)
    others = {k: s for k, s in others.items() if k not in sources and s.decode_error is None}
    db_keys = database_keys(settings, cat_project)
    timings["read"] = time.perf_counter() - clock
    key = project_key(settings, [*((k, s.digest) for k, s in sources.items()),
                                 *((f"context:{k}", s.digest) for k, s in others.items())], db_keys)
    findings = cache.get_project(key)
    if findings is not None and not set(findings) - set(sources) and cache.has_all(
            (k, s.digest) for k, s in sources.items() if s.decode_error is None):
        results: dict[str, FileResult] | None = None
        context_results: dict[str, FileResult] | None = None
        cache.hits += len(sources)
    else:
        from cat_lint.engine import check_project

        clock = time.perf_counter()
        engine = None
        if owns_process:
            from cat_lint.engine import Engine

            engine = Engine(owns_process=True)
        results = first_pass(sources, settings, cache, jobs or default_jobs(), crashes, engine=engine)
        counted = (cache.hits, cache.misses)  # "N files, M from the cache" counts the files linted, not the context
        context_results = first_pass(others, settings, cache, jobs or default_jobs(), [], engine=engine) if others else {}
        cache.hits, cache.misses = counted
        timings["files"] = time.perf_counter() - clock
        clock = time.perf_counter()
        index = build_index([*context_results.values(), *results.values()], settings, db_keys)
        ordered = [results[k] for k in sources if k in results]
        findings = check_project(ordered, settings, index)
        findings = {k: list(findings.get(k, [])) for k in sources if findings.get(k)}
        if not crashes:
            cache.put_project(key, findings)
        timings["project"] = time.perf_counter() - clock
    clock = time.perf_counter()
    cache.save()
    timings["cache write"] = time.perf_counter() - clock
    run = RunResult(root, sources, results, findings, cache, cache.hits, timings=timings, crashes=crashes)

    def full_index():
        nonlocal context_results
        if context_results is None:
            context_results = first_pass(others, settings, cache, 1, [])
        return build_index([*context_results.values(), *run.file_results().values()], settings, db_keys)

    return run, LazyIndex(full_index)
