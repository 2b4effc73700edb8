"""Locations the server sends for a file the editor has open use the editor's own URI for it.

Clients spell one file's URI differently: VS Code writes ``file:///c%3A/...``
on Windows, Neovim leaves ``+``, ``@`` or ``,`` unescaped where Python's
``as_uri`` escapes them.  For an open file the server must answer with the
URI the client opened (the client matches locations to its buffers by it)
and take columns from that buffer, not from the file on disk.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_support import diagnostics_where, open_doc, position_of, start

ON_DISK = 'from cat import store\n\nasync def g():\n    await store.save("counter", 1)\n'
# The unsaved buffer: the save moved down two lines and right past an emoji (2 UTF-16 units).
IN_BUFFER = 'from cat import store\n\n# 😀\nasync def g():\n    x = "😀"; await store.save("counter", 1)\n'


async def test_references_into_an_open_file_use_its_uri_and_its_buffer(client: LanguageClient, project: Path):
    other = project / "plugins" / "demo" / "a+b@c.py"
    other.write_text(ON_DISK, encoding="utf-8")
    await start(client, project)
    spelled = project.as_uri() + "/plugins/demo/a+b@c.py"  # as Neovim spells it
    assert spelled != other.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=spelled, language_id="python", version=1, text=IN_BUFFER)))
    await diagnostics_where(client, spelled, lambda d: True)

    plugin = project / "plugins" / "demo" / "plugin.py"
    text = plugin.read_text(encoding="utf-8")
    uri = open_doc(client, plugin)
    await diagnostics_where(client, uri, lambda d: len(d) > 0)
    refs = await client.text_document_references_async(types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position_of(text, '"counter"', 1),
        context=types.ReferenceContext(include_declaration=True)))
    into_other = [r for r in refs or [] if "a+b" in r.uri or "a%2Bb" in r.uri]
    assert [r.uri for r in into_other] == [spelled]
    line = IN_BUFFER.splitlines()[4]
    start_units = len(line[: line.index('"counter"')].encode("utf-16-le")) // 2
    assert into_other[0].range == types.Range(
        start=types.Position(line=4, character=start_units),
        end=types.Position(line=4, character=start_units + len('"counter"')))
