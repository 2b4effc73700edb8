"""CAT009 and CAT010 in the editor: quick fixes, fix-all, hover; no server code of their own."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_support import apply_edits, codes, diagnostics_where, open_doc, replace_all, start

COUNTER = (
    "from cat import store\n\n\n"
    "async def count_visit():\n"
    "    count = await store.load('visits', 0)\n"
    "    await store.save('visits', count + 1)\n\n\n"
    "async def count_page(page):\n"
    "    hits = await store.load('hits', {})\n"
    "    hits[page] = hits.get(page, 0) + 1\n"
    "    await store.save('hits', hits)\n\n\n"
    "async def count_error():\n"
    "    errors = await store.load('errors', 0)\n"
    "    await store.save('errors', errors + 1)"  # the last line, with no line break after it
)


async def _actions(client: LanguageClient, uri: str, diagnostics: list[types.Diagnostic], only=None):
    rng = diagnostics[0].range if diagnostics else types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
    return await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=rng,
            context=types.CodeActionContext(diagnostics=diagnostics, only=only),
        )
    ) or []


async def test_lost_update_quick_fix_and_fix_all(client: LanguageClient, project: Path):
    await start(client, project)
    path = project / "plugins" / "demo" / "counter.py"
    path.write_text(COUNTER, encoding="utf-8")
    uri = open_doc(client, path, COUNTER)
    found = await diagnostics_where(client, uri, lambda d: codes(d).count("CAT009") == 3)
    lost = sorted((d for d in found if d.code == "CAT009"), key=lambda d: d.range.start.line)
    assert [d.range.start.line for d in lost] == [4, 9, 15]
    assert "no automatic fix" in lost[1].message

    # The first one's quick fix, as the editor offers it.
    fix = next(a for a in await _actions(client, uri, [lost[0]]) if a.title.startswith("Use `store.update`"))
    assert fix.is_preferred
    text2 = apply_edits(COUNTER, fix.edit.document_changes[0].edits)
    assert "    count = await store.update('visits', lambda count: count + 1, default=0)\n\n\nasync def count_page" in text2
    replace_all(client, uri, text2, 2)
    await diagnostics_where(client, uri, lambda d: codes(d).count("CAT009") == 2)

    # Fix-all applies the safe one left (at the end of the file) and leaves the one without a fix.
    fix_all = await _actions(client, uri, [], only=["source.fixAll"])
    assert [a.kind for a in fix_all] == ["source.fixAll.cat-lint"]
    text3 = apply_edits(text2, fix_all[0].edit.document_changes[0].edits)
    assert text3.endswith("    errors = await store.update('errors', lambda errors: errors + 1, default=0)\n")
    assert "await store.save('hits', hits)" in text3
    replace_all(client, uri, text3, 3)
    await diagnostics_where(client, uri, lambda d: codes(d) == ["CAT009"])
