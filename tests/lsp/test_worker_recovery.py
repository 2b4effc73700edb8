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
