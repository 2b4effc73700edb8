"""The project's database as the server sees it: read-only, cached, never in the way.

The database is found exactly as the runtime finds it
(:func:`cat_lint.project.location.resolve_database`, relative to the workspace
folder) and read through the reader :func:`cat_lint.project.reader.open_reader`
gives, which opens SQLite with ``mode=ro`` and reads PostgreSQL in read-only
transactions: the server never creates, writes or locks the database, so a
Cat running beside the editor keeps writing.

Completion must answer in milliseconds even with 100,000 keys, so the keys
are read once into a :class:`Snapshot` and re-read only when the database
changed.  "Changed" is asked cheaply: the reader's ``data_version`` (SQLite's
``PRAGMA data_version`` on its long-lived connection, or on PostgreSQL the
server's newest transaction id, then the tables' row versions) moves whenever
another connection commits, and the file's identity and change time catch a
SQLite database that was replaced or deleted.  Every failure (missing,
corrupt, locked, unreachable) yields an empty snapshot and a one-line reason,
never an exception: the editor works without a database, with no popup (the
session's poll puts the reason in the client's log once, and tries the
database again until it can be read: ``cat_lsp.poll_record``).
"""

from __future__ import annotations

import bisect
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cat_lint.project.location import DatabaseLocation, DatabaseURLError, parse_url, project_dir, resolve_database
from cat_lint.project.reader import DatabaseUnavailable, KeyReader, StoredKey, open_reader

log = logging.getLogger(__name__)

# How often (seconds) the change check may touch the file system at most;
# completion asks on every keystroke.
_MIN_CHECK_INTERVAL = 0.05
# A re-read waits at least this many times what the previous one took
# (2 ms for a small database: no delay to speak of; 0.5 s for 100,000 keys: 2.5 s).
_RELOAD_COST_FACTOR = 5.0


class StoredRows(Mapping[str, StoredKey]):
    """Keys by name, kept as plain tuples and made ``StoredKey`` objects when looked at.

    Why tuples: Python's cyclic collector stops tracking a tuple of strings
    and numbers once it has seen it, while 100,000 key objects (and their
    attribute dictionaries) would be walked by every full collection of the
    server's process, inside whatever request is being answered.  A request
    looks at a few keys, so making their objects on demand costs nothing.
    """

    def __init__(self, keys: Iterable[StoredKey] = ()) -> None:
        self._rows: dict[str, tuple[Any, ...]] = {
            k.key: (k.scope, k.key, k.types, k.size, k.preview, k.users, k.type_users) for k in keys}

    def __getitem__(self, name: str) -> StoredKey:
        return StoredKey(*self._rows[name])

    def __contains__(self, name: object) -> bool:
        return name in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


@dataclass
class Snapshot:
    """Every key in the database at one moment, indexed for completion."""

    global_keys: Mapping[str, StoredKey] = field(default_factory=StoredRows)
    user_keys: Mapping[str, StoredKey] = field(default_factory=StoredRows)
    reason: str | None = None  # why it is empty, when it is
    generation: int = 0  # moves whenever the content may have changed

    def __post_init__(self) -> None:
        self.sorted_global = sorted(self.global_keys)
        self.sorted_user = sorted(self.user_keys)

    def keys(self, scope: str) -> Mapping[str, StoredKey]:
        return self.global_keys if scope in ("store", "global") else self.user_keys

    def sorted_names(self, scope: str) -> list[str]:
        return self.sorted_global if scope in ("store", "global") else self.sorted_user

    def with_prefix(self, scope: str, prefix: str, limit: int) -> list[str]:
        """Names starting with ``prefix``, in order, at most ``limit`` (bisect: fast on 100,000 keys)."""
        names = self.sorted_names(scope)
        start = bisect.bisect_left(names, prefix)
        out: list[str] = []
        for name in names[start:]:
            if not name.startswith(prefix) or len(out) >= limit:
                break
            out.append(name)
        return out

    def all(self) -> list[StoredKey]:
        return [self.global_keys[k] for k in self.sorted_global] + [self.user_keys[k] for k in self.sorted_user]


class ProjectDatabase:
    """The database of one workspace folder, re-read only when it changed.

    Thread-safe: the server calls :meth:`snapshot` from worker threads.
    """

    def __init__(self, project: str | os.PathLike[str], explicit_url: str | None = None, explicit_origin: str | None = None) -> None:
        self.project = Path(project)
        self.explicit_url = explicit_url
        # Where an explicit URL came from ("[tool.cat-lint] database", the
        # editor's setting), for "no database at X (from Y)".
        self.explicit_origin = explicit_origin
        self._lock = threading.RLock()
        self._reader: KeyReader | None = None
        self._location: DatabaseLocation | None = None
        self._identity: tuple[Any, ...] | None = None
        self._data_version: int | None = None
        self._last_check = 0.0
        self._last_reload_end = 0.0
        self._reload_cost = 0.0
        self._generation = 0
        self._snapshot = Snapshot(reason="not read yet")
        self._stale = True

    # -- public -----------------------------------------------------------
    @property
    def location(self) -> DatabaseLocation | None:
        return self._location

    def describe(self) -> str:
        if self._location is None:
            return "no database"
        return self._location.describe()

    def invalidate(self, explicit_url: str | None | object = ..., origin: str | None = None) -> None:
        """Forget everything (``config.py`` or the settings changed): resolve again on next use."""
        with self._lock:
            if explicit_url is not ...:
                self.explicit_url = explicit_url  # type: ignore[assignment]
                self.explicit_origin = origin
            self._close()
            self._location = None
            self._stale = True

    def snapshot(self, force_check: bool = False, wait: bool = True, retry: bool = False) -> Snapshot:
        """The keys as they are now (re-read if the database changed since last time).

        With ``wait=False`` (completion, hover) a caller never waits for
        another thread's re-read: it gets the previous snapshot meanwhile,
        except before the very first read.  Re-reads are spaced by a
        multiple of what the last one cost, so a Cat writing all the time
        into 100,000 keys does not keep a core busy re-reading them.

        ``retry`` (the session's poll): a database that could not be read is
        tried again even though nothing visible changed, since a PostgreSQL
        server that comes back, or a lock that is released, shows in no file.
        A failure for the same reason as before keeps the previous snapshot
        (and its generation): nothing changed for the documents.
        """
        if not self._lock.acquire(blocking=wait or self._stale):
            return self._snapshot
        try:
            now = time.monotonic()
            if not self._stale and not force_check:
                if now - self._last_check < _MIN_CHECK_INTERVAL:
                    return self._snapshot
                if now - self._last_reload_end < self._reload_cost * _RELOAD_COST_FACTOR:
                    return self._snapshot
            self._last_check = now
            try:
                failed_before = self._reader is None and self._snapshot.reason is not None
                if self._stale or self._changed() or (retry and failed_before):
                    started = time.monotonic()
                    try:
                        self._reload()
                    finally:
                        self._last_reload_end = time.monotonic()
                        self._reload_cost = self._last_reload_end - started
            except Exception as exc:  # a corrupt, locked or vanished database must not stop the server
                self._unavailable(_reason(exc))
                # self._identity stays what _reload saw *before* reading: if the
                # file changes while we fail (a Cat creating it), the next
                # check notices and retries.
            return self._snapshot
        finally:
            self._lock.release()

    def get(self, key: str, user_id: str | None = None) -> tuple[bool, Any]:
        """A key's full value (global, or one user's), ``(False, None)`` when absent or unreadable."""
        with self._lock:
            try:
                reader = self._ensure_reader()
                return reader.get(key, user_id) if reader is not None else (False, None)
            except Exception as exc:
                log.info("cannot read %r: %s", key, _reason(exc))
                self._close()
                return False, None

    def user_ids(self, key: str | None = None, limit: int | None = None) -> list[str]:
        """The users holding a per-user key, sorted (empty when the database is unreadable)."""
        with self._lock:
            try:
                reader = self._ensure_reader()
                return reader.user_ids(key, limit) if reader is not None else []
            except Exception as exc:
                log.info("cannot list the users of %r: %s", key, _reason(exc))
                self._close()
                return []

    def close(self) -> None:
        with self._lock:
            self._close()

    # -- internals ------------------------------------------------------
    def _resolve(self) -> DatabaseLocation | None:
        if self._location is None:
            if self.explicit_url and self.explicit_origin:
                # The same parsing as resolve_database's first step, named after its real source.
                self._location = parse_url(self.explicit_url, project_dir(self.project), self.explicit_origin)
            else:
                self._location = resolve_database(self.explicit_url, discovered=self.project)
        return self._location

    def _ensure_reader(self) -> KeyReader | None:
        if self._reader is None:
            location = self._resolve()
            if location is None:
                return None
            self._reader = open_reader(location)
        return self._reader

    def _file_identity(self) -> tuple[Any, ...] | None:
        """Inode and change times of the file and its WAL: a replaced, deleted or rewritten database shows here."""
        location = self._location
        if location is None or location.path is None:
            return None
        parts: list[Any] = []
        for suffix in ("", "-wal"):
            try:
                st = os.stat(str(location.path) + suffix)
                parts.append((st.st_ino, st.st_mtime_ns, st.st_size))
            except OSError:
                parts.append(None)
        return tuple(parts)

    def _changed(self) -> bool:
        self._resolve()
        identity = self._file_identity()
        if identity != self._identity:
            # The database file itself changed (not only its WAL): a new inode is a new file the
            # open connection does not see, and a file rewritten in place (copied over, truncated)
            # contradicts what the connection cached of it: read it through a new connection.
            old_file = self._identity[0] if self._identity else None
            new_file = identity[0] if identity else None
            if old_file != new_file:
                self._close()
            return True
        if self._reader is None:
            return False
        try:
            return self._reader.data_version() != self._data_version
        except Exception:
            self._close()
            return True

    def _reload(self) -> None:
        location = self._resolve()
        self._identity = self._file_identity()
        if location is None or (location.is_sqlite and location.path is not None and not location.path.is_file()):
            self._unavailable(f"no database at {self.describe()}")
            return
        if location.is_sqlite and location.path is not None and location.path.stat().st_size == 0:
            # SQLite would read it as a database without tables (or, beside an old WAL, as
            # "malformed"): say what it is.
            self._unavailable(f"{self.describe()} is an empty file (0 bytes)")
            return
        reader = self._ensure_reader()
        assert reader is not None
        version = reader.data_version()
        global_keys = StoredRows(reader.global_keys())
        user_keys = StoredRows(reader.user_keys())
        self._data_version = version
        self._generation += 1
        self._snapshot = Snapshot(global_keys, user_keys, None, self._generation)
        self._stale = False  # only now: until the first snapshot exists, readers wait for it
        log.info("read %d global and %d per-user keys from %s (data_version %s, file %s)",
                 len(global_keys), len(user_keys), self.describe(), version, self._identity)

    def _unavailable(self, reason: str) -> None:
        """No keys, and why; the previous snapshot stays when it said the same (nothing changed since)."""
        self._close()
        if reason != self._snapshot.reason:
            self._generation += 1
            self._snapshot = Snapshot(reason=reason, generation=self._generation)
            log.info("database unavailable: %s", reason)
        self._stale = False

    def _close(self) -> None:
        if self._reader is not None:
            try:
                self._reader.close()
            except Exception:
                pass
            self._reader = None
        self._data_version = None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, (DatabaseUnavailable, DatabaseURLError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
