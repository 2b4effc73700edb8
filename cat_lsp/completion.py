"""Completing keys inside ``store.<verb>("`` and ``user.<verb>("``.

Whether the cursor is in a key argument (through imports and aliases, on
half-typed code too) is :func:`cat_lsp.store_call.store_call_at`'s answer.
This module only chooses the candidates and shapes the items:

* ``store``: the keys of the global table; ``user``: the distinct key names
  of the per-user table, with how many users hold each;
* plus every key the workspace's code saves in that scope;
* each item shows the value's type (and, resolved lazily, a short preview
  of the value), and replaces the typed part of the key (``textEdit``), adding the quotes when none was
  typed and escaping the key for the quote the author chose.

With 100,000 keys the answer must still take milliseconds: candidates come
from a sorted list by bisection on the typed prefix, at most
:data:`MAX_ITEMS` are sent, and the list is marked incomplete so the editor
asks again as the author types more.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lsprotocol import types

from cat_lint.findings import Span

from cat_lsp.positions import EditorPositions

if TYPE_CHECKING:
    from cat_lsp.database import Snapshot
    from cat_lsp.session import FeatureSession

MAX_ITEMS = 50

# A cheap gate before asking the engine (which parses the file): the line up
# to the cursor must at least look like an open call of a store verb.
_MAYBE_CALL = re.compile(r"\.\s*(?:save|load|exists|delete|update)\s*\(")


def quoted(key: str, quote: str) -> str:
    """The key as the inside of a string literal delimited by ``quote``."""
    out = key.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


# Up to this many keys, names containing the typed text (not only starting
# with it) are offered too; beyond, the scan would cost more than a keystroke.
SUBSTRING_SCAN_UP_TO = 20_000
PREVIEW_IN_LIST = 32


def candidates(snapshot: Snapshot, written: set[str], scope: str, prefix: str, limit: int = MAX_ITEMS) -> tuple[list[str], bool]:
    """Key names to offer, and whether the list was cut at ``limit``.

    Few keys: all of them (the editor filters as the author types).  Many:
    those starting with the typed text first, then (for a database of
    moderate size) those containing it anywhere, case-insensitively.
    """
    names = snapshot.sorted_names(scope)
    if len(names) + len(written) <= limit:
        merged = sorted(set(names) | written)
        if len(merged) <= limit:
            return merged, False
    from_code = sorted(k for k in written if k.startswith(prefix))
    from_db = snapshot.with_prefix(scope, prefix, limit + 1)
    merged = sorted(set(from_db) | set(from_code))
    if len(merged) <= limit and prefix and len(names) <= SUBSTRING_SCAN_UP_TO:
        needle = prefix.lower()
        seen = set(merged)
        extra = [k for k in names if needle in k.lower() and k not in seen]
        extra += sorted(k for k in written if needle in k.lower() and k not in seen and k not in names)
        merged += extra
    return merged[:limit], len(merged) > limit


def build_items(
    names: list[str],
    snapshot: Snapshot,
    written: set[str],
    scope: str,
    quote: str,
    replace: types.Range,
    close_quote: bool,
) -> list[types.CompletionItem]:
    """Items kept small: type and a short preview in the list, the longer preview on ``completionItem/resolve``.

    Sending 100 full previews on every keystroke would cost more in JSON
    than finding the keys does.
    """
    stored = snapshot.keys(scope)
    items = []
    for name in names:
        key = stored.get(name)
        if quote:
            new_text = quoted(name, quote) + (quote if close_quote else "")
        else:
            new_text = '"' + quoted(name, '"') + '"'
        if key is not None:
            where = "global" if scope == "store" else f"per-user · {key.users} user{'s' if key.users != 1 else ''}"
            detail = f"{key.type} · {where} · {_human_size(key.size)}"
            short = key.preview if len(key.preview) <= PREVIEW_IN_LIST else key.preview[: PREVIEW_IN_LIST - 1] + "…"
            label_details = types.CompletionItemLabelDetails(description=f"{key.type} {short}")
        else:
            detail = "saved in code · not in the database yet"
            label_details = types.CompletionItemLabelDetails(description="saved in code")
        items.append(
            types.CompletionItem(
                label=name,
                kind=types.CompletionItemKind.Value,
                detail=detail,
                label_details=label_details,
                text_edit=types.TextEdit(range=replace, new_text=new_text),
                data={"scope": scope, "key": name},
            )
        )
    return items


def _resolve_sync(session: FeatureSession, item: types.CompletionItem) -> types.CompletionItem:
    data = item.data if isinstance(item.data, dict) else {}
    scope, name = data.get("scope"), data.get("key")
    if not isinstance(scope, str) or not isinstance(name, str):
        return item
    projects = session.projects.all()
    for project in projects:
        key = project.snapshot(wait=False).keys(scope).get(name)
        if key is None:
            continue
        markdown = session.markdown("completion")
        doc = f"```json\n{key.preview}\n```" if markdown else key.preview
        if name in project.written_keys(scope):
            doc += "\n\nAlso saved by this workspace's code."
        item.documentation = types.MarkupContent(
            kind=types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText, value=doc
        )
        break
    return item


async def resolve(session: FeatureSession, item: types.CompletionItem) -> types.CompletionItem:
    return await session.run_query(_resolve_sync, session, item)


# Above this many lines, store_call_at is asked about the import statements and
# the cursor's line only: store_call_at parses the whole text to learn the
# aliases, which costs about a second on a 3,000-line file.
REDUCE_ABOVE_LINES = 300
_IMPORT_START = re.compile(r"^\s*(?:import|from)\s")


def reduced_source(lines: list[str], line: int) -> tuple[str, int]:
    """The document's import statements (dedented) followed by line ``line`` (1-based).

    Returns the text and the cursor line's number in it.  Imports nested in
    ``if``/``try`` blocks are kept (the engine counts those too); a
    function's local imports are kept as well, which can only add an alias.
    """
    kept: list[str] = []
    depth = 0
    continued = False
    for number, text in enumerate(lines, start=1):
        if number == line:
            depth, continued = 0, False
            continue
        if depth > 0 or continued or _IMPORT_START.match(text):
            kept.append(text.strip() if not (depth > 0 or continued) else text)
            code = text.split("#", 1)[0]
            depth = max(0, depth + code.count("(") - code.count(")"))
            continued = code.rstrip().endswith("\\")
    kept.append(lines[line - 1] if 0 < line <= len(lines) else "")
    return "\n".join(kept) + "\n", len(kept)


def _store_call(text: str, lines: EditorPositions, line: int, col: int):
    from cat_lsp.store_call import store_call_at

    if len(lines.lines) <= REDUCE_ABOVE_LINES:
        return store_call_at(text, line, col)
    small, at = reduced_source(lines.lines, line)
    ctx = store_call_at(small, at, col)
    if ctx is None:
        return None
    shift = line - at
    span = Span(ctx.span.start_line + shift, ctx.span.start_col, ctx.span.end_line + shift, ctx.span.end_col)
    return type(ctx)(ctx.scope, ctx.verb, ctx.prefix, ctx.quote, span)


def _complete_sync(session: FeatureSession, uri: str, text: str, position: types.Position) -> types.CompletionList | None:
    lines = EditorPositions(text, session.encoding)
    line, col = lines.engine_position(position)
    head = lines.line(position.line)[:col]
    if not _MAYBE_CALL.search(head):
        return None
    try:
        ctx = _store_call(text, lines, line, col)
    except Exception:  # half-typed code must never break completion
        return None
    if ctx is None:
        return None
    project = session.projects.project_for(session.path_of(uri))
    snapshot = project.snapshot(wait=False)
    written = project.written_keys(ctx.scope)
    names, cut = candidates(snapshot, written, ctx.scope, ctx.prefix)
    span: Span = ctx.span
    after = lines.line(span.end_line - 1)[span.end_col:]
    close_quote = bool(ctx.quote) and not after.startswith(ctx.quote)
    replace = lines.range(span)
    items = build_items(names, snapshot, written, ctx.scope, ctx.quote, replace, close_quote)
    return types.CompletionList(is_incomplete=cut, items=items)


async def complete(session: FeatureSession, params: types.CompletionParams) -> types.CompletionList | None:
    uri = params.text_document.uri
    current = session.text_of(uri)
    if current is None:
        return None
    text, _version = current
    await session.ready_project(session.path_of(uri))  # keys saved in files not yet indexed would be missing
    return await session.run_query(_complete_sync, session, uri, text, params.position)
