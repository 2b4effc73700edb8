"""The server reads the database while a Cat writes it; broken databases and folders do not stop it."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import textwrap
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_support import codes, diagnostics_where, open_doc, plain, start, write_keys

pytestmark = pytest.mark.slow

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    import cat

    async def main(project, rounds):
        cat.configure(project=project)
        for i in range(rounds):
            await cat.store.save(f"key_{i:04d}", {"i": i, "pad": "x" * 200})
            async with cat.request_context(f"user-{i % 7}"):
                await cat.user.save(f"ukey_{i % 50}", [i])
                await cat.user.update("hits", lambda old: (old or 0) + 1)
            await asyncio.sleep(0.003)  # a Cat serving requests, not a bulk load
        await cat.store.save("writer_done", True)
        await cat.close()
        print("wrote", rounds)

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    """
)




async def test_a_running_cat_writes_while_the_server_reads(client: LanguageClient, project: Path):
    write_keys(project, global_keys={"seed": 1})  # the database exists before the server starts
    await start(client, project, databasePollInterval=0.05)
    uri = open_doc(client, project / "plugins" / "demo" / "typing.py", 'from cat import store\nstore.load("key_')
    position = types.Position(line=1, character=len('store.load("key_'))
    warm = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)
    )
    assert [i.label for i in warm.items] == ["counter", "seed"]  # few keys: all of them

    writer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(project), "600",
        cwd=str(project), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    seen: list[int] = []
    reasons: list[str | None] = []
    while writer.returncode is None:
        result = await client.text_document_completion_async(
            types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)
        )
        seen.append(sum(1 for item in result.items if item.label.startswith("key_")) if result is not None else 0)
        listing = plain(await client.protocol.send_request_async("cat/keys", {}))
        reasons.append(listing["reason"])
        try:
            await asyncio.wait_for(writer.wait(), 0.01)
        except asyncio.TimeoutError:
            pass
    out, err = await writer.communicate()
    assert writer.returncode == 0, err.decode()
    assert b"wrote 600" in out
    assert b"locked" not in err.lower() and b"busy" not in err.lower()
    assert len(seen) > 3, "the server must have been asked while the Cat wrote"
    assert all(reason is None for reason in reasons), reasons
    assert seen == sorted(seen), "keys only ever appear"

    final = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)
    )
    assert len(final.items) == 50 and final.is_incomplete  # 600 keys, capped
    listing = plain(await client.protocol.send_request_async("cat/keys", {}))
    keys = {(k["scope"], k["key"]): k for k in listing["keys"]}
    assert ("global", "writer_done") in keys
    assert keys[("user", "hits")]["users"] == 7


async def test_corrupt_then_repaired_database(client: LanguageClient, project: Path):
    data = project / "data" / "core"
    data.mkdir(parents=True)
    (data / "core.db").write_bytes(b"this is not a database" * 100)
    await start(client, project)
    uri = open_doc(client, project / "plugins" / "demo" / "plugin.py")
    diagnostics = await diagnostics_where(client, uri, lambda d: "CAT006" in codes(d))
    assert diagnostics
    listing = plain(await client.protocol.send_request_async("cat/keys", {}))
    assert listing["reason"] and "core.db" in listing["reason"]

    (data / "core.db").unlink()
    write_keys(project, global_keys={"countr": 1})
    # The poll notices the new database; CAT006 for "countr" goes away.
    await diagnostics_where(client, uri, lambda d: not any('"countr"' in x.message for x in d))


async def test_locked_database_does_not_block(client: LanguageClient, project: Path):
    write_keys(project, global_keys={"theme": "dark"})
    db = project / "data" / "core" / "core.db"
    locker = sqlite3.connect(db, timeout=0)
    locker.execute("PRAGMA journal_mode")  # whatever the runtime chose
    locker.execute("BEGIN EXCLUSIVE")
    try:
        await start(client, project)
        uri = open_doc(client, project / "plugins" / "demo" / "typing.py", 'from cat import store\nstore.load("')
        result = await asyncio.wait_for(
            client.text_document_completion_async(
                types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=1, character=12))
            ),
            30,
        )
        assert result is not None  # answered (from the code's keys) instead of hanging
    finally:
        locker.rollback()
        locker.close()
    listing = plain(await client.protocol.send_request_async("cat/keys", {}))
    assert any(k["key"] == "theme" for k in listing["keys"])


async def test_deleted_workspace_folder(client: LanguageClient, project: Path, tmp_path: Path):
    import shutil

    await start(client, project)
    plugin = project / "plugins" / "demo" / "plugin.py"
    text = plugin.read_text(encoding="utf-8")
    uri = open_doc(client, plugin, text)
    await diagnostics_where(client, uri, lambda d: len(d) > 0)
    shutil.rmtree(project)
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=(project / "pyproject.toml").as_uri(), type=types.FileChangeType.Deleted),
                types.FileEvent(uri=(project / "plugins" / "demo" / "plugin.py").as_uri(), type=types.FileChangeType.Deleted),
            ]
        )
    )
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text + "\nasync def g():\n    await store.load('gone')\n")],
        )
    )
    await diagnostics_where(client, uri, lambda d: any("gone" in x.message for x in d))
    listing = plain(await client.protocol.send_request_async("cat/keys", {}))
    assert listing["reason"]
