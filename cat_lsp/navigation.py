"""Go to definition and find references on a key literal.

A key has no declaration in Python; the places that *save* it are the
closest thing, so "definition" lists every ``save``/``update`` of that key
in the workspace and "references" every use (save, load, exists, delete,
update).  Both come from the workspace's :class:`cat_lint.keys.KeyIndex`,
which holds the key uses the engine found, resolved through imports.

Also here: :func:`key_at`, which finds the key literal under the cursor
(shared with hover): first among the key uses of the document's latest
lint (exact: scope analysis), else through
:func:`cat_lsp.store_call.store_call_at` (half-typed code).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from cat_lint.findings import KeyUse, Span
from cat_lint.limits import MAX_SOURCE_BYTES
from cat_lint.project.location import read_regular

from cat_lsp.positions import EditorPositions

if TYPE_CHECKING:
    from cat_lsp.session import FeatureSession
    from cat_lsp.workspace import Project


@dataclass(frozen=True)
class KeyAtCursor:
    key: str
    scope: str  # "store" or "user"
    span: Span  # the literal in the current document (engine coordinates)


def _contains(span: Span, line: int, col: int) -> bool:
    return (span.start_line, span.start_col) <= (line, col) <= (span.end_line, span.end_col)


def key_at(session: FeatureSession, uri: str, text: str, version: int | None, position: types.Position) -> tuple[KeyAtCursor, Project] | None:
    """The key literal under the cursor, if any (blocking: run it in a worker)."""
    lines = EditorPositions(text, session.encoding)
    line, col = lines.engine_position(position)
    path = session.path_of(uri)
    project = session.projects.project_for(path)
    latest = session.latest(uri)
    if latest is not None and latest.version == version and latest.text == text:
        for use in latest.result.key_uses:
            if _contains(use.span, line, col):
                return KeyAtCursor(use.key, use.scope, use.span), project
        if not any(f.code == "CAT000" for f in latest.result.findings):
            return None
        # The buffer does not parse (a half-typed line somewhere): read the statement
        # under the cursor from the text, as completion does, rather than answer nothing.
    from cat_lsp.store_call import store_call_at

    try:
        ctx = store_call_at(text, line, col)
    except Exception:
        return None
    if ctx is None or not ctx.quote:
        return None
    span = ctx.span
    key = lines.line(span.start_line - 1)[span.start_col : span.end_col]
    return KeyAtCursor(key, ctx.scope, span), project


class _Texts:
    """File texts for converting columns: the editor's buffer when open, else the file on disk."""

    def __init__(self, session: FeatureSession) -> None:
        self.session = session
        self._cache: dict[Path, EditorPositions] = {}

    def lines(self, path: Path) -> EditorPositions:
        found = self._cache.get(path)
        if found is None:
            current = self.session.text_of(self.session.uri_of(path))
            if current is not None:
                text = current[0]
            else:
                try:  # the linter's own reader: a regular file, within its size limit
                    text = read_regular(path, MAX_SOURCE_BYTES).decode("utf-8", errors="replace")
                except OSError:
                    text = ""
            found = self._cache[path] = EditorPositions(text, self.session.encoding)
        return found


def locations(session: FeatureSession, project: Project, uses: list[KeyUse]) -> list[types.Location]:
    texts = _Texts(session)
    out = []
    for use in uses:
        path = project.path_for(use.path)
        out.append(types.Location(uri=session.uri_of(path), range=texts.lines(path).range(use.span)))
    return out


def _definition_sync(session: FeatureSession, uri: str, text: str, version: int | None, position: types.Position) -> list[types.Location] | None:
    found = key_at(session, uri, text, version, position)
    if found is None:
        return None
    at, project = found
    writes = [u for u in project.uses(at.key, at.scope) if u.writes]
    return locations(session, project, writes) or None


def _references_sync(
    session: FeatureSession, uri: str, text: str, version: int | None, position: types.Position, include_declaration: bool
) -> list[types.Location] | None:
    found = key_at(session, uri, text, version, position)
    if found is None:
        return None
    at, project = found
    uses = project.uses(at.key, at.scope)
    if not include_declaration:
        uses = [u for u in uses if not u.writes]
    return locations(session, project, uses) or None


async def fresh_text(session: FeatureSession, uri: str) -> tuple[str, int | None] | None:
    """The document's text once its current version is linted (so the index matches what the author sees)."""
    if session.text_of(uri) is None:
        return None
    try:
        await session.current(uri)
    except Exception:
        pass  # answer from what we have
    return session.text_of(uri)


async def definition(session: FeatureSession, params: types.DefinitionParams) -> list[types.Location] | None:
    current = await fresh_text(session, params.text_document.uri)
    if current is None:
        return None
    return await session.run_query(_definition_sync, session, params.text_document.uri, current[0], current[1], params.position)


async def references(session: FeatureSession, params: types.ReferenceParams) -> list[types.Location] | None:
    current = await fresh_text(session, params.text_document.uri)
    if current is None:
        return None
    include = params.context.include_declaration if params.context is not None else True
    return await session.run_query(
        _references_sync, session, params.text_document.uri, current[0], current[1], params.position, include
    )
