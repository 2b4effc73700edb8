"""The language server on a project whose ``config.py`` names a PostgreSQL database.

Completion, hover and ``cat/keys`` read the server's keys (in read-only
transactions), and a key the Cat writes after start-up shows up, as with
SQLite.  Each test has a database of its own, dropped afterwards.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_support import open_doc, plain, start, write_keys
from postgres_support import pg_database

pytest.importorskip("asyncpg", reason="asyncpg (the postgres extra) is not installed")

TYPING = 'from cat import store\n\nasync def f():\n    await store.load("'


@pytest.fixture
def pg_project(project: Path):
    with pg_database() as url:
        (project / "config.py").write_text(f"SQL = {url!r}\n", encoding="utf-8")
        yield project




def _labels(result) -> list[str]:
    items = result.items if isinstance(result, types.CompletionList) else result or []
    return [item.label for item in items]


async def test_completion_hover_and_keys_from_postgresql(client: LanguageClient, pg_project: Path):
    write_keys(pg_project, global_keys={"theme": {"color": "dark"}, "visits": 9.0}, user_keys={"alice": {"todos": ["milk"]}, "bob": {"todos": []}})
    await start(client, pg_project)
    uri = open_doc(client, pg_project / "plugins" / "demo" / "typing.py", TYPING)
    position = types.Position(line=3, character=len('    await store.load("'))

    async def complete() -> list[str]:
        return _labels(await client.text_document_completion_async(
            types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)
        ))

    labels = await complete()
    assert {"theme", "visits"} <= set(labels)
    keys = plain(await client.protocol.send_request_async("cat/keys", {}))
    assert keys["database"].startswith("postgresql://") and keys["database"].endswith("(from config.py)")
    found = {(k["scope"], k["key"]): k for k in keys["keys"]}
    assert found[("global", "visits")]["type"] == "number"
    assert found[("user", "todos")]["users"] == 2

    write_keys(pg_project, global_keys={"written_later": True})
    for _ in range(200):  # the server polls the database; completion answers from the last snapshot meanwhile
        if "written_later" in await complete():
            break
        await asyncio.sleep(0.05)
    assert "written_later" in await complete()
