"""Helpers for the runtime's tests: where the database is, reading it with plain sqlite3, child processes."""

from __future__ import annotations

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
