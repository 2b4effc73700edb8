"""Choosing, opening, closing and switching the database; one backend per event loop; backups."""

from __future__ import annotations

import asyncio
import sqlite3
import textwrap

import pytest

import cat
from cat import store

from runtime_helpers import PYTHON, db_path, rows, subprocess_env


async def test_default_location_is_data_core_core_db_in_the_project(project):
    await store.save("k", 1)
    assert db_path(project).is_file()
    assert rows(project, "PRAGMA journal_mode") == [("wal",)]


async def test_explicit_url_wins(project, tmp_path):
    target = tmp_path / "elsewhere" / "x.db"
    cat.configure(sql=f"sqlite:///{target}", project=project)
    await store.save("k", "there")
    assert target.is_file()
    assert not db_path(project).exists()


async def test_cat_sql_environment_variable(project, tmp_path, monkeypatch):
    monkeypatch.setenv("CAT_SQL", "sqlite:///from_env.db")
    cat.configure(project=project)
    await store.save("k", 1)
    assert (project / "from_env.db").is_file()


async def test_config_py_sql_constant(project):
    (project / "config.py").write_text('SQL = "sqlite:///data/custom.db"\n')
    cat.configure(project=project)
    await store.save("k", 1)
    assert (project / "data" / "custom.db").is_file()


async def test_in_memory_database(project):
    cat.configure(sql="sqlite://")
    await store.save("k", {"a": 1})
    assert await store.load("k") == {"a": 1}
    assert await store.update("n", lambda v: v + 1, 41) == 42
    await cat.close()
    assert await store.load("k") is None  # a fresh memory database
    assert not db_path(project).exists()


async def test_reconfiguring_switches_database(project, tmp_path):
    await store.save("k", "first")
    second = tmp_path / "second"
    cat.configure(project=second)
    assert await store.load("k") is None
    await store.save("k", "second")
    cat.configure(project=project)
    assert await store.load("k") == "first"


async def test_close_is_idempotent_and_the_next_call_reopens(project):
    await cat.close()  # nothing open yet
    await store.save("k", 1)
    await cat.close()
    await cat.close()
    assert await store.load("k") == 1


async def test_close_waits_for_pending_writes(project):
    pending = [asyncio.ensure_future(store.save(f"k{i}", i)) for i in range(50)]
    await asyncio.sleep(0)
    await cat.close()
    assert [await p for p in pending] == list(range(50))
    assert rows(project, "SELECT count(*) FROM key_value_db") == [(50,)]


def test_each_event_loop_gets_a_working_store(project):
    """asyncio.run twice (or pytest's loop per test): the store follows the running loop."""

    async def write(value):
        await store.save("k", value)
        return await store.load("k")

    assert asyncio.run(write(1)) == 1
    assert asyncio.run(write(2)) == 2
    asyncio.run(cat.close())


def test_store_is_usable_from_a_loop_in_another_thread(project):
    import threading

    results = []

    def run():
        results.append(asyncio.run(store.save("from_thread", "ok")))

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(30)
    assert results == ["ok"]
    assert rows(project, "SELECT value FROM key_value_db") == [('"ok"',)]


async def test_unopenable_database_names_the_file(project):
    blocker = project / "data"
    blocker.write_text("a file where the data folder should be")
    with pytest.raises(cat.errors.DatabaseOpenError, match="data/core/core.db"):
        await store.save("k", 1)
    blocker.unlink()
    await store.save("k", 1)  # the next call tries again


async def test_existing_cat_database_is_used_as_is(project):
    """Tables made by the real Cat (same DDL) are reused, and their rows read."""
    from cat_lint.project.schema import SQLITE_SCHEMA

    db_path(project).parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path(project))
    for statement in SQLITE_SCHEMA:
        conn.execute(statement)
    # what the real Cat wrote: JSON text in a NUMERIC column, coerced by SQLite
    conn.execute("INSERT INTO key_value_db VALUES ('active_plugins', '[\"core\"]'), ('n', '9.0'), ('s', '\"x\"')")
    conn.commit()
    conn.close()
    assert await store.load("active_plugins") == ["core"]
    assert await store.load("n") == 9  # the Cat's own coercion: it stored 9
    assert await store.load("s") == "x"


async def test_backup_sees_every_write_issued_before_it(project, tmp_path):
    writes = [asyncio.ensure_future(store.save(f"k{i}", i)) for i in range(100)]
    await asyncio.sleep(0)
    dest = tmp_path / "backup.db"
    await cat.backup(dest)
    await asyncio.gather(*writes)
    copy = sqlite3.connect(dest)
    try:
        assert copy.execute("SELECT count(*) FROM key_value_db").fetchone() == (100,)
    finally:
        copy.close()


@pytest.mark.slow
def test_import_does_not_touch_the_database(tmp_path):
    """Importing cat (as the linter and the language server do) opens nothing."""
    import subprocess

    code = textwrap.dedent(
        """
        import sys, threading
        import cat, cat_lint.project.location, cat_lint.project.reader
        assert "aiosqlite" not in sys.modules, "the driver loads only when a store is used"
        assert threading.active_count() == 1
        """
    )
    result = subprocess.run([PYTHON, "-c", code], env=subprocess_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "data").exists()


async def test_backup_and_close_finish_under_a_steady_stream_of_writes(project, tmp_path):
    """Waiting for "everything issued so far" must not wait for writes issued later."""
    stop = asyncio.Event()

    async def writer(n: int) -> None:
        i = 0
        while not stop.is_set():
            await store.save(f"w{n}", i)
            i += 1

    writers = [asyncio.create_task(writer(n)) for n in range(8)]
    await asyncio.sleep(0.05)
    try:
        await asyncio.wait_for(cat.backup(tmp_path / "b.db"), 60)  # a hang guard, not a timing check
    finally:
        stop.set()
        await asyncio.gather(*writers)
    assert (tmp_path / "b.db").is_file()
