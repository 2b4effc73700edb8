"""The server's worker processes: where the engine's per-file pass runs.

A libcst parse is CPU-bound and holds the GIL.  In a thread, a 3,000-line
parse would take the GIL from the event loop and the completion threads for
a second; in a process, completion stays at its few milliseconds while a big
file is linted.  Indexing a folder runs in worker processes too: the server
hands them to :func:`cat_lint.runner.first_pass`, so the editor and the
command line share one first pass and one crash policy (a file the engine
raises on is reported, the others still count).

The processes come from a ``forkserver``: never fork a server that runs
threads (a lock held by another thread at fork time stays held forever in
the child).  If the documents' worker dies, a new one starts and the
document is tried once more before it gets a CAT000 saying so; after three
deaths, or if processes cannot be started at all, the pass runs in a thread
instead.

Debugging: with the environment variable ``CAT_LSP_DEBUG_CRASH_ON`` set to
a marker, the engine raises in a worker on any file containing that marker,
as a rule with a bug would.  It exists so that the crash policy can be
tested (and seen in an editor) with the real server; leave it unset.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from cat_lint.findings import FileResult, Finding, Span
from cat_lint.settings import Settings

log = logging.getLogger(__name__)

#: How many worker processes index a folder; the machines editors run on
#: have other work to do, and a second worker already halves a big scan.
SCAN_WORKERS = 2
#: After this many worker deaths the session lints in a thread instead.
MAX_FAILURES = 3
CRASH_ON_VARIABLE = "CAT_LSP_DEBUG_CRASH_ON"

CRASHED_MESSAGE = "cat-lint crashed while checking this file ({error}); please report it"


def worker_setup(pids: Any, crash_on: str | None) -> None:
    """Run once in each worker process, before its first task.

    * stdout is the editor's protocol channel (inherited from the server):
      anything printed goes to stderr instead;
    * the worker's pid goes back to the server, which stops its workers by
      pid at exit rather than waiting for a long parse nobody will read;
    * the worker's engine: incremental, and owning the process, so the
      cyclic collector is paused during each check (``cat_lint.memory``);
    * the memory policy of the worker as a whole: the engine is imported
      now, then everything alive (modules, rule tables, grammar) is frozen
      out of the cyclic collector's reach, because it lives as long as the
      process does (measured: a full collection of those 30,000 objects,
      34 ms on a loaded 2-core machine, becomes free).  Nothing else is ever
      frozen: what a lint allocates is collected as usual (see
      ``tests/lsp/test_memory.py`` for the bound);
    * the debug crash marker (see the module's docstring).
    """
    import sys

    try:
        os.dup2(2, 1)
    except OSError:
        pass
    sys.stdout = sys.stderr
    pids.put(os.getpid())
    from cat_lint.engine import Engine

    global _engine
    _engine = Engine(incremental=True, owns_process=True)
    if crash_on:
        real = Engine.check

        def check(self: Engine, source: str, path: str, settings: Settings) -> FileResult:
            if crash_on in source:
                raise RuntimeError(f"{CRASH_ON_VARIABLE} marker found (a deliberate crash)")
            return real(self, source, path, settings)

        # Every engine of this process, the documents' and those the first pass makes per batch;
        # the runner calls it inside its crash capture.
        Engine.check = check  # type: ignore[method-assign]
    gc.collect()
    gc.freeze()


# The worker process's engine, made by worker_setup: incremental, so that a document's next
# edit re-parses only the statements it touched, and owning its process (cat_lint.memory).
_engine: Any = None


def check_document(source: Any, settings: Settings) -> Any:
    """The per-file pass on one editor buffer, in a worker, by the worker's engine."""
    from cat_lint import runner

    return runner.check_one(source, settings, _engine)


def _nothing() -> None:
    """A task that makes the pool start a worker (which imports the engine) before the first document."""


def crash_finding(key: str, error: str) -> FileResult:
    """What a document shows when the engine could not check it: one CAT000 on its first line."""
    return FileResult(key, [Finding("CAT000", CRASHED_MESSAGE.format(error=error), key, Span(1, 0, 1, 0))])


class WorkerPool:
    """One process pool from the forkserver, and the pids of its workers (reported by :func:`worker_setup`)."""

    def __init__(self, workers: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("forkserver")
        self._pids = context.SimpleQueue()
        self.executor: Executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=worker_setup,
            initargs=(self._pids, os.environ.get(CRASH_ON_VARIABLE) or None),
        )

    def stop(self) -> None:
        """Stop now: cancel what is queued, and terminate the workers rather than wait for a long parse."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        while not self._pids.empty():
            pid = self._pids.get()
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:  # already gone
                pass


class LintWorkers:
    """The session's worker processes: one for the open documents, more while a folder is indexed.

    Open documents always go to the same single worker, so that the
    engine's memo of parsed chunks and its last version of each document
    are there for the next edit (an edit then re-parses only the statements
    it touched).  Indexing a folder of :data:`cat_lint.runner.SERIAL_BELOW`
    files or more gets a pool of its own, stopped when the scan ends.  Used
    from the event loop (documents) and from threads (scans): one lock
    guards starting and replacing pools.
    """

    def __init__(self, fallback: ThreadPoolExecutor) -> None:
        from cat_lint.engine import Engine

        self._fallback = fallback
        # When documents are linted in a thread of the server: an incremental engine of its own.
        self._engine = Engine(incremental=True)
        self._lock = threading.Lock()
        self._documents: WorkerPool | None = None
        self._scans: set[WorkerPool] = set()
        self._disabled = False
        self._failures = 0

    def executor(self) -> Executor | None:
        """The documents' worker, or ``None`` when this session lints in a thread."""
        with self._lock:
            if self._disabled:
                return None
            if self._documents is None:
                try:
                    self._documents = WorkerPool(1)
                except Exception as exc:
                    log.warning("no worker process for linting (%s); linting in a thread", exc)
                    self._disabled = True
                    return None
            return self._documents.executor

    def warm_up(self) -> None:
        """Start the documents' worker and import the engine in it before the first document arrives."""
        pool = self.executor()
        if pool is not None:
            try:
                pool.submit(_nothing)
            except Exception:
                pass

    def _worker_died(self, what: str) -> None:
        with self._lock:
            if self._documents is not None:
                self._documents.stop()
                self._documents = None
            self._failures += 1
            if self._failures >= MAX_FAILURES:
                self._disabled = True
        log.error("a lint worker process died while checking %s; starting a new one", what)

    async def check(self, text: str, key: str, settings: Settings) -> FileResult:
        """The per-file pass on an editor buffer, in a worker process when there is one."""
        from cat_lint import runner
        from cat_lint.engine import Crash
        from cat_lint.sources import Source

        source = Source(key, Path(key), b"", "", text=text)
        outcome: FileResult | Crash | None = None
        # A worker that dies during the check may have died of something else (killed, out of
        # memory): the document gets a second worker before it is blamed with a CAT000.
        for attempt in range(2):
            future = self._submit(source, settings)
            if future is None:
                break
            try:
                outcome = await asyncio.wrap_future(future)
                break
            except BrokenProcessPool:
                self._worker_died(key)
                if attempt == 1:
                    return crash_finding(key, "the worker process died")
        if outcome is None:
            outcome = await asyncio.get_running_loop().run_in_executor(
                self._fallback, runner.check_one, source, settings, self._engine)
        if isinstance(outcome, Crash):
            log.error("cat-lint crashed on %s: %s\n%s", outcome.path, outcome.error, outcome.details)
            return crash_finding(key, outcome.error)
        return outcome

    def _submit(self, source: Any, settings: Settings) -> Future | None:
        """Hand one check to a worker; ``None`` when it must run in a thread instead.

        A pool found broken here lost its worker between two documents (killed,
        out of memory): nothing of this document's doing, so it is replaced
        and the document goes to the new one.
        """

        for _attempt in range(2):
            pool = self.executor()
            if pool is None:
                return None
            try:
                return pool.submit(check_document, source, settings)
            except BrokenProcessPool:
                self._worker_died("nothing (between two documents)")
            except Exception as exc:  # could not hand the work over (shutdown): do it here
                log.info("lint worker unavailable (%s); linting in a thread", exc)
                return None
        return None

    def first_pass(self, sources: dict, settings: Settings, cache: Any, crashes: list) -> dict[str, FileResult]:
        """:func:`cat_lint.runner.first_pass` in worker processes (blocking: call it from a thread)."""
        from cat_lint import runner
        from cat_lint.engine import Engine

        workers = Engine(owns_process=True)  # hands the files to worker processes, which are ours
        if len(sources) < runner.SERIAL_BELOW:
            pool = self.executor()  # a few files: the documents' worker, already running
            if pool is not None:
                try:
                    return runner.first_pass(sources, settings, cache, 1, crashes, executor=pool, engine=workers)
                except BrokenProcessPool:
                    self._worker_died(f"{len(sources)} files")
                    crashes.clear()
            return runner.first_pass(sources, settings, cache, 1, crashes)
        scan = self._scan_pool()
        if scan is not None:
            try:
                return runner.first_pass(sources, settings, cache, SCAN_WORKERS, crashes, executor=scan.executor,
                                         engine=workers)
            except BrokenProcessPool:
                log.error("a worker process died while indexing %d files; indexing in a thread", len(sources))
                crashes.clear()
            finally:
                with self._lock:
                    self._scans.discard(scan)
                scan.stop()
        # No workers (or one died): the same pass, here, file by file.
        return runner.first_pass(sources, settings, cache, 1, crashes)

    def _scan_pool(self) -> WorkerPool | None:
        with self._lock:
            if self._disabled:
                return None
            try:
                pool = WorkerPool(SCAN_WORKERS)
            except Exception as exc:
                log.info("indexing without worker processes: %s", exc)
                return None
            self._scans.add(pool)
            return pool

    def close(self) -> None:
        """Stop every worker now: exiting must not wait for a long parse nobody will read."""
        with self._lock:
            self._disabled = True
            pools = [*self._scans, *([self._documents] if self._documents is not None else [])]
            self._scans.clear()
            self._documents = None
        for pool in pools:
            pool.stop()
