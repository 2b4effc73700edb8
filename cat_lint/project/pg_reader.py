"""The read-only key reader for a PostgreSQL database (asyncpg, the ``postgres`` extra).

It implements :class:`~cat_lint.project.stored_keys.DatabaseReader`, as the
SQLite :class:`~cat_lint.project.reader.KeyReader` does, so ``cat-store``, the linter and the language server read either without
knowing which.  It never writes: the session is opened with
``default_transaction_read_only`` and every call is one read-only
transaction.

The callers are synchronous (command line, linter workers, the language
server's worker thread), some of them inside a thread whose event loop is
running, so the reader runs its own loop in a daemon thread of its own and
hands it each query.  One connection is kept for the reader's life.

User ids are stored as UUIDs (:func:`~cat_lint.project.schema.pg_user_id`):
``--user alice`` finds alice's keys.  A hashed id cannot be turned back into
its text, so a listing of users shows such a user as ``stored:<uuid>``, which
every method here accepts back (and the runtime never does: for it that is
just another id, hashed in turn).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any, Awaitable, Callable, TypeVar

from cat_lint.project.location import DatabaseLocation, asyncpg_dsn
from cat_lint.project.stored_keys import SCAN_CHARS, DatabaseUnavailable, StoredKey, global_key, per_user_keys, stored_type
from cat_lint.project.schema import GLOBAL_TABLE, USER_TABLE, decode_value, pg_user_id

__all__ = ["PostgresKeyReader"]

T = TypeVar("T")
CONNECT_TIMEOUT = 10.0
QUERY_TIMEOUT = 30.0

# Nothing changed anywhere on the server while no transaction ended: the newest
# transaction id is the cheap first look; the tables' own row count and newest
# row version tell whether it was ours (updates and inserts make new row
# versions, deletes change the count).
_SERVER_XMAX = "SELECT pg_snapshot_xmax(pg_current_snapshot())::text"
_TABLES_SIGNATURE = (
    f"SELECT (SELECT count(*)::text || ':' || coalesce(max(xmin::text::bigint), 0)::text FROM {GLOBAL_TABLE}) || '/' || "
    f"(SELECT count(*)::text || ':' || coalesce(max(xmin::text::bigint), 0)::text FROM {USER_TABLE})"
)


class PostgresKeyReader:
    """Read-only access to the Cat's two tables on a PostgreSQL server."""

    def __init__(self, location: DatabaseLocation) -> None:
        self.location = location
        self._conn: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._xmax: str | None = None
        self._signature: str | None = None
        self._version = 0

    # -- the private loop and connection ---------------------------------
    def _call(self, query: Callable[[Any], Awaitable[T]]) -> T:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, name="cat-pg-reader", daemon=True)
                self._thread.start()
            future = asyncio.run_coroutine_threadsafe(self._in_transaction(query), self._loop)
            try:
                return future.result(CONNECT_TIMEOUT + QUERY_TIMEOUT)
            except (DatabaseUnavailable, _NoTables):
                raise
            except Exception as exc:  # noqa: BLE001 - every driver failure becomes one message
                self._drop_connection()
                raise DatabaseUnavailable(f"cannot read {self.location.describe()}: {_cause(exc)}") from None

    async def _in_transaction(self, query: Callable[[Any], Awaitable[T]]) -> T:
        try:
            import asyncpg
        except ImportError:
            raise DatabaseUnavailable(
                f"{self.location.describe()} is a PostgreSQL database, which needs asyncpg: "
                "pip install 'cat-devtools[postgres]'"
            ) from None
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(
                asyncpg_dsn(self.location.url),
                timeout=CONNECT_TIMEOUT,
                command_timeout=QUERY_TIMEOUT,
                server_settings={"default_transaction_read_only": "on", "application_name": "cat-devtools reader"},
            )
        try:
            async with self._conn.transaction(readonly=True, isolation="repeatable_read"):
                return await query(self._conn)
        except asyncpg.UndefinedTableError:
            raise _NoTables() from None

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and self._loop is not None:
            asyncio.run_coroutine_threadsafe(_close_quietly(conn), self._loop)

    def _rows(self, query: Callable[[Any], Awaitable[list[Any]]]) -> list[Any]:
        """Rows of a query; none when the Cat never created its tables there."""
        try:
            return self._call(query)
        except _NoTables:
            return []

    def close(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
            if loop is None:
                return
            conn, self._conn = self._conn, None
            if conn is not None:
                try:
                    asyncio.run_coroutine_threadsafe(_close_quietly(conn), loop).result(5)
                except Exception:  # noqa: BLE001 - closing is best effort
                    pass
            loop.call_soon_threadsafe(loop.stop)
            if thread is not None:
                thread.join(5)
            loop.close()

    def __enter__(self) -> PostgresKeyReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries, as the SQLite reader's ---------------------------------
    def data_version(self) -> int:
        """Moves whenever a commit changed the two tables (polled by the language server)."""

        async def look(conn: Any) -> tuple[str, str | None]:
            xmax = await conn.fetchval(_SERVER_XMAX)
            if xmax == self._xmax:
                return xmax, None
            return xmax, await conn.fetchval(_TABLES_SIGNATURE)

        try:
            xmax, signature = self._call(look)
        except _NoTables:
            xmax, signature = None, "no tables"
        if signature is not None and signature != self._signature:
            self._signature = signature
            self._version += 1
        self._xmax = xmax
        return self._version

    def global_keys(self) -> list[StoredKey]:
        rows = self._rows(
            lambda conn: conn.fetch(
                f"SELECT key, octet_length(value::text), left(value::text, {SCAN_CHARS}) FROM {GLOBAL_TABLE} ORDER BY key"
            )
        )
        return [global_key(key, stored_type("text", head), size or 0, head) for key, size, head in rows]

    def user_keys(self, user_id: str | None = None) -> list[StoredKey]:
        """Per-user keys: all of them, aggregated, or those of one user."""
        select = f"SELECT key, user_id::text, octet_length(value::text), left(value::text, {SCAN_CHARS}) FROM {USER_TABLE}"
        if user_id is None:
            rows = self._rows(lambda conn: conn.fetch(f"{select} ORDER BY key"))
        else:
            uid = _stored_id(user_id)
            rows = self._rows(lambda conn: conn.fetch(f"{select} WHERE user_id = $1 ORDER BY key", uid))
        return per_user_keys((key, uid, stored_type("text", head), size or 0, head) for key, uid, size, head in rows)

    def keys(self) -> list[StoredKey]:
        """Every key of both stores, global first."""
        return self.global_keys() + self.user_keys()

    def user_ids(self, key: str | None = None, limit: int | None = None) -> list[str]:
        """The users holding ``key`` (any key when ``None``), sorted; at most ``limit`` of them.

        A user whose id is a UUID is listed by it; any other by ``stored:<uuid>``.
        """
        where, params = ("WHERE key = $1", (key,)) if key is not None else ("", ())
        cap = f" LIMIT {int(limit)}" if limit is not None else ""
        rows = self._rows(lambda conn: conn.fetch(f"SELECT DISTINCT user_id FROM {USER_TABLE} {where} ORDER BY 1{cap}", *params))
        return sorted(_listed_id(row[0]) for row in rows)

    def get(self, key: str, user_id: str | None = None) -> tuple[bool, Any]:
        """``(True, value)`` when the key is stored, else ``(False, None)``."""
        if user_id is None:
            rows = self._rows(lambda conn: conn.fetch(f"SELECT value FROM {GLOBAL_TABLE} WHERE key = $1", key))
        else:
            uid = _stored_id(user_id)
            rows = self._rows(
                lambda conn: conn.fetch(
                    f"SELECT value FROM {USER_TABLE} WHERE user_id = $1 AND key = $2 ORDER BY ctid DESC LIMIT 1", uid, key
                )
            )
        return (True, decode_value(rows[0][0])) if rows else (False, None)


STORED_PREFIX = "stored:"


def _listed_id(stored: uuid.UUID) -> str:
    """How a stored user id is shown: the id itself for a real UUID, else its stored form, marked."""
    return str(stored) if stored.variant == uuid.RFC_4122 else f"{STORED_PREFIX}{stored}"


def _stored_id(user_id: str) -> uuid.UUID:
    """The stored UUID for an id as a person types it, or as :meth:`PostgresKeyReader.user_ids` listed it."""
    if user_id.startswith(STORED_PREFIX):
        try:
            return uuid.UUID(user_id[len(STORED_PREFIX):])
        except ValueError:
            pass
    return pg_user_id(user_id)


class _NoTables(Exception):
    """The Cat never wrote to this database: its tables are not there yet."""


async def _close_quietly(conn: Any) -> None:
    try:
        await conn.close(timeout=5)
    except Exception:  # noqa: BLE001 - a connection that is already broken
        conn.terminate()


def _cause(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
