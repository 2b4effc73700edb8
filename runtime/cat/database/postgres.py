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
* **Group commit.**  Global saves and updates in flight at the same moment
  share a round trip: one statement locks and writes a batch of saves; one
  transaction locks, reads, applies and writes a batch of updates.  One task
  alone pays what a plain upsert pays; many pay a few round trips a batch.
  A statement carries at most ``BATCH_TEXT_LIMIT`` of values, so big values
  never add up past PostgreSQL's limit on one message.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
import uuid
from typing import Any

from cat import values
from cat.database.backend import Backend, UpdateFn, apply_update
from cat_lint.project.location import DatabaseLocation, asyncpg_dsn
from cat_lint.project.schema import GLOBAL_TABLE, USER_TABLE, pg_key_lock, pg_user_id
from cat.errors import ConnectionLostError, DatabaseOpenError, StoreClosedError

__all__ = ["PostgresBackend", "POSTGRES_SCHEMA", "BATCH_TEXT_LIMIT", "pg_user_id", "asyncpg_dsn"]

# How much JSON text (in characters of the encoded values) one batched statement carries.
# PostgreSQL refuses a protocol message over 1 GB and drops the connection, so 56 saves of
# 20 MB merged into one statement all failed; and asyncpg builds each message in memory, a
# copy of every value in it.  A character is 1 to 4 bytes of UTF-8: at most 64 MB a message.
# Batching pays off by sharing round trips, which values this big no longer notice: a value
# at the limit or over it goes in a statement of its own.
BATCH_TEXT_LIMIT = 16 * 2**20

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
# Every global save waiting for the same round trip, in one statement: the keys' locks first
# (in the order given, sorted by the caller, so two batches never wait on each other in a
# cycle), then one upsert of all of them, committed together.
_G_PUT_MANY = (
    "WITH locks AS (SELECT pg_advisory_xact_lock(l) FROM unnest($1::bigint[]) AS l) "
    f"INSERT INTO {GLOBAL_TABLE} (key, value) "
    "SELECT k, v::json FROM unnest($2::varchar[], $3::text[]) AS saved(k, v), (SELECT count(*) FROM locks) AS held "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
_G_GET_MANY = f"SELECT key, value FROM {GLOBAL_TABLE} WHERE key = ANY($1::varchar[])"
_G_PUT_MANY_LOCKED = (  # inside a transaction that holds the keys' locks already
    f"INSERT INTO {GLOBAL_TABLE} (key, value) SELECT k, v::json FROM unnest($1::varchar[], $2::text[]) AS saved(k, v) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
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
        # Global saves queued for the next batch: key -> [encoded text, callers waiting]
        self._saves: dict[str, list[Any]] = {}
        self._saving: asyncio.Task[None] | None = None
        # Global updates queued for the next batch, in the order they were asked for
        self._updates: list[tuple[str, UpdateFn, Any, contextvars.Context, asyncio.Future[Any]]] = []
        self._updating: asyncio.Task[None] | None = None

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
            return await self._on_connection(pool, work)
        finally:
            self._inflight -= 1
            if self._inflight == 0:
                self._idle.set()

    async def _on_connection(self, pool: Any, work: Any) -> Any:
        """``work(connection)`` on a connection of ``pool``: its own outcome, never a secondary one.

        What ``work`` returned or raised is the answer.  Handing the
        connection back can fail after it (asyncpg resets the connection,
        which fails when the server has just ended it; the pool then drops
        it and opens another on the next acquire): that failure is nobody's
        answer.  A statement asyncpg refused because it had lost track of
        the connection (the server ended it while it was idle: asyncpg drops
        the server's message and reports its own state) becomes a
        :class:`~cat.errors.ConnectionLostError` that says so.
        """
        conn = await pool.acquire()
        try:
            result = await work(conn)
        except BaseException as exc:
            await _hand_back(pool, conn)
            if _driver_lost_track(exc):
                raise ConnectionLostError(
                    f"the connection to {self.location.describe()} broke during this operation, most likely "
                    "ended by the server (asyncpg lost the server's reason: the error below is its own state); "
                    "what the operation had not committed was rolled back with it"
                ) from exc
            raise
        await _hand_back(pool, conn)
        return result

    async def _write(self, user_id: uuid.UUID | None, key: str, work: Any) -> Any:
        """``work(connection)`` in one transaction that first takes the key's advisory lock.

        ``BEGIN`` and the lock go in one round trip (two statements of the
        simple query protocol; the lock id is our own integer, never text
        from outside): a write costs a round trip fewer than with a
        transaction block.  A failure rolls back (:func:`_roll_back`) and
        reaches the caller as it was.
        """

        async def locked(conn: Any) -> Any:
            await conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({int(pg_key_lock(user_id, key))})")
            try:
                result = await work(conn)
            except BaseException as exc:
                await _roll_back(conn, exc)
                raise
            await conn.execute("COMMIT")
            return result

        return await self._run(locked)

    async def flush(self) -> None:
        await self._idle.wait()

    async def backup(self, dest: str | os.PathLike[str]) -> Any:
        await self.flush()
        raise NotImplementedError("backups of postgresql databases are not supported by this runtime")

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

    def abandon(self) -> list[threading.Event]:
        self.closed = True
        for task in (self._saving, self._updating):
            if task is not None and not self.loop.is_closed():
                self.loop.call_soon_threadsafe(task.cancel)  # its callers get StoreClosedError
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
            await self._save_global(key, text)
            return

        async def write(conn: Any) -> None:
            await _store(conn, uid, key, text)

        await self._write(uid, key, write)

    async def _save_global(self, key: str, text: str) -> None:
        """Queue a global save for the next batch, which one statement writes (group commit).

        One task alone gets a batch of one: the same single round trip as a
        plain upsert.  Tasks that save while a batch is on its way join the
        next one, so 64 savers cost a handful of round trips, not 64.  Two
        saves of one key in a batch leave the later value, as in that order.
        A statement carries up to ``BATCH_TEXT_LIMIT`` of text; the saves
        past it wait for the next one.
        Counted in flight from the moment it is queued, so a close waits for it.
        """
        if self.closed:
            raise StoreClosedError()
        waiter = self.loop.create_future()
        entry = self._saves.get(key)
        if entry is None:
            self._saves[key] = [text, [waiter]]
        else:
            entry[0] = text
            entry[1].append(waiter)
        if self._saving is None:
            self._inflight += 1
            self._idle.clear()
            self._saving = self.loop.create_task(self._write_saves())
        await waiter

    async def _write_saves(self) -> None:
        try:
            while self._saves:
                batch, self._saves = _split_saves(self._saves)
                ordered = sorted(batch.items(), key=lambda item: pg_key_lock(None, item[0]))
                try:
                    pool = await self._get_pool()
                    await self._on_connection(
                        pool,
                        lambda conn: conn.execute(
                            _G_PUT_MANY,
                            [pg_key_lock(None, key) for key, _ in ordered],
                            [key for key, _ in ordered],
                            [text for _, (text, _) in ordered],
                        ),
                    )
                except BaseException as exc:
                    cancelled = isinstance(exc, asyncio.CancelledError)  # abandoned: the loop is going away
                    _settle(batch, StoreClosedError() if cancelled else exc)
                    if cancelled:
                        raise
                else:
                    _settle(batch, None)
        finally:
            self._saving = None
            _settle(self._saves, StoreClosedError())  # left behind by a cancelled batch
            self._saves = {}
            self._inflight -= 1
            if self._inflight == 0:
                self._idle.set()

    async def _update_global(self, key: str, fn: UpdateFn, default: Any, ctx: contextvars.Context) -> Any:
        """Queue a global update for the next batch: one transaction for every update waiting.

        The batch locks its keys (in lock-id order), reads them in one
        statement, applies each function in the order they were asked for
        (a later update of the same key sees the earlier one's result, as if
        they had run one after the other), writes every key in one statement
        and commits.  Each function gets a copy of its own, decoded afresh,
        so a function that raises, or returns what is not JSON, fails its
        own caller only, even after editing its argument in place: its key
        keeps the value before it, for the next function too.  So 64
        tasks cost four round trips a batch instead of four each, and a hot
        key takes its updates a batch at a time, still exactly.
        """
        if self.closed:
            raise StoreClosedError()
        waiter = self.loop.create_future()
        self._updates.append((key, fn, default, ctx, waiter))
        if self._updating is None:
            self._inflight += 1
            self._idle.clear()
            self._updating = self.loop.create_task(self._run_updates())
        return await waiter

    async def _run_updates(self) -> None:
        try:
            while self._updates:
                batch, self._updates = self._updates, []
                try:
                    pool = await self._get_pool()
                    answers = await self._on_connection(pool, lambda conn: _apply_updates(conn, batch))
                except BaseException as exc:
                    cancelled = isinstance(exc, asyncio.CancelledError)
                    error = StoreClosedError() if cancelled else exc
                    answers = [(waiter, False, error) for *_, waiter in batch]
                    _answer(answers)
                    if cancelled:
                        raise
                else:
                    _answer(answers)
        finally:
            self._updating = None
            _answer([(waiter, False, StoreClosedError()) for *_, waiter in self._updates])
            self._updates = []
            self._inflight -= 1
            if self._inflight == 0:
                self._idle.set()

    async def delete(self, user_id: str | None, key: str) -> bool:
        uid = None if user_id is None else pg_user_id(user_id)

        async def remove(conn: Any) -> bool:
            status = await (conn.execute(_G_DELETE, key) if uid is None else conn.execute(_U_DELETE, uid, key))
            return int(status.rsplit(" ", 1)[-1]) > 0

        return await self._write(uid, key, remove)

    async def update(self, user_id: str | None, key: str, fn: UpdateFn, default: Any) -> Any:
        uid = None if user_id is None else pg_user_id(user_id)
        ctx = contextvars.copy_context()
        if uid is None:
            return await self._update_global(key, fn, default, ctx)

        async def modify(conn: Any) -> Any:
            new = apply_update(*await _fetch(conn, uid, key), fn, default, ctx)
            await _store(conn, uid, key, _text(values.encode(new)))
            return new

        return await self._write(uid, key, modify)


async def _apply_updates(conn: Any, batch: list[tuple[str, UpdateFn, Any, contextvars.Context, asyncio.Future[Any]]]) -> list[tuple[asyncio.Future[Any], bool, Any]]:
    """Run a batch of global updates in one transaction; what to answer the callers whose function succeeded.

    A caller whose function failed is answered at once, with that failure,
    whatever becomes of the transaction: nothing of it was to be written.
    """
    keys = sorted({key for key, *_ in batch}, key=lambda k: pg_key_lock(None, k))
    locks = ",".join(str(int(pg_key_lock(None, key))) for key in keys)  # our own integers, never outside text
    await conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock(l) FROM unnest('{{{locks}}}'::bigint[]) AS l")
    try:
        # Kept as text: each function decodes its own copy, so one that edits its argument in
        # place and then fails leaves nothing behind for the next function of the key.
        current: dict[str, str] = {row[0]: row[1] for row in await conn.fetch(_G_GET_MANY, keys)}
        written: dict[str, str] = {}
        answers: list[tuple[asyncio.Future[Any], bool, Any]] = []
        for key, fn, default, ctx, waiter in batch:
            try:
                found = key in current
                new = apply_update(found, values.decode(current[key]) if found else None, fn, default, ctx)
                text = _text(values.encode(new))
            except Exception as exc:  # this caller's function, or its value: only this caller fails,
                _answer([(waiter, False, exc)])  # with its own error, whatever becomes of the batch
                continue
            current[key] = written[key] = text  # what the next update of the key reads, as if read back
            answers.append((waiter, True, new))
        for chunk in _chunks(list(written.items())):
            await conn.execute(_G_PUT_MANY_LOCKED, [key for key, _ in chunk], [text for _, text in chunk])
        await conn.execute("COMMIT")
    except BaseException as exc:
        await _roll_back(conn, exc)
        raise
    return answers


async def _roll_back(conn: Any, error: BaseException) -> None:
    """End the transaction that ``error`` interrupted, without ever raising in its place.

    A connection that ``error`` says is gone (:func:`_connection_lost`) is
    not touched: the server rolled back when it ended, and asyncpg has
    handed it back to the pool already, where any call on it fails.  Nor is
    one whose statement was cancelled midway: asyncpg refuses another
    statement until the server has answered the cancel, and the pool rolls
    back when it takes the connection back.  A rollback that fails anyway
    (the connection lost at that very moment) is passed over: the caller
    re-raises ``error``, and the pool replaces a broken connection.
    """
    if isinstance(error, asyncio.CancelledError) or _connection_lost(error):
        return
    try:
        await conn.execute("ROLLBACK")
    except Exception:  # noqa: BLE001 - the caller's error is the one to report
        pass


def _connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` means the connection is past using: ended by the server, broken, or lost track of."""
    import asyncpg

    if isinstance(exc, (OSError, asyncpg.PostgresConnectionError)) or _driver_lost_track(exc):
        return True
    # "terminating connection ...", an idle-in-transaction timeout: FATAL ends the session
    return isinstance(exc, asyncpg.PostgresError) and getattr(exc, "severity_en", None) in ("FATAL", "PANIC")


def _driver_lost_track(exc: BaseException) -> bool:
    """asyncpg's error about its own protocol state, which it raises where the server ended the connection unread."""
    import asyncpg

    return isinstance(exc, asyncpg.exceptions.InternalClientError)


async def _hand_back(pool: Any, conn: Any) -> None:
    """Release ``conn`` to ``pool``; a failure to reset it is the pool's business (it drops the connection)."""
    try:
        await pool.release(conn)
    except Exception:  # noqa: BLE001 - asyncpg has terminated the connection: the next acquire opens another
        pass


def _split_saves(saves: dict[str, list[Any]]) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """The queued saves for the next statement (at least one, and up to ``BATCH_TEXT_LIMIT`` of text), and the rest.

    The rest stay queued, in order, for the statements after it; a later
    save of one of their keys still replaces the value queued there.
    """
    size = 0
    for index, (text, _) in enumerate(saves.values()):
        size += len(text)
        if size > BATCH_TEXT_LIMIT and index:
            items = list(saves.items())
            return dict(items[:index]), dict(items[index:])
    return saves, {}


def _chunks(written: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """``(key, text)`` pairs in runs of up to ``BATCH_TEXT_LIMIT`` of text (one alone when bigger), for one statement each."""
    chunks: list[list[tuple[str, str]]] = []
    size = 0
    for key, text in written:
        if not chunks or size + len(text) > BATCH_TEXT_LIMIT:
            chunks.append([])
            size = 0
        chunks[-1].append((key, text))
        size += len(text)
    return chunks


def _answer(answers: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for waiter, ok, value in answers:
        if not waiter.done():
            if ok:
                waiter.set_result(value)
            else:
                waiter.set_exception(value)


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


def _settle(batch: dict[str, list[Any]], error: BaseException | None) -> None:
    """Answer every caller of a batch of saves (those who stopped waiting are skipped)."""
    for _, waiters in batch.values():
        for waiter in waiters:
            if not waiter.done():
                if error is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(error)


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a task's failure as seen; the callers that awaited it got it already."""
    if not task.cancelled():
        task.exception()


def _cause(exc: BaseException) -> str:
    """An exception as a message part that is never empty (a bare TimeoutError has no text)."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
