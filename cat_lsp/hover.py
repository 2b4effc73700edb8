"""Hover on a key literal: what the database holds and where the code uses it.

For a global key, the stored value as pretty JSON, truncated when large
(a plugin's cache can be megabytes; the editor's popup is not the place).
For a per-user key, how many users hold it and which JSON types were seen
(values differ per user, so no single value is shown, only a preview).
Then the JSON types the code gives the key (what it saves, the defaults it
loads with: CAT010 compares them with each other and with the database's),
and the places in the workspace that save and read the key, as links.
A key that is in neither the database nor the code still gets a hover
saying so: that absence is what the author wants to know.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from lsprotocol import types

from cat_lsp.navigation import fresh_text, key_at
from cat_lsp.positions import EditorPositions

if TYPE_CHECKING:
    from cat_lsp.session import FeatureSession
    from cat_lsp.workspace import Project

MAX_JSON_CHARS = 2000
MAX_JSON_LINES = 40
MAX_LINKS = 8
MAX_VALUE_BYTES = 256 * 1024


def pretty(value: object) -> str:
    """Indented JSON, cut at a few dozen lines with a note of what was left out."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)
    lines = text.splitlines()
    cut = False
    if len(lines) > MAX_JSON_LINES:
        lines, cut = lines[:MAX_JSON_LINES], True
    out = "\n".join(lines)
    if len(out) > MAX_JSON_CHARS:
        out, cut = out[:MAX_JSON_CHARS], True
    if cut:
        out += f"\n… ({len(text) - len(out):,} more characters)"
    return out


def _uses_markdown(session: FeatureSession, project: Project, key: str, scope: str) -> list[str]:
    uses = project.uses(key, scope)
    out = []
    for label, group in (("Saved", [u for u in uses if u.writes]), ("Read", [u for u in uses if not u.writes])):
        if not group:
            continue
        links = []
        for use in group[:MAX_LINKS]:
            path = project.path_for(use.path)
            links.append(f"[{use.path}:{use.span.start_line}]({session.uri_of(path)}#L{use.span.start_line}) ({use.verb})")
        more = f", and {len(group) - MAX_LINKS} more" if len(group) > MAX_LINKS else ""
        out.append(f"{label} in: " + ", ".join(links) + more)
    return out


def _types_in_code(project: Project, key: str, scope: str) -> str | None:
    """"Types in code: `array` (saved: a.py:5), `object` (load default: b.py:9)", as the database's are named."""
    seen: dict[str, list[str]] = {}
    for use in project.uses(key, scope):
        if use.json_type is None or use.json_type == "null":
            continue
        how = "saved" if use.verb == "save" else f"{use.verb} default"
        seen.setdefault(use.json_type, []).append(f"{how}: {use.path}:{use.span.start_line}")
    if not seen:
        return None
    shown = []
    for name, places in seen.items():
        more = f", and {len(places) - 3} more" if len(places) > 3 else ""
        shown.append(f"`{name}` ({', '.join(places[:3])}{more})")
    return "Types in code: " + ", ".join(shown)


def _hover_sync(session: FeatureSession, uri: str, text: str, version: int | None, position: types.Position) -> types.Hover | None:
    found = key_at(session, uri, text, version, position)
    if found is None:
        return None
    at, project = found
    snapshot = project.snapshot(wait=False)
    parts: list[str] = []
    if at.scope == "store":
        stored = snapshot.global_keys.get(at.key)
        parts.append(f"**`{at.key}`** · global key")
        if stored is not None:
            parts.append(f"`{stored.type}` · {stored.size:,} bytes stored")
            body = stored.preview
            if stored.size <= MAX_VALUE_BYTES:  # a huge value is not loaded to show 40 lines of it
                ok, value = project.database.get(at.key)
                if ok:
                    body = pretty(value)
            parts.append(f"```json\n{body}\n```")
        elif snapshot.reason is None:
            parts.append("Not in the database yet.")
    else:
        stored = snapshot.user_keys.get(at.key)
        parts.append(f"**`{at.key}`** · per-user key")
        if stored is not None:
            users = f"{stored.users} user{'s' if stored.users != 1 else ''}"
            counts = stored.type_users if len(stored.type_users) == len(stored.types) else ()
            seen = ", ".join(f"`{t}` ({n} user{'s' if n != 1 else ''})" if counts else f"`{t}`"
                             for t, n in zip(stored.types, counts or stored.types))
            parts.append(f"held by {users} · types seen: {seen}")
            parts.append(f"largest value ({stored.size:,} bytes):\n```json\n{stored.preview}\n```")
        elif snapshot.reason is None:
            parts.append("No user holds it in the database yet.")
    in_code = _types_in_code(project, at.key, at.scope)
    if in_code is not None:
        parts.append(in_code)
    parts.extend(_uses_markdown(session, project, at.key, at.scope))
    lines = EditorPositions(text, session.encoding)
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n".join(parts)),
        range=lines.range(at.span),
    )


async def hover(session: FeatureSession, params: types.HoverParams) -> types.Hover | None:
    current = await fresh_text(session, params.text_document.uri)
    if current is None:
        return None
    return await session.run_query(_hover_sync, session, params.text_document.uri, current[0], current[1], params.position)
