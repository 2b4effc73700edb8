"""Fixtures for the language server's end-to-end tests.

Every test talks to a real ``python -m cat_lsp`` subprocess over stdio
through pytest-lsp's client, in a temporary project whose database is
written by the real runtime (``cat.configure`` + ``store.save`` /
``user.save`` in ``request_context``), in a separate process as a running
Cat would be.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from lsp_support import PLUGIN, TEST_LIMIT
from pytest_lsp import ClientServerConfig, LanguageClient


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "cat_lsp"]))
async def client(lsp_client: LanguageClient):
    registrations: list[types.Registration] = []

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:  # what an editor with file watching answers
        registrations.extend(params.registrations)

    lsp_client.registrations = registrations  # type: ignore[attr-defined]

    async def watchdog() -> None:
        """No test may hang the suite: after TEST_LIMIT seconds the test itself is cancelled."""
        await asyncio.sleep(TEST_LIMIT)
        for task in asyncio.all_tasks():
            name = getattr(task.get_coro(), "__qualname__", "")
            if name.startswith("test_"):
                task.cancel()

    guard = asyncio.ensure_future(watchdog())
    yield
    guard.cancel()
    try:
        await asyncio.wait_for(lsp_client.shutdown_session(), 10)
    except (Exception, asyncio.CancelledError):
        pass
    # A server that did not exit (never initialised, or stuck) is killed, so teardown cannot hang.
    server = getattr(lsp_client, "_server", None)
    if server is not None and server.returncode is None:
        try:
            await asyncio.wait_for(server.wait(), 5)
        except asyncio.TimeoutError:
            server.kill()
            await server.wait()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A plugin project: pyproject.toml with [tool.cat-lint], a plugin, and config.py naming the database."""
    folder = tmp_path / "proj"
    (folder / "plugins" / "demo").mkdir(parents=True)
    (folder / "pyproject.toml").write_text('[project]\nname = "demo"\n\n[tool.cat-lint]\n', encoding="utf-8")
    (folder / "config.py").write_text('SQL = "sqlite:///data/core/core.db"\n', encoding="utf-8")
    (folder / "plugins" / "demo" / "plugin.py").write_text(PLUGIN, encoding="utf-8")
    return folder
