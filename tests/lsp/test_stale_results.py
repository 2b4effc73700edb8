"""Stale-result protection: a slow lint of version N never replaces the result of version N+1.

Version N is a large document (its lint takes a worker a while), N+1 a small
one sent while N's lint is in flight; the server has two worker processes,
so N+1's lint finishes first.  Every publication is recorded in order.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_support import codes, diagnostics_where, open_doc, position_of, replace_all, start

SMALL = 'from cat import store\n\n\nasync def f():\n    return await store.load("{key}")\n'


def large(key: str, functions: int = 1500) -> str:
    body = "".join(f"\n\ndef filler_{i}(a, b):\n    c = [a, b, {i}]\n    return c\n" for i in range(functions))
    return SMALL.format(key=key) + body


class Publications(dict):
    """``client.diagnostics`` that also keeps every publication, in order of arrival."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, list[types.Diagnostic]]] = []

    def __setitem__(self, uri: str, diagnostics: list[types.Diagnostic]) -> None:
        self.log.append((uri, list(diagnostics)))
        super().__setitem__(uri, diagnostics)


def keys_in(diagnostics: list[types.Diagnostic]) -> set[str]:
    return {d.message.split('"')[1] for d in diagnostics if d.code == "CAT006"}


async def test_a_slow_old_version_never_replaces_a_newer_one(client: LanguageClient, project: Path):
    client.diagnostics = Publications()
    await start(client, project, debounce=0)
    path = project / "plugins" / "demo" / "stale.py"
    text = SMALL.format(key="from_version_1")
    uri = open_doc(client, path, text)
    await diagnostics_where(client, uri, lambda d: keys_in(d) == {"from_version_1"})

    replace_all(client, uri, large("from_version_2"), 2)
    # A request answered after the change was handled: by then version 2's lint has been handed to a worker.
    await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position_of(text, "store.load")))
    replace_all(client, uri, SMALL.format(key="from_version_3"), 3)

    await diagnostics_where(client, uri, lambda d: keys_in(d) == {"from_version_3"})
    # Give version 2's slow lint every chance to finish and (wrongly) publish: version 4 is
    # larger and sent later, so its lint ends after version 2's in any likely schedule (and
    # the assertions below hold whichever ends first).
    replace_all(client, uri, large("from_version_4", 1600), 4)
    await diagnostics_where(client, uri, lambda d: keys_in(d) == {"from_version_4"}, timeout=60)

    published = [keys_in(d) for u, d in client.diagnostics.log if u == uri]
    assert {"from_version_2"} not in published[published.index({"from_version_3"}):], published
    assert published[-1] == {"from_version_4"}
    assert "CAT000" not in codes(client.diagnostics[uri])
