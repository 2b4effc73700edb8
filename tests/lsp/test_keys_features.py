"""Completion, hover, definition, references and ``cat/keys`` with keys the runtime wrote."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

import asyncio

from lsp_support import apply_edits, codes, diagnostics_where, open_doc, plain, position_of, replace_all, start, write_keys

TYPING = 'from cat import store as s, user\n\nasync def f():\n    await s.load("th'
TYPING_USER = "from cat import store, user as u\n\nasync def f():\n    await u.exists('"


def _labels(result) -> list[str]:
    items = result.items if isinstance(result, types.CompletionList) else result or []
    return [item.label for item in items]


async def _complete(client: LanguageClient, uri: str, position: types.Position):
    return await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)
    )


async def test_completion_offers_database_and_code_keys(client: LanguageClient, project: Path):
    write_keys(
        project,
        global_keys={"theme": "dark", "thresholds": {"low": 1, "high": [1, 2, 3]}, "other": 1},
        user_keys={"u1": {"todos": ["a"], "theme": 1}, "2": {"todos": []}},
    )
    await start(client, project)
    path = project / "plugins" / "demo" / "typing.py"
    path.write_text("", encoding="utf-8")
    uri = open_doc(client, path, TYPING)
    end = types.Position(line=3, character=len('    await s.load("th'))
    result = await _complete(client, uri, end)
    # Few keys: all of them, the editor filters; the code's "counter" is there too.
    assert _labels(result) == ["counter", "other", "theme", "thresholds"]
    assert result.is_incomplete is False
    theme = next(i for i in result.items if i.label == "theme")
    assert "string" in theme.detail and "global" in theme.detail
    assert theme.label_details.description == 'string "dark"'
    resolved = await client.completion_item_resolve_async(theme)
    assert '"dark"' in resolved.documentation.value
    # The typed part is replaced and the missing closing quote added.
    assert apply_edits(TYPING, [theme.text_edit]) == TYPING[: -len("th")] + 'theme"'

    # Per-user keys, with their user counts; the author typed a single quote.
    uri2 = open_doc(client, project / "plugins" / "demo" / "plugin.py", TYPING_USER)
    result = await _complete(client, uri2, types.Position(line=3, character=len("    await u.exists('")))
    labels = _labels(result)
    assert "todos" in labels and "theme" in labels
    assert "prefs" not in labels  # read in code but saved nowhere
    todos = next(i for i in result.items if i.label == "todos")
    assert "2 users" in todos.detail
    assert apply_edits(TYPING_USER, [todos.text_edit]).endswith("u.exists('todos'")

    # Nothing typed yet: the quotes come with the key.
    bare = "from cat import store\n\nasync def f():\n    await store.load("
    uri3 = open_doc(client, project / "plugins" / "demo" / "bare.py", bare)
    result = await _complete(client, uri3, types.Position(line=3, character=len("    await store.load(")))
    other = next(i for i in result.items if i.label == "other")
    assert apply_edits(bare, [other.text_edit]).endswith('store.load("other"')

    # Outside a store call: no completion.
    plain = "x = print('th"
    uri4 = open_doc(client, project / "plugins" / "demo" / "plain.py", plain)
    assert not _labels(await _complete(client, uri4, types.Position(line=0, character=len(plain))))


async def test_keys_saved_in_code_and_keys_written_after_start(client: LanguageClient, project: Path):
    """No database at first; a key the code saves is offered; one the Cat writes later appears."""
    (project / "plugins" / "demo" / "saver.py").write_text(
        'from cat import store\n\nasync def f():\n    await store.save("from_code", 1)\n', encoding="utf-8"
    )
    await start(client, project)
    uri = open_doc(client, project / "plugins" / "demo" / "typing.py", 'from cat import store\nstore.load("')
    pos = types.Position(line=1, character=len('store.load("'))
    async def labels():
        return _labels(await _complete(client, uri, pos))

    async def eventually(predicate) -> list[str]:
        """Completion answers from the last snapshot while a re-read is under way: poll briefly."""
        for _ in range(100):
            found = await labels()
            if predicate(found):
                return found
            await asyncio.sleep(0.05)
        return await labels()

    assert await labels() == ["counter", "from_code"]  # both saved by the workspace's code
    assert not (project / "data").exists(), "the server must never create the database"

    write_keys(project, global_keys={"late_key": {"a": 1}})
    assert await eventually(lambda f: "late_key" in f) == ["counter", "from_code", "late_key"]
    write_keys(project, global_keys={"later_still": True})
    assert "later_still" in await eventually(lambda f: "later_still" in f)


async def test_hover_definition_references(client: LanguageClient, project: Path):
    big = {"items": list(range(500)), "name": "x"}
    write_keys(project, global_keys={"counter": big}, user_keys={"a": {"prefs": {"x": 1}}, "b": {"prefs": "s"}})
    reader = project / "plugins" / "demo" / "reader.py"
    reader_text = 'from cat import store\n\nasync def g():\n    return await store.load("counter")\n'
    reader.write_text(reader_text, encoding="utf-8")
    plugin = project / "plugins" / "demo" / "plugin.py"
    text = plugin.read_text(encoding="utf-8")
    await start(client, project)
    uri = open_doc(client, plugin)
    await diagnostics_where(client, uri, lambda d: len(d) > 0)

    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position_of(text, '"counter"', 3))
    )
    value = hover.contents.value
    assert "global key" in value and "```json" in value
    assert '"name": "x"' not in value or "more characters" in value
    assert "more characters" in value  # 500 items are cut
    assert "reader.py:4" in value and "plugin.py:6" in value

    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position_of(text, '"prefs"', 2))
    )
    assert "2 users" in hover.contents.value and "`object`" in hover.contents.value and "`string`" in hover.contents.value

    definition = await client.text_document_definition_async(
        types.DefinitionParams(text_document=types.TextDocumentIdentifier(uri=reader.as_uri()), position=position_of(reader_text, '"counter"', 1))
    )
    # reader.py is not open: nothing to answer for it (servers answer for open documents).
    assert definition is None
    reader_uri = open_doc(client, reader)
    definition = await client.text_document_definition_async(
        types.DefinitionParams(text_document=types.TextDocumentIdentifier(uri=reader_uri), position=position_of(reader_text, '"counter"', 1))
    )
    assert [(d.uri, d.range.start.line) for d in definition] == [(uri, 5)]

    refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text, '"counter"', 1),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert sorted((r.uri.rsplit("/", 1)[-1], r.range.start.line) for r in refs) == [("plugin.py", 5), ("reader.py", 3)]
    refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text, '"counter"', 1),
            context=types.ReferenceContext(include_declaration=False),
        )
    )
    assert [r.uri.rsplit("/", 1)[-1] for r in refs] == ["reader.py"]




async def test_cat_keys_request(client: LanguageClient, project: Path):
    write_keys(project, global_keys={"theme": "dark"}, user_keys={"u1": {"todos": [1]}, "u2": {"todos": {"a": 1}}})
    await start(client, project)
    result = plain(await client.protocol.send_request_async("cat/keys", {}))
    keys = {(k["scope"], k["key"]): k for k in result["keys"]}
    assert keys[("global", "theme")]["type"] == "string"
    assert keys[("global", "theme")]["preview"] == '"dark"'
    assert keys[("user", "todos")]["users"] == 2
    assert sorted(keys[("user", "todos")]["types"]) == ["array", "object"]
    # Saved by the workspace's code, not yet in the database.
    assert keys[("global", "counter")]["savedInCode"] is True
    assert result["database"].endswith("(from config.py)")


async def test_code_actions_apply_and_relint(client: LanguageClient, project: Path):
    plugin = project / "plugins" / "demo" / "plugin.py"
    text = plugin.read_text(encoding="utf-8")
    await start(client, project)
    uri = open_doc(client, plugin)
    diagnostics = await diagnostics_where(client, uri, lambda d: "CAT006" in codes(d))
    cat006 = next(d for d in diagnostics if d.code == "CAT006" and "countr" in d.message)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=cat006.range,
            context=types.CodeActionContext(diagnostics=[cat006]),
        )
    )
    titles = [a.title for a in actions]
    assert "Ignore CAT006 on this line" in titles
    did_you_mean = next(a for a in actions if "counter" in a.title)
    edits = did_you_mean.edit.document_changes[0].edits
    text2 = apply_edits(text, edits)
    assert 'store.load("counter")' in text2

    replace_all(client, uri, text2, 2)
    after = await diagnostics_where(client, uri, lambda d: not any("countr" in x.message for x in d))
    prefs = next(d for d in after if d.code == "CAT006")

    ignore = next(
        a for a in await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=prefs.range,
                context=types.CodeActionContext(diagnostics=[prefs]),
            )
        )
        if a.title == "Ignore CAT006 on this line"
    )
    text3 = apply_edits(text2, ignore.edit.document_changes[0].edits)
    assert 'await user.load("prefs")  # noqa: CAT006' in text3
    replace_all(client, uri, text3, 3)
    await diagnostics_where(client, uri, lambda d: "CAT006" not in codes(d))

    # Extending an existing noqa list.
    text4 = text3.replace('await store.load("counter")', 'await store.load("countr")  # noqa: E501')  # another tool's code: not CAT100's business
    replace_all(client, uri, text4, 4)
    again = await diagnostics_where(client, uri, lambda d: "CAT006" in codes(d))
    d = next(x for x in again if x.code == "CAT006")
    ignore = next(
        a for a in await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri), range=d.range,
                context=types.CodeActionContext(diagnostics=[d]),
            )
        )
        if a.title.startswith("Ignore")
    )
    text5 = apply_edits(text4, ignore.edit.document_changes[0].edits)
    assert '"countr")  # noqa: E501, CAT006' in text5
    replace_all(client, uri, text5, 5)
    await diagnostics_where(client, uri, lambda d: codes(d) == ["CAT003"])

    # Fix all: the tuple becomes a list, then nothing is left.
    fix_all = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
            context=types.CodeActionContext(diagnostics=[], only=["source.fixAll"]),
        )
    )
    assert [a.kind for a in fix_all] == ["source.fixAll.cat-lint"]
    text6 = apply_edits(text5, fix_all[0].edit.document_changes[0].edits)
    assert 'store.save("counter", [1, 2])' in text6
    replace_all(client, uri, text6, 6)
    await diagnostics_where(client, uri, lambda d: d == [])


async def test_completion_in_a_big_file_with_an_alias(client: LanguageClient, project: Path):
    """Big documents take the fast path (imports + the cursor's line); aliases still resolve."""
    write_keys(project, global_keys={"alpha": 1, "beta": 2})
    body = "".join(f"\ndef helper_{i}(x):\n    return x + {i}\n" for i in range(400))
    text = "import os\nfrom cat import (\n    store as kv,\n)\n" + body + '\nasync def last():\n    await kv.exists("al'
    path = project / "plugins" / "demo" / "big.py"
    path.write_text("", encoding="utf-8")
    await start(client, project)
    uri = open_doc(client, path, text)
    last = text.count("\n")
    result = await _complete(client, uri, types.Position(line=last, character=len('    await kv.exists("al')))
    assert _labels(result) == ["alpha", "beta", "counter"]
    assert result.items[0].text_edit.range.start.line == last
    # A name that is not the store is not completed, however it is spelt.
    uri2 = open_doc(client, project / "plugins" / "demo" / "big2.py", text.replace("store as kv", "user as other"))
    result = await _complete(client, uri2, types.Position(line=last, character=len('    await kv.exists("al')))
    assert not _labels(result)


async def test_many_keys_are_cut_and_matched_inside_names(client: LanguageClient, project: Path):
    write_keys(project, global_keys={**{f"item_{i:03d}": i for i in range(150)}, "user_name": "x", "display_name": "y"})
    await start(client, project)
    text = 'from cat import store\nstore.load("'
    uri = open_doc(client, project / "plugins" / "demo" / "t.py", text)
    everything = await _complete(client, uri, types.Position(line=1, character=len('store.load("')))
    assert everything.is_incomplete and len(everything.items) == 50
    text2 = text + "name"
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text2)]))
    named = await _complete(client, uri, types.Position(line=1, character=len('store.load("name')))
    assert _labels(named) == ["display_name", "user_name"] and not named.is_incomplete


async def test_hover_answers_while_another_line_does_not_parse(client: LanguageClient, project: Path):
    write_keys(project, global_keys={"counter": {"n": 1}})
    plugin = project / "plugins" / "demo" / "half_typed.py"
    text = ('from cat import store\n\nasync def g():\n    return await store.load("counter")\n\n'
            'async def h():\n    x = await store.load("\n')
    plugin.write_text("", encoding="utf-8")
    await start(client, project)
    uri = open_doc(client, plugin, text)
    await diagnostics_where(client, uri, lambda d: any(x.code == "CAT000" for x in d))
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position_of(text, '"counter"', 3))
    )
    assert hover is not None and "global key" in hover.contents.value and '"n": 1' in hover.contents.value
