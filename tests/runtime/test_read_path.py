"""The inline read path: ``load``/``exists`` on a plain sqlite3 connection on the loop's thread.

What must hold (see ``docs/sqlite-internals.md``):
reads see every write whose ``save`` returned, from this process or
another; a lock anywhere makes the inline read fall back to the reader
thread instead of failing or blocking the loop; reads queued on the reader
thread keep later reads behind them; the connection is closed with the
backend, is closed on its own loop's thread, and is never used by a forked
child (which closes its copy at the fork).

Which path served a read shows in the event loop's turns
(:func:`runtime_helpers.loop_turns`): a read on the loop's own connection completes without
suspending its task, one sent to a driver thread gives the loop a turn at
least.  Locks come from other connections to the same file, as another
process would take them.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import textwrap
import threading
from pathlib import Path

import cat
from cat import request_context, store, user
from cat.database import get_backend

from runtime_helpers import PYTHON, TIMES, db_path, loop_turns, subprocess_env


async def _served_on_the_loops_thread(operation) -> bool:
    return await loop_turns(operation) < TIMES // 2


async def _warm_up() -> None:
    await store.save("warm-up", True)
    assert await store.load("warm-up") is True
    assert await _served_on_the_loops_thread(lambda: store.load("warm-up")), "loads should run on the loop's connection"


async def _lock_out_readers(project: Path) -> sqlite3.Connection:
    """Another connection holding the database exclusively (``locking_mode`` EXCLUSIVE): nobody else can even read.

    It can take the file only while nobody else has it open, so the store is
    closed first; its next call opens it again, and meets the lock.
    """
    await cat.close()
    holder = sqlite3.connect(db_path(project), isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def _file_is_free(project: Path) -> bool:
    """No connection of ours is open on the database: another one can leave WAL mode (that needs it alone)."""
    other = sqlite3.connect(db_path(project), isolation_level=None, timeout=0)
    try:
        return str(other.execute("PRAGMA journal_mode = DELETE").fetchone()[0]).lower() == "delete"
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


# -- read-your-writes -----------------------------------------------------------


async def test_every_load_sees_the_save_that_returned_before_it(project):
    for i in range(300):
        await store.save("k", i)
        assert await store.load("k") == i
        assert await store.exists("k")
    assert await store.delete("k")
    assert await store.load("k", "gone") == "gone"
    assert not await store.exists("k")
    with request_context("alice"):
        for i in range(50):
            await user.save("k", [i])
            assert await user.load("k") == [i]


async def test_concurrent_tasks_read_their_own_writes(project):
    async def worker(n: int) -> None:
        for i in range(40):
            await store.save(f"key-{n}", [n, i])
            assert await store.load(f"key-{n}") == [n, i]

    await asyncio.gather(*(worker(n) for n in range(32)))


async def test_load_sees_a_save_made_by_another_process(project):
    await store.save("k", "before")
    assert await store.load("k") == "before"  # the inline connection has read this database already
    script = textwrap.dedent(
        """
        import asyncio, cat
        from cat import store

        async def main():
            await store.save("k", "from the other process")
            await store.save("new", 0)
            await cat.close()

        asyncio.run(main())
        """
    )
    done = subprocess.run([PYTHON, "-c", script], env=subprocess_env(project), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert await store.load("k") == "from the other process"
    assert await store.exists("new")
    assert await store.load("new") == 0


async def test_load_while_another_connection_holds_a_write_transaction(project):
    await store.save("k", "committed")
    other = sqlite3.connect(db_path(project), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE key_value_db SET value = '\"uncommitted\"' WHERE key = 'k'")
    other.execute("INSERT INTO key_value_db (key, value) VALUES ('other', '1')")
    try:
        assert await store.load("k") == "committed"
        assert not await store.exists("other")
    finally:
        other.execute("COMMIT")
        other.close()
    assert await store.load("k") == "uncommitted"
    assert await store.load("other") == 1


async def test_load_while_another_connection_holds_an_old_snapshot(project):
    """A long read elsewhere pins an old snapshot for itself only: our reads see newer commits."""
    await store.save("k", 1)
    reader = sqlite3.connect(db_path(project), isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT value FROM key_value_db WHERE key = 'k'").fetchall() == [(b"1",)]
    try:
        for i in range(2, 20):
            await store.save("k", i)
            assert await store.load("k") == i
        assert reader.execute("SELECT value FROM key_value_db WHERE key = 'k'").fetchall() == [(b"1",)]
    finally:
        reader.execute("COMMIT")
        reader.close()


# -- routing and fallback -------------------------------------------------------


async def test_a_locked_database_makes_reads_wait_without_blocking_the_loop(project):
    """A connection holding the file exclusively: the reads wait (off the loop's thread), the loop keeps running."""
    await _warm_up()
    await store.save("k", "real")
    holder = await _lock_out_readers(project)
    try:
        pending = [asyncio.ensure_future(store.load("k")), asyncio.ensure_future(store.exists("k"))]
        ticks = 0
        for _ in range(20):
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 20 and not any(task.done() for task in pending)  # waiting, not failing, not blocking
    finally:
        holder.execute("COMMIT")
        holder.close()  # releases every lock, the exclusive locking mode's too
    assert await asyncio.gather(*pending) == ["real", True]
    # a lock is momentary: the loop's connection serves reads again
    assert await _served_on_the_loops_thread(lambda: store.load("k"))


async def test_reads_queued_on_the_reader_thread_keep_later_reads_behind_them(project):
    await _warm_up()
    await store.save("k", "real")
    holder = await _lock_out_readers(project)
    finished: list[str] = []
    try:
        in_flight = asyncio.ensure_future(store.load("k"))
        in_flight.add_done_callback(lambda _: finished.append("first"))
        await asyncio.sleep(0.1)
        assert not in_flight.done()  # on the reader thread, waiting for the lock
    finally:
        holder.execute("COMMIT")
        holder.close()  # the loop's connection could answer at once now...
    later = [asyncio.ensure_future(store.load("k")) for _ in range(3)]
    later.append(asyncio.ensure_future(store.exists("k")))
    for task in later:
        task.add_done_callback(lambda _: finished.append("later"))
    assert await asyncio.gather(*later) == ["real", "real", "real", True]
    assert await in_flight == "real"
    assert finished == ["first"] + ["later"] * 4  # ...but they queued behind the read in flight
    assert await _served_on_the_loops_thread(lambda: store.load("k"))  # the reader thread is idle again


async def test_database_locked_exclusively_before_opening_reads_wait(project):
    """Another program holds the whole file (locking_mode EXCLUSIVE): loads wait, the loop keeps running."""
    path = db_path(project)
    await store.save("k", "v")
    await cat.close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        pending = asyncio.ensure_future(store.load("k"))
        ticks = 0
        for _ in range(20):
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 20 and not pending.done()
    finally:
        holder.execute("COMMIT")
        holder.close()  # closing releases the exclusive lock
    assert await pending == "v"
    assert await store.load("k") == "v"
    assert await _served_on_the_loops_thread(lambda: store.load("k"))  # the loop's connection opened after all


async def test_in_memory_database_reads_without_an_inline_connection(project):
    cat.configure(sql="sqlite://")
    await store.save("k", [1, 2])
    assert await store.load("k") == [1, 2]
    # a second connection to :memory: would be another database: reads go to the writer's thread
    assert not await _served_on_the_loops_thread(lambda: store.load("k"))


# -- lifetime --------------------------------------------------------------------


async def test_close_closes_the_inline_connection(project):
    await _warm_up()
    backend = get_backend()
    await cat.close()
    assert not Path(str(db_path(project)) + "-wal").exists()  # the writer closed last and checkpointed
    assert _file_is_free(project)  # no connection of the backend is left open
    sqlite3.connect(db_path(project)).execute("PRAGMA journal_mode = WAL").fetchall()
    assert await store.load("warm-up") is True  # the next call opens a fresh backend
    assert get_backend() is not backend


def test_abandoning_from_another_thread_closes_it_on_the_loops_thread(project):
    """``cat.configure`` in one thread while a loop reads in another: the loop's thread closes it."""
    opened = threading.Event()
    abandoned = threading.Event()
    seen: dict = {}

    async def main() -> None:
        await store.save("k", "v")
        assert await store.load("k") == "v"
        backend = get_backend()
        seen["inline"] = await _served_on_the_loops_thread(lambda: store.load("k"))
        opened.set()
        while not abandoned.is_set():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        seen["closed"] = backend.closed
        seen["after"] = await store.load("k")  # a fresh backend for this loop
        seen["fresh"] = get_backend() is not backend
        await cat.close()

    worker = threading.Thread(target=lambda: asyncio.run(main()))
    worker.start()
    try:
        assert opened.wait(30)
        cat.configure(project=project)  # abandons every backend, from this thread
        abandoned.set()
    finally:
        abandoned.set()
        worker.join(30)
    assert seen.get("inline") is True
    assert seen.get("closed") is True
    assert seen.get("after") == "v" and seen.get("fresh") is True
    assert _file_is_free(project)  # every connection closed, the abandoned backend's too


def test_script_that_loads_and_never_closes_exits(tmp_path):
    script = textwrap.dedent(
        """
        import asyncio
        from cat import store

        async def main():
            await store.save("k", 1)
            for _ in range(50):
                assert await store.load("k") == 1
            print("done")

        asyncio.run(main())
        """
    )
    done = subprocess.run([PYTHON, "-c", script], env=subprocess_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "done"
    assert done.stderr == ""


def test_forked_child_sets_the_inherited_connection_aside(tmp_path):
    """The child never uses the parent's backend (nor its inline connection); both keep reading correctly."""
    script = textwrap.dedent(
        """
        import asyncio, os, sys
        import cat
        from cat import store
        from cat.database import get_backend

        loop = asyncio.new_event_loop()

        async def setup():
            await store.save("k", "parent")
            assert await store.load("k") == "parent"
            return get_backend()

        backend = loop.run_until_complete(setup())
        pid = os.fork()
        if pid == 0:
            forgotten = backend.closed  # at the fork, before anything else

            async def child():
                assert await store.load("k") == "parent"  # a fresh backend for the child's loop
                assert get_backend() is not backend
                await store.save("k", "child")
                assert await store.load("k") == "child"
                await cat.close()

            asyncio.run(child())
            cat.configure()  # releases every backend: the inherited one is not among them any more
            sys.exit(0 if forgotten else 3)  # atexit runs: it must not touch the inherited backend either
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status

        async def after():
            assert get_backend() is backend and not backend.closed
            assert await store.load("k") == "child"  # read-your-writes across processes
            await cat.close()

        loop.run_until_complete(after())
        loop.close()
        print("ok")
        """
    )
    done = subprocess.run([PYTHON, "-c", script], env=subprocess_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
