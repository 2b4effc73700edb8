"""The inline read path: ``load``/``exists`` on a plain sqlite3 connection on the loop's thread.

What must hold (see the module docstring of :mod:`cat.database.sqlite`):
reads see every write whose ``save`` returned, from this process or
another; a lock anywhere makes the inline read fall back to the reader
thread instead of failing or blocking the loop; reads queued on the reader
thread keep later reads behind them; the connection is closed with the
backend, is closed on its own loop's thread, and is never used by a forked
child (which closes its copy at the fork).

A few tests look at the backend's private state (``_inline``, ``_reader``,
the reader's aiosqlite connection) because which path served a read is not visible otherwise: they swap the
inline connection for a *decoy*, a connection to another database holding a
different value, so the value a load returns shows which path answered.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import textwrap
import threading
from pathlib import Path

import pytest

import cat
from cat import request_context, store, user
from cat.database import get_backend
from cat_lint.project.schema import SQLITE_SCHEMA

from runtime_helpers import PYTHON, db_path, subprocess_env


def _decoy(tmp_path: Path, value: str, *, wal: bool) -> Path:
    """Another database with the Cat's tables, where key ``k`` holds ``value``."""
    path = tmp_path / ("decoy-wal.db" if wal else "decoy-journal.db")
    conn = sqlite3.connect(path, isolation_level=None)
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    for statement in SQLITE_SCHEMA:
        conn.execute(statement)
    conn.execute("INSERT INTO key_value_db (key, value) VALUES ('k', ?)", (f'"{value}"',))
    conn.close()
    return path


async def _opened_backend():
    await store.save("warm-up", True)
    await store.load("warm-up")
    backend = get_backend()
    assert backend._inline is not None, "the inline connection should be open once the backend is"
    return backend


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


@pytest.mark.parametrize("wal", [False, True], ids=["rollback journal, write lock", "WAL, locking_mode EXCLUSIVE"])
async def test_a_locked_inline_read_falls_back_instead_of_failing(project, tmp_path, wal):
    backend = await _opened_backend()
    await store.save("k", "real")
    decoy_path = _decoy(tmp_path, "decoy", wal=wal)
    holder = sqlite3.connect(decoy_path, isolation_level=None)
    if wal:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")  # without shared memory: other connections cannot even read
        holder.execute("SELECT * FROM key_value_db").fetchall()
        holder.execute("BEGIN IMMEDIATE")
    else:
        holder.execute("BEGIN EXCLUSIVE")
    decoy = sqlite3.connect(decoy_path, isolation_level=None, timeout=0, check_same_thread=False)
    real, backend._inline = backend._inline, decoy
    try:
        assert await store.load("k") == "real"  # SQLITE_BUSY at once: answered by the reader thread
        assert await store.exists("k")
        assert backend._inline is decoy  # a lock is momentary: the inline path stays on
        holder.execute("COMMIT")
        holder.close()  # releases every lock, the exclusive locking mode's too
        assert await store.load("k") == "decoy"  # free again: the inline connection answers
    finally:
        backend._inline = real
        decoy.close()
        holder.close()
    assert await store.load("k") == "real"


async def test_other_errors_retire_the_inline_connection(project):
    backend = await _opened_backend()
    await store.save("k", {"v": 1})
    inline = backend._inline
    inline.set_progress_handler(lambda: 1, 1)  # every statement on it is interrupted
    assert await store.load("k") == {"v": 1}
    assert backend._inline is None
    with pytest.raises(sqlite3.ProgrammingError):
        inline.execute("SELECT 1")  # closed
    await store.save("k", {"v": 2})
    assert await store.load("k") == {"v": 2}
    assert await store.exists("k")


async def test_reads_queued_on_the_reader_thread_keep_later_reads_behind_them(project, tmp_path):
    backend = await _opened_backend()
    await store.save("k", "real")
    decoy_path = _decoy(tmp_path, "decoy", wal=False)
    holder = sqlite3.connect(decoy_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # the inline (decoy) read meets a lock and falls back
    decoy = sqlite3.connect(decoy_path, isolation_level=None, timeout=0, check_same_thread=False)
    real, backend._inline = backend._inline, decoy
    gate = threading.Event()
    # every statement on the reader thread waits for the gate: a long read there
    await backend._reader.set_progress_handler(lambda: 0 if gate.wait(30) else 0, 1)
    try:
        in_flight = asyncio.ensure_future(store.load("k"))
        await asyncio.sleep(0.1)
        assert not in_flight.done()  # on the reader thread, behind the gate
        holder.execute("COMMIT")  # the inline connection could answer again...
        later = [asyncio.ensure_future(store.load("k")) for _ in range(3)]
        later.append(asyncio.ensure_future(store.exists("k")))
        await asyncio.sleep(0.2)
        assert not any(task.done() for task in later)  # ...but they queue behind the read in flight
        gate.set()
        assert await in_flight == "real"
        assert await asyncio.gather(*later) == ["real", "real", "real", True]
        await backend._reader.set_progress_handler(None, 1)
        assert await store.load("k") == "decoy"  # the reader thread is idle again: inline
    finally:
        gate.set()
        backend._inline = real
        decoy.close()
        holder.close()


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
    assert get_backend()._inline is not None
    assert await store.load("k") == "v"


async def test_in_memory_database_reads_without_an_inline_connection(project):
    cat.configure(sql="sqlite://")
    await store.save("k", [1, 2])
    assert await store.load("k") == [1, 2]
    assert get_backend()._inline is None  # a second connection to :memory: would be another database


# -- lifetime --------------------------------------------------------------------


async def test_close_closes_the_inline_connection(project):
    backend = await _opened_backend()
    inline = backend._inline
    await cat.close()
    assert backend._inline is None
    with pytest.raises(sqlite3.ProgrammingError):
        inline.execute("SELECT 1")
    assert not Path(str(db_path(project)) + "-wal").exists()  # the writer closed last and checkpointed
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
        seen["inline"] = backend._inline
        seen["thread"] = threading.get_ident()
        opened.set()
        while not abandoned.is_set():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        try:
            seen["inline"].execute("SELECT 1")
        except sqlite3.ProgrammingError:
            seen["closed"] = True
        seen["after"] = await store.load("k")  # a fresh backend for this loop
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
    assert seen.get("closed") is True
    assert seen.get("after") == "v"


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
            backend = get_backend()
            assert backend._inline is not None
            return backend

        backend = loop.run_until_complete(setup())
        inline = backend._inline
        pid = os.fork()
        if pid == 0:
            forgotten = backend.closed and backend._inline is None  # at the fork, before anything else

            async def child():
                assert await store.load("k") == "parent"  # a fresh backend for the child's loop
                await store.save("k", "child")
                assert await store.load("k") == "child"
                await cat.close()

            asyncio.run(child())
            cat.configure()  # releases every backend: the inherited one is not among them any more
            sys.exit(0 if forgotten else 3)  # atexit runs: it must not touch the inherited backend either
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status

        async def after():
            assert get_backend() is backend and backend._inline is inline
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
