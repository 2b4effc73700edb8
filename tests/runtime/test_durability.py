"""What survives a killed process, and a script that never closes the store still exiting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from cat import store

from runtime_helpers import PYTHON, db_path, rows, subprocess_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

SAVE_THEN_WAIT = textwrap.dedent(
    """
    import asyncio, sys, time
    from cat import store, user, request_context

    async def main():
        for i in range(200):
            await store.save(f"k{i}", {"i": i})
        async with request_context("u"):
            await user.save("last", "saved")
        await store.save("final", 2**70)
        print("saved", flush=True)
        time.sleep(60)  # killed here, the very next instant

    asyncio.run(main())
    """
)


@pytest.mark.slow
async def test_a_returned_save_survives_sigkill(tmp_path, project):
    script = tmp_path / "save.py"
    script.write_text(SAVE_THEN_WAIT)
    child = subprocess.Popen([PYTHON, str(script)], env=subprocess_env(project), stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "saved"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    # reopen (recovering the WAL) and find every write
    assert await store.load("final") == 2**70
    assert await store.load("k199") == {"i": 199}
    from cat import request_context, user

    async with request_context("u"):
        assert await user.load("last") == "saved"


NEVER_CLOSES = textwrap.dedent(
    """
    import asyncio
    from cat import store

    async def main():
        await store.save("k", [1, 2, 3])
        print(await store.load("k"), flush=True)

    asyncio.run(main())
    # a second loop in the same script gets a working store too
    asyncio.run(main())
    """
)


@pytest.mark.slow
def test_a_script_that_never_closes_still_exits(tmp_path):
    script = tmp_path / "never_closes.py"
    script.write_text(NEVER_CLOSES)
    result = subprocess.run([PYTHON, str(script)], env=subprocess_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[1, 2, 3]", "[1, 2, 3]"]
    assert "Traceback" not in result.stderr and "Exception" not in result.stderr
    # the connections were closed at exit: SQLite removed the WAL after its final checkpoint
    assert not (db_path(tmp_path).parent / "core.db-wal").exists()
    assert rows(tmp_path, "SELECT value FROM key_value_db") == [("[1,2,3]",)]


FORGETS_A_WRITE = textwrap.dedent(
    """
    import asyncio
    from cat import store

    async def main():
        await store.save("a", 1)
        asyncio.get_running_loop().create_task(store.save("b", 2))  # never awaited

    asyncio.run(main())
    """
)


@pytest.mark.slow
def test_a_script_that_drops_a_write_in_flight_exits_quietly(tmp_path):
    script = tmp_path / "drops.py"
    script.write_text(FORGETS_A_WRITE)
    result = subprocess.run([PYTHON, str(script)], env=subprocess_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert ("a", b"1") in rows(tmp_path, "SELECT key, value FROM key_value_db")


async def test_synchronous_full_is_available(project):
    import cat

    cat.configure(project=project, synchronous="FULL")
    await store.save("k", 1)
    assert await store.load("k") == 1
    with pytest.raises(ValueError):
        cat.configure(synchronous="sometimes")


async def test_the_wal_stays_bounded_under_a_stream_of_lone_saves(project):
    """Saves that run on the loop's thread never checkpoint; the writer thread still does, now and then."""
    wal = db_path(project).with_name("core.db-wal")
    for i in range(3000):
        await store.save(f"k{i % 50}", {"i": i, "text": "x" * 100})
    # without checkpoints: a page (4 KiB) a commit, 12 MiB; checkpointed at ~1000 pages, ~4 MiB
    assert wal.stat().st_size < 8 * 2**20
    assert await store.load("k49") == {"i": 2999, "text": "x" * 100}


async def test_aiosqlite_worker_threads_are_daemons(tmp_path):
    """The runtime's aiosqlite threads never keep a script from exiting.

    aiosqlite has no daemon switch: the runtime creates the connection
    object in a daemon thread, whose flag the worker thread inherits.  That
    holds while aiosqlite creates its thread with the connection object.
    """
    import threading

    from cat.database.sqlite import _connect

    before = set(threading.enumerate())
    conn = await _connect(str(tmp_path / "daemons.db"))
    try:
        started = [thread for thread in threading.enumerate() if thread not in before]
        assert started, "opening an aiosqlite connection started no thread"
        assert all(thread.daemon for thread in started), (
            "aiosqlite's worker thread is not a daemon: this aiosqlite no longer creates it with the "
            "connection object, so cat.database.sqlite._make_daemon_connection must change, or scripts "
            "that never close the store hang at exit"
        )
    finally:
        await conn.close()
