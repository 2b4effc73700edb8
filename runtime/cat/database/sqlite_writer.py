"""The write lane: every write of a SQLite backend, in order, with group commit.

Writers queue up: those of one loop iteration, and those that come while a
batch is committing, leave together as the next batch.  A write that finds
the lane idle and no other task writing runs at once, as a batch of one.
Each batch runs by the one contract of :mod:`cat.database.sqlite_batch`,
either on the loop's own connection (:mod:`cat.database.sqlite_inline`,
the synchronous driver) or on the aiosqlite connection's thread (the
asynchronous one); :meth:`WriteLane._inline_now` alone decides which, and
when the writer thread's turn to checkpoint has come.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

import aiosqlite

from cat.database import sqlite_batch
from cat.database.sqlite_batch import LOCK_WAIT_SECONDS, NotNow, Outcomes, retrying
from cat.database.sqlite_inline import InlineConnection
from cat.database.sqlite_statements import Op
from cat.errors import StoreClosedError

__all__ = ["ALONE_AFTER_SECONDS", "CHECKPOINT_EVERY", "LOCK_WAIT_SECONDS", "WriteLane", "retrying"]

CHECKPOINT_EVERY = 256  # batches committed on the loop's connection before one goes to the writer thread, which checkpoints
ALONE_AFTER_SECONDS = 0.001  # a write this long after another task's write may run at once


class WriteLane:
    """One aiosqlite connection, the loop's connection when writes may use it, and the queue of writes.

    Operations can be submitted before the connection exists: they wait in
    the queue until the backend attaches it (or fail together if opening
    fails), so ``close`` and ``flush`` see them like any other.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, inline: InlineConnection) -> None:
        self.conn: aiosqlite.Connection | None = None
        self.loop = loop
        self.inline = inline
        self._inline_batches = 0  # committed on the loop's connection since the writer thread last committed
        self._pending: list[Op] = []
        self._busy = False
        self._task: asyncio.Task[None] | None = None
        self._idle_waiters: list[asyncio.Future[None]] = []
        self._last_writer: asyncio.Task[Any] | None = None  # the task of the latest write, and when
        self._last_write = 0.0
        self.closed = False

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing with the connection: a write now would overtake nobody."""
        return not self._busy and not self._pending and self.conn is not None

    # -- where a batch runs -------------------------------------------------
    def _inline_now(self) -> sqlite3.Connection | None:
        """The loop's connection when the next batch may run there, else ``None``: the writer thread.

        The writer thread takes it when writes may not use the loop's
        connection (not WAL, ``synchronous`` ``FULL``, retired, ``:memory:``),
        and once every ``CHECKPOINT_EVERY`` batches, whose commit checkpoints
        the WAL (the loop's connection never does).
        """
        if self.conn is None or self._inline_batches >= CHECKPOINT_EVERY:
            return None
        return self.inline.for_writes()

    def _alone(self) -> bool:
        """Whether this write looks like the only one around; notes it for the next.

        "Alone": the previous write came from this same task, or long enough
        ago (``ALONE_AFTER_SECONDS``).  Writes from several tasks close
        together queue instead, and share commits.
        """
        task = asyncio.current_task()
        now = time.monotonic()
        alone = task is self._last_writer or now - self._last_write >= ALONE_AFTER_SECONDS
        self._last_writer, self._last_write = task, now
        return alone

    def _run_inline(self, db: sqlite3.Connection, ops: list[Op]) -> Outcomes | None:
        """The synchronous driver on the loop's connection; ``None`` when the batch must go to the writer thread."""
        try:
            outcomes = sqlite_batch.run_sync(db, ops)
        except NotNow as exc:  # nothing ran
            self.inline.failed(exc.cause)
            return None
        except Exception as exc:  # the transaction was rolled back: everyone hears it
            outcomes = [(op, False, op.error(exc)) for op in ops]
        self._inline_batches += 1
        for op in ops:
            op.release()
        return outcomes

    # -- writing ------------------------------------------------------------
    async def write(self, op: Op) -> Any:
        """Run ``op``: at once on the loop's connection when nothing stands in the way, else through the queue."""
        if self._inline_now() is not None and self.idle and self._alone():
            try:
                await self.inline.turn()
            except BaseException:  # cancelled before it ran: it never will
                op.release()
                raise
            db = self._inline_now() if self.idle else None  # the loop may have run meanwhile
            if db is not None:
                outcomes = self._run_inline(db, [op])
                if outcomes is not None:
                    [(_, ok, value)] = outcomes
                    if ok:
                        return value
                    raise value
        return await self.submit(op)

    def submit(self, op: Op) -> asyncio.Future[Any]:
        """Queue ``op``; its future settles once the batch that holds it has committed."""
        if self.closed:
            raise StoreClosedError()
        op.future = self.loop.create_future()
        self._pending.append(op)
        if self.conn is not None and not self._busy:
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
            op.release()
            op.settle(False, error)
        if not self._busy:
            self._wake_idle()

    # -- batches ------------------------------------------------------------
    def _next(self) -> None:
        if self._pending and not self.closed:
            db = self._inline_now()
            if db is None or not self._ran_inline(db):
                self._dispatch()
            return
        self._busy = False
        if self.closed:
            self.fail_pending(StoreClosedError())
        self._wake_idle()

    def _ran_inline(self, db: sqlite3.Connection) -> bool:
        """Run the queued batch on the loop's connection; False (the queue unchanged) when it must wait."""
        batch, self._pending = self._pending, []
        ops = [op for op in batch if op.kind != "nothing"]
        outcomes = self._run_inline(db, ops) if ops else []
        if outcomes is None:
            self._pending = batch + self._pending  # nothing ran: the writer thread takes it, in order
            return False
        for op, ok, value in outcomes:
            op.settle(ok, value)
        for op in batch:
            if op.kind == "nothing":
                op.settle(True, None)
        # the callers just woken run first and queue their next writes: they leave together next
        self.loop.call_soon(self._next)
        return True

    def _dispatch(self) -> None:
        batch, self._pending = self._pending, []
        self._busy = True
        self._task = self.loop.create_task(self._run(batch))

    async def _run(self, batch: list[Op]) -> None:
        """Run batches on the writer thread until the queue is empty.

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
        conn = self.conn
        assert conn is not None
        ops = [op for op in batch if op.kind != "nothing"]
        try:
            if ops:
                outcomes = await sqlite_batch.run_async(conn, ops)
                self._inline_batches = 0
                for op, ok, value in outcomes:
                    op.settle(ok, value)
            for op in batch:
                if op.kind == "nothing":  # flush(): everything before it is done
                    op.settle(True, None)
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
                op.release()

    async def _settle_after_cancel(self) -> None:
        conn = self.conn
        if conn is None:
            return
        try:
            await conn.rollback()  # queued behind the cancelled call: its reply comes first
        except BaseException:
            pass

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
