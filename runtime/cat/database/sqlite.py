"""The SQLite backend: aiosqlite, WAL, ``BEGIN IMMEDIATE`` and group commit.

Why it is built this way:

* **One round trip per batch.**  aiosqlite runs every call on its own
  worker thread; each hop costs far more than a small SQLite statement.  So
  a whole transaction (begin, the operations, commit) is one function sent
  to that thread, not one hop per statement.
* **Group commit.**  Writers queue up while a batch is on the thread; when
  it commits, everything that queued meanwhile leaves as the next batch, in
  one ``BEGIN IMMEDIATE`` ... ``COMMIT``.  A ``save`` still returns only
  after the commit that contains it.  A single writer pays no waiting (its
  batch of one leaves at once); 64 concurrent writers share one commit.
  Each operation in a batch runs inside its own ``SAVEPOINT``, so an
  operation that fails (an ``update`` function raising, a value that is not
  JSON) rolls back alone and fails only its own caller.
* **Reads on a second connection.**  In WAL mode readers never wait for the
  writer, so loads go to their own connection and thread (batched the same
  way) while a commit is in progress.  A read issued after a ``save``
  returned starts after that commit and sees it.
* **Point reads inline, on the event loop's thread.**  One round trip to an
  aiosqlite worker thread (queue, thread wake-up, ``call_soon_threadsafe``
  back, a loop iteration) measured ~50 µs on the benchmark machine, while a
  whole point read (``SELECT`` by primary key plus JSON decoding) costs
  ~9 µs on plain ``sqlite3``: a lone task doing ``load`` ran at ~0.18x of
  raw ``sqlite3``.  So ``load`` and ``exists`` first try a third, plain
  ``sqlite3`` connection (read-only, ``busy_timeout`` 0) synchronously on
  the loop's thread, and use the reader thread only when that cannot answer
  at once: SQLite says busy/locked (the database is not in WAL mode, WAL
  recovery, a checkpoint edge case), or reads are already queued or in
  flight on the reader thread (after such a fallback, or issued before the
  inline connection opened): later reads then queue behind them, so they
  keep batching there and keep their order.  With it, ``bench/store.py``
  measured a lone task's ``load`` at ~0.5-1.1x of raw ``sqlite3`` instead
  of ~0.15-0.2x, and 64 loading tasks faster than before too (inline reads
  never overlap, so they never pay for the thread).  The trade-off: a read whose page is not in the OS cache blocks
  the loop for one disk read.  That is acceptable because values are small
  (one row by primary key), and a WAL reader takes no lock that can wait,
  and with ``busy_timeout`` 0 any lock it meets makes it fail at once and
  fall back instead of waiting.  Each statement runs in its own implicit
  read transaction that ends with the statement (the result is read to the
  end), so the connection never holds a snapshot between calls: a read
  issued after ``save`` returned sees that commit, and no read runs inside
  another connection's transaction.  An inline read completes without
  suspending the caller, but the loop gets a turn every
  ``INLINE_YIELD_EVERY`` inline reads, so a task polling a key cannot
  starve the others.  Writes always go through aiosqlite.
* **Across processes.**  ``BEGIN IMMEDIATE`` takes the write lock before
  reading, so ``update`` is atomic against other processes too; a busy
  timeout plus a retry loop on ``BEGIN`` absorbs ordinary contention
  instead of surfacing "database is locked".
* **Durability.**  WAL with ``synchronous=NORMAL`` (the default here): a
  commit has been handed to the operating system (written to the WAL file)
  before ``save`` returns, so it survives ``kill -9`` of the process the
  next instant; what it does not promise is surviving a power cut or an OS
  crash, where the last commits may roll back (the database stays
  consistent).  ``cat.configure(synchronous="FULL")`` makes every commit
  wait for an fsync and survive power loss too, at the cost of a disk
  flush per commit (group commit amortises it under concurrency).
* **Exit without close.**  aiosqlite's worker threads are not daemons, so
  a script that never closed the store would hang at exit.  The threads are
  made daemons, and an ``atexit`` hook closes the connections cleanly (which
  also checkpoints the WAL).
* **The inline connection's lifetime.**  It belongs to the backend, and so
  to one event loop (one backend per loop, see :mod:`cat.database`): it is
  only ever used from that loop's callbacks, so never by two threads at
  once (``check_same_thread`` is off only because a loop may be driven from
  different threads over its life, and because ``abandon`` runs in other
  threads).  Closing happens on the loop's thread when that loop is running
  elsewhere, and directly when it is not (no read can be in progress then).
  It is closed before the aiosqlite connections, so one of those is the
  last connection to close and checkpoints the WAL, as before.  A forked child never uses or
  closes the connections it inherited (SQLite forbids carrying a connection
  across ``fork``; closing it there could disturb the parent's locks): they
  are set aside for the child's lifetime.

Per-user rows: the Cat's ``user_key_value_db`` has no unique constraint on
``(user_id, key)`` and the real Cat can leave duplicates.  Reads take the
row with the highest rowid; a save updates that row and deletes the rest,
inside the same transaction, so one row per key remains.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import sqlite3
import threading
import time
import uuid
import weakref
from functools import partial
from typing import Any, Callable, Sequence

import aiosqlite

from cat import values
from cat.database.backend import Backend, UpdateFn, apply_update
from cat_lint.project.location import DatabaseLocation
from cat_lint.project.schema import GLOBAL_TABLE, SQLITE_SCHEMA, USER_TABLE, encode_user_id
from cat.errors import DatabaseOpenError, StoreClosedError

__all__ = ["SQLiteBackend", "BUSY_TIMEOUT_SECONDS", "LOCK_WAIT_SECONDS", "SYNCHRONOUS_MODES", "INLINE_YIELD_EVERY"]

BUSY_TIMEOUT_SECONDS = 5.0  # SQLite's own busy handler, per attempt
LOCK_WAIT_SECONDS = 120.0  # how long BEGIN IMMEDIATE keeps retrying before giving up
SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
_SAVEPOINT = "cat_op"
INLINE_YIELD_EVERY = 16  # inline reads between two turns given to the event loop

Op = tuple[Callable[..., Any], tuple[Any, ...]]
Outcome = list[tuple[bool, Any]]


# --------------------------------------------------------------------------
# Statements, run on a connection's worker thread
# --------------------------------------------------------------------------

_G_GET = f"SELECT value FROM {GLOBAL_TABLE} WHERE key = ?"
_G_EXISTS = f"SELECT 1 FROM {GLOBAL_TABLE} WHERE key = ?"
_G_PUT = f"INSERT INTO {GLOBAL_TABLE} (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
_G_DELETE = f"DELETE FROM {GLOBAL_TABLE} WHERE key = ?"
_U_GET = f"SELECT value FROM {USER_TABLE} WHERE user_id = ? AND key = ? ORDER BY rowid DESC LIMIT 1"
_U_EXISTS = f"SELECT 1 FROM {USER_TABLE} WHERE user_id = ? AND key = ? LIMIT 1"
_U_ROWS = f"SELECT rowid FROM {USER_TABLE} WHERE user_id = ? AND key = ? ORDER BY rowid DESC"
_U_INSERT = f"INSERT INTO {USER_TABLE} (id, user_id, key, value) VALUES (?, ?, ?, ?)"
_U_SET = f"UPDATE {USER_TABLE} SET value = ? WHERE rowid = ?"
_U_DEDUPE = f"DELETE FROM {USER_TABLE} WHERE user_id = ? AND key = ? AND rowid < ?"
_U_DELETE = f"DELETE FROM {USER_TABLE} WHERE user_id = ? AND key = ?"


def _first(cursor: sqlite3.Cursor) -> Any:
    """The first row of a query that returns at most one, read to the end.

    Reading to the end resets the statement, which ends its implicit read
    transaction: a statement left half-read would keep the connection on an
    old snapshot, and later reads there would miss newer commits.
    """
    rows = cursor.fetchall()
    return rows[0] if rows else None


def _op_get(db: sqlite3.Connection, uid: Any, key: str) -> tuple[bool, Any]:
    row = _first(db.execute(_G_GET, (key,)) if uid is None else db.execute(_U_GET, (uid, key)))
    return (False, None) if row is None else (True, values.decode(row[0]))


def _op_exists(db: sqlite3.Connection, uid: Any, key: str) -> bool:
    row = _first(db.execute(_G_EXISTS, (key,)) if uid is None else db.execute(_U_EXISTS, (uid, key)))
    return row is not None


def _op_put(db: sqlite3.Connection, uid: Any, key: str, encoded: str | bytes) -> None:
    if uid is None:
        db.execute(_G_PUT, (key, encoded))
        return
    rows = db.execute(_U_ROWS, (uid, key)).fetchall()
    if not rows:
        db.execute(_U_INSERT, (str(uuid.uuid4()), uid, key, encoded))
        return
    newest = rows[0][0]
    db.execute(_U_SET, (encoded, newest))
    if len(rows) > 1:  # duplicates the real Cat left behind: collapse them
        db.execute(_U_DEDUPE, (uid, key, newest))


def _op_delete(db: sqlite3.Connection, uid: Any, key: str) -> bool:
    cursor = db.execute(_G_DELETE, (key,)) if uid is None else db.execute(_U_DELETE, (uid, key))
    return cursor.rowcount > 0


def _op_nothing(db: sqlite3.Connection) -> None:
    """A marker: when it is done, everything queued before it is done."""


def _op_update(db: sqlite3.Connection, uid: Any, key: str, fn: UpdateFn, default: Any, ctx: contextvars.Context) -> Any:
    new = apply_update(*_op_get(db, uid, key), fn, default, ctx)
    _op_put(db, uid, key, values.encode(new))
    return new


# --------------------------------------------------------------------------
# Transactions and batches
# --------------------------------------------------------------------------


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(exc)
    return "locked" in text or "busy" in text


def _retrying(db: sqlite3.Connection, sql: str) -> None:
    """Run a statement that takes a lock, retrying past the busy timeout under heavy contention."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    delay = 0.001
    while True:
        try:
            db.execute(sql)
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _rollback(db: sqlite3.Connection) -> None:
    if db.in_transaction:
        try:
            db.execute("ROLLBACK")
        except sqlite3.Error:
            pass


def _run_writes(db: sqlite3.Connection, ops: Sequence[Op]) -> Outcome:
    """One ``BEGIN IMMEDIATE`` transaction for a batch; one savepoint per operation."""
    _retrying(db, "BEGIN IMMEDIATE")
    results: Outcome = []
    try:
        if len(ops) == 1:
            fn, args = ops[0]
            try:
                results.append((True, fn(db, *args)))
            except Exception as exc:
                _rollback(db)
                return [(False, exc)]
        else:
            for fn, args in ops:
                db.execute(f"SAVEPOINT {_SAVEPOINT}")
                try:
                    value = fn(db, *args)
                except Exception as exc:
                    if not db.in_transaction:
                        raise  # SQLite rolled the whole transaction back: everyone's work is gone
                    db.execute(f"ROLLBACK TO {_SAVEPOINT}")
                    db.execute(f"RELEASE {_SAVEPOINT}")
                    results.append((False, exc))
                else:
                    db.execute(f"RELEASE {_SAVEPOINT}")
                    results.append((True, value))
        db.execute("COMMIT")
    except BaseException:
        _rollback(db)
        raise
    return results


def _run_reads(db: sqlite3.Connection, ops: Sequence[Op]) -> Outcome:
    """Several reads in one read transaction (one snapshot, one lock round).

    In WAL mode reads never wait for writers; should the database be in
    another journal mode (a file system without shared memory), a read can
    meet a writer's lock, and is retried like ``BEGIN IMMEDIATE`` is.
    """
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            return _read_batch(db, ops)
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.01)


def _read_batch(db: sqlite3.Connection, ops: Sequence[Op]) -> Outcome:
    results: Outcome = []
    many = len(ops) > 1
    if many:
        db.execute("BEGIN")
    try:
        for fn, args in ops:
            try:
                results.append((True, fn(db, *args)))
            except sqlite3.OperationalError as exc:
                if _is_busy(exc):
                    raise  # the whole batch is retried
                results.append((False, exc))
            except Exception as exc:
                results.append((False, exc))
    finally:
        if many:
            _rollback(db)
    return results


# --------------------------------------------------------------------------
# A connection with its batching queue
# --------------------------------------------------------------------------


def _resolve(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    """Settle a future unless its caller already gave up on it (cancelled)."""
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class _NoReply:
    """Stands in for the future aiosqlite's worker settles after each job.

    Our jobs reply to the loop themselves (see :func:`_post`); aiosqlite
    0.22 accepts ``None`` here, but 0.20 and 0.21 call
    ``future.get_loop().call_soon_threadsafe(...)`` unconditionally, so this
    object answers that with a no-op.
    """

    def get_loop(self) -> _NoReply:
        return self

    def call_soon_threadsafe(self, *args: Any) -> None:
        return None


_NO_REPLY = _NoReply()


def _send(conn: aiosqlite.Connection, loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
    """Run ``fn(sqlite3_connection, *args)`` on the connection's thread; a future for the result."""
    future = loop.create_future()
    _post(conn, loop, partial(_resolve, future), fn, *args)
    return future


def _post(conn: aiosqlite.Connection, loop: asyncio.AbstractEventLoop, reply: Callable[[bool, Any], None], fn: Callable[..., Any], *args: Any) -> None:
    """Run ``fn(sqlite3_connection, *args)`` on the connection's thread, then ``reply(ok, result)`` on the loop.

    This talks to aiosqlite's worker queue directly instead of through
    ``Connection._execute``: the reply is one callback (no intermediate
    future, so one loop iteration fewer per call), and a job finishing after
    its event loop has closed (a script that exits without closing) ends
    quietly instead of raising "Event loop is closed" inside the worker.
    """

    def job() -> None:
        try:
            ok, value = True, fn(conn._connection, *args)
        except BaseException as exc:  # handed to the awaiting caller
            ok, value = False, exc
        try:
            loop.call_soon_threadsafe(reply, ok, value)
        except RuntimeError:
            pass  # the loop is closed: nobody is waiting any more

    conn._tx.put_nowait((_NO_REPLY, job))


def _stop(conn: aiosqlite.Connection, done: Callable[[], None] | None = None) -> None:
    """Close the sqlite3 connection on its thread and end the thread; no event loop needed."""
    from aiosqlite import core

    sentinel = getattr(core, "_STOP_RUNNING_SENTINEL", None)
    conn._running = False

    def close_and_stop() -> Any:
        db, conn._connection = conn._connection, None
        try:
            if db is not None:
                db.close()
        finally:
            if done is not None:
                done()
        return sentinel

    conn._tx.put_nowait((_NO_REPLY, close_and_stop))


class _Lane:
    """One aiosqlite connection and the queue of operations waiting for it.

    Operations can be submitted before the connection exists: they wait in
    the queue until the backend attaches it (or fail together if opening
    fails), so ``close`` and ``flush`` see them like any other.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, runner: Callable[[sqlite3.Connection, Sequence[Op]], Outcome], opener: Callable[[], None]) -> None:
        self.conn: aiosqlite.Connection | None = None
        self.loop = loop
        self._runner = runner
        self._opener = opener
        self._pending: list[tuple[Callable[..., Any], tuple[Any, ...], asyncio.Future[Any]]] = []
        self._busy = False
        self._idle_waiters: list[asyncio.Future[None]] = []
        self.closed = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        if self.closed:
            raise StoreClosedError()
        future = self.loop.create_future()
        self._pending.append((fn, args, future))
        if self.conn is None:
            self._opener()
        elif not self._busy:
            self._dispatch()
        return future

    def attach(self, conn: aiosqlite.Connection) -> None:
        """The connection is open: send what queued up meanwhile."""
        self.conn = conn
        if self._pending and not self._busy:
            self._dispatch()

    def fail_pending(self, error: BaseException) -> None:
        """Opening failed: every queued operation gets the error."""
        pending, self._pending = self._pending, []
        for _, _, future in pending:
            _resolve(future, False, error)
        if not self._busy:
            self._wake_idle()

    def _dispatch(self) -> None:
        assert self.conn is not None
        batch, self._pending = self._pending, []
        self._busy = True
        ops = [(fn, args) for fn, args, _ in batch]
        futures = [future for _, _, future in batch]
        _post(self.conn, self.loop, partial(self._finished, futures), self._runner, ops)

    def _finished(self, futures: list[asyncio.Future[Any]], ok: bool, outcome: Any) -> None:
        if not ok:
            for future in futures:
                _resolve(future, False, outcome)
        else:
            for future, (op_ok, value) in zip(futures, outcome):
                _resolve(future, op_ok, value)
        if len(futures) == 1 and not self._pending:
            self._next()  # a lone caller: no one to wait for
        else:
            # The callers just woken run first and queue their next operation,
            # so it joins the next batch instead of leaving alone.
            self.loop.call_soon(self._next)

    def _next(self) -> None:
        if self._pending and not self.closed:
            self._dispatch()
            return
        self._busy = False
        if self.closed:
            self.fail_pending(StoreClosedError())
        self._wake_idle()

    def _wake_idle(self) -> None:
        waiters, self._idle_waiters = self._idle_waiters, []
        for waiter in waiters:
            _resolve(waiter, True, None)

    async def flush(self) -> None:
        """Wait until every operation submitted so far has finished.

        A no-op joins the queue and is awaited: batches leave in order, so
        when it is done everything before it is too.  (Waiting for the lane
        to go idle instead could wait forever under a steady stream of
        writes.)
        """
        if self.closed or (not self._busy and not self._pending):
            return
        await self.submit(_op_nothing)

    async def _drained(self) -> None:
        while self._busy:
            waiter = self.loop.create_future()
            self._idle_waiters.append(waiter)
            await waiter

    async def aclose(self) -> None:
        if self.closed:
            return
        await self.flush()
        self.closed = True
        await self._drained()  # a batch that left meanwhile; anything still queued now fails
        if self.conn is None:
            return
        finished = self.loop.create_future()

        def done() -> None:
            try:
                self.loop.call_soon_threadsafe(_resolve, finished, True, None)
            except RuntimeError:
                pass

        _stop(self.conn, done)
        await finished

    def abandon(self) -> threading.Thread | None:
        """Stop without awaiting: in-flight work finishes on the thread, queued work fails.

        Queued operations (waiting for the connection to open, or for the
        batch ahead) get ``StoreClosedError`` through their loop, so no caller
        waits forever.
        """
        if self.closed:
            return None
        self.closed = True
        if not self.loop.is_closed():
            try:
                self.loop.call_soon_threadsafe(self.fail_pending, StoreClosedError())
            except RuntimeError:
                pass  # closed meanwhile: nobody is waiting
        if self.conn is None:
            return None
        _stop(self.conn)
        thread = getattr(self.conn, "_thread", self.conn)  # aiosqlite < 0.22: the connection is the thread
        return thread if isinstance(thread, threading.Thread) else None


# --------------------------------------------------------------------------
# The backend
# --------------------------------------------------------------------------


def _setup_writer(db: sqlite3.Connection, synchronous: str, in_memory: bool) -> None:
    if not in_memory:
        mode = None
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while mode is None:
            try:
                mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
    db.execute(f"PRAGMA synchronous = {synchronous}")
    _retrying(db, "BEGIN IMMEDIATE")
    try:
        for statement in SQLITE_SCHEMA:
            db.execute(statement)
        db.execute("COMMIT")
    except BaseException:
        _rollback(db)
        raise


def _setup_reader(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA query_only = ON")


def _open_inline(path: str, synchronous: str) -> sqlite3.Connection:
    """The plain connection for inline point reads: read-only, never waits for a lock.

    ``timeout=0`` is ``busy_timeout`` 0: a lock makes a read fail at once
    (and fall back to the reader thread) instead of blocking the event loop.
    """
    db = sqlite3.connect(path, isolation_level=None, timeout=0, cached_statements=64, check_same_thread=False)
    try:
        _setup_reader(db)
        db.execute(f"PRAGMA synchronous = {synchronous}")  # the same pragmas as the other connections
    except BaseException:
        db.close()
        raise
    return db


def _close_quietly(db: sqlite3.Connection) -> None:
    try:
        db.close()
    except sqlite3.Error:
        pass


# Every backend, so a forked child can set aside the inline connections it inherited.
_backends: weakref.WeakSet[SQLiteBackend] = weakref.WeakSet()
# Inherited inline connections in a forked child: kept referenced so they are never closed there.
_inherited: list[sqlite3.Connection] = []


def _after_fork_in_child() -> None:
    for backend in list(_backends):
        backend._forget_inline()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


async def _connect(target: str, loop: asyncio.AbstractEventLoop) -> aiosqlite.Connection:
    conn = aiosqlite.connect(target, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS, cached_statements=64)
    if not hasattr(conn, "_tx"):
        raise DatabaseOpenError(
            f"aiosqlite {getattr(aiosqlite, '__version__', '?')} is not supported: this runtime sends whole "
            "transactions to its worker queue and needs aiosqlite 0.20 to 0.22"
        )
    # aiosqlite 0.22 runs a non-daemon thread (older releases: the connection is the thread)
    thread = getattr(conn, "_thread", conn)
    thread.daemon = True
    return await conn


class SQLiteBackend(Backend):
    """The Cat's two tables in one SQLite file (or in memory for ``sqlite://``)."""

    def __init__(self, location: DatabaseLocation, loop: asyncio.AbstractEventLoop, synchronous: str = "NORMAL") -> None:
        super().__init__(location, loop)
        synchronous = synchronous.upper()
        if synchronous not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}, not {synchronous!r}")
        self.synchronous = synchronous
        self._in_memory = location.path is None
        self._writer = _Lane(loop, _run_writes, self._start_opening)
        # a second connection to :memory: would be another database
        self._reader = self._writer if self._in_memory else _Lane(loop, _run_reads, self._start_opening)
        self._opening: asyncio.Task[tuple[aiosqlite.Connection, aiosqlite.Connection]] | None = None
        # point reads on the loop's thread (see the module docstring); opened once the lanes are
        self._inline: sqlite3.Connection | None = None
        self._inline_allowed = not self._in_memory  # a second connection to :memory: would be another database
        self._inline_streak = 0
        _backends.add(self)

    def _lanes(self) -> list[_Lane]:
        return list(dict.fromkeys((self._writer, self._reader)))

    # -- opening and closing ---------------------------------------------
    def _start_opening(self) -> None:
        if self._opening is None and not self.closed:
            self._opening = self.loop.create_task(self._connect_all())
            self._opening.add_done_callback(self._opened)

    def _opened(self, task: asyncio.Task[tuple[aiosqlite.Connection, aiosqlite.Connection]]) -> None:
        error = StoreClosedError() if task.cancelled() else task.exception()
        if error is not None:
            self._opening = None  # the next operation tries again
            for lane in self._lanes():
                lane.fail_pending(error)
            return
        writer_conn, reader_conn = task.result()
        if self.closed:  # abandoned while opening
            for conn in dict.fromkeys((writer_conn, reader_conn)):
                _stop(conn)
            for lane in self._lanes():
                lane.fail_pending(StoreClosedError())
            return
        self._reader.attach(reader_conn)
        if self._writer is not self._reader:
            self._writer.attach(writer_conn)
        self._start_inline()

    # -- the inline read connection ----------------------------------------
    def _start_inline(self) -> None:
        """Open the inline connection, on the loop's thread, after the writer set up WAL and the tables."""
        if not self._inline_allowed or self._inline is not None or self.closed:
            return
        try:
            self._inline = _open_inline(str(self.location.path), self.synchronous)
        except sqlite3.Error:
            pass  # reads keep using the reader thread

    def _retire_inline(self) -> None:
        """Stop using the inline connection and close it where no read can be running on it."""
        db, self._inline = self._inline, None
        self._inline_allowed = False
        if db is None:
            return
        if self.loop.is_running() and not self._on_loop_thread():
            # the loop runs in another thread and may be mid-read: close it there, between callbacks
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

    def _forget_inline(self) -> None:
        """In a forked child: never use, and never close, the parent's connection."""
        db, self._inline = self._inline, None
        self._inline_allowed = False
        if db is not None:
            _inherited.append(db)

    def _inline_failed(self, exc: sqlite3.Error) -> None:
        """A lock is momentary (fall back this time); anything else retires the inline connection."""
        if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc):
            return
        self._retire_inline()

    async def _turn(self) -> None:
        """Let the loop run other tasks once every ``INLINE_YIELD_EVERY`` inline reads.

        An inline read completes without suspending (like an uncontended
        ``asyncio.Lock``); yielding at every read would cost ~4 µs, half a
        read again.  Yielding now and then keeps a task that polls a key in a
        tight loop from starving every other task.
        """
        self._inline_streak += 1
        if self._inline_streak >= INLINE_YIELD_EVERY:
            self._inline_streak = 0
            await asyncio.sleep(0)

    def _inline_ready(self) -> bool:
        reader = self._reader
        return self._inline is not None and not reader._busy and not reader._pending

    async def _connect_all(self) -> tuple[aiosqlite.Connection, aiosqlite.Connection]:
        path = self.location.path
        try:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            writer = await _connect(":memory:" if path is None else str(path), self.loop)
        except (OSError, sqlite3.Error) as exc:
            raise DatabaseOpenError(f"cannot open the database at {self.location.describe()}: {exc}") from exc
        reader = writer
        try:
            await _send(writer, self.loop, _setup_writer, self.synchronous, path is None)
            if path is not None:
                reader = await _connect(str(path), self.loop)
                await _send(reader, self.loop, _setup_reader)
        except BaseException as exc:
            for conn in dict.fromkeys((writer, reader)):
                _stop(conn)
            if isinstance(exc, sqlite3.Error):
                raise DatabaseOpenError(f"cannot open the database at {self.location.describe()}: {exc}") from exc
            raise
        return writer, reader

    async def close(self) -> None:
        if self.closed:
            return
        # everything submitted before close finishes first (it may still be waiting for the connection)
        for lane in self._lanes():
            await lane.flush()
        self.closed = True
        self._retire_inline()  # first, so the writer stays the last connection (it checkpoints the WAL)
        for lane in self._lanes():
            await lane.aclose()

    def abandon(self) -> list[threading.Thread]:
        self.closed = True
        self._retire_inline()
        threads = []
        for lane in self._lanes():
            thread = lane.abandon()
            if thread is not None:
                threads.append(thread)
        return threads

    async def flush(self) -> None:
        await self._writer.flush()

    # -- the operations --------------------------------------------------
    async def get(self, user_id: str | None, key: str) -> tuple[bool, Any]:
        return await self._read(_op_get, _uid(user_id), key)

    async def exists(self, user_id: str | None, key: str) -> bool:
        return await self._read(_op_exists, _uid(user_id), key)

    async def _read(self, op: Callable[[sqlite3.Connection, Any, str], Any], uid: Any, key: str) -> Any:
        """Inline on the loop's thread when nothing stands in the way, else on the reader thread."""
        if self._inline_ready():
            await self._turn()
            db = self._inline if self._inline_ready() else None  # the loop may have run meanwhile
            if db is not None:
                try:
                    return op(db, uid, key)
                except sqlite3.Error as exc:
                    self._inline_failed(exc)
        return await self._reader.submit(op, uid, key)

    async def put(self, user_id: str | None, key: str, encoded: str | bytes) -> None:
        await self._writer.submit(_op_put, _uid(user_id), key, encoded)

    async def delete(self, user_id: str | None, key: str) -> bool:
        return await self._writer.submit(_op_delete, _uid(user_id), key)

    async def update(self, user_id: str | None, key: str, fn: UpdateFn, default: Any) -> Any:
        ctx = contextvars.copy_context()
        return await self._writer.submit(_op_update, _uid(user_id), key, fn, default, ctx)


def _uid(user_id: str | None) -> Any:
    return None if user_id is None else encode_user_id(user_id)
