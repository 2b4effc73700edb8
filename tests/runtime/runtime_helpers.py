"""Helpers for the runtime's tests: where the database is, reading it with plain sqlite3, child processes, loop turns."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def db_path(project: Path) -> Path:
    return project / "data" / "core" / "core.db"


def rows(project: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Read the database with plain sqlite3, the way another program would."""
    conn = sqlite3.connect(db_path(project))
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def subprocess_env(project: Path) -> dict[str, str]:
    """Environment for a child Python that uses the runtime on ``project``."""
    env = {k: v for k, v in os.environ.items() if k not in ("CAT_SQL",)}
    env["CAT_PROJECT_DIR"] = str(project)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "runtime"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


PYTHON = sys.executable


TIMES = 64


async def loop_turns(operation, times: int = TIMES) -> int:
    """How many turns the event loop got while ``operation()`` was awaited ``times`` times in a row.

    On the loop's own connection an operation completes without suspending
    (the loop gets a turn every few of them, see :mod:`cat.database.sqlite`);
    through a driver thread each one waits for the thread's answer, a turn at
    least.  Counted, not timed.
    """
    loop = asyncio.get_running_loop()
    turns = 0

    def tick() -> None:
        nonlocal turns
        turns += 1
        handle[0] = loop.call_soon(tick)

    handle = [loop.call_soon(tick)]
    try:
        for _ in range(times):
            await operation()
    finally:
        handle[0].cancel()
    return turns
