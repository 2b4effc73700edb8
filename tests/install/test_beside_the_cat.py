"""The tools and the runtime installed where a plugin author already has the real Cat.

Each test builds a throwaway environment from this checkout's wheels and the
real ``cheshire-cat-ai`` (see ``environments.py``), in the order a user might
install them, then checks what that user would notice:

* the Cat's files are byte for byte what its RECORD says, so nothing of ours
  overwrote them (and uninstalling ours removes nothing of the Cat's);
* the Cat still works: its own ``from cat import store, user``, a save and a
  load through its ``Store``;
* pytest starts;
* ``cat-lint``, ``cat-lsp`` and ``cat-store`` work, and never import a
  package named ``cat``.

Never skipped: an environment that cannot be built is a failure.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import make_test_lsp_client

from environments import CAT, Venv, record_mismatches

pytestmark = pytest.mark.slow

PLUGIN = """\
from cat import store


async def remember(theme):
    store.save("theme", theme)
"""

# The Cat's own database layer, as its plugins reach it; run in a project folder.
CAT_SMOKE = """\
import asyncio
from cat import store, user
from cat.db import Store
from cat.db.models import create_tables

create_tables()

async def main():
    await Store.save("smoke", {"n": 9.5, "items": ["a"]})
    return await Store.load("smoke")

print(asyncio.run(main()))
"""

NO_CAT_IMPORTED = """\
import sys
{call}
leaked = sorted(m for m in sys.modules if m == "cat" or m.startswith("cat."))
print("imported:", leaked)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A plain Cat project: config.py, plugins/, data/; no pyproject.toml, no .git."""
    root = tmp_path / "project"
    (root / "plugins" / "themes").mkdir(parents=True)
    (root / "plugins" / "themes" / "themes.py").write_text(PLUGIN, encoding="utf-8")
    (root / "config.py").write_text("# the Cat's settings\n", encoding="utf-8")
    (root / "data").mkdir()
    return root


def assert_cat_intact(venv: Venv) -> None:
    checked, wrong = record_mismatches(venv, "cheshire-cat-ai")
    assert checked > 100, f"only {checked} files of the Cat's RECORD checked"
    assert wrong == [], f"the Cat's installed files changed: {wrong[:10]}"


def assert_cat_works(venv: Venv, project: Path) -> None:
    done = venv.run(venv.python, "-c", CAT_SMOKE, cwd=project, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "{'n': 9.5, 'items': ['a']}"


def assert_pytest_starts(venv: Venv, tmp_path: Path) -> None:
    """pytest collects and runs a trivial test: every installed pytest11 plugin loaded."""
    folder = tmp_path / "pytest-start"
    folder.mkdir(exist_ok=True)
    (folder / "test_trivial.py").write_text("def test_trivial():\n    assert True\n", encoding="utf-8")
    done = venv.run(venv.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_trivial.py", cwd=folder, timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "1 passed" in done.stdout


def assert_tools_work(venv: Venv, project: Path) -> None:
    lint = venv.run(venv.bin("cat-lint"), "--output-format", "json", "--no-cache", "plugins", cwd=project)
    assert lint.returncode == 1, lint.stderr
    assert [f["code"] for f in json.loads(lint.stdout)] == ["CAT004"]

    store = venv.run(venv.bin("cat-store"), "keys", "--json", cwd=project)
    assert store.returncode == 0, store.stderr
    assert {k["key"] for k in json.loads(store.stdout)} >= {"smoke"}  # written by the Cat itself

    # Neither tool imports any package named `cat`, the Cat's or ours.
    for call in (
        "from cat_lint.cli import main; main(['--no-cache', '--exit-zero', 'plugins'])",
        "from cat_lint.project.cli import main; main(['keys'])",
        "import cat_lsp.server",
    ):
        done = venv.run(venv.python, "-c", NO_CAT_IMPORTED.format(call=call), cwd=project)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().splitlines()[-1] == "imported: []", call

    assert asyncio.run(lsp_diagnostics(venv, project)) == ["CAT004"]


async def lsp_diagnostics(venv: Venv, project: Path) -> list[str]:
    """Start that environment's cat-lsp over stdio, initialize, open the plugin: the codes it reports."""
    client = make_test_lsp_client()
    await client.start_io(str(venv.bin("cat-lsp")), cwd=str(project))
    try:
        await asyncio.wait_for(
            client.initialize_session(
                types.InitializeParams(
                    capabilities=types.ClientCapabilities(),
                    workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="project")],
                )
            ),
            60,
        )
        path = project / "plugins" / "themes" / "themes.py"
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=path.as_uri(), language_id="python", version=1, text=PLUGIN)
            )
        )
        await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 60)
        return [d.code for d in client.diagnostics[path.as_uri()]]
    finally:
        await asyncio.wait_for(client.shutdown_session(), 30)
        await client.stop()


@pytest.mark.parametrize("order", ["the Cat first", "the tools first"])
def test_the_tools_install_and_work_beside_the_real_cat(order, new_venv, project, tmp_path):
    venv = new_venv("env")
    steps = [[CAT], ["tools"]] if order == "the Cat first" else [["tools"], [CAT]]
    for requirements in steps:
        venv.install(*requirements)

    assert_cat_intact(venv)
    assert_cat_works(venv, project)
    assert_pytest_starts(venv, tmp_path)
    assert_tools_work(venv, project)

    venv.uninstall("cat-devtools")
    assert_cat_intact(venv)
    assert_cat_works(venv, project)


def test_the_runtime_installed_over_the_cat_leaves_it_alone_and_says_so(new_venv, project, tmp_path):
    """pip cannot be told the two conflict, so the runtime's wheel keeps its `cat` out of the Cat's way."""
    venv = new_venv("env")
    venv.install(CAT)
    venv.install("runtime")  # brings the tools too

    assert_cat_intact(venv)
    assert_cat_works(venv, project)
    assert_pytest_starts(venv, tmp_path)
    assert_tools_work(venv, project)

    # The runtime's fixtures say that the Cat's `cat` is the one in use here, and what to do.
    tests = tmp_path / "plugin-tests"
    tests.mkdir()
    (tests / "test_plugin.py").write_text(
        textwrap.dedent(
            """
            async def test_visits(cat_project, as_user):
                pass
            """
        ),
        encoding="utf-8",
    )
    done = venv.run(venv.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=tests, timeout=180)
    assert done.returncode == 1, done.stdout
    assert "1 error" in done.stdout
    assert "the real Cat's (cheshire-cat-ai 2.0.23)" in done.stdout
    assert "run these tests in a virtual environment without cheshire-cat-ai" in done.stdout

    venv.uninstall("cat-devtools-runtime", "cat-devtools")
    assert_cat_intact(venv)
    assert_cat_works(venv, project)


def test_the_runtime_on_top_of_the_cats_files_refuses_to_import_and_says_how_to_recover(new_venv, project, wheels):
    """Routes other than a pip install can still mix the two (pip --target, a copied tree, cat-devtools 0.1)."""
    venv = new_venv("env")
    venv.install(CAT)
    target = venv.site_packages / "cat"
    # What a plain `cat/` wheel does: the runtime's files written into the Cat's package folder.
    import zipfile

    with zipfile.ZipFile(wheels["cat-devtools-runtime"]) as archive:
        for name in archive.namelist():
            if name.startswith("cat_devtools_runtime/cat/"):
                dest = target / name.removeprefix("cat_devtools_runtime/cat/")
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(archive.read(name))
    venv.install("tools")  # the runtime imports the shared resolver from the tools

    done = venv.run(venv.python, "-c", "from cat import store, user", cwd=project)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()
    message = "\n".join(last[-8:])
    assert "ImportError: the cat-devtools runtime's `cat` package sits on top of the real Cat's files" in message
    assert "pip install --force-reinstall --no-deps cheshire-cat-ai==2.0.23" in message
    assert "Traceback" in done.stderr  # an ImportError, as Python reports one; the message is what matters

    # The recovery it prints works.
    for line in message.splitlines():
        if line.strip().startswith("pip install --force-reinstall"):
            venv.install("--force-reinstall", "--no-deps", line.split()[-1])
    assert_cat_intact(venv)
    assert_cat_works(venv, project)
