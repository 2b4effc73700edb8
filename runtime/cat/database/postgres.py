"""The PostgreSQL backend (asyncpg), for projects whose ``SQL`` names a server.

Same tables as the Cat creates there (``key_value_db``, ``user_key_value_db``,
``value`` declared ``JSON``), same promises as the SQLite backend:

* **Exact types.**  ``JSON`` (not ``JSONB``) keeps the text it was given, so
  ``9.0`` stays a float and ``2**70`` stays exact; values are sent and read
  as JSON text and decoded by :mod:`cat.values`.
* **Atomic writes.**  Every write runs in one transaction that first takes a
  transaction-scoped advisory lock on its (scope, key).  That serializes
  ``update``'s read-modify-write against every other writer of the key, in
  any process, even when the row does not exist yet (which ``SELECT ... FOR
  UPDATE`` alone cannot lock), and keeps per-user saves at one row per key
  although the table has no unique constraint.
* **User ids.**  The Cat declares ``user_id UUID``, a native type here, so
  an id that is an RFC 4122 UUID in canonical form (every id the Cat itself
  makes) is stored as itself, and any other id (``"1"``, ``"alice"``, an
  upper-case UUID) as a hash of its exact text in the part of UUID space
  that RFC 4122 leaves unused: distinct ids never meet
  (:func:`cat_lint.project.schema.pg_user_id`).
* **Duplicates** the Cat may have left (no unique constraint) are collapsed
  by the next save; until then a read takes the physically newest row.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import uuid
from typing import Any

from cat import values
from cat.database.backend import Backend, UpdateFn, apply_update
from cat_lint.project.location import DatabaseLocation, asyncpg_dsn
from cat_lint.project.schema import GLOBAL_TABLE, USER_TABLE, pg_key_lock, pg_user_id
from cat.errors import DatabaseOpenError, StoreClosedError

__all__ = ["PostgresBackend", "POSTGRES_SCHEMA", "pg_user_id", "asyncpg_dsn"]

# Shaped like the tables the Cat's ORM (Piccolo) creates: NOT NULL columns,
# a JSON (not JSONB) value, native UUIDs.
POSTGRES_SCHEMA = (
    f"""CREATE TABLE IF NOT EXISTS "{GLOBAL_TABLE}" ("key" VARCHAR(1024) PRIMARY KEY NOT NULL DEFAULT '', """
    """"value" JSON NOT NULL DEFAULT '{}')""",
    f"""CREATE TABLE IF NOT EXISTS "{USER_TABLE}" ("id" UUID PRIMARY KEY NOT NULL, """
    """"user_id" UUID NOT NULL, "key" VARCHAR(1024) NOT NULL DEFAULT '', """
    """"value" JSON NOT NULL DEFAULT '{}')""",
    f'CREATE INDEX IF NOT EXISTS {USER_TABLE}_user_id ON "{USER_TABLE}" ("user_id")',
    f'CREATE INDEX IF NOT EXISTS {USER_TABLE}_key ON "{USER_TABLE}" ("key")',
)

_SCHEMA_LOCK = 0x6361745F736368  # advisory lock id serializing CREATE TABLE across processes
_TABLES_EXIST = f"SELECT to_regclass('{GLOBAL_TABLE}') IS NOT NULL AND to_regclass('{USER_TABLE}') IS NOT NULL"


def _text(encoded: str | bytes) -> str:
    return encoded.decode("utf-8") if isinstance(encoded, bytes) else encoded


_G_GET = f"SELECT value FROM {GLOBAL_TABLE} WHERE key = $1"
_G_EXISTS = f"SELECT 1 FROM {GLOBAL_TABLE} WHERE key = $1"
_U_EXISTS = f"SELECT 1 FROM {USER_TABLE} WHERE user_id = $1 AND key = $2 LIMIT 1"
_G_PUT = f"INSERT INTO {GLOBAL_TABLE} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
_G_PUT_LOCKED = (
    f"WITH lock AS (SELECT pg_advisory_xact_lock($1)) INSERT INTO {GLOBAL_TABLE} (key, value) "
    "SELECT $2::varchar, $3::json FROM lock ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
_G_DELETE = f"DELETE FROM {GLOBAL_TABLE} WHERE key = $1"
_U_GET = f"SELECT value FROM {USER_TABLE} WHERE user_id = $1 AND key = $2 ORDER BY ctid DESC LIMIT 1"
_U_ROWS = f"SELECT id FROM {USER_TABLE} WHERE user_id = $1 AND key = $2 ORDER BY ctid DESC"
_U_INSERT = f"INSERT INTO {USER_TABLE} (id, user_id, key, value) VALUES ($1, $2, $3, $4)"
_U_SET = f"UPDATE {USER_TABLE} SET value = $1 WHERE id = $2"
_U_DEDUPE = f"DELETE FROM {USER_TABLE} WHERE user_id = $1 AND key = $2 AND id <> $3"
_U_DELETE = f"DELETE FROM {USER_TABLE} WHERE user_id = $1 AND key = $2"


class PostgresBackend(Backend):
    """The Cat's two tables on a PostgreSQL server, through an asyncpg pool."""

    def __init__(self, location: DatabaseLocation, loop: asyncio.AbstractEventLoop, connect_timeout: float = 10.0) -> None:
        super().__init__(location, loop)
        self.connect_timeout = connect_timeout
        self._pool: Any = None
        self._opening: asyncio.Task[Any] | None = None
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    # -- connections -----------------------------------------------------
    async def _get_pool(self) -> Any:
        if self.closed:
            raise StoreClosedError()
        if self._pool is not None:
            return self._pool
        if self._opening is None:
            self._opening = self.loop.create_task(self._connect())
            # Callers await it through a shield: when they were all cancelled, its
            # failure would otherwise be reported as "Future exception was never retrieved".
            self._opening.add_done_callback(_retrieve)
        try:
            self._pool = await asyncio.shield(self._opening)
        except BaseException:
            if self._opening.done():
                self._opening = None  # the next call tries again
            raise
        return self._pool

    async def _connect(self) -> Any:
        try:
            import asyncpg
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise DatabaseOpenError(
                f"{self.location.describe()} is a PostgreSQL database, which needs asyncpg: "
                "pip install 'cat-devtools-runtime[postgres]'"
            ) from exc
        try:
            pool = await asyncio.wait_for(
                asyncpg.create_pool(asyncpg_dsn(self.location.url), min_size=1, max_size=10, timeout=self.connect_timeout),
                self.connect_timeout,
            )
        except asyncio.TimeoutError:
            raise DatabaseOpenError(
                f"cannot connect to {self.location.describe()}: no answer within {self.connect_timeout:g} s "
                "(cat.configure(connect_timeout=...) sets how long to wait)"
            ) from None
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise DatabaseOpenError(f"cannot connect to {self.location.describe()}: {_cause(exc)}") from exc
        try:
            await self._create_tables(pool, asyncpg)
        except BaseException:
            await pool.close()
            raise
        return pool

    async def _create_tables(self, pool: Any, asyncpg: Any) -> None:
        """Create the Cat's tables unless they exist: a role may use them without the right to create.

        PostgreSQL 15 and later grant CREATE on ``public`` only to its owner,
        so a Cat's application role usually reads and writes tables that an
        administrator made.  ``CREATE ... IF NOT EXISTS`` needs the privilege
        even when there is nothing to create, hence the look first.
        """
        async with pool.acquire() as conn:
            if await conn.fetchval(_TABLES_EXIST):
                return
            try:
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", _SCHEMA_LOCK)
                    for statement in POSTGRES_SCHEMA:
                        await conn.execute(statement)
            except asyncpg.InsufficientPrivilegeError as exc:
                user = await conn.fetchval("SELECT current_user")
                raise DatabaseOpenError(
                    f"the tables {GLOBAL_TABLE} and {USER_TABLE} are missing from {self.location.describe()}, "
                    f"and the role {user!r} may not create them: {_cause(exc)}. Create them once as a role "
                    "with the CREATE privilege on the schema (or GRANT CREATE ON SCHEMA public TO "
                    f"{user}), then grant this role SELECT, INSERT, UPDATE and DELETE on them"
                ) from None

    async def _run(self, work: Any) -> Any:
        """Run ``work(connection)`` on a pooled connection, counted so close can wait for it.

        Counted from the start, while the pool may still be opening: a close
        (or a ``configure``) that begins meanwhile waits for this operation
        instead of closing the pool under it.
        """
        if self.closed:
            raise StoreClosedError()
        self._inflight += 1
        self._idle.clear()
        try:
            pool = await self._get_pool()
            async with pool.acquire() as conn:
                return await work(conn)
        finally:
            self._inflight -= 1
            if self._inflight == 0:
                self._idle.set()

    async def _write(self, user_id: uuid.UUID | None, key: str, work: Any) -> Any:
        """``work(connection)`` in one transaction that first takes the key's advisory lock.

        ``BEGIN`` and the lock go in one round trip (two statements of the
        simple query protocol; the lock id is our own integer, never text
        from outside): a write costs a round trip fewer than with a
        transaction block.  A failure rolls back; a connection cancelled in
        the middle is rolled back by the pool when it takes it back.
        """

        async def locked(conn: Any) -> Any:
            await conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({int(pg_key_lock(user_id, key))})")
            try:
                result = await work(conn)
            except BaseException:
                if not conn.is_closed():
                    await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")
            return result

        return await self._run(locked)

    async def flush(self) -> None:
        await self._idle.wait()

    async def close(self) -> None:
        if self.closed:
            return
        await self.flush()
        self.closed = True
        if self._opening is not None and not self._opening.done():
            try:
                await self._opening
            except BaseException:
                pass
        pool = self._pool
        if pool is None and self._opening is not None and self._opening.done() and not self._opening.cancelled() and self._opening.exception() is None:
            pool = self._opening.result()
        self._pool = None
        if pool is not None:
            await pool.close()

    def abandon(self) -> list[threading.Thread]:
        self.closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                pool.terminate()  # no awaiting possible here: drop the sockets
            except Exception:
                pass  # its loop is gone already (interpreter exit): the OS closes the sockets
        return []

    # -- the operations --------------------------------------------------
    async def get(self, user_id: str | None, key: str) -> tuple[bool, Any]:
        uid = None if user_id is None else pg_user_id(user_id)

        async def read(conn: Any) -> tuple[bool, Any]:
            return await _fetch(conn, uid, key)

        return await self._run(read)

    async def exists(self, user_id: str | None, key: str) -> bool:
        uid = None if user_id is None else pg_user_id(user_id)

        async def probe(conn: Any) -> bool:
            row = await (conn.fetchrow(_G_EXISTS, key) if uid is None else conn.fetchrow(_U_EXISTS, uid, key))
            return row is not None

        return await self._run(probe)

    async def put(self, user_id: str | None, key: str, encoded: str | bytes) -> None:
        uid = None if user_id is None else pg_user_id(user_id)
        text = _text(encoded)
        if uid is None:
            # One statement, one round trip: the lock, then the upsert, committed together.  The
            # upsert reads nothing, so the snapshot taken before the lock is granted does not matter.
            lock = pg_key_lock(None, key)
            await self._run(lambda conn: conn.execute(_G_PUT_LOCKED, lock, key, text))
            return

        async def write(conn: Any) -> None:
            await _store(conn, uid, key, text)

        await self._write(uid, key, write)

    async def delete(self, user_id: str | None, key: str) -> bool:
        uid = None if user_id is None else pg_user_id(user_id)

        async def remove(conn: Any) -> bool:
            status = await (conn.execute(_G_DELETE, key) if uid is None else conn.execute(_U_DELETE, uid, key))
            return int(status.rsplit(" ", 1)[-1]) > 0

        return await self._write(uid, key, remove)

    async def update(self, user_id: str | None, key: str, fn: UpdateFn, default: Any) -> Any:
        uid = None if user_id is None else pg_user_id(user_id)
        ctx = contextvars.copy_context()

        async def modify(conn: Any) -> Any:
            new = apply_update(*await _fetch(conn, uid, key), fn, default, ctx)
            await _store(conn, uid, key, _text(values.encode(new)))
            return new

        return await self._write(uid, key, modify)


async def _fetch(conn: Any, uid: uuid.UUID | None, key: str) -> tuple[bool, Any]:
    row = await (conn.fetchrow(_G_GET, key) if uid is None else conn.fetchrow(_U_GET, uid, key))
    return (False, None) if row is None else (True, values.decode(row[0]))


async def _store(conn: Any, uid: uuid.UUID | None, key: str, text: str) -> None:
    if uid is None:
        await conn.execute(_G_PUT, key, text)
        return
    rows = await conn.fetch(_U_ROWS, uid, key)
    if not rows:
        await conn.execute(_U_INSERT, uuid.uuid4(), uid, key, text)
        return
    newest = rows[0][0]
    await conn.execute(_U_SET, text, newest)
    if len(rows) > 1:
        await conn.execute(_U_DEDUPE, uid, key, newest)


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a task's failure as seen; the callers that awaited it got it already."""
    if not task.cancelled():
        task.exception()


def _cause(exc: BaseException) -> str:
    """An exception as a message part that is never empty (a bare TimeoutError has no text)."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
