"""A batch of writes run at once on the loop's own ``sqlite3`` connection.

Why: a batch sent to aiosqlite's writer thread costs three round trips
between threads (``BEGIN IMMEDIATE``, ``executemany``, ``COMMIT``), and each
one waits for the other thread to be scheduled and to take the GIL; on a
busy machine that waiting, not SQLite, is most of a batch's time.  When the
writes can run without waiting (the database in WAL mode, ``synchronous``
``NORMAL`` or ``OFF``, so a commit writes the WAL file and does not wait for
the disk, and no other connection holding the write lock), running the
same transaction directly on the loop's thread costs a fraction of that:
the batch of 64 small writes the benchmark makes takes well under a
millisecond.  Whatever would have to wait goes to the writer thread instead.

The transaction is the same as the writer thread's (see
:mod:`cat.database.sqlite_writer`): one ``executemany`` per run of the same
statement, a failing statement undone alone, results settled only once
committed.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from cat.database.sqlite_statements import Op, RunProgress, is_busy, runs

__all__ = ["NotNow", "busy", "run_batch"]

Outcomes = list[tuple[Op, bool, Any]]


class NotNow(Exception):
    """The batch could not start without waiting (or at all) here; nothing was done.  ``cause`` says why."""

    def __init__(self, cause: sqlite3.Error) -> None:
        super().__init__(str(cause))
        self.cause = cause


def run_batch(db: sqlite3.Connection, ops: list[Op]) -> Outcomes:
    """Run ``ops`` in one transaction on ``db``; their outcomes, once committed.

    Raises :class:`NotNow` when ``BEGIN IMMEDIATE`` meets a lock (``db``
    never waits: its busy timeout is 0) or fails, before anything ran.  Any
    other error after that (SQLite rolling the whole transaction back)
    propagates: the batch is then not written at all.
    """
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise NotNow(exc) from None
    outcomes: Outcomes = []
    try:
        for run in runs(ops):
            if run[0].kind in ("write", "update"):
                _many(db, run, outcomes)
            else:
                _one(db, run[0], outcomes)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            try:
                db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        raise
    return outcomes


def _one(db: sqlite3.Connection, op: Op, outcomes: Outcomes) -> None:
    try:
        cursor = db.execute(op.sql, op.params)
        value = cursor.fetchall()[:1] if op.kind == "read" else None
    except sqlite3.Error as exc:
        if not db.in_transaction:
            raise  # SQLite rolled the whole transaction back: everyone's work is gone
        outcomes.append((op, False, op.error(exc)))
        return
    outcomes.append((op, True, (value[0] if value else None) if op.kind == "read" else op.result_of(cursor)))


def _many(db: sqlite3.Connection, run: list[Op], outcomes: Outcomes) -> None:
    progress = RunProgress(run, outcomes)
    while progress.pending():
        try:
            db.executemany(progress.sql, progress.parameters())
        except sqlite3.Error as exc:
            if not db.in_transaction:
                raise  # SQLite rolled the whole transaction back: everyone's work is gone
            progress.failed(exc)
        else:
            progress.succeeded()


def busy(exc: NotNow) -> bool:
    """Whether the batch met a lock (momentary) rather than a broken connection."""
    return is_busy(exc.cause)

