"""The loop's own ``sqlite3`` connection: operations that need not wait run here, without a thread.

A round trip to an aiosqlite thread costs several times a small SQLite
statement, so reads, lone writes and whole batches run on this connection
when nothing stands in their way; it never waits for a lock (busy timeout
0), and whatever would have to wait goes to a driver thread instead (the
figures and the reasoning are in ``docs/sqlite-internals.md``).  It is used only by
its loop's callbacks, so never by two threads at once.
"""

from __future__ import annotations

import asyncio
import sqlite3

from cat.database.sqlite_statements import is_busy

__all__ = ["INLINE_YIELD_EVERY", "InlineConnection"]

INLINE_YIELD_EVERY = 16  # inline operations between two turns given to the event loop


class InlineConnection:
    """The connection, once open, and whether writes may use it; shared by the backend's reads and its write lane."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.db: sqlite3.Connection | None = None
        self._writes = False
        self._retired = False
        self._streak = 0

    def attach(self, db: sqlite3.Connection, writes: bool) -> None:
        """Use ``db`` from now on; for writes too when ``writes`` (WAL, and commits that do not wait for the disk)."""
        if self._retired:
            _close_quietly(db)
            return
        self.db, self._writes = db, writes

    @property
    def wanted(self) -> bool:
        """Whether the backend should open the connection: not open yet, and never retired."""
        return self.db is None and not self._retired

    def for_writes(self) -> sqlite3.Connection | None:
        return self.db if self._writes else None

    def failed(self, exc: sqlite3.Error) -> None:
        """A lock is momentary (the operation goes elsewhere this time); anything else retires the connection."""
        if not is_busy(exc):
            self.retire()

    async def turn(self) -> None:
        """Let the loop run other tasks once every ``INLINE_YIELD_EVERY`` inline operations.

        An inline operation completes without suspending (like an
        uncontended ``asyncio.Lock``); yielding every time would cost a loop
        iteration per call.  Yielding now and then keeps a task that polls
        or writes a key in a tight loop from starving every other task.
        """
        self._streak += 1
        if self._streak >= INLINE_YIELD_EVERY:
            self._streak = 0
            await asyncio.sleep(0)

    def retire(self) -> None:
        """Stop using the connection and close it where no operation can be running on it."""
        db, self.db = self.db, None
        self._retired = True
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

    def forget_inherited(self) -> None:
        """In a forked child: drop the parent's connection unused (the child's copy is closed at the fork)."""
        self.db = None
        self._retired = True

    def _on_loop_thread(self) -> bool:
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False


def _close_quietly(db: sqlite3.Connection) -> None:
    try:
        db.close()
    except sqlite3.Error:
        pass
