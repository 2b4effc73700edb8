"""A consistent copy of a live SQLite database, for ``cat.backup`` and ``cat-store backup``.

Why not just copy the project folder?  In WAL mode a commit lands first in
``core.db-wal`` and reaches ``core.db`` only at the next checkpoint, so a
copy of ``core.db`` alone (or a copy taken while a checkpoint is half done)
can miss committed saves or be torn.  SQLite's online backup API reads the
database through an ordinary read transaction instead: it sees every commit
up to that instant, WAL included, as one consistent snapshot, and a running
Cat keeps writing meanwhile (WAL readers never block the writer).

The copy is written to a temporary file next to ``dest`` and renamed over it
only once complete and checked, so ``dest`` is never half written: either
the previous file is still there or the whole new backup is.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import tempfile
from pathlib import Path

from cat_lint.project.location import DatabaseLocation

__all__ = ["BackupError", "backup_database"]


class BackupError(RuntimeError):
    """A backup that cannot be made; the message says what to fix."""


def backup_database(location: DatabaseLocation, dest: str | os.PathLike[str]) -> Path:
    """Copy the SQLite database at ``location`` to ``dest``; return the file written.

    ``dest`` is a file path, or an existing folder (the backup then takes the
    database's file name inside it).  An existing file at ``dest`` is
    replaced atomically.  Synchronous: ``cat.backup`` runs it in a thread.
    """
    source = _source_path(location)
    target = _target_path(source, Path(dest))

    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _copy(source, tmp, location)
        os.chmod(tmp, stat.S_IMODE(source.stat().st_mode))  # mkstemp made it 0600
        _fsync(tmp)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        _remove_with_sidecars(tmp)
        raise
    return target


def _source_path(location: DatabaseLocation) -> Path:
    if not location.is_sqlite:
        raise BackupError(
            f"cannot back up {location.describe()} here: cat-store backs up SQLite files; PostgreSQL has its "
            "own consistent online backup, which a running Cat does not disturb: pg_dump --format=custom "
            f"--table=key_value_db --table=user_key_value_db --file=DEST.dump '{location.redacted_url}' "
            "(pg_restore --data-only puts it back)"
        )
    if location.path is None:
        raise BackupError(f"cannot back up an in-memory database ({location.url})")
    source = Path(location.path).resolve()
    if not source.is_file():
        raise BackupError(f"no database at {location.describe()}")
    return source


def _target_path(source: Path, dest: Path) -> Path:
    dest = dest.expanduser()
    if dest.is_dir():
        dest = dest / source.name
    parent = dest.parent
    if not parent.is_dir():
        raise BackupError(f"cannot write the backup to {dest}: the folder {parent} does not exist")
    target = parent.resolve() / dest.name
    forbidden = {source, source.with_name(source.name + "-wal"), source.with_name(source.name + "-shm"),
                 source.with_name(source.name + "-journal")}
    if target in forbidden or (target.exists() and os.path.samefile(target, source)):
        raise BackupError(f"the backup destination {target} is the database itself (or one of its files); choose another path")
    return target


def _copy(source: Path, tmp: Path, location: DatabaseLocation) -> None:
    """Online backup from a read-only connection into the (empty) temporary file."""
    src = _open_source(source, location)
    try:
        dst = sqlite3.connect(tmp)
        try:
            try:
                # One step (pages=-1): a single read transaction, hence one consistent
                # snapshot, and writers committing meanwhile cannot restart the copy.
                src.backup(dst, pages=-1)
            except sqlite3.Error as exc:
                raise BackupError(f"cannot back up {location.describe()}: {exc}") from exc
            # A self-contained single file: rollback journal instead of WAL, so the
            # backup opens anywhere (even read-only media) without -wal/-shm files.
            # The runtime switches a restored database back to WAL when it opens it.
            dst.execute("PRAGMA journal_mode = DELETE")
            status = dst.execute("PRAGMA quick_check").fetchone()[0]
            if status != "ok":
                raise BackupError(f"the backup of {location.describe()} failed its integrity check: {status}")
        finally:
            dst.close()
    finally:
        src.close()


def _open_source(source: Path, location: DatabaseLocation) -> sqlite3.Connection:
    """A connection that only reads, opened read-write when the file allows it.

    ``mode=rw`` never creates a missing file, and only a writable connection
    can tidy up after itself: a read-only one that opens a WAL database the
    Cat has closed leaves fresh ``-wal``/``-shm`` files behind.  A database
    on read-only storage is still readable through ``mode=ro``.
    """
    last: sqlite3.Error | None = None
    for mode in ("rw", "ro"):
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(f"{source.as_uri()}?mode={mode}", uri=True, timeout=30.0)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.Error as exc:
            last = exc
            if conn is not None:
                conn.close()
    raise BackupError(f"cannot back up {location.describe()}: {last}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Make the rename durable; not every platform can open a folder, which is fine."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_with_sidecars(path: Path) -> None:
    for candidate in (path, *(path.with_name(path.name + s) for s in ("-journal", "-wal", "-shm"))):
        try:
            candidate.unlink()
        except FileNotFoundError:
            pass
