"""The language server under faults, through a real client: it stays up, says so once, recovers.

Each test breaks something while the server runs (the database file, a
document's size, the documents a client asks about, the workspace folder),
then checks three things: a later request is still answered, the client's
log (``window/logMessage`` and ``window/showMessage``) names what happened
exactly once however many polls and requests saw it, and once the cause is
gone the features reflect the repaired state.

Robustness cases that do not need the "once" and "recovers" checks (a
database corrupt from the start, a locked one, a Cat writing meanwhile) are
in ``test_database_robustness.py``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_support import PLUGIN, codes, diagnostics_where, open_doc, plain, start, wait_for, write_keys

pytestmark = pytest.mark.slow

TYPING = 'from cat import store\nstore.load("'
AT_KEY = types.Position(line=1, character=len('store.load("'))


@pytest.fixture(autouse=True)
def no_traceback(capfd: pytest.CaptureFixture[str]):
    """Whatever the fault, nothing in the server raised unhandled (its stderr reaches ours)."""
    yield
    err = capfd.readouterr().err
    assert "Traceback" not in err, err[-3000:]


def log_lines(client: LanguageClient, *needles: str) -> list[str]:
    """What the client was told (log and popups) that contains every one of ``needles``."""
    said = [m.message for m in client.log_messages] + [m.message for m in client.messages]
    return [line for line in said if all(needle in line for needle in needles)]


async def offered(client: LanguageClient, uri: str) -> list[str]:
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=AT_KEY))
    return [item.label for item in result.items] if result is not None else []


async def offered_until(client: LanguageClient, uri: str, wanted: set[str], what: str) -> list[str]:
    """Ask for completion until it offers exactly ``wanted`` (besides "counter", which the plugin saves)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:
        seen = await offered(client, uri)
        if set(seen) - {"counter"} == wanted:
            return seen
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}: completion offers {seen}")
        await asyncio.sleep(0.05)


def count_database_changes(client: LanguageClient) -> list[object]:
    """The ``cat/databaseChanged`` notifications the client receives from now on."""
    received: list[object] = []
    client.feature("cat/databaseChanged")(lambda params: received.append(params))
    return received


async def a_few_polls(client: LanguageClient) -> None:
    """Let the database poll (every 0.2 s in these tests) run several times, requests in between."""
    for _ in range(8):
        await client.protocol.send_request_async("cat/keys", {})
        await asyncio.sleep(0.15)


def database(project: Path) -> Path:
    return project / "data" / "core" / "core.db"


def remove_database(project: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(database(project)) + suffix).unlink(missing_ok=True)


def another_database(tmp_path: Path, keys: dict) -> Path:
    """A valid database written by the runtime in another project (to move into place)."""
    other = tmp_path / "other"
    other.mkdir(parents=True, exist_ok=True)
    (other / "config.py").write_text('SQL = "sqlite:///data/core/core.db"\n', encoding="utf-8")
    write_keys(other, global_keys=keys)
    return database(other)


async def open_both(client: LanguageClient, project: Path) -> tuple[str, str]:
    """The plugin (CAT006 on "countr" unless the database holds it) and a buffer to complete in."""
    plugin = open_doc(client, project / "plugins" / "demo" / "plugin.py")
    typing = open_doc(client, project / "plugins" / "demo" / "typing.py", TYPING)
    return plugin, typing


def unknown_countr(diagnostics: list[types.Diagnostic]) -> bool:
    return any('"countr"' in d.message for d in diagnostics if d.code == "CAT006")


async def test_database_deleted_then_written_again(client: LanguageClient, project: Path):
    write_keys(project, global_keys={"alpha": 1, "countr": 0})
    await start(client, project)
    plugin, typing = await open_both(client, project)
    await offered_until(client, typing, {"alpha", "countr"}, "the database's keys")
    await diagnostics_where(client, plugin, lambda d: d and not unknown_countr(d))

    remove_database(project)
    await offered_until(client, typing, set(), "the deleted database's keys to go")
    await diagnostics_where(client, plugin, unknown_countr)
    await a_few_polls(client)
    gone = log_lines(client, str(database(project)), "no database")
    assert len(gone) == 1, gone

    write_keys(project, global_keys={"beta": 2, "countr": 0})
    await offered_until(client, typing, {"beta", "countr"}, "the new database's keys")
    await diagnostics_where(client, plugin, lambda d: d and not unknown_countr(d))
    await a_few_polls(client)
    assert len(log_lines(client, str(database(project)), "no database")) == 1
    back = log_lines(client, str(database(project)), "readable again")
    assert len(back) == 1, back


async def test_database_replaced_by_another(client: LanguageClient, project: Path, tmp_path: Path):
    write_keys(project, global_keys={"alpha": 1})
    await start(client, project)
    plugin, typing = await open_both(client, project)
    await offered_until(client, typing, {"alpha"}, "the first database's keys")
    await diagnostics_where(client, plugin, unknown_countr)

    # A new database moved over the old one (a restore from backup, a copy from another machine).
    os.replace(another_database(tmp_path, {"gamma": 3, "countr": 0}), database(project))
    await offered_until(client, typing, {"gamma", "countr"}, "the replacing database's keys")
    await diagnostics_where(client, plugin, lambda d: d and not unknown_countr(d))
    listing = plain(await client.protocol.send_request_async("cat/keys", {}))
    assert {k["key"] for k in listing["keys"] if k["scope"] == "global"} >= {"gamma", "countr"}
    assert "alpha" not in {k["key"] for k in listing["keys"]}

    # And replaced again, by copying over it in place (same file, new content).
    shutil.copyfile(another_database(tmp_path / "third", {"delta": 4}), database(project))
    await offered_until(client, typing, {"delta"}, "the third database's keys")
    await diagnostics_where(client, plugin, unknown_countr)
    await a_few_polls(client)
    # Nothing was wrong at any point: nothing to say.
    assert not log_lines(client, str(database(project)), "no database")
    assert not log_lines(client, str(database(project)), "cannot read")


@pytest.mark.parametrize("kept, garbage, cause", [
    (0, b"this is not a database" * 100, "not a database"),
    (0, b"", "empty file (0 bytes)"),
    (4096, b"", "malformed"),  # cut short after its first page: the schema without the tables' pages
], ids=["garbage", "zero-length", "cut-short"])
async def test_database_truncated_in_place(client: LanguageClient, project: Path, tmp_path: Path,
                                           kept: int, garbage: bytes, cause: str):
    write_keys(project, global_keys={"alpha": 1, "countr": 0})
    changes = count_database_changes(client)
    await start(client, project)
    plugin, typing = await open_both(client, project)
    await offered_until(client, typing, {"alpha", "countr"}, "the database's keys")
    await diagnostics_where(client, plugin, lambda d: d and not unknown_countr(d))

    # The same file rewritten: a disk that filled up, a bad copy, `: > core.db`.
    with open(database(project), "r+b") as file:
        file.seek(kept)
        file.write(garbage)
        file.truncate(kept + len(garbage))
    await offered_until(client, typing, set(), "the broken database's keys to go")
    await diagnostics_where(client, plugin, unknown_countr)
    await a_few_polls(client)
    # Broken and staying so: tried again at each poll, but nothing new to tell the editor.
    before = len(changes)
    await a_few_polls(client)
    assert len(changes) == before
    said = log_lines(client, str(database(project)), cause)
    assert len(said) == 1, [m.message for m in client.log_messages]
    listing = plain(await client.protocol.send_request_async("cat/keys", {}))
    assert listing["reason"] and cause in listing["reason"]

    remove_database(project)
    os.replace(another_database(tmp_path, {"beta": 2, "countr": 0}), database(project))
    await offered_until(client, typing, {"beta", "countr"}, "the repaired database's keys")
    await diagnostics_where(client, plugin, lambda d: d and not unknown_countr(d))
    await a_few_polls(client)
    assert len(log_lines(client, str(database(project)), cause)) == 1
    assert len(log_lines(client, str(database(project)), "readable again")) == 1


def huge_module(megabytes: int) -> str:
    """Valid Python of about ``megabytes`` MB (a generated table, as a plugin might vendor)."""
    line = 'ENTRY_{:07d} = {{"name": "entry", "weight": {:d}, "tags": ["a", "b", "c"]}}\n'
    sample = len(line.format(0, 0))
    return "".join(line.format(i, i % 97) for i in range(megabytes * 1024 * 1024 // sample))


async def test_a_50_mb_document(client: LanguageClient, project: Path):
    await start(client, project)
    big_path = project / "plugins" / "demo" / "vendored_table.py"
    big_text = huge_module(50)
    assert len(big_text) > 50_000_000
    big = open_doc(client, big_path, big_text)
    small = open_doc(client, project / "plugins" / "demo" / "plugin.py")

    # The other document is checked as usual, while or after the big one is looked at.
    await diagnostics_where(client, small, unknown_countr, timeout=120)
    # The big one: one CAT000 at its first line saying it was not checked (what cat-lint says of it).
    found = await diagnostics_where(client, big, lambda d: len(d) > 0, timeout=120)
    assert codes(found) == ["CAT000"]
    assert found[0].range.start.line == 0 and "too large" in found[0].message
    # Requests on it are answered.
    assert await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=big), position=types.Position(line=3, character=2))) is None

    # An edit (appending a line) is not checked either, and not announced again.
    end = big_text.count("\n")
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=big, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=end, character=0), end=types.Position(line=end, character=0)),
            text="LAST = 1\n")]))
    longer = f"{len(big_text) + len('LAST = 1') + 1:,} characters"
    await diagnostics_where(client, big, lambda d: any(longer in x.message for x in d), timeout=120)
    await a_few_polls(client)
    said = log_lines(client, str(big_path), "too large")
    assert len(said) == 1, said

    # Still up: the small document's next version is checked.
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=small, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=PLUGIN.replace('"countr"', '"after_big"'))]))
    await diagnostics_where(client, small, lambda d: any('"after_big"' in x.message for x in d), timeout=60)

    # Cut down to a normal size, it is checked again.
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=big, version=3),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=PLUGIN.replace('"countr"', '"small_now"'))]))
    await diagnostics_where(client, big, lambda d: any('"small_now"' in x.message for x in d), timeout=60)
    # And grown past the limit again, it is said again (a second time, not at every edit).
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=big, version=4),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=big_text)]))
    await diagnostics_where(client, big, lambda d: codes(d) == ["CAT000"], timeout=120)
    assert len(log_lines(client, str(big_path), "too large")) == 2


NEVER_OPENED = [
    "{plugin}",  # a file on disk the client never opened
    "{project}/plugins/demo/missing.py",  # neither open nor on disk
    "untitled:Untitled-1",
    "vscode-notebook-cell:/notebooks/demo.ipynb#W0sZmlsZQ%3D%3D",
]


async def test_requests_for_documents_never_opened(client: LanguageClient, project: Path):
    write_keys(project, global_keys={"alpha": 1})
    await start(client, project)
    plugin_path = project / "plugins" / "demo" / "plugin.py"
    typing = open_doc(client, project / "plugins" / "demo" / "typing.py", TYPING)
    await offered_until(client, typing, {"alpha"}, "the database's keys")
    at = types.Position(line=6, character=len('    total = await store.load("co'))
    uris = [template.format(plugin=plugin_path.as_uri(), project=project.as_uri()) for template in NEVER_OPENED]
    for uri in uris:
        doc = types.TextDocumentIdentifier(uri=uri)
        assert await client.text_document_hover_async(types.HoverParams(text_document=doc, position=at)) is None
        assert await client.text_document_completion_async(types.CompletionParams(text_document=doc, position=at)) is None
        assert not await client.text_document_definition_async(types.DefinitionParams(text_document=doc, position=at))
        assert not await client.text_document_references_async(types.ReferenceParams(
            text_document=doc, position=at, context=types.ReferenceContext(include_declaration=True)))
        assert not await client.text_document_code_action_async(types.CodeActionParams(
            text_document=doc, range=types.Range(start=at, end=at), context=types.CodeActionContext(diagnostics=[])))
        assert not await client.text_document_code_action_async(types.CodeActionParams(
            text_document=doc, range=types.Range(start=at, end=at),
            context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.SourceFixAll])))
        report = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(text_document=doc))
        assert list(report.items) == []
        # Notifications about it are ignored too: a change, a save, a close of what was never opened.
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="x = 1\n")]))
        client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=doc))
        client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=doc))
        # And the server keeps working: the open document still completes.
        assert set(await offered(client, typing)) - {"counter"} == {"alpha"}, uri
    await a_few_polls(client)
    assert all(not client.diagnostics.get(uri) for uri in uris)  # nothing published for them (or only "none")


def saver(key: str) -> str:
    return f'from cat import store\n\n\nasync def keep(value):\n    await store.save("{key}", value)\n'


async def test_workspace_folder_deleted_then_recreated(client: LanguageClient, project: Path):
    (project / "plugins" / "demo" / "saver.py").write_text(saver("from_disk"), encoding="utf-8")
    write_keys(project, global_keys={"alpha": 1})
    await start(client, project)
    plugin, typing = await open_both(client, project)
    await offered_until(client, typing, {"alpha", "from_disk"}, "the keys of the database and the code")
    await diagnostics_where(client, plugin, unknown_countr)

    # The folder goes, with no word from the client (a `git worktree remove`, an unmounted disk).
    shutil.rmtree(project)
    await wait_for(lambda: bool(log_lines(client, str(project), "is gone")), what="a word about the folder")
    await a_few_polls(client)
    assert len(log_lines(client, str(project), "is gone")) == 1, [m.message for m in client.log_messages]
    # Still up: the open buffers are still the editor's, and are still answered.
    listing = plain(await client.protocol.send_request_async("cat/keys", {}))
    assert listing["reason"]
    assert "alpha" not in await offered(client, typing)

    # The folder comes back, with other code and another database.
    (project / "plugins" / "demo").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "demo"\n\n[tool.cat-lint]\n', encoding="utf-8")
    (project / "config.py").write_text('SQL = "sqlite:///data/core/core.db"\n', encoding="utf-8")
    (project / "plugins" / "demo" / "plugin.py").write_text(PLUGIN, encoding="utf-8")
    (project / "plugins" / "demo" / "other.py").write_text(saver("recreated"), encoding="utf-8")
    write_keys(project, global_keys={"beta": 2, "countr": 0})
    await offered_until(client, typing, {"beta", "countr", "recreated"}, "the recreated folder's keys")
    await diagnostics_where(client, plugin, lambda d: d and not unknown_countr(d))
    await a_few_polls(client)
    assert len(log_lines(client, str(project), "is gone")) == 1
    back = log_lines(client, str(project), "is back:")
    assert len(back) == 1, [m.message for m in client.log_messages]


async def test_postgresql_database_dropped_then_created_again(client: LanguageClient, project: Path):
    from postgres_support import BASE_URL, drop_database, new_database, run_admin

    name = new_database()
    try:
        (project / "config.py").write_text(f"SQL = {BASE_URL + '/' + name!r}\n", encoding="utf-8")
        write_keys(project, global_keys={"alpha": 1})
        changes = count_database_changes(client)
        await start(client, project)
        typing = open_doc(client, project / "plugins" / "demo" / "typing.py", TYPING)
        await offered_until(client, typing, {"alpha"}, "the database's keys")

        drop_database(name)  # WITH (FORCE): the server's connection is cut
        await offered_until(client, typing, set(), "the dropped database's keys to go")
        await a_few_polls(client)
        before = len(changes)
        await a_few_polls(client)
        assert len(changes) == before  # tried again at each poll, failing the same way: nothing new
        assert len(log_lines(client, name, "no keys from the database")) == 1, [m.message for m in client.log_messages]

        run_admin(f"CREATE DATABASE {name}")
        write_keys(project, global_keys={"beta": 2})
        await offered_until(client, typing, {"beta"}, "the recreated database's keys")
        await a_few_polls(client)
        assert len(log_lines(client, name, "readable again")) == 1
    finally:
        drop_database(name)
