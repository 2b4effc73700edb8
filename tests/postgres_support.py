"""A PostgreSQL database of its own for each test that needs one, on the local server.

The server is ``CAT_TEST_POSTGRES`` (default: the machine's local one).  Where
no server answers, the test is skipped with that reason, which ``make test``
shows in its summary; with ``CAT_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) it
fails instead, so CI never passes without having run them.  Usable from sync and async tests
alike: the administrator's statements run in a thread of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
from typing import Iterator

import pytest

ADMIN_URL = os.environ.get("CAT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
BASE_URL = ADMIN_URL.rsplit("/", 1)[0]


def run_admin(sql: str, url: str = ADMIN_URL) -> None:
    """Run one administrator statement, from anywhere (an async test included)."""
    import asyncpg
    failure: list[BaseException] = []

    async def execute() -> None:
        conn = await asyncpg.connect(url, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def work() -> None:
        try:
            asyncio.run(execute())
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def new_database() -> str:
    """Create an empty database; its name.  Skips the test where no server answers."""
    import asyncpg

    name = f"cat_devtools_test_{secrets.token_hex(5)}"
    try:
        run_admin(f"CREATE DATABASE {name}")
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
        unreachable(exc)
    return name


def unreachable(exc: BaseException) -> None:
    """Skip, with the reason; or fail, where PostgreSQL is required (CI)."""
    reason = f"no PostgreSQL server at {ADMIN_URL} ({exc}); set CAT_TEST_POSTGRES to a server URL"
    if os.environ.get("CAT_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason} (CAT_REQUIRE_POSTGRES=1: the PostgreSQL tests must run here)")
    pytest.skip(reason)


def drop_database(name: str) -> None:
    run_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextlib.contextmanager
def pg_database() -> Iterator[str]:
    """The URL of a new, empty database, dropped afterwards."""
    name = new_database()
    try:
        yield f"{BASE_URL}/{name}"
    finally:
        drop_database(name)
