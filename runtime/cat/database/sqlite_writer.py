"""The write lane: one aiosqlite connection, group commit, through aiosqlite's public API only.

Writers queue up: those of one loop iteration, and those that come while a
batch is committing, leave together as the next batch.  When the backend's
own connection on the loop's thread can take a batch without waiting, it
runs there (:mod:`cat.database.sqlite_inline`); otherwise it goes to the
aiosqlite connection's thread:

* a batch of one is a single auto-committed statement, one round trip to
  the thread (every write is one statement, see
  :mod:`cat.database.sqlite_statements`);
* a larger batch is ``BEGIN IMMEDIATE``, then consecutive operations that
  share a statement as one ``executemany``, then ``COMMIT``: three round
  trips and one commit for the whole batch, however many writers are in it.

An operation that fails inside a batch (an update function raising, a
value that is not JSON) fails only its own statement: SQLite undoes that
statement alone and the transaction goes on, so only its caller gets the
error.  ``executemany`` reads its parameters from a generator that records
which operation it reached (``RunProgress``), so the failing one is known
and the rest of its run continues after it.  If SQLite rolls the whole transaction back (an I/O
error, say), every caller of the batch gets that error and nothing of the
batch is written.  ``BEGIN IMMEDIATE`` takes the write lock before anything
is read; a busy timeout plus a retry loop absorbs contention with other
processes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any, Awaitable, Callable, Sequence, TypeVar

import aiosqlite

from cat.database import sqlite_inline
from cat.database.sqlite_statements import Op, RunProgress, is_busy, runs
from cat.errors import StoreClosedError

__all__ = ["CHECKPOINT_EVERY", "LOCK_WAIT_SECONDS", "WriteLane", "retrying"]

LOCK_WAIT_SECONDS = 120.0  # how long a statement that takes a lock keeps retrying before giving up
CHECKPOINT_EVERY = 256  # commits on the loop's connection between two on the writer thread, which checkpoints

T = TypeVar("T")


async def retrying(call: Callable[[], Awaitable[T]]) -> T:
    """Run a statement that takes a lock, retrying past SQLite's busy timeout under heavy contention.

    A statement refused as busy has done nothing, so running it again is safe.
    The waiting happens in ``asyncio.sleep``, never on the event loop's thread.
    """
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    delay = 0.001
    while True:
        try:
            return await call()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)


def _first(rows: Sequence[Any]) -> Any:
    return rows[0] if rows else None


class WriteLane:
    """One aiosqlite connection and the queue of operations waiting for it.

    Operations can be submitted before the connection exists: they wait in
    the queue until the backend attaches it (or fail together if opening
    fails), so ``close`` and ``flush`` see them like any other.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        opener: Callable[[], None],
        forget: Callable[[Op], None],
        inline: Callable[[], sqlite3.Connection | None] = lambda: None,
        inline_failed: Callable[[sqlite3.Error], None] = lambda exc: None,
    ) -> None:
        self.conn: aiosqlite.Connection | None = None
        self.loop = loop
        self._opener = opener
        self._forget = forget  # called for every finished operation (drops its update's entry)
        self._inline = inline  # the loop's own connection, when batches may run there (sqlite_inline)
        self._inline_failed = inline_failed
        self._inline_commits = 0
        self._pending: list[Op] = []
        self._busy = False
        self._task: asyncio.Task[None] | None = None
        self._idle_waiters: list[asyncio.Future[None]] = []
        self.closed = False

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing with the connection: a write now would overtake nobody."""
        return not self._busy and not self._pending and self.conn is not None

    def submit(self, op: Op) -> asyncio.Future[Any]:
        if self.closed:
            raise StoreClosedError()
        op.future = self.loop.create_future()
        self._pending.append(op)
        if self.conn is None:
            self._opener()
        elif not self._busy:
            # the writers of this loop iteration leave together
            self._busy = True
            self.loop.call_soon(self._next)
        return op.future

    def attach(self, conn: aiosqlite.Connection) -> None:
        """The connection is open: send what queued up meanwhile."""
        self.conn = conn
        if self._pending and not self._busy:
            self._dispatch()

    def fail_pending(self, error: BaseException) -> None:
        """Opening failed, or the lane closed: every queued operation gets the error."""
        pending, self._pending = self._pending, []
        for op in pending:
            self._forget(op)
            op.settle(False, error)
        if not self._busy:
            self._wake_idle()

    # -- batches ------------------------------------------------------------
    def _dispatch(self) -> None:
        batch, self._pending = self._pending, []
        self._busy = True
        self._task = self.loop.create_task(self._run(batch))

    async def _run(self, batch: list[Op]) -> None:
        """Run batches until the queue is empty.

        When a batch is done and operations queued meanwhile, they leave at
        once, in this same step, before the callers just woken run: the
        thread commits them while the loop serves those callers.
        """
        try:
            while True:
                await self._run_one(batch)
                if not self._pending or self.closed:
                    break
                batch, self._pending = self._pending, []
        finally:
            self._task = None
            if len(batch) == 1 and not self._pending:
                self._next()  # a lone caller: no one to wait for
            else:
                # The callers just woken run first and queue their next operation,
                # so it joins the next batch instead of leaving alone.
                self.loop.call_soon(self._next)

    async def _run_one(self, batch: list[Op]) -> None:
        try:
            await self._execute(batch)
        except asyncio.CancelledError:
            # The loop is going away (asyncio.run cancels every task at its end).
            # Wait for the thread to finish what it was given and undo the
            # unfinished batch, so that no reply ever reaches a closed loop.
            await self._settle_after_cancel()
            for op in batch:
                op.settle(False, StoreClosedError())
            raise
        except BaseException as exc:  # the whole batch failed: everyone hears it
            closed = self.closed and not isinstance(exc, sqlite3.Error)  # aiosqlite: "Connection closed"
            for op in batch:
                op.settle(False, StoreClosedError() if closed else op.error(exc))
        finally:
            for op in batch:
                self._forget(op)

    async def _settle_after_cancel(self) -> None:
        conn = self.conn
        if conn is None:
            return
        try:
            await conn.rollback()  # queued behind the cancelled call: its reply comes first
        except BaseException:
            pass

    async def _execute(self, batch: list[Op]) -> None:
        ops = [op for op in batch if op.kind != "nothing"]
        if len(ops) == 1:
            assert self.conn is not None
            await self._alone(self.conn, ops[0])
        elif ops:
            await self._transaction(ops)
        for op in batch:
            if op.kind == "nothing":  # flush(): everything before it is done
                op.settle(True, None)

    async def _transaction(self, ops: list[Op]) -> None:
        conn = self.conn
        assert conn is not None
        outcomes: list[tuple[Op, bool, Any]] = []  # settled only once committed
        await retrying(lambda: conn.execute("BEGIN IMMEDIATE"))
        try:
            for run in runs(ops):
                if run[0].kind in ("write", "update"):
                    await self._many(conn, run, outcomes)
                else:
                    await self._one(conn, run[0], outcomes)
            await conn.commit()
        except BaseException:
            if conn.in_transaction:
                try:
                    await conn.rollback()
                except sqlite3.Error:
                    pass
            raise
        for op, ok, value in outcomes:
            op.settle(ok, value)

    async def _alone(self, conn: aiosqlite.Connection, op: Op) -> None:
        """A batch of one: a single auto-committed statement."""
        try:
            if op.kind == "read":
                rows = await retrying(lambda: conn.execute_fetchall(op.sql, op.params))
                op.settle(True, _first(rows))
                return
            cursor = await retrying(lambda: conn.execute(op.sql, op.params))
        except sqlite3.Error as exc:
            op.settle(False, op.error(exc))
            return
        op.settle(True, op.result_of(cursor))

    async def _one(self, conn: aiosqlite.Connection, op: Op, outcomes: list[tuple[Op, bool, Any]]) -> None:
        """One statement inside the batch's transaction; its failure is its caller's alone."""
        try:
            if op.kind == "read":
                outcomes.append((op, True, _first(await conn.execute_fetchall(op.sql, op.params))))
                return
            cursor = await conn.execute(op.sql, op.params)
        except sqlite3.Error as exc:
            if not conn.in_transaction:
                raise  # SQLite rolled the whole transaction back: everyone's work is gone
            outcomes.append((op, False, op.error(exc)))
            return
        outcomes.append((op, True, op.result_of(cursor)))

    async def _many(self, conn: aiosqlite.Connection, run: list[Op], outcomes: list[tuple[Op, bool, Any]]) -> None:
        """Operations sharing one statement, as ``executemany``, continuing past a failing one."""
        progress = RunProgress(run, outcomes)
        while progress.pending():
            try:
                await conn.executemany(progress.sql, progress.parameters())
            except sqlite3.Error as exc:
                if not conn.in_transaction:
                    raise  # SQLite rolled the whole transaction back: everyone's work is gone
                progress.failed(exc)
            else:
                progress.succeeded()

    def _next(self) -> None:
        if self._pending and not self.closed:
            if not self._ran_inline():
                self._dispatch()
            return
        self._busy = False
        if self.closed:
            self.fail_pending(StoreClosedError())
        self._wake_idle()

    def _ran_inline(self) -> bool:
        """Run the queued batch on the loop's own connection if it can go without waiting (see :mod:`.sqlite_inline`).

        One batch in ``CHECKPOINT_EVERY`` goes to the writer thread instead,
        whose commit checkpoints the WAL (the loop's connection never does).
        """
        db = self._inline()
        if db is None:
            return False
        self._inline_commits += 1
        if self._inline_commits >= CHECKPOINT_EVERY:
            self._inline_commits = 0
            return False
        batch, self._pending = self._pending, []
        ops = [op for op in batch if op.kind != "nothing"]
        try:
            outcomes = sqlite_inline.run_batch(db, ops) if ops else []
        except sqlite_inline.NotNow as exc:
            self._pending = batch + self._pending  # nothing ran: the writer thread takes it, in order
            if not sqlite_inline.busy(exc):
                self._inline_failed(exc.cause)
            return False
        except Exception as exc:  # the transaction was rolled back: everyone hears it
            outcomes = [(op, False, op.error(exc)) for op in batch]
        for op, ok, value in outcomes:
            op.settle(ok, value)
        for op in batch:
            if op.kind == "nothing":
                op.settle(True, None)
            self._forget(op)
        # the callers just woken run first and queue their next writes: they leave together next
        self.loop.call_soon(self._next)
        return True

    def _wake_idle(self) -> None:
        waiters, self._idle_waiters = self._idle_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    # -- flushing and closing -----------------------------------------------
    async def flush(self) -> None:
        """Wait until every operation submitted so far has finished.

        A no-op joins the queue and is awaited: batches leave in order, so
        when it is done everything before it is too.  (Waiting for the lane
        to go idle instead could wait forever under a steady stream of
        writes.)
        """
        if self.closed or (not self._busy and not self._pending):
            return
        await self.submit(Op("nothing"))

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
        if self.conn is not None:
            await self.conn.close()

    def abandon(self) -> aiosqlite.Connection | None:
        """Stop without awaiting: in-flight work finishes on the thread, queued work fails.

        Queued operations (waiting for the connection to open, or for the
        batch ahead) get ``StoreClosedError`` through their loop, so no caller
        waits forever.  Returns the connection, for the caller to close.
        """
        if self.closed:
            return None
        self.closed = True
        if not self.loop.is_closed():
            try:
                self.loop.call_soon_threadsafe(self.fail_pending, StoreClosedError())
            except RuntimeError:
                pass  # closed meanwhile: nobody is waiting
        return self.conn
