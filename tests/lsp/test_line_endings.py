"""The server on plugin files written on Windows (CRLF) and on files that mix line endings.

LSP counts ``\\n``, ``\\r\\n`` and a lone ``\\r`` as line breaks, as Python
does.  Every position the server sends (diagnostics, edits of quick fixes and
of fix-all) and every position it reads (hover, completion, incremental
changes) must agree with the command line on the same bytes, and an edit
must never mix ``\\n`` into a CRLF file.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_support import cli_findings, codes, diagnostics_where, start, write_keys
from line_endings_support import BREAK, SOURCE, with_endings


def lsp_lines(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each line as LSP counts lines, the break excluded."""
    out, start = [], 0
    for match in BREAK.finditer(text):
        out.append((start, match.start()))
        start = match.end()
    out.append((start, len(text)))
    return out


def lsp_position(text: str, needle: str, offset: int = 0) -> types.Position:
    """The LSP position (ASCII text: code points are UTF-16 units) of ``needle`` plus ``offset``."""
    at = text.index(needle) + offset
    for number, (start, end) in enumerate(lsp_lines(text)):
        if start <= at <= end:
            return types.Position(line=number, character=at - start)
    raise AssertionError(f"{needle!r} not found")


def lsp_offset(text: str, position: types.Position) -> int:
    lines = lsp_lines(text)
    assert position.line < len(lines), position
    start, end = lines[position.line]
    assert start + position.character <= end, f"{position} is past the end of its line"
    return start + position.character


def apply_lsp_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply edits as an editor does, lines broken where LSP breaks them."""
    spans = sorted(((lsp_offset(text, e.range.start), lsp_offset(text, e.range.end), e.new_text) for e in edits), reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def endings(text: str) -> list[str]:
    return BREAK.findall(text)


def open_bytes(client: LanguageClient, path: Path, text: str) -> str:
    """Open a document whose text is exactly ``text`` (no newline translation anywhere)."""
    path.write_bytes(text.encode("utf-8"))
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    return uri


def cli_fixed(project: Path, path: Path) -> bytes:
    """The bytes ``cat-lint --fix`` writes, on a copy of the file."""
    copy = path.with_name("copy_" + path.name)
    copy.write_bytes(path.read_bytes())
    subprocess.run([sys.executable, "-m", "cat_lint", "--fix", "--no-cache", "--exit-zero", str(copy)],
                   cwd=str(project), capture_output=True, timeout=120, check=True)
    fixed = copy.read_bytes()
    copy.unlink()
    return fixed


def as_rows(diagnostics: list[types.Diagnostic]) -> list[tuple]:
    return sorted((str(d.code), d.range.start.line + 1, d.range.start.character + 1,
                   d.range.end.line + 1, d.range.end.character + 1) for d in diagnostics)


def cli_rows(project: Path, path: Path) -> list[tuple]:
    return sorted((f["code"], f["location"]["row"], f["location"]["column"], f["end_location"]["row"],
                   f["end_location"]["column"]) for f in cli_findings(project, path))


@pytest.mark.parametrize("kind", ["crlf", "mixed"])
async def test_diagnostics_and_fixes_match_the_command_line(client: LanguageClient, project: Path, kind: str):
    text = with_endings(SOURCE, kind)
    plugin = project / "plugins" / "demo" / "windows.py"
    await start(client, project)
    uri = open_bytes(client, plugin, text)
    want = cli_rows(project, plugin)
    # Every rule of the fixture reports on both files (both noqa comments suppress nothing).
    assert [row[0] for row in want] == sorted(["CAT003", "CAT003", "CAT004", "CAT004", "CAT006", "CAT006", "CAT100", "CAT100"])
    diagnostics = await diagnostics_where(client, uri, lambda d: len(d) >= len(want))
    assert as_rows(diagnostics) == want

    # Each quick fix changes only what it says, and keeps every line break as it was.
    for diag in diagnostics:
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), range=diag.range,
            context=types.CodeActionContext(diagnostics=[diag])))
        for action in actions or []:
            fixed = apply_lsp_edits(text, action.edit.document_changes[0].edits)
            assert endings(fixed) == endings(text), (diag.code, action.title)
            if action.title.startswith("Ignore"):
                first, last = lsp_lines(text)[diag.range.start.line]
                before = text[first:last]
                first, last = lsp_lines(fixed)[diag.range.start.line]
                listed = re.search(r"# noqa: [A-Z0-9, ]+$", before)
                want = (before + f", {diag.code}") if listed else f"{before.rstrip()}  # noqa: {diag.code}"
                assert fixed[first:last] == want, action.title

    # Fix-all gives exactly the bytes `cat-lint --fix` writes.
    fix_all = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
        context=types.CodeActionContext(diagnostics=[], only=["source.fixAll"])))
    assert fix_all and fix_all[0].kind == "source.fixAll.cat-lint"
    fixed = apply_lsp_edits(text, fix_all[0].edit.document_changes[0].edits)
    assert fixed.encode("utf-8") == cli_fixed(project, plugin)
    assert endings(fixed) == endings(text)


@pytest.mark.parametrize("kind", ["crlf", "mixed"])
async def test_hover_and_completion_read_positions_past_crlf_and_lone_cr(client: LanguageClient, project: Path, kind: str):
    write_keys(project, global_keys={"counter": 7, "theme": "dark"})
    text = with_endings(SOURCE, kind)
    plugin = project / "plugins" / "demo" / "windows.py"
    await start(client, project)
    uri = open_bytes(client, plugin, text)
    await diagnostics_where(client, uri, lambda d: len(d) > 0)

    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=lsp_position(text, '"counter"', 3)))
    assert hover is not None and "counter" in hover.contents.value and "global key" in hover.contents.value
    prefs = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=lsp_position(text, '"prefs"', 2)))
    assert prefs is not None and "prefs" in prefs.contents.value

    # Typing a key on the last line: `await store.load("th` (a change, then completion at its end).
    end = lsp_position(text, "    return message")
    typed = '    t = await store.load("th'
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=end, end=end), text=typed + ("\r\n" if kind == "crlf" else "\r"))]))
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=end.line, character=len(typed))))
    items = result.items if isinstance(result, types.CompletionList) else result or []
    theme = next(item for item in items if item.label == "theme")
    edit = theme.text_edit
    assert edit.range.start.line == edit.range.end.line == end.line
    assert edit.range.end.character == len(typed)


@pytest.mark.parametrize("kind", ["crlf", "mixed"])
async def test_incremental_changes_agree_with_a_full_lint(client: LanguageClient, project: Path, kind: str):
    text = with_endings(SOURCE, kind)
    plugin = project / "plugins" / "demo" / "windows.py"
    await start(client, project)
    uri = open_bytes(client, plugin, text)
    await diagnostics_where(client, uri, lambda d: len(d) > 0)

    # Edits as an editor sends them: new lines typed with the file's own break, a line
    # joined by deleting its break, a lone CR typed, a value changed in place.
    steps = [
        (lsp_position(text, "    total"), "    await store.save('added', (3,))\r\n"),
        (lsp_position(text, "    x = 1"), "    store.load('fresh')\r"),
        (lsp_position(text, "(1, 2)", 1), "0, "),
    ]
    version = 1
    current = text
    for position, new in steps:
        version += 1
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(range=types.Range(start=position, end=position), text=new)]))
        current = apply_lsp_edits(current, [types.TextEdit(range=types.Range(start=position, end=position), new_text=new)])
    # Delete the break that ends the `y = 2` line's predecessor: two lines become one statement line each way.
    join_at = lsp_position(current, "    return message")
    previous_end = types.Position(line=join_at.line - 1, character=lsp_lines(current)[join_at.line - 1][1] - lsp_lines(current)[join_at.line - 1][0])
    version += 1
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=previous_end, end=join_at), text="\r\n    y = 3\r\n")]))
    current = apply_lsp_edits(current, [types.TextEdit(range=types.Range(start=previous_end, end=join_at), new_text="\r\n    y = 3\r\n")])

    plugin.write_bytes(current.encode("utf-8"))
    want = cli_rows(project, plugin)
    assert "CAT006" in [row[0] for row in want]  # 'fresh' is never written
    try:
        await diagnostics_where(client, uri, lambda d: as_rows(d) == want)
    except AssertionError:
        pass  # the comparison below says what differs
    assert as_rows(list(client.diagnostics[uri])) == want
