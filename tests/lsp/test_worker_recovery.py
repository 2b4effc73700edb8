"""Recovery when a lint worker process dies: the server starts a new one and diagnostics keep coming.

The workers are found as the server's grandchildren in /proc (the server
starts a ``forkserver``, which forks them) and killed with SIGKILL, as the
kernel's out-of-memory killer would.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from pytest_lsp import LanguageClient

from lsp_support import PLUGIN, children, codes, diagnostics_where, open_doc, replace_all, server_pid, start


def lint_workers() -> list[int]:
    return [worker for child in children(server_pid()) for worker in children(child)]


async def test_diagnostics_keep_coming_after_the_workers_are_killed(client: LanguageClient, project: Path):
    await start(client, project)
    plugin = project / "plugins" / "demo" / "plugin.py"
    uri = open_doc(client, plugin)
    first = await diagnostics_where(client, uri, lambda d: "CAT006" in codes(d))
    workers = lint_workers()
    assert workers, "the server lints in worker processes"
    for pid in workers:
        os.kill(pid, signal.SIGKILL)

    # The same findings for an edited buffer, from a new worker: no CAT000 for a death
    # that was not this document's doing.
    replace_all(client, uri, PLUGIN.replace('"countr"', '"still_unknown"'), 2)
    after = await diagnostics_where(client, uri, lambda d: any("still_unknown" in x.message for x in d))
    assert codes(after) == codes(first)
    new_workers = lint_workers()
    assert new_workers and not set(new_workers) & set(workers)

    # And again: a second death is survived the same way.
    for pid in new_workers:
        os.kill(pid, signal.SIGKILL)
    replace_all(client, uri, PLUGIN, 3)
    again = await diagnostics_where(client, uri, lambda d: any('"countr"' in x.message for x in d))
    assert codes(again) == codes(first)


async def test_a_worker_killed_in_the_middle_of_a_lint_is_replaced_and_the_lint_retried(client: LanguageClient, project: Path):
    await start(client, project, debounce=0)
    plugin = project / "plugins" / "demo" / "plugin.py"
    uri = open_doc(client, plugin)
    await diagnostics_where(client, uri, lambda d: "CAT006" in codes(d))
    workers = lint_workers()
    # A long lint (about a second in the worker), killed while it runs.
    filler = "".join(f"\n\ndef filler_{i}(a, b):\n    c = [a, b, {i}]\n    return c\n" for i in range(1500))
    replace_all(client, uri, PLUGIN.replace('"countr"', '"killed_mid_lint"') + filler, 2)
    await client.protocol.send_request_async("cat/keys", {})  # the lint is in the worker by now
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    after = await diagnostics_where(client, uri, lambda d: any("killed_mid_lint" in x.message for x in d), timeout=60)
    assert "CAT000" not in codes(after)  # the worker's death was not this document's doing: retried, not blamed
