"""One contract for a batch of SQLite writes, and its two drivers.

A batch runs the same way wherever it runs: a batch of one is a single
auto-committed statement; a larger one is ``BEGIN IMMEDIATE``, one
``executemany`` per run of consecutive operations sharing a statement, then
``COMMIT``.  An operation that fails alone (an update function raising, a
value that is not JSON) fails only its own statement: SQLite undoes that
statement, the transaction goes on, and only its caller hears.  If SQLite
rolls the whole transaction back, everyone in the batch gets that error.
Outcomes are handed back only once committed.

:func:`transaction` states this once, as a generator of :class:`Step`; a
driver carries each step out on its connection and sends back the answer:
:func:`run_sync` on the loop's own ``sqlite3`` connection, which never
waits for a lock (see :mod:`cat.database.sqlite_inline`), and
:func:`run_async` on the aiosqlite connection of the writer thread, which
waits for locks (see :mod:`cat.database.sqlite_writer`).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any, Awaitable, Callable, Generator, Iterator, NamedTuple, Sequence, TypeVar

import aiosqlite

from cat.database.sqlite_statements import Op, is_busy

__all__ = ["LOCK_WAIT_SECONDS", "NotNow", "Outcomes", "RunProgress", "Step", "retrying", "run_async", "run_sync", "runs", "transaction"]

LOCK_WAIT_SECONDS = 120.0  # how long a statement that takes a lock keeps retrying before giving up

Outcomes = list[tuple[Op, bool, Any]]
T = TypeVar("T")


class Step(NamedTuple):
    """One thing for a driver to do on its connection, and what it sends back.

    ``"execute"`` sends the cursor, ``"fetch"`` the rows, ``"many"`` runs
    ``executemany``, ``"in_transaction"`` sends whether a transaction is
    open.  ``takes_lock`` marks the first statement, the one that takes the
    write lock: the only one that can meet another connection's lock.
    """

    kind: str
    sql: str = ""
    params: Any = ()
    takes_lock: bool = False


_BEGIN = Step("execute", "BEGIN IMMEDIATE", takes_lock=True)
_COMMIT = Step("commit")
_ROLLBACK = Step("rollback")
_IN_TRANSACTION = Step("in_transaction")


class NotNow(Exception):
    """The batch could not start without waiting (or at all) on this connection; nothing was done."""

    def __init__(self, cause: sqlite3.Error) -> None:
        super().__init__(str(cause))
        self.cause = cause


Steps = Generator[Step, Any, Outcomes]


def transaction(ops: Sequence[Op], can_wait: bool) -> Steps:
    """The steps of one batch; returns the outcomes ``(op, ok, value or error)``, in order.

    ``can_wait`` says whether the driver waits for locks.  One that cannot
    gets :class:`NotNow` when the first statement fails (nothing ran), so the
    batch can go where waiting is allowed; unless it was the caller's own
    update function that failed, which is that caller's answer anywhere.
    """
    if len(ops) == 1:
        return (yield from _alone(ops[0], can_wait))
    try:
        yield _BEGIN
    except sqlite3.Error as exc:
        if not can_wait:
            raise NotNow(exc) from None
        raise
    outcomes: Outcomes = []
    try:
        for run in runs(ops):
            if run[0].kind in ("write", "update"):
                yield from _many(run, outcomes)
            else:
                yield from _one(run[0], outcomes)
        yield _COMMIT
    except GeneratorExit:
        raise
    except BaseException as failure:
        if (yield _IN_TRANSACTION):
            try:
                yield _ROLLBACK
            except sqlite3.Error:
                pass
        raise failure
    return outcomes


def _alone(op: Op, can_wait: bool) -> Steps:
    """A batch of one: a single auto-committed statement."""
    try:
        if op.kind == "read":
            rows = yield Step("fetch", op.sql, op.params, takes_lock=True)
            return [(op, True, rows[0] if rows else None)]
        cursor = yield Step("execute", op.sql, op.params, takes_lock=True)
    except sqlite3.Error as exc:
        if not can_wait and op.error(exc) is exc:
            raise NotNow(exc) from None
        return [(op, False, op.error(exc))]
    return [(op, True, op.result_of(cursor))]


def _one(op: Op, outcomes: Outcomes) -> Generator[Step, Any, None]:
    """One statement inside the batch's transaction; its failure is its caller's alone."""
    try:
        if op.kind == "read":
            rows = yield Step("fetch", op.sql, op.params)
            outcomes.append((op, True, rows[0] if rows else None))
            return
        cursor = yield Step("execute", op.sql, op.params)
    except sqlite3.Error as exc:
        if not (yield _IN_TRANSACTION):
            raise  # SQLite rolled the whole transaction back: everyone's work is gone
        outcomes.append((op, False, op.error(exc)))
        return
    outcomes.append((op, True, op.result_of(cursor)))


def _many(run: list[Op], outcomes: Outcomes) -> Generator[Step, Any, None]:
    """Operations sharing one statement, as ``executemany``, continuing past a failing one."""
    progress = RunProgress(run, outcomes)
    while progress.pending():
        try:
            yield Step("many", progress.sql, progress.parameters())
        except sqlite3.Error as exc:
            if not (yield _IN_TRANSACTION):
                raise  # SQLite rolled the whole transaction back: everyone's work is gone
            progress.failed(exc)
        else:
            progress.succeeded()


# -- the drivers ------------------------------------------------------------------


def run_sync(db: sqlite3.Connection, ops: Sequence[Op]) -> Outcomes:
    """Run the batch on ``db``, a connection that never waits (busy timeout 0); :class:`NotNow` if it would have to."""
    steps = transaction(ops, can_wait=False)
    answer: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = steps.send(answer) if error is None else steps.throw(error)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        answer, error = None, None
        try:
            answer = _do_sync(db, step)
        except BaseException as exc:
            error = exc


def _do_sync(db: sqlite3.Connection, step: Step) -> Any:
    kind = step.kind
    if kind == "execute":
        return db.execute(step.sql, step.params)
    if kind == "many":
        return db.executemany(step.sql, step.params)
    if kind == "fetch":
        return db.execute(step.sql, step.params).fetchall()
    if kind == "in_transaction":
        return db.in_transaction
    db.execute("COMMIT" if kind == "commit" else "ROLLBACK")
    return None


async def run_async(conn: aiosqlite.Connection, ops: Sequence[Op]) -> Outcomes:
    """Run the batch on the writer thread's connection, waiting for other connections' locks (:func:`retrying`)."""
    steps = transaction(ops, can_wait=True)
    answer: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = steps.send(answer) if error is None else steps.throw(error)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        answer, error = None, None
        try:
            if step.takes_lock:
                answer = await retrying(lambda: _do_async(conn, step))
            else:
                answer = await _do_async(conn, step)
        except BaseException as exc:
            error = exc


async def _do_async(conn: aiosqlite.Connection, step: Step) -> Any:
    kind = step.kind
    if kind == "execute":
        return await conn.execute(step.sql, step.params)
    if kind == "many":
        return await conn.executemany(step.sql, step.params)
    if kind == "fetch":
        return await conn.execute_fetchall(step.sql, step.params)
    if kind == "in_transaction":
        return conn.in_transaction
    if kind == "commit":
        await conn.commit()
    else:
        await conn.rollback()
    return None


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


# -- grouping a batch for executemany -------------------------------------------------


class RunProgress:
    """One ``executemany`` over a run of operations that goes on past a failing one.

    Each pass hands SQLite the parameters from ``start`` on, noting which
    one it is on: ``executemany`` takes the next parameters only once the
    previous statement succeeded, so when it raises, that one failed.  Its
    caller alone gets the error; the operations before it succeeded, and the
    next pass starts after it.
    """

    def __init__(self, run: Sequence[Op], outcomes: Outcomes) -> None:
        self.run, self.outcomes = run, outcomes
        self.sql = run[0].sql
        self.start = 0
        self._on = 0

    def pending(self) -> bool:
        return self.start < len(self.run)

    def parameters(self) -> Iterator[tuple[Any, ...]]:
        for index in range(self.start, len(self.run)):
            self._on = index
            yield self.run[index].params

    def succeeded(self) -> None:
        self.outcomes.extend((op, True, op.result_of(None)) for op in self.run[self.start:])
        self.start = len(self.run)

    def failed(self, exc: BaseException) -> None:
        failed = self._on
        self.outcomes.extend((op, True, op.result_of(None)) for op in self.run[self.start:failed])
        self.outcomes.append((self.run[failed], False, self.run[failed].error(exc)))
        self.start = failed + 1


def runs(ops: Sequence[Op]) -> Iterator[list[Op]]:
    """``ops`` in order, consecutive writes or updates of one statement together (one ``executemany``)."""
    start = 0
    while start < len(ops):
        end = start + 1
        if ops[start].kind in ("write", "update"):
            while end < len(ops) and ops[end].sql is ops[start].sql:
                end += 1
        yield list(ops[start:end])
        start = end
