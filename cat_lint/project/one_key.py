"""One key deleted straight in the database, for ``cat-store delete``.

(Reading goes through the read-only reader of either backend,
:func:`~cat_lint.project.reader.open_reader`.)

The tools install beside the real Cat, so they never import a package named
``cat`` (the Cat's, or the cat-devtools runtime's): the few writes
``cat-store`` makes are done here, with the same statements and locks as the
runtime's backends.

* **SQLite**: one ``BEGIN IMMEDIATE`` transaction with a busy timeout, so a
  delete waits for a running Cat's write instead of failing, and never
  creates a database that is not there (``mode=rw``).
* **PostgreSQL** (needs ``asyncpg``, the ``postgres`` extra): one connection,
  one transaction that first takes :func:`~cat_lint.project.schema.pg_key_lock`,
  the advisory lock every runtime writer of that key takes, so a delete never
  interleaves with an ``update``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from cat_lint.project.location import DatabaseLocation, asyncpg_dsn
from cat_lint.project.reader import DatabaseUnavailable
from cat_lint.project.schema import GLOBAL_TABLE, USER_TABLE, encode_user_id, pg_key_lock, pg_user_id

__all__ = ["delete_key"]

BUSY_TIMEOUT = 30.0  # seconds a delete waits for another writer (a running Cat) before giving up


def delete_key(location: DatabaseLocation, key: str, user_id: str | None = None) -> bool:
    """Delete the key (every duplicate row of a per-user key); whether anything was there."""
    if location.is_sqlite:
        return _sqlite_delete(location, key, user_id)
    return _postgres(location, _pg_delete, key, user_id)


# -- SQLite ---------------------------------------------------------------------


def _sqlite_delete(location: DatabaseLocation, key: str, user_id: str | None) -> bool:
    if location.path is None:
        raise DatabaseUnavailable("an in-memory database has no keys to delete")
    path = Path(location.path)
    if not path.is_file():
        raise DatabaseUnavailable(f"no database at {location.describe()}")
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT, isolation_level=None)
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(f"cannot open {location.describe()} for writing: {exc}") from exc
    try:
        conn.execute("BEGIN IMMEDIATE")
        if user_id is None:
            cursor = conn.execute(f"DELETE FROM {GLOBAL_TABLE} WHERE key = ?", (key,))
        else:
            cursor = conn.execute(f"DELETE FROM {USER_TABLE} WHERE user_id = ? AND key = ?", (encode_user_id(user_id), key))
        conn.execute("COMMIT")
        return cursor.rowcount > 0
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise DatabaseUnavailable(f"cannot delete from {location.describe()}: {exc}") from exc
    finally:
        conn.close()


# -- PostgreSQL -----------------------------------------------------------------


def _postgres(location: DatabaseLocation, operation: Any, key: str, user_id: str | None) -> bool:
    try:
        import asyncpg
    except ImportError:
        raise DatabaseUnavailable(
            f"{location.describe()} is a PostgreSQL database, which needs asyncpg: "
            "pip install 'cat-devtools[postgres]'"
        ) from None

    async def run() -> Any:
        conn = await asyncpg.connect(asyncpg_dsn(location.url), timeout=10)
        try:
            return await operation(conn, key, None if user_id is None else pg_user_id(user_id))
        finally:
            await conn.close()

    try:
        return asyncio.run(run())
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DatabaseUnavailable(f"cannot use {location.describe()}: {exc}") from None


async def _pg_delete(conn: Any, key: str, uid: Any) -> bool:
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", pg_key_lock(uid, key))
            if uid is None:
                status = await conn.execute(f"DELETE FROM {GLOBAL_TABLE} WHERE key = $1", key)
            else:
                status = await conn.execute(f"DELETE FROM {USER_TABLE} WHERE user_id = $1 AND key = $2", uid, key)
    except _undefined_table():
        return False
    return int(status.rsplit(" ", 1)[-1]) > 0


def _undefined_table() -> type[Exception]:
    """A database the Cat never wrote to has no tables yet: every key is simply absent."""
    import asyncpg

    return asyncpg.UndefinedTableError
