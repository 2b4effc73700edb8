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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Literal

from cat_lint.project.location import DatabaseLocation
from cat_lint.project.schema import GLOBAL_TABLE, USER_TABLE, decode_user_id, decode_value, encode_user_id

if TYPE_CHECKING:
    from cat_lint.project.pg_reader import PostgresKeyReader

PREVIEW_CHARS = 80
SCAN_CHARS = 200  # how much of each value SQL hands back for typing and previews


class DatabaseUnavailable(Exception):
    """The database cannot be read: missing, corrupt, unreachable, or not supported."""


@dataclass(frozen=True)
class StoredKey:
    """One key as the database holds it.

    For the global store ``users`` is 0 and ``types`` has one entry; for the
    per-user store ``users`` counts distinct users holding the key and
    ``types`` lists every JSON type seen among them.  ``size`` is the length
    of the stored JSON text (the largest, for per-user keys); ``preview`` is
    its beginning, shortened with an ellipsis.
    """

    scope: Literal["global", "user"]
    key: str
    types: tuple[str, ...]
    size: int
    preview: str
    users: int = 0
    type_users: tuple[int, ...] = ()  # per-user keys: how many users hold each of ``types``, in order

    @property
    def type(self) -> str:
        return self.types[0] if len(self.types) == 1 else " | ".join(self.types)


def stored_type(storage: str, head: Any) -> str:
    """The JSON type of a stored value from its storage class (SQLite's, or "text") and its first characters."""
    if storage == "null":
        return "null"
    if storage == "integer":
        return "integer"
    if storage == "real":
        return "number"
    text = head.decode("utf-8", "replace") if isinstance(head, bytes) else str(head)
    first = text.lstrip()[:1]
    return {
        "{": "object",
        "[": "array",
        '"': "string",
        "t": "boolean",
        "f": "boolean",
        "n": "null",
    }.get(first) or ("number" if any(c in text for c in ".eE") or text.strip() in ("NaN", "Infinity", "-Infinity") else "integer")


def global_key(key: str, kind: str, size: int, head: Any) -> StoredKey:
    return StoredKey("global", key, (kind,), size, _preview(head, size))


def per_user_keys(rows: Iterable[tuple[str, str, str, int, Any]]) -> list[StoredKey]:
    """Aggregate ``(key, user_id, type, size, head)`` rows, ordered by key, into one entry per key.

    The preview shows the largest value; ``types`` lists every type seen, in order of appearance.
    """
    grouped: dict[str, dict[str, Any]] = {}
    for key, uid, kind, size, head in rows:
        entry = grouped.setdefault(key, {"users": set(), "types": [], "by_type": {}, "size": 0, "head": head})
        entry["users"].add(uid)
        if kind not in entry["types"]:
            entry["types"].append(kind)
        entry["by_type"].setdefault(kind, set()).add(uid)
        if size >= entry["size"]:
            entry["size"], entry["head"] = size, head
    return [
        StoredKey("user", key, tuple(e["types"]), e["size"], _preview(e["head"], e["size"]), len(e["users"]),
                  tuple(len(e["by_type"][t]) for t in e["types"]))
        for key, e in grouped.items()
    ]


def open_reader(location: DatabaseLocation) -> KeyReader | PostgresKeyReader:
    """The read-only reader for ``location``: SQLite here, PostgreSQL through asyncpg (same methods)."""
    if location.scheme == "postgresql":
        from cat_lint.project.pg_reader import PostgresKeyReader

        return PostgresKeyReader(location)
    return KeyReader(location)


def _preview(head: Any, size: int) -> str:
    if head is None:
        return "null"
    text = head.decode("utf-8", "replace") if isinstance(head, bytes) else str(head)
    text = " ".join(text.split())
    if len(text) > PREVIEW_CHARS or size > len(text):
        return text[: PREVIEW_CHARS - 1] + "…"
    return text


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
