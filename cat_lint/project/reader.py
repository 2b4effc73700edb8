"""A read-only look at a project's keys, shared by ``cat-store``, ``cat-lint``
and ``cat-lsp``: :func:`open_reader` gives the reader for a database.

It never creates, writes or locks the database: SQLite is opened with
``mode=ro`` through a URI, so a missing file is reported instead of being
created empty, and a running Cat keeps writing (WAL readers do not block the
writer); PostgreSQL is read in read-only transactions
(:mod:`cat_lint.project.pg_reader`).  Everything is synchronous on purpose:
callers are command-line tools, linter worker processes, and a language
server that runs this in a worker thread.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from cat_lint.project.location import DatabaseLocation
from cat_lint.project.schema import GLOBAL_TABLE, USER_TABLE, decode_user_id, decode_value, encode_user_id
from cat_lint.project.stored_keys import (
    SCAN_CHARS,
    DatabaseReader,
    DatabaseUnavailable,
    StoredKey,
    global_key,
    per_user_keys,
    stored_type,
)

__all__ = ["DatabaseReader", "DatabaseUnavailable", "KeyReader", "StoredKey", "open_reader"]


def open_reader(location: DatabaseLocation) -> DatabaseReader:
    """The read-only reader for ``location``: SQLite here, PostgreSQL through asyncpg (same protocol)."""
    if location.scheme == "postgresql":
        from cat_lint.project.pg_reader import PostgresKeyReader

        return PostgresKeyReader(location)
    return KeyReader(location)


class KeyReader:
    """Read-only access to one SQLite database of the Cat's layout.

    Opening is lazy and every method opens a short-lived read transaction,
    so a reader kept for hours by the language server never pins old data.
    """

    def __init__(self, location: DatabaseLocation) -> None:
        self.location = location
        self._conn: sqlite3.Connection | None = None

    # -- connection -----------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        loc = self.location
        if not loc.is_sqlite:
            raise DatabaseUnavailable(f"{loc.describe()} is not SQLite: open it with open_reader()")
        if loc.path is None:
            raise DatabaseUnavailable("an in-memory database has no keys to read")
        path = Path(loc.path)
        if not path.is_file():
            raise DatabaseUnavailable(f"no database at {loc.describe()}")
        try:
            conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False, timeout=2.0)
            conn.execute("PRAGMA query_only = ON")
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise DatabaseUnavailable(f"cannot read {loc.describe()}: {exc}") from exc
        self._tables = tables
        self._conn = conn
        return conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> KeyReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        conn = self._connect()
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise DatabaseUnavailable(f"cannot read {self.location.describe()}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise DatabaseUnavailable(f"cannot read {self.location.describe()}: {exc}") from exc

    # -- queries --------------------------------------------------------
    def data_version(self) -> int:
        """Changes whenever another connection commits (SQLite's ``data_version``)."""
        return int(self._query("PRAGMA data_version")[0][0])

    def global_keys(self) -> list[StoredKey]:
        rows = self._query(
            f"SELECT key, typeof(value), length(CAST(value AS BLOB)), substr(value, 1, {SCAN_CHARS}) "
            f"FROM {GLOBAL_TABLE} ORDER BY key"
        )
        return [global_key(key, stored_type(kind, head), size or 0, head) for key, kind, size, head in rows]

    def user_keys(self, user_id: str | None = None) -> list[StoredKey]:
        """Per-user keys: all of them, aggregated, or those of one user."""
        where, params = ("WHERE user_id = ?", (encode_user_id(user_id),)) if user_id is not None else ("", ())
        rows = self._query(
            f"SELECT key, user_id, typeof(value), length(CAST(value AS BLOB)), substr(value, 1, {SCAN_CHARS}) "
            f"FROM {USER_TABLE} {where} ORDER BY key"
        , params)
        return per_user_keys((key, decode_user_id(uid), stored_type(kind, head), size or 0, head) for key, uid, kind, size, head in rows)

    def keys(self) -> list[StoredKey]:
        """Every key of both stores, global first."""
        return self.global_keys() + self.user_keys()

    def user_ids(self, key: str | None = None, limit: int | None = None) -> list[str]:
        """The users holding ``key`` (any key when ``None``), sorted; at most ``limit`` of them."""
        where, params = ("WHERE key = ?", (key,)) if key is not None else ("", ())
        ids = sorted({decode_user_id(row[0]) for row in self._query(f"SELECT DISTINCT user_id FROM {USER_TABLE} {where}", params)})
        return ids if limit is None else ids[:limit]

    def get(self, key: str, user_id: str | None = None) -> tuple[bool, Any]:
        """``(True, value)`` when the key is stored, else ``(False, None)``."""
        if user_id is None:
            rows = self._query(f"SELECT value FROM {GLOBAL_TABLE} WHERE key = ?", (key,))
        else:
            rows = self._query(
                f"SELECT value FROM {USER_TABLE} WHERE user_id = ? AND key = ? ORDER BY rowid DESC LIMIT 1",
                (encode_user_id(user_id), key),
            )
        if not rows:
            return False, None
        return True, decode_value(rows[0][0])
