"""The database the runtime is using: configured once, opened lazily, one backend per event loop.

:func:`configure` records an explicit URL and/or project folder; nothing is
resolved or opened until the first store operation, which calls
:func:`cat_lint.project.location.resolve_database` (the one resolver shared with
the linter and the language server).  Backends are per event loop because
their futures belong to a loop: a test suite that runs every test in a
fresh loop, or a script that calls ``asyncio.run`` twice, gets a fresh
backend instead of a broken one.

A forked child starts with none: :func:`_forget_after_fork` drops the
parent's backends there (without closing anything of theirs), and the
child's first store call opens its own.

Where the database is, and its tables, are the tools' own code
(:mod:`cat_lint.project.location`, :mod:`cat_lint.project.schema`), shared
with the runtime.  This module stays free of heavy imports: a backend's
module (:mod:`cat.database.sqlite`, :mod:`cat.database.postgres`) and its
driver load only when it opens.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import threading
import time
from typing import Any

from cat.database.backend import Backend
from cat_lint.project.location import DatabaseLocation, resolve_database

__all__ = ["configure", "configured_project", "current_location", "get_backend", "open_backend", "close", "backup"]

SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")  # SQLite's; checked by configure(), the one way in

_settings: dict[str, Any] = {"sql": None, "project": None, "synchronous": "NORMAL", "connect_timeout": 10.0}
_backends: dict[asyncio.AbstractEventLoop, Backend] = {}
_retiring: set[Backend] = set()  # replaced by configure(), closing in their own loops
_closing: set[asyncio.Task[None]] = set()  # those closes, referenced until done (asyncio keeps weak ones)
_lock = threading.Lock()
_stopping: list[threading.Event] = []  # set when a connection told to close has closed; awaited at exit
_inherited: list[Any] = []  # in a forked child: the parent's backends and tasks, referenced so they are never finalized
_inherited_loops: set[asyncio.AbstractEventLoop] = set()  # in a forked child: the loops those backends ran in


def configure(
    sql: str | None = None,
    project: str | os.PathLike[str] | None = None,
    *,
    synchronous: str = "NORMAL",
    connect_timeout: float = 10.0,
) -> None:
    """Choose the database: an explicit URL and/or the project folder.

    Both default to the documented resolution (``CAT_SQL``, the project's
    ``config.py``, ``sqlite:///data/core/core.db`` under the project folder,
    which is ``CAT_PROJECT_DIR`` or the working directory).  Calling it again
    closes the open database, so the next store call opens the new one:
    each event loop's backend is closed in that loop, after the operations
    already in flight there have finished.
    ``synchronous`` is SQLite's setting: ``"NORMAL"`` survives a killed
    process, ``"FULL"`` also survives power loss (``docs/sqlite-internals.md``).
    ``connect_timeout`` is how many seconds to wait for a PostgreSQL server
    before the store call fails with :class:`~cat.errors.DatabaseOpenError`.
    """
    if sql is not None and not isinstance(sql, str):
        raise TypeError(f"sql must be a database URL string, not {type(sql).__name__}")
    mode = synchronous_mode(synchronous)
    if isinstance(connect_timeout, bool) or not isinstance(connect_timeout, (int, float)) or not connect_timeout > 0:
        raise ValueError(f"connect_timeout must be a positive number of seconds, not {connect_timeout!r}")
    with _lock:
        _settings.update(sql=sql or None, project=project, synchronous=mode, connect_timeout=float(connect_timeout))
        replaced = list(_backends.values())
        _backends.clear()
    for backend in replaced:
        _retire_in_its_loop(backend)


def synchronous_mode(synchronous: str) -> str:
    """SQLite's ``synchronous`` setting, upper case; ``ValueError`` unless it is one of ``SYNCHRONOUS_MODES``."""
    mode = str(synchronous).upper()
    if mode not in SYNCHRONOUS_MODES:
        raise ValueError(f"synchronous must be NORMAL, FULL, EXTRA or OFF, not {synchronous!r}")
    return mode


def configured_project() -> str | os.PathLike[str] | None:
    """The project folder given to :func:`configure`, if any."""
    return _settings["project"]


def current_location() -> DatabaseLocation:
    """Resolve the database the stores would use now."""
    return resolve_database(_settings["sql"], _settings["project"])


def open_backend(
    location: DatabaseLocation, loop: asyncio.AbstractEventLoop, synchronous: str = "NORMAL", connect_timeout: float = 10.0
) -> Backend:
    """A backend for ``location`` (not yet connected: it connects on first use)."""
    if location.scheme == "sqlite":
        from cat.database.sqlite import SQLiteBackend

        return SQLiteBackend(location, loop, synchronous_mode(synchronous))
    if location.scheme == "postgresql":
        from cat.database.postgres import PostgresBackend

        return PostgresBackend(location, loop, connect_timeout)
    raise ValueError(f"no backend for {location.describe()}")


def get_backend() -> Backend:
    """The backend of the running event loop, created on first use."""
    loop = asyncio.get_running_loop()
    backend = _backends.get(loop)
    if backend is not None and not backend.closed:
        return backend
    if loop in _inherited_loops:
        raise RuntimeError(
            "the store cannot run in an event loop created before os.fork(): the child shares that "
            "loop's selector and wake-up pipe with the parent, so both would hang; start a new loop "
            "in the child (asyncio.run(...), or asyncio.new_event_loop())"
        )
    location = current_location()
    with _lock:
        backend = _backends.get(loop)
        if backend is None or backend.closed:
            # backends of loops that have ended are dead weight: release them now
            for other, old in list(_backends.items()):
                if other is not loop and other.is_closed():
                    _abandon(old)
                    del _backends[other]
            for old in [b for b in _retiring if b.loop.is_closed()]:
                _abandon(old)
            backend = open_backend(location, loop, _settings["synchronous"], _settings["connect_timeout"])
            _backends[loop] = backend
    return backend


async def close() -> None:
    """Close the database of this event loop (pending writes finish first).  Idempotent.

    Other event loops (other threads, say) keep theirs.  The next store call
    in this loop opens it again.
    """
    loop = asyncio.get_running_loop()
    with _lock:
        backend = _backends.pop(loop, None)
        retired_here = [b for b in _retiring if b.loop is loop]
    for old in [*retired_here, *([backend] if backend is not None else [])]:
        await old.close()
        _retiring.discard(old)


async def backup(dest: str | os.PathLike[str]) -> Any:
    """Copy the database to ``dest`` (SQLite's online backup), after every write issued so far."""
    return await get_backend().backup(dest)


def _retire_in_its_loop(backend: Backend) -> None:
    """Close ``backend`` in its own loop when that loop runs; abandon it when the loop is gone.

    Called from any thread.  A running loop is handed the close through
    ``call_soon_threadsafe`` (or directly, from its own thread), so it
    never touches connections from another thread.
    """
    loop = backend.loop
    if loop.is_closed() or not loop.is_running():
        _abandon(backend)
        return
    _retiring.add(backend)

    def start() -> None:
        task = loop.create_task(backend.close())
        _closing.add(task)
        task.add_done_callback(_closed)

    def _closed(task: asyncio.Task[None]) -> None:
        _closing.discard(task)
        if task.cancelled() or task.exception() is not None:
            _abandon(backend)  # its loop is shutting down: drop the connections
        _retiring.discard(backend)

    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        start()
        return
    try:
        loop.call_soon_threadsafe(start)
    except RuntimeError:  # it closed meanwhile
        _abandon(backend)


def _abandon(backend: Backend) -> None:
    """Release a backend without awaiting; remember its closing connections so exit can wait for them."""
    _retiring.discard(backend)
    closing = backend.abandon() or ()
    _stopping[:] = [event for event in _stopping if not event.is_set()]
    _stopping.extend(closing)


def _abandon_all(join: float = 0.0) -> None:
    with _lock:
        backends = [*_backends.values(), *_retiring]
        _backends.clear()
    for backend in backends:
        _abandon(backend)
    if join:
        deadline = time.monotonic() + join
        for event in list(_stopping):
            event.wait(max(0.0, deadline - time.monotonic()))


def _forget_after_fork() -> None:
    """In a forked child: forget the parent's backends, so the child's store calls open their own.

    What the child inherited belongs to the parent: its event loops, the
    threads of its drivers (which do not exist in the child), its sockets.
    So nothing of it is used, closed or awaited here: each backend is marked
    closed and kept referenced in ``_inherited``, so no finalizer of its
    objects runs in the child either (an asyncpg connection's would take its
    socket out of the parent's event loop, whose epoll instance the child
    shares).  The SQLite backend closes the child's copies of its SQLite
    connections at the same moment (see :mod:`cat.database.sqlite`).  The
    lock may have been held by another thread of the parent at the fork.
    """
    global _lock
    _lock = threading.Lock()
    backends = [*_backends.values(), *_retiring]
    _inherited.extend([*backends, *_closing])
    _inherited_loops.update(backend.loop for backend in backends)
    _backends.clear()
    _retiring.clear()
    _closing.clear()
    _stopping.clear()  # set by the parent's closing threads, which the child does not have
    for backend in backends:
        backend.forget_inherited()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forget_after_fork)


@atexit.register
def _close_at_exit() -> None:
    """A script that never closed the store still exits, with its connections closed cleanly."""
    _abandon_all(join=5.0)
