"""Backups of a live WAL database: complete, consistent, atomic, with clear errors."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from cat_lint.project.backup import BackupError, backup_database
from cat_lint.project.reader import KeyReader
from cat_lint.project.location import parse_url
from cat_lint.project.schema import GLOBAL_TABLE, SQLITE_SCHEMA
from cat import values


def location_of(path: Path):
    return parse_url(f"sqlite:///{path}", path.parent, "the test")


def open_live_database(path: Path) -> sqlite3.Connection:
    """A writer that keeps its commits in the -wal file (no automatic checkpoint)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    for statement in SQLITE_SCHEMA:
        conn.execute(statement)
    return conn


def save(conn: sqlite3.Connection, key: str, value) -> None:
    conn.execute(f"INSERT OR REPLACE INTO {GLOBAL_TABLE} (key, value) VALUES (?, ?)", (key, values.encode(value)))


def stored(path: Path) -> dict:
    with KeyReader(location_of(path)) as reader:
        return {k.key: reader.get(k.key)[1] for k in reader.global_keys()}


def test_backup_captures_commits_still_in_the_wal_that_a_plain_copy_misses(tmp_path):
    db = tmp_path / "data" / "core" / "core.db"
    conn = open_live_database(db)
    try:
        save(conn, "count", 9)
        save(conn, "theme", {"color": "dark"})
        assert Path(f"{db}-wal").stat().st_size > 0

        plain_copy = tmp_path / "plain-copy.db"
        shutil.copyfile(db, plain_copy)  # what copying the project folder does to core.db
        backup = backup_database(location_of(db), tmp_path / "backup.db")

        assert backup == (tmp_path / "backup.db").resolve()
        assert stored(backup) == {"count": 9, "theme": {"color": "dark"}}
        assert stored(plain_copy) == {}  # the commits were only in core.db-wal
    finally:
        conn.close()


def test_backup_is_one_self_contained_file(tmp_path):
    db = tmp_path / "core.db"
    conn = open_live_database(db)
    save(conn, "k", [1, 2])
    conn.close()
    backup = backup_database(location_of(db), tmp_path / "out.db")
    check = sqlite3.connect(backup)
    assert check.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    check.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["core.db", "out.db"]


def test_backup_while_a_writer_commits_is_a_consistent_snapshot(tmp_path):
    db = tmp_path / "core.db"
    conn = open_live_database(db)
    conn.execute("PRAGMA wal_autocheckpoint = 100")  # let checkpoints happen meanwhile too
    stop = threading.Event()
    written = []

    def writer():
        i = 0
        while not stop.is_set() or i < 200:
            save(conn, f"k{i:05d}", i)
            written.append(i)
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 50:
            threading.Event().wait(0.001)
        backups = [backup_database(location_of(db), tmp_path / f"b{n}.db") for n in range(3)]
    finally:
        stop.set()
        thread.join()
        conn.close()
    for backup in backups:
        keys = sorted(stored(backup))
        # every commit up to some instant, none after, no gap: a prefix of the writes
        assert keys == [f"k{i:05d}" for i in range(len(keys))]
        assert len(keys) >= 50


def test_backup_into_an_existing_folder_uses_the_database_name(tmp_path):
    db = tmp_path / "project" / "core.db"
    open_live_database(db).close()
    target = tmp_path / "backups"
    target.mkdir()
    assert backup_database(location_of(db), target) == (target / "core.db").resolve()


def test_backup_replaces_an_existing_file(tmp_path):
    db = tmp_path / "core.db"
    conn = open_live_database(db)
    save(conn, "v", 1)
    out = tmp_path / "out.db"
    backup_database(location_of(db), out)
    save(conn, "v", 2)
    backup_database(location_of(db), out)
    conn.close()
    assert stored(out) == {"v": 2}


def test_failed_backup_leaves_the_previous_backup_and_no_temporary_files(tmp_path):
    db = tmp_path / "core.db"
    conn = open_live_database(db)
    save(conn, "v", "old")
    conn.close()
    backups = tmp_path / "backups"
    backups.mkdir()
    previous = backup_database(location_of(db), backups / "core.db")

    db.unlink()
    db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(BackupError, match="cannot back up .*core.db"):
        backup_database(location_of(db), backups / "core.db")

    assert stored(previous) == {"v": "old"}
    assert [p.name for p in backups.iterdir()] == ["core.db"]


def test_missing_database_is_named_with_its_origin(tmp_path):
    location = parse_url("sqlite:///data/core/core.db", tmp_path, "the default")
    with pytest.raises(BackupError) as error:
        backup_database(location, tmp_path / "out.db")
    assert str(error.value) == f"no database at {tmp_path / 'data/core/core.db'} (from the default)"
    assert not (tmp_path / "data").exists()  # looking did not create anything


def test_missing_destination_folder(tmp_path):
    db = tmp_path / "core.db"
    open_live_database(db).close()
    with pytest.raises(BackupError, match=r"the folder .*nowhere does not exist"):
        backup_database(location_of(db), tmp_path / "nowhere" / "out.db")


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_destination_cannot_be_the_database_itself(tmp_path, suffix):
    db = tmp_path / "core.db"
    open_live_database(db).close()
    before = db.read_bytes()
    with pytest.raises(BackupError, match="is the database itself"):
        backup_database(location_of(db), f"{db}{suffix}")
    assert db.read_bytes() == before


def test_destination_cannot_be_a_hard_link_to_the_database(tmp_path):
    db = tmp_path / "core.db"
    open_live_database(db).close()
    (tmp_path / "alias.db").hardlink_to(db)
    with pytest.raises(BackupError, match="is the database itself"):
        backup_database(location_of(db), tmp_path / "alias.db")


def test_postgresql_and_memory_databases_are_refused_clearly(tmp_path):
    pg = parse_url("postgresql://postgres:secret@127.0.0.1/test", tmp_path, "CAT_SQL")
    with pytest.raises(BackupError, match="pg_dump") as error:
        backup_database(pg, tmp_path / "out.db")
    assert "secret" not in str(error.value)
    with pytest.raises(BackupError, match="in-memory"):
        backup_database(parse_url("sqlite://", tmp_path), tmp_path / "out.db")


# -- through the runtime: await cat.backup(path) ---------------------------------------


@pytest.fixture
def runtime_db(tmp_path):
    import cat

    db = tmp_path / "project" / "data" / "core" / "core.db"
    cat.configure(sql=f"sqlite:///{db}", project=tmp_path / "project")
    yield db
    cat.configure()


async def test_runtime_backup_includes_every_save_issued_before_it(runtime_db, tmp_path):
    import asyncio

    import cat

    await asyncio.gather(*(cat.store.save(f"k{i}", i) for i in range(200)))
    with cat.request_context("1"):
        await cat.user.save("todos", ["milk"])
    written = await cat.backup(tmp_path / "backup.db")
    assert Path(written) == (tmp_path / "backup.db").resolve()
    assert stored(tmp_path / "backup.db") == {f"k{i}": i for i in range(200)}
    with KeyReader(location_of(tmp_path / "backup.db")) as reader:
        assert reader.get("todos", "1") == (True, ["milk"])
    await cat.close()


async def test_a_restored_backup_is_used_by_the_runtime_in_wal_mode(runtime_db, tmp_path):
    import cat

    await cat.store.save("count", 9.0)
    await cat.backup(tmp_path / "backup.db")
    await cat.close()

    restored = tmp_path / "restored" / "data" / "core" / "core.db"
    restored.parent.mkdir(parents=True)
    shutil.copyfile(tmp_path / "backup.db", restored)
    cat.configure(sql=f"sqlite:///{restored}")
    assert await cat.store.load("count") == 9.0 and isinstance(await cat.store.load("count"), float)
    await cat.store.save("after", True)
    check = sqlite3.connect(restored)
    assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    check.close()
    await cat.close()


async def test_runtime_backup_errors_are_clear(runtime_db, tmp_path):
    import cat

    await cat.store.save("x", 1)
    with pytest.raises(BackupError, match="does not exist"):
        await cat.backup(tmp_path / "missing" / "b.db")
    with pytest.raises(BackupError, match="is the database itself"):
        await cat.backup(runtime_db)
    assert await cat.store.load("x") == 1  # the store is still usable
    await cat.close()
