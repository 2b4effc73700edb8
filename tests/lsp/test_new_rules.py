"""CAT009 and CAT010 in the editor: quick fixes, fix-all, hover; no server code of their own."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_support import apply_edits, codes, diagnostics_where, open_doc, position_of, replace_all, start, write_keys

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


SAVES = "from cat import user\n\n\nasync def add(text):\n    await user.save('todos', [text])\n"
LOADS = "from cat import user\n\n\nasync def show():\n    todos = await user.load('todos', {})\n    return todos\n"


async def test_key_type_drift_related_places_hover_and_fix(client: LanguageClient, project: Path):
    write_keys(project, user_keys={f"user-{i}": {"todos": [] if i < 3 else {"old": 1}} for i in range(4)})
    (project / "plugins" / "demo" / "saves.py").write_text(SAVES, encoding="utf-8")
    loads = project / "plugins" / "demo" / "loads.py"
    loads.write_text(LOADS, encoding="utf-8")
    await start(client, project)
    uri = open_doc(client, loads)
    found = await diagnostics_where(client, uri, lambda d: "CAT010" in codes(d))
    drift = next(d for d in found if d.code == "CAT010")
    assert drift.message == (
        'the key "todos" is loaded with a dict default here, but saved as a list in plugins/demo/saves.py:5, '
        "and the database holds a list in 3 of 4 users: code written for one type fails on the other"
    )
    (related,) = drift.related_information
    assert related.location.uri == (project / "plugins" / "demo" / "saves.py").as_uri()
    assert (related.location.range.start.line, related.location.range.start.character) == (4, 20)
    assert related.message == "saved as a list here"

    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position_of(LOADS, "'todos'", 2))
    )
    value = hover.contents.value
    assert "`array` (3 users)" in value and "`object` (1 user)" in value
    assert "Types in code: `object` (load default: plugins/demo/loads.py:5), `array` (saved: plugins/demo/saves.py:5)" in value

    fix = next(a for a in await _actions(client, uri, [drift]) if a.title == "Use [] as the default")
    assert not fix.is_preferred  # offered, not applied by fix-all
    assert await _actions(client, uri, [], only=["source.fixAll"]) == []
    fixed = apply_edits(LOADS, fix.edit.document_changes[0].edits)
    assert "await user.load('todos', [])" in fixed
    replace_all(client, uri, fixed, 2)
    after = await diagnostics_where(client, uri, lambda d: "CAT010" in codes(d) and "dict default" not in str(d))
    # The list default agrees with the code; the users holding a dict remain.
    assert [d.message for d in after if d.code == "CAT010"] == [
        'the key "todos" is loaded with a list default here, but the database holds a dict in 1 of 4 users: '
        "code written for one type fails on the other"
    ]


async def test_a_save_changing_type_rechecks_the_other_open_documents(client: LanguageClient, project: Path):
    saves = project / "plugins" / "demo" / "saves.py"
    saves.write_text(SAVES, encoding="utf-8")
    loads = project / "plugins" / "demo" / "loads.py"
    agreeing = LOADS.replace("{}", "[]")
    loads.write_text(agreeing, encoding="utf-8")
    await start(client, project)
    saves_uri, loads_uri = open_doc(client, saves), open_doc(client, loads)
    await diagnostics_where(client, loads_uri, lambda d: "CAT010" not in codes(d))
    await diagnostics_where(client, saves_uri, lambda d: "CAT010" not in codes(d))
    replace_all(client, saves_uri, SAVES.replace("[text]", "{'text': text}"), 2)
    found = await diagnostics_where(client, loads_uri, lambda d: "CAT010" in codes(d))
    assert "saved as a dict in plugins/demo/saves.py:5" in next(d.message for d in found if d.code == "CAT010")
