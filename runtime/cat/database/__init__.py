"""The database the runtime is using: configured once, opened lazily, one backend per event loop.

:func:`configure` records an explicit URL and/or project folder; nothing is
resolved or opened until the first store operation, which calls
:func:`cat_lint.project.location.resolve_database` (the one resolver shared with
the linter and the language server).  Backends are per event loop because
their futures belong to a loop: a test suite that runs every test in a
fresh loop, or a script that calls ``asyncio.run`` twice, gets a fresh
backend instead of a broken one.

Submodules (``location``, ``schema``, ``inspect``) are imported by the
tools, so this module stays free of heavy imports: the drivers load only
when a backend opens.
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

_settings: dict[str, Any] = {"sql": None, "project": None, "synchronous": "NORMAL"}
_backends: dict[asyncio.AbstractEventLoop, Backend] = {}
_lock = threading.Lock()
_stopping: list[threading.Thread] = []  # driver threads told to close, joined at exit


def configure(
    sql: str | None = None,
    project: str | os.PathLike[str] | None = None,
    *,
    synchronous: str = "NORMAL",
) -> None:
    """Choose the database: an explicit URL and/or the project folder.

    Both default to the documented resolution (``CAT_SQL``, the project's
    ``config.py``, ``sqlite:///data/core/core.db`` under the project folder,
    which is ``CAT_PROJECT_DIR`` or the working directory).  Calling it again
    closes the open database, so the next store call opens the new one.
    ``synchronous`` is SQLite's setting: ``"NORMAL"`` survives a killed
    process, ``"FULL"`` also survives power loss (see :mod:`cat.database.sqlite`).
    """
    if sql is not None and not isinstance(sql, str):
        raise TypeError(f"sql must be a database URL string, not {type(sql).__name__}")
    mode = str(synchronous).upper()
    if mode not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"synchronous must be NORMAL, FULL, EXTRA or OFF, not {synchronous!r}")
    with _lock:
        _settings.update(sql=sql or None, project=project, synchronous=mode)
    _abandon_all()


def configured_project() -> str | os.PathLike[str] | None:
    """The project folder given to :func:`configure`, if any."""
    return _settings["project"]


def current_location() -> DatabaseLocation:
    """Resolve the database the stores would use now."""
    return resolve_database(_settings["sql"], _settings["project"])


def open_backend(location: DatabaseLocation, loop: asyncio.AbstractEventLoop, synchronous: str = "NORMAL") -> Backend:
    """A backend for ``location`` (not yet connected: it connects on first use)."""
    if location.scheme == "sqlite":
        from cat.database.sqlite import SQLiteBackend

        return SQLiteBackend(location, loop, synchronous)
    if location.scheme == "postgresql":
        from cat.database.postgres import PostgresBackend

        return PostgresBackend(location, loop)
    raise ValueError(f"no backend for {location.describe()}")


def get_backend() -> Backend:
    """The backend of the running event loop, created on first use."""
    loop = asyncio.get_running_loop()
    backend = _backends.get(loop)
    if backend is not None and not backend.closed:
        return backend
    location = current_location()
    with _lock:
        backend = _backends.get(loop)
        if backend is None or backend.closed:
            # backends of loops that have ended are dead weight: release them now
            for other, old in list(_backends.items()):
                if other is not loop and other.is_closed():
                    _retire(old)
                    del _backends[other]
            backend = open_backend(location, loop, _settings["synchronous"])
            _backends[loop] = backend
    return backend


async def close() -> None:
    """Close the database of this event loop (pending writes finish first).  Idempotent.

    The next store call opens it again.
    """
    loop = asyncio.get_running_loop()
    with _lock:
        backend = _backends.pop(loop, None)
    if backend is not None:
        await backend.close()
    _abandon_all()


async def backup(dest: str | os.PathLike[str]) -> Any:
    """Copy the database to ``dest`` with SQLite's online backup, after every write issued so far."""
    backend = get_backend()
    await backend.flush()
    if backend.location.scheme != "sqlite":
        return await backend.backup(dest)
    from cat_lint.project.backup import backup_database

    return await asyncio.to_thread(backup_database, backend.location, dest)


def _retire(backend: Backend) -> None:
    """Release a backend without awaiting; remember its threads so exit can wait for them."""
    threads = backend.abandon() or ()
    _stopping[:] = [t for t in _stopping if t.is_alive()]
    _stopping.extend(threads)


def _abandon_all(join: float = 0.0) -> None:
    with _lock:
        backends = list(_backends.values())
        _backends.clear()
    for backend in backends:
        _retire(backend)
    if join:
        deadline = time.monotonic() + join
        for thread in list(_stopping):
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))


@atexit.register
def _close_at_exit() -> None:
    """A script that never closed the store still exits, with its connections closed cleanly."""
    _abandon_all(join=5.0)
