"""A long editor session beside a Cat that keeps writing: the server's memory stays bounded.

2,000 edit-and-re-lint cycles and 200 database changes in one real server,
with the resident memory (VmRSS) of its whole process tree (the server, its
forkserver and its lint workers) measured after a warm-up and at the end.
The growth is printed; the bound is generous, since this is about a leak
(say, everything alive at a database re-read kept for good), not about a
few megabytes of allocator slack.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_support import (
    open_doc,
    process_tree,
    replace_all,
    resident_kib,
    server_pid,
    start,
    write_keys,
)

CYCLES = 2000
DATABASE_CHANGES = 200
WARM_UP = 100
#: Measured: the server process grows by about 4 MiB, its documents' lint
#: worker by about 25 MiB, which is the engine's memo of parsed chunks
#: filling up (``cat_lint.incremental.ChunkMemo``: bounded by 600,000
#: characters of source, each chunk here about 150, so about half full at
#: the end).  The limit leaves room for that memo to fill; a leak of every
#: lint's objects would exceed it within these cycles.
GROWTH_LIMIT_KIB = 64 * 1024

TEXT = '''\
from cat import store


async def step():
    await store.save("counter", {version})
    latest = await store.load("db_{change}")
    missing = await store.load("edit_{version}")
    return latest, missing
'''


def _change_database(db: Path, change: int) -> None:
    """What a running Cat does: commit one more key (sqlite3, outside the server)."""
    with sqlite3.connect(db) as connection:
        connection.execute("INSERT INTO key_value_db (key, value) VALUES (?, ?)", (f"db_{change}", str(change)))
    connection.close()


async def test_memory_stays_bounded_over_a_long_session(client: LanguageClient, project: Path):
    write_keys(project, global_keys={"db_0": 0})  # the runtime creates the database and its tables
    db = project / "data" / "core" / "core.db"
    await start(client, project, debounce=0, databasePollInterval=0.05)
    plugin = project / "plugins" / "demo" / "step.py"
    plugin.write_text(TEXT.format(version=0, change=0), encoding="utf-8")
    uri = open_doc(client, plugin)

    change = 0
    every = CYCLES // DATABASE_CHANGES

    async def cycle(version: int) -> None:
        nonlocal change
        if version % every == 0:
            change += 1
            _change_database(db, change)
        replace_all(client, uri, TEXT.format(version=version, change=change), version)

        def settled(diagnostics) -> bool:
            messages = [d.message for d in diagnostics if d.code == "CAT006"]
            # This version was linted, and with a database that has the newest key.
            return any(f'"edit_{version}"' in m for m in messages) and not any(f'"db_{change}"' in m for m in messages)

        # Woken by each publication rather than by polling: 2,000 cycles in seconds.
        while not settled(client.diagnostics.get(uri, [])):
            await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 30)

    for version in range(1, WARM_UP + 1):
        await cycle(version)
    pid = server_pid()
    before, server_before = resident_kib(process_tree(pid)), resident_kib([pid])  # now with its lint workers
    changes_before = change
    middle = WARM_UP + CYCLES // 2
    for version in range(WARM_UP + 1, WARM_UP + CYCLES + 1):
        await cycle(version)
        if version == middle:
            halfway = resident_kib(process_tree(pid))
    tree = process_tree(pid)
    after, server_after = resident_kib(tree), resident_kib([pid])
    growth = after - before
    print(f"\nresident memory of the server's process tree ({len(tree)} processes): "
          f"{before / 1024:.1f} MiB after {WARM_UP} cycles, {halfway / 1024:.1f} MiB after {CYCLES // 2} more, "
          f"{after / 1024:.1f} MiB after {CYCLES} more and {change - changes_before} database changes: "
          f"growth {growth / 1024:+.1f} MiB (server process {(server_after - server_before) / 1024:+.1f} MiB, "
          f"the others {(growth - server_after + server_before) / 1024:+.1f} MiB)")
    assert change - changes_before >= DATABASE_CHANGES
    assert growth < GROWTH_LIMIT_KIB, f"the server grew by {growth / 1024:.1f} MiB"
