"""The SQL the SQLite backend runs: one statement per operation, atomic on its own.

A save is an upsert; an update is the same upsert, whose new value comes
from the SQL function ``cat_update`` running the caller's ``fn``; a ``TEMP``
trigger keeps one per-user row per key.  (Why, and what SQLite guarantees
here: ``docs/sqlite-internals.md``.)  :class:`Op` is one operation as the
write lane queues it (:mod:`cat.database.sqlite_writer`) and a batch runs it
(:mod:`cat.database.sqlite_batch`).
"""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
from typing import Any, Callable

from cat import values
from cat.database.backend import UpdateFn, apply_update
from cat_lint.project.schema import GLOBAL_TABLE, USER_TABLE

__all__ = [
    "DEDUPE_TRIGGER",
    "Op",
    "UPDATE_FUNCTION",
    "Update",
    "delete_statement",
    "exists_statement",
    "get_statement",
    "is_busy",
    "put_statement",
    "update_function",
    "update_statement",
]

UPDATE_FUNCTION = "cat_update"

_NEWEST_ID = f"(SELECT id FROM {USER_TABLE} WHERE user_id = ? AND key = ? ORDER BY rowid DESC LIMIT 1)"
_NEWEST_VALUE = f"(SELECT value FROM {USER_TABLE} WHERE user_id = ? AND key = ? ORDER BY rowid DESC LIMIT 1)"

G_GET = f"SELECT value FROM {GLOBAL_TABLE} WHERE key = ?"
G_EXISTS = f"SELECT 1 FROM {GLOBAL_TABLE} WHERE key = ?"
G_PUT = f"INSERT INTO {GLOBAL_TABLE} (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
G_UPDATE = (
    f"INSERT INTO {GLOBAL_TABLE} (key, value) VALUES (?, {UPDATE_FUNCTION}(?, (SELECT value FROM {GLOBAL_TABLE} WHERE key = ?))) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
G_DELETE = f"DELETE FROM {GLOBAL_TABLE} WHERE key = ?"

U_GET = f"SELECT value FROM {USER_TABLE} WHERE user_id = ? AND key = ? ORDER BY rowid DESC LIMIT 1"
U_EXISTS = f"SELECT 1 FROM {USER_TABLE} WHERE user_id = ? AND key = ? LIMIT 1"
U_PUT = (
    f"INSERT INTO {USER_TABLE} (id, user_id, key, value) VALUES (coalesce({_NEWEST_ID}, ?), ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET value = excluded.value"
)
U_UPDATE = (
    f"INSERT INTO {USER_TABLE} (id, user_id, key, value) "
    f"VALUES (coalesce({_NEWEST_ID}, ?), ?, ?, {UPDATE_FUNCTION}(?, {_NEWEST_VALUE})) "
    "ON CONFLICT (id) DO UPDATE SET value = excluded.value"
)
U_DELETE = f"DELETE FROM {USER_TABLE} WHERE user_id = ? AND key = ?"

# Unqualified table names: SQLite forbids qualified ones inside trigger bodies;
# a TEMP trigger's body resolves them like any statement of its connection.
DEDUPE_TRIGGER = (
    f"CREATE TEMP TRIGGER IF NOT EXISTS cat_one_row_per_user_key AFTER UPDATE OF value ON main.{USER_TABLE} "
    f"BEGIN DELETE FROM {USER_TABLE} WHERE user_id = NEW.user_id AND key = NEW.key AND rowid < NEW.rowid; END"
)


def get_statement(uid: Any, key: str) -> tuple[str, tuple[Any, ...]]:
    return (G_GET, (key,)) if uid is None else (U_GET, (uid, key))


def exists_statement(uid: Any, key: str) -> tuple[str, tuple[Any, ...]]:
    return (G_EXISTS, (key,)) if uid is None else (U_EXISTS, (uid, key))


def put_statement(uid: Any, key: str, encoded: str | bytes, new_id: str) -> tuple[str, tuple[Any, ...]]:
    return (G_PUT, (key, encoded)) if uid is None else (U_PUT, (uid, key, new_id, uid, key, encoded))


def update_statement(uid: Any, key: str, token: int, new_id: str) -> tuple[str, tuple[Any, ...]]:
    if uid is None:
        return G_UPDATE, (key, token, key)
    return U_UPDATE, (uid, key, new_id, uid, key, token, uid, key)


def delete_statement(uid: Any, key: str) -> tuple[str, tuple[Any, ...]]:
    return (G_DELETE, (key,)) if uid is None else (U_DELETE, (uid, key))


class Update:
    """One pending ``update``: what ``cat_update`` needs, and what it found.

    It is listed in ``pending`` (where ``cat_update`` finds it by token)
    from its creation until :meth:`release`.
    """

    __slots__ = ("token", "fn", "default", "ctx", "new", "error", "_pending")

    def __init__(self, token: int, fn: UpdateFn, default: Any, ctx: contextvars.Context, pending: dict[int, Update]) -> None:
        self.token = token
        self.fn = fn
        self.default = default
        self.ctx = ctx
        self.new: Any = None
        self.error: BaseException | None = None
        self._pending = pending
        pending[token] = self

    def release(self) -> None:
        self._pending.pop(self.token, None)


def update_function(pending: dict[int, Update]) -> Callable[[int, Any], str | bytes]:
    """``cat_update(token, old)``: the new encoded value of the update ``pending[token]``.

    ``old`` is what the statement read (SQL ``NULL`` when the key is unset:
    the ``value`` column is ``NOT NULL``, so a stored value never is).  The
    caller's exception is kept on the :class:`Update`, because SQLite turns
    it into a generic "user-defined function raised exception".
    """

    def cat_update(token: int, old: Any) -> str | bytes:
        update = pending[token]
        try:
            found = old is not None
            new = apply_update(found, values.decode(old) if found else None, update.fn, update.default, update.ctx)
            encoded = values.encode(new)
        except BaseException as exc:
            update.error = exc
            raise
        update.new = new
        return encoded

    return cat_update


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether SQLite refused because another connection holds a lock (worth retrying)."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(exc)
    return "locked" in text or "busy" in text


class Op:
    """One operation for the lane: a statement, its parameters, and how to read its outcome.

    ``kind`` is ``"write"`` (a save: no result), ``"update"`` (the result is
    the update's new value), ``"delete"`` (whether a row went), ``"read"``
    (the first row, for an in-memory database, whose only connection is the
    writer's), or ``"nothing"`` (a marker for :meth:`WriteLane.flush`).
    """

    __slots__ = ("kind", "sql", "params", "update", "future")

    def __init__(self, kind: str, sql: str = "", params: tuple[Any, ...] = (), update: Update | None = None) -> None:
        self.kind = kind
        self.sql = sql
        self.params = params
        self.update = update
        self.future: asyncio.Future[Any] | None = None

    def error(self, exc: BaseException) -> BaseException:
        """The error the caller should see: its own update function's, not SQLite's wrapper of it."""
        if self.update is not None and self.update.error is not None:
            return self.update.error
        return exc

    def result_of(self, cursor: Any) -> Any:
        if self.kind == "update":
            assert self.update is not None
            return self.update.new
        if self.kind == "delete":
            return cursor.rowcount > 0
        return None

    def release(self) -> None:
        """The operation is over, run or not: its update leaves the pending ones."""
        if self.update is not None:
            self.update.release()

    def settle(self, ok: bool, value: Any) -> None:
        """Settle the caller's future, unless the caller already gave up on it (cancelled)."""
        future = self.future
        if future is None or future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
