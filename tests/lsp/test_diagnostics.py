"""Diagnostics through a real LSP client: on open, after edits, on close, pushed and pulled."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_support import (
    PLUGIN,
    cli_findings,
    codes,
    diagnostics_where,
    open_doc,
    pull_capabilities,
    replace_all,
    start,
    wait_for,
)


async def test_open_reports_what_the_command_line_reports(client: LanguageClient, project: Path):
    plugin = project / "plugins" / "demo" / "plugin.py"
    await start(client, project)
    uri = open_doc(client, plugin)
    diagnostics = await diagnostics_where(client, uri, lambda d: len(d) > 0)

    expected = cli_findings(project, plugin)
    assert expected, "the fixture plugin must have findings"
    got = sorted(
        (str(d.code), d.message, d.range.start.line + 1, d.range.start.character + 1, d.range.end.line + 1, d.range.end.character + 1)
        for d in diagnostics
    )
    want = sorted(
        (f["code"], f["message"], f["location"]["row"], f["location"]["column"], f["end_location"]["row"], f["end_location"]["column"])
        for f in expected
    )
    assert got == want
    for d in diagnostics:
        assert d.source == "cat-lint"
        assert d.code_description is None  # no link until the project has a home (cat_lint.home)
    # The unknown key gets a "did you mean" fix carried on the diagnostic.
    cat006 = next(d for d in diagnostics if d.code == "CAT006" and "countr" in d.message)
    assert any(fix["edits"][0]["newText"] == "counter" for fix in cat006.data["fixes"])


async def test_edits_update_the_diagnostics_and_close_clears_them(client: LanguageClient, project: Path):
    plugin = project / "plugins" / "demo" / "plugin.py"
    await start(client, project)
    uri = open_doc(client, plugin)
    await diagnostics_where(client, uri, lambda d: "CAT006" in codes(d))

    fixed = PLUGIN.replace('"countr"', '"counter"').replace('user.load("prefs")', 'user.load("prefs", {})')
    fixed = fixed.replace("    return message", '    await user.save("prefs", {})\n    return message')
    replace_all(client, uri, fixed, 2)
    after = await diagnostics_where(client, uri, lambda d: "CAT006" not in codes(d))
    assert codes(after) == ["CAT003"]

    # Several quick edits: only the last one's result stays.
    replace_all(client, uri, fixed + "\n\nx = 1\n", 3)
    replace_all(client, uri, fixed.replace('"counter", (1, 2)', '"counter", [1, 2]'), 4)
    final = await diagnostics_where(client, uri, lambda d: d == [])
    assert final == []

    # Broken code is reported as CAT000 without stopping the server.
    replace_all(client, uri, "def f(:\n    store.load('\n", 5)
    broken = await diagnostics_where(client, uri, lambda d: codes(d) == ["CAT000"])
    assert broken[0].severity == types.DiagnosticSeverity.Error

    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await diagnostics_where(client, uri, lambda d: d == [])


async def test_a_key_written_in_another_file_is_known(client: LanguageClient, project: Path):
    """CAT006 uses the whole workspace: a key saved in another file, on disk or in an open buffer."""
    other = project / "plugins" / "demo" / "other.py"
    other.write_text('from cat import user\n\nasync def f():\n    await user.save("prefs", {})\n', encoding="utf-8")
    plugin = project / "plugins" / "demo" / "plugin.py"
    await start(client, project)
    uri = open_doc(client, plugin)
    first = await diagnostics_where(client, uri, lambda d: len(d) > 0)
    assert not any("prefs" in d.message for d in first)

    # The other file is opened and edited so it no longer saves the key: CAT006 appears in the plugin.
    other_uri = open_doc(client, other)
    replace_all(client, other_uri, "x = 1\n", 2)
    await diagnostics_where(client, uri, lambda d: any("prefs" in x.message for x in d))


async def test_pull_diagnostics(client: LanguageClient, project: Path):
    plugin = project / "plugins" / "demo" / "plugin.py"
    result = await start(client, project, caps=pull_capabilities())
    assert result.capabilities.diagnostic_provider is not None
    uri = open_doc(client, plugin)
    report = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
    assert "CAT006" in codes(list(report.items))
    assert report.result_id

    again = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=report.result_id)
    )
    assert isinstance(again, types.RelatedUnchangedDocumentDiagnosticReport)

    replace_all(client, uri, "from cat import store\n\nasync def f():\n    return await store.load('nope')\n", 2)
    changed = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=report.result_id)
    )
    assert isinstance(changed, types.RelatedFullDocumentDiagnosticReport)
    assert [d.range.start.line for d in changed.items] == [3]
    # Pull mode publishes nothing.
    assert uri not in client.diagnostics


async def test_utf16_columns(client: LanguageClient, project: Path):
    """A key after an emoji: the engine counts code points, the editor UTF-16 units."""
    text = 'from cat import store\n\nasync def f():\n    x = "😀😀"; return await store.load("nope")\n'
    path = project / "plugins" / "demo" / "emoji.py"
    path.write_text(text, encoding="utf-8")
    await start(client, project)
    uri = open_doc(client, path)
    diagnostics = await diagnostics_where(client, uri, lambda d: "CAT006" in codes(d))
    d = next(d for d in diagnostics if d.code == "CAT006")
    line = text.splitlines()[3]
    start_units = len(line[: line.index('"nope"')].encode("utf-16-le")) // 2
    assert (d.range.start.line, d.range.start.character) == (3, start_units)
    assert d.range.end.character == start_units + len('"nope"')


async def test_garbage_and_huge_documents_keep_the_server_alive(client: LanguageClient, project: Path):
    await start(client, project)
    garbage = project / "plugins" / "demo" / "garbage.py"
    garbage.write_text("x", encoding="utf-8")
    uri = open_doc(client, garbage, text="\x00\x01\xff\ufffd" * 1000 + "\n def (((\n")
    await diagnostics_where(client, uri, lambda d: codes(d) == ["CAT000"])
    huge = project / "plugins" / "demo" / "huge.py"
    huge.write_text("x", encoding="utf-8")
    huge_uri = open_doc(client, huge, text="x = 1\n" * 60_000 + "from cat import store\nasync def f():\n    await store.load('gone')\n")
    diagnostics = await diagnostics_where(client, huge_uri, lambda d: len(d) > 0, timeout=120)
    assert "CAT006" in codes(diagnostics) or "CAT000" in codes(diagnostics)
    # Still answering.
    plugin_uri = open_doc(client, project / "plugins" / "demo" / "plugin.py")
    await diagnostics_where(client, plugin_uri, lambda d: "CAT006" in codes(d))
    await wait_for(lambda: client.error is None, 1, "no client error")


async def test_utf8_positions_when_the_client_offers_them(client: LanguageClient, project: Path):
    from lsp_support import push_capabilities

    caps = push_capabilities()
    caps.general = types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf8])
    text = 'from cat import store\n\nasync def f():\n    x = "é😀"; return await store.load("nope")\n'
    path = project / "plugins" / "demo" / "utf8.py"
    path.write_text(text, encoding="utf-8")
    result = await start(client, project, caps=caps)
    assert result.capabilities.position_encoding == types.PositionEncodingKind.Utf8
    uri = open_doc(client, path)
    diagnostics = await diagnostics_where(client, uri, lambda d: "CAT006" in codes(d))
    d = next(d for d in diagnostics if d.code == "CAT006")
    line = text.splitlines()[3]
    assert d.range.start.character == len(line[: line.index('"nope"')].encode("utf-8"))


async def test_pull_clients_are_asked_to_refresh_when_another_file_changes_the_keys(client: LanguageClient, project: Path):
    other = project / "plugins" / "demo" / "other.py"
    other.write_text('from cat import user\n\nasync def f():\n    await user.save("prefs", {})\n', encoding="utf-8")
    await start(client, project, caps=pull_capabilities())
    uri = open_doc(client, project / "plugins" / "demo" / "plugin.py")
    params = types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
    first = await client.text_document_diagnostic_async(params)
    assert not any("prefs" in d.message for d in first.items)

    other_uri = open_doc(client, other)
    await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=other_uri)))
    before = client.diagnostic_refresh_count
    replace_all(client, other_uri, "x = 1\n", 2)
    await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=other_uri)))
    await wait_for(lambda: client.diagnostic_refresh_count > before, what="workspace/diagnostic/refresh")
    again = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=first.result_id)
    )
    assert isinstance(again, types.RelatedFullDocumentDiagnosticReport)
    assert any("prefs" in d.message for d in again.items)
