"""Stale-result protection: a slow lint of version N never replaces the result of version N+1.

Version N is a large document (its lint takes the worker about a second),
N+1 a small one sent while N's lint is in the worker.  Pushed: every
publication is recorded in order, and none of N's may come after N+1's.
Pulled: a request made while N was current is still being answered when
N+1 arrives; its answer must be N+1's (removing the server's version check
makes this test fail with N's findings).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_support import codes, diagnostics_where, open_doc, pull_capabilities, replace_all, start

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


async def handed_to_a_worker(client: LanguageClient) -> None:
    """Returns once the server handled the messages sent so far: a lint they started is in a worker by then.

    ``cat/keys`` is answered from the index and the database without waiting
    for any lint (hover would wait for the current version's); the server
    handles messages in order, and a lint's first step (handing the text to
    the worker) runs before this answer's.
    """
    await client.protocol.send_request_async("cat/keys", {})


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
    await handed_to_a_worker(client)
    replace_all(client, uri, SMALL.format(key="from_version_3"), 3)

    await diagnostics_where(client, uri, lambda d: keys_in(d) == {"from_version_3"})
    # Give version 2's slow lint every chance to finish and (wrongly) publish: version 4 is
    # linted after it, in the same worker.
    replace_all(client, uri, large("from_version_4", 1600), 4)
    await diagnostics_where(client, uri, lambda d: keys_in(d) == {"from_version_4"}, timeout=60)

    published = [keys_in(d) for u, d in client.diagnostics.log if u == uri]
    assert {"from_version_2"} not in published[published.index({"from_version_3"}):], published
    assert published[-1] == {"from_version_4"}
    assert "CAT000" not in codes(client.diagnostics[uri])


async def test_a_pull_answered_while_a_newer_version_arrived_carries_the_newer_result(client: LanguageClient, project: Path):
    """A pull request is not cancelled by the next edit (a push run is): its answer must still be the newest version's."""
    await start(client, project, pull_capabilities(), debounce=0)
    path = project / "plugins" / "demo" / "stale.py"
    text = SMALL.format(key="from_version_1")
    uri = open_doc(client, path, text)
    identifier = types.TextDocumentIdentifier(uri=uri)

    def pull():
        return asyncio.ensure_future(client.text_document_diagnostic_async(types.DocumentDiagnosticParams(text_document=identifier)))

    first = await pull()
    assert keys_in(first.items) == {"from_version_1"}

    replace_all(client, uri, large("from_version_2"), 2)
    during = pull()  # lints version 2, slowly
    await handed_to_a_worker(client)
    replace_all(client, uri, SMALL.format(key="from_version_3"), 3)
    after = pull()
    reports = await asyncio.wait_for(asyncio.gather(during, after), 60)
    assert [keys_in(report.items) for report in reports] == [{"from_version_3"}] * 2
