"""Many tasks and several processes on one database: nothing lost, nothing duplicated, no "database is locked"."""

from __future__ import annotations

import asyncio
import subprocess
import textwrap

import pytest

from cat import request_context, store, user

from runtime_helpers import PYTHON, db_path, rows, subprocess_env


async def test_concurrent_updates_from_tasks_count_exactly(project):
    async def bump(n: int) -> None:
        for _ in range(n):
            await store.update("counter", lambda v: v + 1, 0)

    await asyncio.gather(*(bump(25) for _ in range(40)))
    assert await store.load("counter") == 1000


async def test_concurrent_user_updates_count_exactly_per_user(project):
    async def bump(user_id: str) -> None:
        async with request_context(user_id):
            for _ in range(20):
                await user.update("hits", lambda v: {"n": v["n"] + 1}, {"n": 0})

    await asyncio.gather(*(bump(f"u{i % 4}") for i in range(16)))
    for i in range(4):
        async with request_context(f"u{i}"):
            assert await user.load("hits") == {"n": 80}
    assert rows(project, "SELECT count(*) FROM user_key_value_db") == [(4,)]


async def test_concurrent_first_saves_of_a_user_key_leave_one_row(project):
    """The real Cat's select-then-insert leaves duplicates here."""

    async def save(i: int) -> None:
        async with request_context("same-user"):
            await user.save("fresh", i)

    await asyncio.gather(*(save(i) for i in range(50)))
    assert rows(project, "SELECT count(*) FROM user_key_value_db WHERE key = 'fresh'") == [(1,)]


async def test_many_concurrent_saves_all_land(project):
    await asyncio.gather(*(store.save(f"key-{i}", {"i": i}) for i in range(300)))
    assert rows(project, "SELECT count(*) FROM key_value_db") == [(300,)]
    loaded = await asyncio.gather(*(store.load(f"key-{i}") for i in range(300)))
    assert loaded == [{"i": i} for i in range(300)]


async def test_a_failing_update_fails_only_its_own_caller(project):
    """Operations batched into one transaction roll back one by one."""
    await store.save("victim", "untouched")

    def boom(value):
        raise ZeroDivisionError("from the update function")

    results = await asyncio.gather(
        store.save("a", 1),
        store.update("victim", boom),
        store.update("victim2", lambda v: {1, 2}),  # not JSON: refused, nothing written
        store.update("c", lambda v: (v or 0) + 1),
        store.save("d", 4),
        return_exceptions=True,
    )
    assert results[0] == 1 and results[3] == 1 and results[4] == 4
    assert isinstance(results[1], ZeroDivisionError)
    assert isinstance(results[2], TypeError) and "value is a set" in str(results[2])
    assert await store.load("victim") == "untouched"
    assert await store.exists("victim2") is False
    assert dict(rows(project, "SELECT key, value FROM key_value_db WHERE key IN ('a', 'c', 'd')")) == {
        "a": b"1",
        "c": b"1",
        "d": b"4",
    }


async def test_update_rejects_async_functions_before_touching_the_database(project):
    async def increment(value):
        return value + 1

    with pytest.raises(TypeError, match="plain"):
        await store.update("k", increment, 0)
    with pytest.raises(TypeError, match="function"):
        await store.update("k", 5)
    assert not db_path(project).exists()


async def test_update_default_is_never_mutated(project):
    default = {"items": []}

    def add(value):
        value["items"].append(1)
        return value

    assert await store.update("a", add, default) == {"items": [1]}
    assert await store.update("b", add, default) == {"items": [1]}
    assert default == {"items": []}


async def test_update_returns_the_new_value_and_sees_the_old(project):
    await store.save("k", [1])
    assert await store.update("k", lambda v: v + [2]) == [1, 2]
    assert await store.update("missing", lambda v: v, default="d") == "d"
    assert await store.load("missing") == "d"


COUNTER_SCRIPT = textwrap.dedent(
    """
    import asyncio
    from cat import store, user, request_context

    async def main():
        async with request_context("shared-user"):
            for _ in range(500):
                await store.update("counter", lambda v: v + 1, 0)
                await user.update("counter", lambda v: v + 1, 0)

    asyncio.run(main())
    """
)


@pytest.mark.slow
def test_four_processes_times_500_updates_is_exactly_2000(tmp_path):
    script = tmp_path / "count.py"
    script.write_text(COUNTER_SCRIPT)
    env = subprocess_env(tmp_path)
    children = [
        subprocess.Popen([PYTHON, str(script), str(i)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(4)
    ]
    for child in children:
        out, err = child.communicate(timeout=240)
        assert child.returncode == 0, err
        assert "locked" not in err
    assert rows(tmp_path, "SELECT value FROM key_value_db WHERE key = 'counter'") == [(b"2000",)]
    assert rows(tmp_path, "SELECT value FROM user_key_value_db WHERE key = 'counter'") == [(b"2000",)]


async def test_reading_while_another_process_writes(project):
    """A writer process holding the lock does not make reads here fail."""
    import sqlite3

    await store.save("k", "v")
    other = sqlite3.connect(db_path(project), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO key_value_db (key, value) VALUES ('other', '1')")
    try:
        assert await store.load("k") == "v"  # WAL readers do not wait for the writer
        pending = asyncio.ensure_future(store.save("k", "w"))
        await asyncio.sleep(0.2)
        assert not pending.done()  # waits for the lock instead of failing
    finally:
        other.execute("COMMIT")
        other.close()
    assert await pending == "w"
    assert await store.load("other") == 1


async def test_reads_wait_out_a_writers_lock_outside_wal_mode(tmp_path):
    """Without WAL (a file system with no shared memory) a read can meet a lock: it is retried, not failed."""
    import sqlite3
    import threading

    import aiosqlite

    from cat.database.sqlite_statements import get_statement
    from cat.database.sqlite_batch import retrying
    from cat_lint.project.schema import SQLITE_SCHEMA

    path = tmp_path / "journal.db"
    setup = sqlite3.connect(path)
    for statement in SQLITE_SCHEMA:
        setup.execute(statement)
    setup.execute("INSERT INTO key_value_db VALUES ('k', '\"v\"')")
    setup.commit()
    setup.close()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    # a short busy timeout: the retry must do the waiting
    reader = await aiosqlite.connect(path, isolation_level=None, timeout=0.01)
    try:
        assert await retrying(lambda: reader.execute_fetchall(*get_statement(None, "k"))) == [('"v"',)]
    finally:
        release.join()
        await reader.close()
        holder.close()


async def test_concurrent_user_saves_collapse_duplicates_the_cat_left(project):
    """Per-user saves batched into one commit still leave one row per key, the last save's."""
    import sqlite3
    import uuid

    async with request_context("u"):
        await user.save("warm", 0)  # creates the tables
    conn = sqlite3.connect(db_path(project))
    for value in ("1", "2", "3"):
        conn.execute("INSERT INTO user_key_value_db (id, user_id, key, value) VALUES (?, ?, ?, ?)", (str(uuid.uuid4()), "u", "dup", value))
    conn.commit()
    conn.close()

    async def save(i: int) -> None:
        async with request_context("u"):
            await user.save("dup", i)

    await asyncio.gather(*(save(i) for i in range(20)))
    assert rows(project, "SELECT value FROM user_key_value_db WHERE key = 'dup'") == [(b"19",)]
    async with request_context("u"):
        assert await user.load("dup") == 19
        assert await user.update("dup", lambda v: v + 1) == 20


async def test_a_failing_update_in_the_middle_of_a_batch_fails_alone(project):
    """Updates of one statement run as one executemany: the failing one is skipped, the rest continue."""

    def boom(value):
        raise KeyError("boom")

    await store.save("warm", 0)
    fns = [lambda v: v + 1] * 5 + [boom] + [lambda v: v + 1] * 5
    results = await asyncio.gather(*(store.update("n", fn, 0) for fn in fns), return_exceptions=True)
    assert results[:5] == [1, 2, 3, 4, 5]
    assert isinstance(results[5], KeyError)
    assert results[6:] == [6, 7, 8, 9, 10]
    assert await store.load("n") == 10


async def test_a_batch_that_meets_another_connections_lock_waits_on_the_writer_thread(project):
    """Concurrent writes while another program holds the write lock: they wait (off the loop), then all land."""
    import sqlite3

    def boom(value):
        raise KeyError("boom")

    await store.save("n", 0)
    other = sqlite3.connect(db_path(project), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        fns = [lambda v: v + 1] * 3 + [boom] + [lambda v: v + 1] * 3
        pending = asyncio.ensure_future(asyncio.gather(*(store.update("n", fn) for fn in fns), return_exceptions=True))
        saves = asyncio.ensure_future(asyncio.gather(*(store.save(f"s{i}", i) for i in range(20))))
        ticks = 0
        for _ in range(20):
            await asyncio.sleep(0.01)  # the loop keeps running meanwhile
            ticks += 1
        assert ticks == 20 and not pending.done() and not saves.done()
    finally:
        other.execute("COMMIT")
        other.close()
    results = await pending
    assert results[:3] == [1, 2, 3] and isinstance(results[3], KeyError) and results[4:] == [4, 5, 6]
    assert await saves == list(range(20))
    assert await store.load("n") == 6
    assert rows(project, "SELECT count(*) FROM key_value_db WHERE key LIKE 's%'") == [(20,)]


async def test_an_in_memory_database_under_concurrent_writes_and_reads(project):
    """sqlite:// has one connection: reads join the write batches there, in order."""
    import cat

    cat.configure(sql="sqlite://")

    async def work(i: int) -> None:
        await store.save(f"k{i}", [i])
        assert await store.load(f"k{i}") == [i]
        assert await store.exists(f"k{i}")
        await store.update("n", lambda v: v + 1, 0)
        assert await store.delete(f"k{i}")

    await asyncio.gather(*(work(i) for i in range(50)))
    assert await store.load("n") == 50
    assert not await store.exists("k7")
