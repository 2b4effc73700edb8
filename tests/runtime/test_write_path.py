"""The write path: where writes run, and the one batch contract both of its drivers follow.

Where a write ran shows in the event loop's turns (as in
``test_read_path.py``): on the loop's own connection a save completes
without suspending its task, through the writer thread it waits for the
thread's answer.  What a batch commits is read back with plain ``sqlite3``,
the way another program would.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import sqlite3

import aiosqlite
import pytest

import cat
from cat import store
from cat.database import sqlite_batch
from cat.database import sqlite_statements as sql
from cat.database.sqlite_inline import InlineConnection
from cat.database.sqlite_statements import DEDUPE_TRIGGER, UPDATE_FUNCTION, Op, Update, update_function
from cat_lint.project.schema import SQLITE_SCHEMA

from runtime_helpers import TIMES, loop_turns, rows


async def test_lone_saves_run_on_the_loops_thread(project):
    await store.save("warm-up", 0)
    await store.load("warm-up")
    counter = itertools.count()
    assert await loop_turns(lambda: store.save("k", next(counter))) < TIMES // 2
    assert rows(project, "SELECT value FROM key_value_db WHERE key = 'k'") == [(str(TIMES - 1).encode(),)]


async def test_saves_with_synchronous_full_go_to_the_writer_thread(project):
    cat.configure(project=project, synchronous="FULL")  # every commit waits for the disk: never on the loop's thread
    await store.save("warm-up", 0)
    await store.load("warm-up")
    counter = itertools.count()
    assert await loop_turns(lambda: store.save("k", next(counter))) >= TIMES
    assert rows(project, "SELECT value FROM key_value_db WHERE key = 'k'") == [(str(TIMES - 1).encode(),)]


async def test_concurrent_writers_are_committed_when_their_saves_return(project):
    await store.save("warm-up", 0)

    async def writer(n: int) -> None:
        for i in range(10):
            await store.save(f"writer-{n}", i)
            assert rows(project, "SELECT value FROM key_value_db WHERE key = ?", (f"writer-{n}",)) == [(str(i).encode(),)]

    await asyncio.gather(*(writer(n) for n in range(64)))
    assert rows(project, "SELECT count(*) FROM key_value_db WHERE key LIKE 'writer-%'") == [(64,)]


async def test_a_failing_update_among_concurrent_writes_fails_alone(project):
    await store.save("warm-up", 0)

    def boom(old):
        raise RuntimeError("no")

    results = await asyncio.gather(
        *(store.save(f"s{n}", n) for n in range(10)),
        store.update("u", boom, 0),
        *(store.update(f"c{n}", lambda old: old + 1, 0) for n in range(10)),
        return_exceptions=True,
    )
    assert isinstance(results[10], RuntimeError) and str(results[10]) == "no"
    assert rows(project, "SELECT count(*) FROM key_value_db WHERE key LIKE 's%' OR key LIKE 'c%'") == [(20,)]
    assert not await store.exists("u")


# -- the batch contract, on its own ---------------------------------------------------


def _database(path) -> tuple[sqlite3.Connection, dict[int, Update]]:
    db = sqlite3.connect(path, isolation_level=None, timeout=0, check_same_thread=False)
    db.execute("PRAGMA journal_mode = WAL")
    for statement in SQLITE_SCHEMA:
        db.execute(statement)
    db.execute(DEDUPE_TRIGGER)
    pending: dict[int, Update] = {}
    db.create_function(UPDATE_FUNCTION, 2, update_function(pending))
    return db, pending


def _batch(pending: dict[int, Update]) -> list[Op]:
    """Saves, an update that raises, updates, a delete: every kind of run the contract groups."""
    tokens = itertools.count()

    def update(key, fn):
        change = Update(next(tokens), fn, 0, contextvars.copy_context(), pending)
        return Op("update", *sql.update_statement(None, key, change.token, ""), change)

    def boom(old):
        raise RuntimeError("no")

    return [
        *(Op("write", *sql.put_statement(None, f"k{n}", str(n), "")) for n in range(3)),
        update("a", lambda old: old + 1),
        update("b", boom),
        update("c", lambda old: old + 10),
        Op("delete", *sql.delete_statement(None, "k1")),
        Op("delete", *sql.delete_statement(None, "nothing")),
    ]


def _shape(outcomes):
    return [(op.kind, ok, repr(value) if isinstance(value, BaseException) else value) for op, ok, value in outcomes]


EXPECTED = [
    ("write", True, None),
    ("write", True, None),
    ("write", True, None),
    ("update", True, 1),
    ("update", False, "RuntimeError('no')"),
    ("update", True, 10),
    ("delete", True, True),
    ("delete", True, False),
]
COMMITTED = [("a", b"1"), ("c", b"10"), ("k0", b"0"), ("k2", b"2")]


def test_the_synchronous_driver_runs_the_batch_contract(tmp_path):
    db, pending = _database(tmp_path / "sync.db")
    try:
        assert _shape(sqlite_batch.run_sync(db, _batch(pending))) == EXPECTED
        assert db.execute("SELECT key, CAST(value AS BLOB) FROM key_value_db ORDER BY key").fetchall() == COMMITTED
    finally:
        db.close()


async def test_the_asynchronous_driver_runs_the_same_contract(tmp_path):
    setup, pending = _database(tmp_path / "async.db")
    setup.close()
    conn = await aiosqlite.connect(tmp_path / "async.db", isolation_level=None)
    try:
        await conn.execute(DEDUPE_TRIGGER)
        await conn.create_function(UPDATE_FUNCTION, 2, update_function(pending))
        assert _shape(await sqlite_batch.run_async(conn, _batch(pending))) == EXPECTED
        assert await conn.execute_fetchall("SELECT key, CAST(value AS BLOB) FROM key_value_db ORDER BY key") == COMMITTED
    finally:
        await conn.close()


@pytest.mark.parametrize("size", [1, 8], ids=["lone", "batch"])
def test_the_synchronous_driver_does_nothing_when_it_would_wait(tmp_path, size):
    db, pending = _database(tmp_path / "locked.db")
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite_batch.NotNow) as refused:
            sqlite_batch.run_sync(db, _batch(pending)[:size])
        assert "locked" in str(refused.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert db.execute("SELECT count(*) FROM key_value_db").fetchone() == (0,)
    assert not db.in_transaction
    db.close()


def test_a_lock_keeps_the_inline_connection_and_other_errors_retire_it(tmp_path):
    loop = asyncio.new_event_loop()
    db, _ = _database(tmp_path / "inline.db")
    try:
        inline = InlineConnection(loop)
        inline.attach(db, writes=True)
        holder = sqlite3.connect(tmp_path / "inline.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as busy:
            db.execute("BEGIN IMMEDIATE")
        holder.execute("ROLLBACK")
        holder.close()
        inline.failed(busy.value)
        assert inline.db is db and inline.for_writes() is db  # a lock is momentary
        db.set_progress_handler(lambda: 1, 1)  # every statement is interrupted
        with pytest.raises(sqlite3.OperationalError) as interrupted:
            db.execute("SELECT count(*) FROM key_value_db").fetchall()
        inline.failed(interrupted.value)
        assert inline.db is None and inline.for_writes() is None and not inline.wanted
        with pytest.raises(sqlite3.ProgrammingError):
            db.execute("SELECT 1")  # closed
    finally:
        db.close()
        loop.close()


def test_the_inline_connection_stays_off_for_writes_unless_allowed(tmp_path):
    loop = asyncio.new_event_loop()
    db, _ = _database(tmp_path / "reads.db")
    try:
        inline = InlineConnection(loop)
        assert inline.wanted
        inline.attach(db, writes=False)  # synchronous FULL, or not WAL: reads only
        assert inline.db is db and inline.for_writes() is None and not inline.wanted
    finally:
        db.close()
        loop.close()
