"""A file the engine crashes on: reported, and every other file still counts (the command line's crash policy).

The crash is the server's documented debug setting ``CAT_LSP_DEBUG_CRASH_ON``
(see ``cat_lsp.lint_workers``): in the real server's worker processes, the
engine raises on any file containing the marker, as a rule with a bug would.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from lsp_support import codes, diagnostics_where, open_doc, start, wait_for

MARKER = "boom_marker_for_the_crash_test"


@pytest_lsp.fixture(config=ClientServerConfig(
    server_command=[sys.executable, "-m", "cat_lsp"],
    server_env={**os.environ, "CAT_LSP_DEBUG_CRASH_ON": MARKER},
))
async def crashing(lsp_client: LanguageClient):
    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:  # an editor with file watching says yes
        pass

    yield
    await lsp_client.shutdown_session()


async def test_a_crash_while_indexing_keeps_the_other_files_keys(crashing: LanguageClient, project: Path):
    plugins = project / "plugins" / "demo"
    for number in range(20):  # enough files that the scan gets worker processes of its own
        (plugins / f"more_{number}.py").write_text(f"VALUE = {number}\n", encoding="utf-8")
    (plugins / "writer.py").write_text(
        'from cat import store\n\n\nasync def write():\n    await store.save("shared", 1)\n', encoding="utf-8")
    (plugins / "boom.py").write_text(
        f'from cat import store\n\n# {MARKER}\n\n\nasync def other():\n    await store.save("also_saved", 1)\n',
        encoding="utf-8")
    reader = plugins / "reader.py"
    reader.write_text(
        'from cat import store\n\n\nasync def read():\n'
        '    a = await store.load("shared")\n    b = await store.load("nowhere")\n    return a, b\n',
        encoding="utf-8")
    await start(crashing, project)
    uri = open_doc(crashing, reader)
    diagnostics = await diagnostics_where(crashing, uri, lambda d: "CAT006" in codes(d))
    flagged = [d.message for d in diagnostics if d.code == "CAT006"]
    assert len(flagged) == 1 and "nowhere" in flagged[0], flagged  # "shared" is still known from writer.py

    # The user is told which file, and that it is a bug to report.
    await wait_for(lambda: any("boom.py" in m.message for m in crashing.messages), what="a crash message")
    message = next(m for m in crashing.messages if "boom.py" in m.message)
    assert message.type == types.MessageType.Warning
    assert "crashed" in message.message and "report" in message.message


async def test_an_open_document_the_engine_crashes_on_gets_one_cat000(crashing: LanguageClient, project: Path):
    boom = project / "plugins" / "demo" / "boom.py"
    boom.write_text(f"x = 1  # {MARKER}\n", encoding="utf-8")
    await start(crashing, project)
    uri = open_doc(crashing, boom)
    diagnostics = await diagnostics_where(crashing, uri, lambda d: len(d) > 0)
    assert codes(diagnostics) == ["CAT000"]
    assert "crashed" in diagnostics[0].message and "please report" in diagnostics[0].message

    # The same server goes on linting other documents.
    plugin = project / "plugins" / "demo" / "plugin.py"
    other = open_doc(crashing, plugin)
    assert "CAT006" in codes(await diagnostics_where(crashing, other, lambda d: len(d) > 0))
