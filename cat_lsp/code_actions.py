"""Code actions: each rule's fix, "Ignore CAT00x on this line", and fix-all.

* Quick fixes come ready-made in each diagnostic's ``data`` (converted to
  the editor's coordinates when the diagnostic was made), so offering them
  costs nothing.  Their edits name the document version they were computed
  for, so an editor that supports versioned edits refuses a stale one.
* "Ignore CAT00x on this line" adds ``# noqa: CAT00x`` to the line the
  engine checks, or extends an existing ``# noqa: ...`` list.
* ``source.fixAll.cat-lint`` applies every safe fix with the engine's
  :func:`cat_lint.fixes.apply_fixes`, re-linting between rounds exactly as
  ``cat-lint --fix`` does (:func:`cat_lint.fixing.fix_source`), and sends
  one edit covering only the changed region.
"""

from __future__ import annotations

import tokenize
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from cat_lint.noqa import LINE_NOQA, generate_tokens, listed_codes

from cat_lsp.diagnostics import SOURCE, edits_from_json
from cat_lsp.positions import EditorPositions

if TYPE_CHECKING:
    from cat_lsp.session import FeatureSession

FIX_ALL_KIND = "source.fixAll.cat-lint"



def _wants(only: list[str] | None, kind: str) -> bool:
    """LSP kinds are hierarchical: asking for ``source.fixAll`` includes ``source.fixAll.cat-lint``."""
    if not only:
        return True
    return any(kind == k or kind.startswith(k + ".") for k in only)


def _workspace_edit(session: FeatureSession, uri: str, version: int | None, edits: list[types.TextEdit]) -> types.WorkspaceEdit:
    if session.versioned_edits:
        return types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                    edits=edits,
                )
            ]
        )
    return types.WorkspaceEdit(changes={uri: edits})


# -- noqa -------------------------------------------------------------------
def _comments_and_strings(text: str) -> tuple[dict[int, tuple[int, str]], list[tuple[int, int]]] | None:
    """Comments by line (column, text) and the line ranges of multi-line strings; None if it does not tokenize."""
    comments: dict[int, tuple[int, str]] = {}
    strings: list[tuple[int, int]] = []
    fstring_start = getattr(tokenize, "FSTRING_START", None)  # Python 3.12+ splits f-strings
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    open_fstrings: list[int] = []
    try:
        for tok in generate_tokens(text):
            if tok.type == tokenize.COMMENT:
                comments[tok.start[0]] = (tok.start[1], tok.string)
            elif tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
                strings.append((tok.start[0], tok.end[0]))
            elif fstring_start is not None and tok.type == fstring_start:
                open_fstrings.append(tok.start[0])
            elif fstring_end is not None and tok.type == fstring_end and open_fstrings:
                first = open_fstrings.pop()
                if tok.end[0] > first:
                    strings.append((first, tok.end[0]))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    return comments, strings


def noqa_edit(text: str, line: int, end_line: int, code: str, scanned: object = ...) -> tuple[int, types.TextEdit] | None:
    """The edit adding ``code`` to the noqa comment of the line the engine checks (1-based), if possible.

    The engine accepts a noqa on the finding's first or last line; the
    first is used unless it ends inside a multi-line string (where a comment
    would become part of the string), then the last.
    """
    lines = EditorPositions(text)
    if scanned is ...:
        scanned = _comments_and_strings(text)
    comments, strings = scanned if scanned is not None else ({}, [])
    target = None
    for candidate in dict.fromkeys((line, end_line)):
        inside = any(start <= candidate < end for start, end in strings)
        if not inside:
            target = candidate
            break
    if target is None:
        return None
    content = lines.line(target - 1)
    if scanned is None:
        # Does not tokenize (being typed): trust a plain "#" on the line.
        at = content.find("#")
        comment = (at, content[at:]) if at >= 0 else None
    else:
        comment = comments.get(target)
    if comment is not None:
        col, comment_text = comment
        match = LINE_NOQA.search(comment_text)
        if match is not None:
            if not match.group("codes"):
                return None  # a bare noqa already silences everything on the line
            codes = listed_codes(match.group("codes"))
            if code in (c.upper() for c in codes):
                return None
            start = col + match.start()
            end = col + match.end()
            new = f"# noqa: {', '.join(codes + [code])}"
            span_range = types.Range(
                start=types.Position(line=target - 1, character=start), end=types.Position(line=target - 1, character=end)
            )
            return target, types.TextEdit(range=span_range, new_text=new)
        insert_at = len(content.rstrip())
        new = f" # noqa: {code}"
    else:
        insert_at = len(content.rstrip())
        new = f"  # noqa: {code}"
    rng = types.Range(
        start=types.Position(line=target - 1, character=insert_at),
        end=types.Position(line=target - 1, character=len(content)),
    )
    return target, types.TextEdit(range=rng, new_text=new)


def _to_client(edit: types.TextEdit, lines: EditorPositions) -> types.TextEdit:
    """noqa edits are computed in code points; convert their columns to the editor's units."""
    start = types.Position(line=edit.range.start.line, character=lines.to_units(edit.range.start.line, edit.range.start.character))
    end = types.Position(line=edit.range.end.line, character=lines.to_units(edit.range.end.line, edit.range.end.character))
    return types.TextEdit(range=types.Range(start=start, end=end), new_text=edit.new_text)


# -- fix-all ----------------------------------------------------------------
def minimal_edit(old: str, new: str, lines: EditorPositions) -> types.TextEdit:
    """One edit replacing only the region where ``old`` and ``new`` differ."""
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    from cat_lint.fixes import LineIndex as Offsets

    offsets = Offsets(old)
    start = offsets.position(prefix)
    end = offsets.position(len(old) - suffix)
    return types.TextEdit(
        range=types.Range(start=lines.position(*start), end=lines.position(*end)),
        new_text=new[prefix : len(new) - suffix],
    )


def _fix_all_sync(session: FeatureSession, uri: str) -> tuple[str, str, int] | None:
    latest = session.latest(uri)
    if latest is None:
        return None
    if not any(f.fix is not None and f.fix.safe for f in latest.findings):
        return None
    path = session.path_of(uri)
    project = session.projects.project_for(path)
    new_text, applied = project.fix_all(path, latest)
    if not applied or new_text == latest.text:
        return None
    return latest.text, new_text, applied


# -- the request ------------------------------------------------------------
def _quick_fixes(session: FeatureSession, uri: str, version: int | None, text: str, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    actions: list[types.CodeAction] = []
    lines = EditorPositions(text, session.encoding)
    scanned: object = ...  # comments and strings, tokenized once per request
    for diag in diagnostics:
        if diag.source != SOURCE:
            continue
        data: Any = diag.data if isinstance(diag.data, dict) else {}
        made_for = data.get("version", version)
        fixes = data.get("fixes") or []
        if made_for == version or session.versioned_edits:
            for number, fix in enumerate(fixes):
                try:
                    edits = edits_from_json(fix)
                except (KeyError, TypeError, ValueError):
                    continue
                actions.append(
                    types.CodeAction(
                        title=str(fix.get("title", "Fix")),
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diag],
                        is_preferred=bool(fix.get("safe")) and number == 0,
                        edit=_workspace_edit(session, uri, made_for, edits),
                    )
                )
        code = str(diag.code) if diag.code is not None else None
        if code and code != "CAT000":
            start = lines.engine_position(diag.range.start)[0]
            end = lines.engine_position(diag.range.end)[0]
            if scanned is ...:
                scanned = _comments_and_strings(text)
            found = noqa_edit(text, start, end, code, scanned)
            if found is not None:
                _target, edit = found
                actions.append(
                    types.CodeAction(
                        title=f"Ignore {code} on this line",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diag],
                        edit=_workspace_edit(session, uri, version, [_to_client(edit, lines)]),
                    )
                )
    return actions


async def code_actions(session: FeatureSession, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    uri = params.text_document.uri
    current = session.text_of(uri)
    if current is None:
        return None
    text, version = current
    only = params.context.only
    actions: list[types.CodeAction] = []
    if _wants(only, types.CodeActionKind.QuickFix):
        actions.extend(_quick_fixes(session, uri, version, text, list(params.context.diagnostics)))
    # Fix-all re-lints: only when asked for by kind (a source-action menu,
    # code actions on save), not on every cursor move's lightbulb request.
    if only and _wants(only, FIX_ALL_KIND):
        await session.current(uri)
        fixed = await session.run_lint(_fix_all_sync, session, uri)
        latest = session.latest(uri)
        if fixed is not None and latest is not None:
            old, new, applied = fixed
            edit = minimal_edit(old, new, EditorPositions(old, session.encoding))
            actions.append(
                types.CodeAction(
                    title=f"Fix all auto-fixable cat-lint problems ({applied})",
                    kind=FIX_ALL_KIND,
                    edit=_workspace_edit(session, uri, latest.version, [edit]),
                )
            )
    return actions or None
