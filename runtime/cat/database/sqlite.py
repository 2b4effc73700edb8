"""The SQLite backend: aiosqlite through its public API, WAL, one statement per operation.

Why it is built this way:

* **One statement per operation** (:mod:`cat.database.sqlite_statements`):
  a save is an upsert, an update is the same upsert whose value comes from
  a SQL function (``create_function``) that runs the caller's ``fn``.  A
  write statement takes the write lock before it reads, so each is atomic
  on its own, against this process and every other, without an explicit
  transaction.
* **A lone operation does not cross threads.**  A round trip to aiosqlite's
  worker thread (queue, thread wake-up, ``call_soon_threadsafe`` back, a
  loop iteration) costs several times a small SQLite statement (~60-80 µs
  against ~14 µs for an auto-committed upsert on the benchmark machine).
  So when nothing stands in the way, ``load``, ``exists``, ``save``,
  ``update`` and ``delete`` run their one statement on a plain ``sqlite3``
  connection on the event loop's thread, the *inline* connection, with
  ``busy_timeout`` 0: any lock it meets (another process writing, the
  database not in WAL mode, WAL recovery) makes it fail at once, and the
  operation goes to aiosqlite instead, where waiting blocks nothing.
  "Nothing stands in the way" means: for a read, no read queued or in
  flight on the reader thread; for a write, no write queued or in flight
  on the writer thread (so it overtakes nobody), no other task writing
  within the last millisecond (concurrent writers share commits instead,
  below), the database in WAL mode and
  ``synchronous`` ``NORMAL`` or ``OFF`` (a commit is then a write to the
  WAL file, no disk flush; with ``FULL`` every write goes to aiosqlite).
  The inline connection never checkpoints (``wal_autocheckpoint`` 0): one
  write in every ``CHECKPOINT_EVERY`` goes through the writer thread, whose
  commit checkpoints there when the WAL has grown.  An inline operation
  completes without suspending the caller, so the loop gets a turn every
  ``INLINE_YIELD_EVERY`` of them, and a task in a tight loop cannot starve
  the others.
* **Group commit** (:mod:`cat.database.sqlite_writer`).  Writes from
  several tasks queue up: those of one loop iteration, and those that come
  while a batch is committing, leave together in one ``BEGIN IMMEDIATE``
  ... ``COMMIT``, with ``executemany`` for runs of the same statement.  A
  ``save`` still returns only after the commit that contains it; 64
  concurrent writers share one commit, and one failing update fails only
  its caller.  Under the same conditions as inline writes, the batch runs
  on the inline connection (:mod:`cat.database.sqlite_inline`): three
  round trips to the writer thread, each waiting for that thread to be
  scheduled and to take the GIL, cost more than the batch's own work on a
  busy machine.  A batch that meets a lock goes to the writer thread,
  unchanged and in order, and waits there.
* **Reads on a second connection.**  In WAL mode readers never wait for the
  writer, so loads that cannot run inline go to their own aiosqlite
  connection.  A read issued after a ``save`` returned sees it.
* **Durability.**  WAL with ``synchronous=NORMAL`` (the default here): a
  commit has been written to the WAL file before ``save`` returns, so it
  survives ``kill -9`` of the process the next instant; a power cut or an
  OS crash may roll the last commits back (the database stays consistent).
  ``cat.configure(synchronous="FULL")`` waits for an fsync on every commit.
* **Exit without close.**  aiosqlite's worker threads are not daemons, and
  its API has no switch for that; but a thread takes the daemon flag of the
  thread that creates it, and aiosqlite creates its thread with the
  connection object, so that object is created in a short-lived daemon
  thread.  A script that never closed the store therefore exits, and an
  ``atexit`` hook (in :mod:`cat.database`) first closes the connections
  with aiosqlite's own ``close``, in a private event loop, which
  checkpoints the WAL.  ``test_aiosqlite_worker_threads_are_daemons`` (in
  ``tests/runtime/test_durability.py``) says so clearly if a future
  aiosqlite creates its thread later than the connection object.
* **The inline connection's lifetime.**  It belongs to the backend, and so
  to one event loop (one backend per loop, see :mod:`cat.database`): only
  that loop's callbacks use it, so never two threads at once
  (``check_same_thread`` is off only because a loop may be driven from
  different threads over its life).  It is closed on the loop's thread when
  that loop is running elsewhere, and directly when it is not, and before
  the aiosqlite connections, so that the writer is the last connection to
  close and checkpoints the WAL.
* **A forked child closes its copies of the connections, at once.**  SQLite
  keeps, per process, which locks "this process" holds on each file, and a
  new connection to a file the process already has open trusts that record.
  A child that kept the parent's connections open (even unused) would
  inherit a record of locks it does not hold (POSIX locks are not inherited),
  so its own new connections would write without them: a parent closing
  its last connection would then checkpoint and delete the WAL under the
  child, and the child's commits would go to a deleted file.  So an at-fork
  hook closes, in the child, every connection the runtime opened in the
  parent (they are made with the ``_Connection`` factory, which records
  them).  Closing there releases only the child's own locks (it has none);
  the parent's stay.  The parent's backends themselves are forgotten
  without being used (:mod:`cat.database`), and the child opens its own.

Per-user rows: the Cat's ``user_key_value_db`` has no unique constraint on
``(user_id, key)`` and the real Cat can leave duplicates.  Reads take the
row with the highest rowid; a write updates that row, and a ``TEMP`` trigger
deletes the older ones in the same statement, so one row per key remains.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import os
import sqlite3
import threading
import time
import uuid
import weakref
from typing import Any

import aiosqlite

from cat import values
from cat.database import sqlite_statements as sql
from cat.database.backend import Backend, UpdateFn
from cat.database.sqlite_statements import DEDUPE_TRIGGER, UPDATE_FUNCTION, Op, Update, is_busy, update_function
from cat.database.sqlite_writer import CHECKPOINT_EVERY, LOCK_WAIT_SECONDS, WriteLane, retrying
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
INLINE_YIELD_EVERY = 16  # inline operations between two turns given to the event loop
ALONE_AFTER_SECONDS = 0.001  # a write this long after another task's write may run inline


class _Connection(sqlite3.Connection):
    """Every SQLite connection the runtime opens: recorded, so that a forked child can close its copies."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _opened.add(self)


_opened: "weakref.WeakSet[_Connection]" = weakref.WeakSet()


def _close_inherited_connections() -> None:
    """In a forked child: close its copies of the parent's connections (see the module docstring)."""
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


class _Fallback(Exception):
    """The inline connection could not run this operation now: send it to aiosqlite."""


class SQLiteBackend(Backend):
    """The Cat's two tables in one SQLite file (or in memory for ``sqlite://``)."""

    def __init__(self, location: DatabaseLocation, loop: asyncio.AbstractEventLoop, synchronous: str = "NORMAL") -> None:
        super().__init__(location, loop)
        self.synchronous = synchronous  # checked by cat.database.synchronous_mode
        self._in_memory = location.path is None
        self._updates: dict[int, Update] = {}  # pending updates, by the token cat_update receives
        self._tokens = itertools.count()
        self._writer = WriteLane(loop, self._start_opening, self._forget, self._inline_for_batches, self._inline_failed)
        self._opening: asyncio.Task[None] | None = None
        # the reader connection (None for :memory:, where reads go through the writer)
        self._reader: aiosqlite.Connection | None = None
        self._reads = 0  # reads queued or in flight on the reader thread
        self._reads_idle: list[asyncio.Future[None]] = []
        # the inline connection (see the module docstring); opened once the others are
        self._inline: sqlite3.Connection | None = None
        self._inline_allowed = not self._in_memory  # a second connection to :memory: would be another database
        self._inline_writes = False  # WAL mode and a synchronous setting without a flush per commit
        self._inline_streak = 0
        self._inline_written = 0
        self._last_writer: asyncio.Task[Any] | None = None  # the task of the latest write, and when
        self._last_write = 0.0

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
        self._inline_writes = mode == "wal" and self.synchronous in ("OFF", "NORMAL")
        self._writer.attach(writer)
        self._start_inline()

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
    def _start_inline(self) -> None:
        """Open the inline connection, on the loop's thread, after the writer set up WAL and the tables."""
        if not self._inline_allowed or self._inline is not None or self.closed:
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
        self._inline = db

    def _retire_inline(self) -> None:
        """Stop using the inline connection and close it where no operation can be running on it."""
        db, self._inline = self._inline, None
        self._inline_allowed = False
        if db is None:
            return
        if self.loop.is_running() and not self._on_loop_thread():
            # the loop runs in another thread and may be mid-statement: close it there, between callbacks
            try:
                self.loop.call_soon_threadsafe(_close_quietly, db)
                return
            except RuntimeError:
                pass  # closed meanwhile: nothing runs on it any more
        _close_quietly(db)

    def _on_loop_thread(self) -> bool:
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False

    def _inline_failed(self, exc: sqlite3.Error) -> None:
        """A lock is momentary (fall back this time); anything else retires the inline connection."""
        if not is_busy(exc):
            self._retire_inline()

    async def _turn(self) -> None:
        """Let the loop run other tasks once every ``INLINE_YIELD_EVERY`` inline operations.

        An inline operation completes without suspending (like an
        uncontended ``asyncio.Lock``); yielding every time would cost a loop
        iteration per call.  Yielding now and then keeps a task that polls
        or writes a key in a tight loop from starving every other task.
        """
        self._inline_streak += 1
        if self._inline_streak >= INLINE_YIELD_EVERY:
            self._inline_streak = 0
            await asyncio.sleep(0)

    def _can_read_inline(self) -> bool:
        return self._inline is not None and not self._reads

    def _inline_for_batches(self) -> sqlite3.Connection | None:
        return self._inline if self._inline_writes else None

    def _can_write_inline(self) -> bool:
        return self._inline is not None and self._inline_writes and self._writer.idle

    def _alone(self) -> bool:
        """Whether this write looks like the only one around; notes it for the next.

        "Alone": the previous write came from this same task, or long enough
        ago (``ALONE_AFTER_SECONDS``).  Writes from several tasks close
        together go to the writer thread, where they share commits (inline,
        each would pay its own, and none would ever wait for another).
        """
        task = asyncio.current_task()
        now = time.monotonic()
        alone = task is self._last_writer or now - self._last_write >= ALONE_AFTER_SECONDS
        self._last_writer, self._last_write = task, now
        return alone

    # -- reads --------------------------------------------------------------
    async def get(self, user_id: str | None, key: str) -> tuple[bool, Any]:
        row = await self._read(*sql.get_statement(_uid(user_id), key))
        return (False, None) if row is None else (True, values.decode(row[0]))

    async def exists(self, user_id: str | None, key: str) -> bool:
        return await self._read(*sql.exists_statement(_uid(user_id), key)) is not None

    async def _read(self, statement: str, params: tuple[Any, ...]) -> Any:
        """The first row: inline when nothing stands in the way, else on the reader thread."""
        if self._can_read_inline():
            await self._turn()
            db = self._inline if self._can_read_inline() else None  # the loop may have run meanwhile
            if db is not None:
                try:
                    return _first(db.execute(statement, params))
                except sqlite3.Error as exc:
                    self._inline_failed(exc)
        if self.closed:
            raise StoreClosedError()
        if self._in_memory:
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
        update = Update(next(self._tokens), fn, default, contextvars.copy_context())
        self._updates[update.token] = update
        new_id = "" if uid is None else str(uuid.uuid4())
        statement, params = sql.update_statement(uid, key, update.token, new_id)
        return await self._write(Op("update", statement, params, update))

    async def _write(self, op: Op) -> Any:
        if self.closed:
            self._forget(op)
            raise StoreClosedError()
        if self._can_write_inline() and self._alone():  # writes queued: no need to ask
            try:
                await self._turn()
            except BaseException:  # cancelled before it ran: it never will
                self._forget(op)
                raise
            if self._can_write_inline():  # the loop may have run meanwhile
                try:
                    return self._write_inline(op)
                except _Fallback:
                    pass
        return await self._writer.submit(op)

    def _write_inline(self, op: Op) -> Any:
        """Run the operation's one statement on the inline connection; ``_Fallback`` when it cannot."""
        self._inline_written += 1
        if self._inline_written >= CHECKPOINT_EVERY:
            self._inline_written = 0
            raise _Fallback()  # this one goes through the writer thread, which checkpoints
        db = self._inline
        assert db is not None
        try:
            cursor = db.execute(op.sql, op.params)
        except sqlite3.Error as exc:
            if op.update is not None and op.update.error is not None:
                self._forget(op)
                raise op.update.error from None  # the caller's function failed: nothing was written
            self._inline_failed(exc)
            raise _Fallback() from None
        self._forget(op)
        return op.result_of(cursor)

    def _forget(self, op: Op) -> None:
        """Drop a finished update's entry (``cat_update`` finds pending updates there)."""
        if op.update is not None:
            self._updates.pop(op.update.token, None)

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
        self._retire_inline()  # first, so the writer stays the last connection (it checkpoints the WAL)
        reader, self._reader = self._reader, None
        if reader is not None:
            await reader.close()
        await self._writer.aclose()

    def forget_inherited(self) -> None:
        super().forget_inherited()
        self._inline = None  # the child's copy: closed with the others, by _close_inherited_connections
        self._inline_allowed = False

    def abandon(self) -> list[threading.Event]:
        self.closed = True
        self._retire_inline()
        reader, self._reader = self._reader, None
        writer = self._writer.abandon()
        return [_close_elsewhere(conn) for conn in (reader, writer) if conn is not None]


def _uid(user_id: str | None) -> Any:
    return None if user_id is None else encode_user_id(user_id)
