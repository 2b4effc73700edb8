"""The SQLite backend: the Cat's two tables in one file, through aiosqlite's public API and plain ``sqlite3``.

Three connections: the writer and the reader (aiosqlite, each on its
thread) and the loop's own ``sqlite3`` connection, which serves whatever
need not wait without crossing threads (:mod:`cat.database.sqlite_inline`);
writes go through the lane (:mod:`cat.database.sqlite_writer`).  The design
and its reasons (speed, durability, exit, forks) are in
``docs/sqlite-internals.md``.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import os
import sqlite3
import threading
import uuid
import weakref
from typing import Any

import aiosqlite

from cat import values
from cat.database import sqlite_statements as sql
from cat.database.backend import Backend, UpdateFn
from cat.database.sqlite_batch import LOCK_WAIT_SECONDS, retrying
from cat.database.sqlite_inline import INLINE_YIELD_EVERY, InlineConnection
from cat.database.sqlite_statements import DEDUPE_TRIGGER, UPDATE_FUNCTION, Op, Update, update_function
from cat.database.sqlite_writer import ALONE_AFTER_SECONDS, CHECKPOINT_EVERY, WriteLane
from cat.errors import DatabaseOpenError, StoreClosedError
from cat_lint.project.location import DatabaseLocation
from cat_lint.project.schema import SQLITE_SCHEMA, encode_user_id

__all__ = [
    "SQLiteBackend",
    "BUSY_TIMEOUT_SECONDS",
    "LOCK_WAIT_SECONDS",
    "INLINE_YIELD_EVERY",
    "CHECKPOINT_EVERY",
    "ALONE_AFTER_SECONDS",
]

BUSY_TIMEOUT_SECONDS = 5.0  # SQLite's own busy handler, per attempt, on the aiosqlite connections


class _Connection(sqlite3.Connection):
    """Every SQLite connection the runtime opens: recorded, so that a forked child can close its copies."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _opened.add(self)


_opened: "weakref.WeakSet[_Connection]" = weakref.WeakSet()


def _close_inherited_connections() -> None:
    """In a forked child: close its copies of the parent's connections (see ``docs/sqlite-internals.md``, Forks)."""
    for db in list(_opened):
        _close_quietly(db)
    _opened.clear()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_close_inherited_connections)


def _make_daemon_connection(target: str) -> aiosqlite.Connection:
    """An unopened aiosqlite connection whose worker thread is a daemon.

    aiosqlite creates its worker thread with the connection object, and a
    new thread takes its daemon flag from the thread creating it: so the
    object is created in a short-lived daemon thread.
    """
    made: list[Any] = []

    def create() -> None:
        try:
            made.append(
                aiosqlite.connect(
                    target,
                    isolation_level=None,
                    timeout=BUSY_TIMEOUT_SECONDS,
                    cached_statements=64,
                    check_same_thread=False,  # in_transaction is read on the loop's thread between calls
                    factory=_Connection,
                )
            )
        except BaseException as exc:
            made.append(exc)

    helper = threading.Thread(target=create, name="cat-sqlite-connect", daemon=True)
    helper.start()
    helper.join()
    if isinstance(made[0], BaseException):
        raise made[0]
    return made[0]


async def _connect(target: str) -> aiosqlite.Connection:
    """Open an aiosqlite connection, after checking with plain ``sqlite3`` that the file opens.

    A failed open inside aiosqlite leaves its worker replying to our loop
    later; failing here first keeps that reply from reaching a loop that has
    closed meanwhile.
    """
    sqlite3.connect(target).close()
    return await _make_daemon_connection(target)


async def _close_quietly_async(conn: aiosqlite.Connection) -> None:
    try:
        await conn.close()
    except BaseException:
        pass


def _close_elsewhere(conn: aiosqlite.Connection) -> threading.Event:
    """Close an aiosqlite connection from any thread, loop or none; the event is set once it is closed.

    ``close`` is a coroutine, and the loop that used the connection may be
    gone: it runs in a private loop of a short-lived daemon thread, so no
    reply of the driver's thread is ever addressed to a loop that may close
    first.  At interpreter exit, where new threads are refused (Python
    3.12+), it runs in a private loop here.
    """
    closed = threading.Event()

    def close() -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(_close_quietly_async(conn))
        finally:
            loop.close()
            closed.set()

    try:
        threading.Thread(target=close, name="cat-sqlite-close", daemon=True).start()
    except RuntimeError:
        close()
    return closed


async def _after_cancel(conn: aiosqlite.Connection) -> None:
    """After a cancelled call: wait for the driver's thread to answer it, so no answer outlives the loop.

    The cancelled call still runs on the thread and then replies to this
    loop; a no-op queued behind it replies after it.  Waiting for the no-op
    keeps the loop open until then (``asyncio.run`` cancels the tasks left
    at its end and waits for them before it closes the loop).
    """
    try:
        await conn.execute_fetchall("SELECT 1")
    except BaseException:
        pass


def _first(cursor: sqlite3.Cursor) -> Any:
    """The first row of a query that returns at most one, read to the end.

    Reading to the end resets the statement, which ends its implicit read
    transaction: a statement left half-read would keep the connection on an
    old snapshot, and later reads there would miss newer commits.
    """
    rows = cursor.fetchall()
    return rows[0] if rows else None


def _close_quietly(db: sqlite3.Connection) -> None:
    try:
        db.close()
    except sqlite3.Error:
        pass


class SQLiteBackend(Backend):
    """The Cat's two tables in one SQLite file (or in memory for ``sqlite://``)."""

    def __init__(self, location: DatabaseLocation, loop: asyncio.AbstractEventLoop, synchronous: str = "NORMAL") -> None:
        super().__init__(location, loop)
        self.synchronous = synchronous  # checked by cat.database.synchronous_mode
        self._in_memory = location.path is None
        self._updates: dict[int, Update] = {}  # pending updates, by the token cat_update receives
        self._tokens = itertools.count()
        # the loop's own connection (sqlite_inline); opened once the others are
        self._inline = InlineConnection(loop)
        self._writer = WriteLane(loop, self._inline)
        self._opening: asyncio.Task[None] | None = None
        # the reader connection (None for :memory:, where reads go through the writer)
        self._reader: aiosqlite.Connection | None = None
        self._reads = 0  # reads queued or in flight on the reader thread
        self._reads_idle: list[asyncio.Future[None]] = []

    # -- opening ------------------------------------------------------------
    def _start_opening(self) -> None:
        if self._opening is None and not self.closed:
            self._opening = self.loop.create_task(self._connect_all())
            self._opening.add_done_callback(self._opened)

    async def _connect_all(self) -> None:
        path = self.location.path
        target = ":memory:" if path is None else str(path)
        try:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            writer = await _connect(target)
        except (OSError, sqlite3.Error) as exc:
            raise DatabaseOpenError(f"cannot open the database at {self.location.describe()}: {exc}") from exc
        reader: aiosqlite.Connection | None = None
        try:
            mode = await self._set_up_writer(writer, path is None)
            if path is not None:
                reader = await _connect(target)
                await reader.execute("PRAGMA query_only = ON")
        except BaseException as exc:
            for conn in (writer, reader):
                if conn is not None:
                    await _close_quietly_async(conn)
            if isinstance(exc, sqlite3.Error):
                raise DatabaseOpenError(f"cannot open the database at {self.location.describe()}: {exc}") from exc
            raise
        if self.closed:  # abandoned while opening
            for conn in (writer, reader):
                if conn is not None:
                    await _close_quietly_async(conn)
            raise StoreClosedError()
        self._reader = reader
        self._writer.attach(writer)
        self._start_inline(writes=mode == "wal" and self.synchronous in ("OFF", "NORMAL"))

    async def _set_up_writer(self, conn: aiosqlite.Connection, in_memory: bool) -> str:
        """WAL, the durability setting, the Cat's tables, the dedupe trigger and ``cat_update``; the journal mode."""
        mode = "memory"
        if not in_memory:
            rows = await retrying(lambda: conn.execute_fetchall("PRAGMA journal_mode = WAL"))
            mode = str(rows[0][0]).lower()
        await conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        await retrying(lambda: conn.execute("BEGIN IMMEDIATE"))
        try:
            for statement in SQLITE_SCHEMA:
                await conn.execute(statement)
            await conn.commit()
        except BaseException:
            await conn.rollback()
            raise
        await conn.execute(DEDUPE_TRIGGER)
        await conn.create_function(UPDATE_FUNCTION, 2, update_function(self._updates))
        return mode

    def _opened(self, task: asyncio.Task[None]) -> None:
        error = StoreClosedError() if task.cancelled() else task.exception()
        if error is not None:
            self._opening = None  # the next operation tries again
            self._writer.fail_pending(error)

    async def _ready(self) -> None:
        """Wait until the connections are open (opening them if nobody has yet)."""
        while self._writer.conn is None:
            if self.closed:
                raise StoreClosedError()
            self._start_opening()
            opening = self._opening
            assert opening is not None
            await asyncio.shield(opening)  # a cancelled caller must not cancel the opening

    # -- the inline connection ----------------------------------------------
    def _start_inline(self, writes: bool) -> None:
        """Open the inline connection, on the loop's thread, after the writer set up WAL and the tables.

        Writes may use it in WAL mode with a ``synchronous`` setting that
        does not flush the disk per commit; a second connection to
        ``:memory:`` would be another database, so that one has none.
        """
        if self._in_memory or self.closed or not self._inline.wanted:
            return
        db = sqlite3.connect(
            str(self.location.path), isolation_level=None, timeout=0, cached_statements=64, check_same_thread=False, factory=_Connection
        )
        try:
            db.execute(f"PRAGMA synchronous = {self.synchronous}")  # the same pragmas as the other connections
            db.execute("PRAGMA wal_autocheckpoint = 0")  # checkpoints happen on the writer thread
            db.execute(DEDUPE_TRIGGER)
            db.create_function(UPDATE_FUNCTION, 2, update_function(self._updates))
        except sqlite3.Error:
            db.close()
            return  # everything keeps using aiosqlite
        self._inline.attach(db, writes)

    # -- reads --------------------------------------------------------------
    async def get(self, user_id: str | None, key: str) -> tuple[bool, Any]:
        row = await self._read(*sql.get_statement(_uid(user_id), key))
        return (False, None) if row is None else (True, values.decode(row[0]))

    async def exists(self, user_id: str | None, key: str) -> bool:
        return await self._read(*sql.exists_statement(_uid(user_id), key)) is not None

    def _can_read_inline(self) -> bool:
        """The inline connection is open and no read is queued or in flight on the reader thread."""
        return self._inline.db is not None and not self._reads

    async def _read(self, statement: str, params: tuple[Any, ...]) -> Any:
        """The first row: inline when nothing stands in the way, else on the reader thread."""
        if self._can_read_inline():
            await self._inline.turn()
            db = self._inline.db if self._can_read_inline() else None  # the loop may have run meanwhile
            if db is not None:
                try:
                    return _first(db.execute(statement, params))
                except sqlite3.Error as exc:
                    self._inline.failed(exc)
        if self.closed:
            raise StoreClosedError()
        if self._in_memory:
            if self._writer.conn is None:
                self._start_opening()
            return await self._writer.submit(Op("read", statement, params))
        self._reads += 1  # from now on, later reads queue behind this one
        try:
            await self._ready()
            reader = self._reader
            if reader is None or self.closed:
                raise StoreClosedError()
            try:
                rows = await retrying(lambda: reader.execute_fetchall(statement, params))
            except asyncio.CancelledError:
                await _after_cancel(reader)
                raise
        finally:
            self._reads -= 1
            if not self._reads:
                waiters, self._reads_idle = self._reads_idle, []
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
        return rows[0] if rows else None

    # -- writes -------------------------------------------------------------
    async def put(self, user_id: str | None, key: str, encoded: str | bytes) -> None:
        uid = _uid(user_id)
        new_id = "" if uid is None else str(uuid.uuid4())
        await self._write(Op("write", *sql.put_statement(uid, key, encoded, new_id)))

    async def delete(self, user_id: str | None, key: str) -> bool:
        return await self._write(Op("delete", *sql.delete_statement(_uid(user_id), key)))

    async def update(self, user_id: str | None, key: str, fn: UpdateFn, default: Any) -> Any:
        uid = _uid(user_id)
        update = Update(next(self._tokens), fn, default, contextvars.copy_context(), self._updates)
        new_id = "" if uid is None else str(uuid.uuid4())
        statement, params = sql.update_statement(uid, key, update.token, new_id)
        return await self._write(Op("update", statement, params, update))

    async def _write(self, op: Op) -> Any:
        if self.closed:
            op.release()
            raise StoreClosedError()
        if self._writer.conn is None:
            self._start_opening()  # the write waits in the lane's queue meanwhile
        return await self._writer.write(op)

    # -- flushing and closing ---------------------------------------------
    async def flush(self) -> None:
        await self._writer.flush()

    async def backup(self, dest: str | os.PathLike[str]) -> Any:
        """SQLite's online backup, on a thread of its own (see :mod:`cat_lint.project.backup`)."""
        await self.flush()
        from cat_lint.project.backup import backup_database

        return await asyncio.to_thread(backup_database, self.location, dest)

    async def close(self) -> None:
        if self.closed:
            return
        # everything submitted before close finishes first (it may still be waiting for the connection)
        await self._writer.flush()
        while self._reads:
            waiter = self.loop.create_future()
            self._reads_idle.append(waiter)
            await waiter
        self.closed = True
        self._inline.retire()  # first, so the writer stays the last connection (it checkpoints the WAL)
        reader, self._reader = self._reader, None
        if reader is not None:
            await reader.close()
        await self._writer.aclose()

    def forget_inherited(self) -> None:
        super().forget_inherited()
        self._inline.forget_inherited()  # the child's copy: closed with the others, by _close_inherited_connections

    def abandon(self) -> list[threading.Event]:
        self.closed = True
        self._inline.retire()
        reader, self._reader = self._reader, None
        writer = self._writer.abandon()
        return [_close_elsewhere(conn) for conn in (reader, writer) if conn is not None]


def _uid(user_id: str | None) -> Any:
    return None if user_id is None else encode_user_id(user_id)
