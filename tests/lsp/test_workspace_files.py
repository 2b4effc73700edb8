"""Files in a workspace that used to stop its indexing (issue 16): a symlink loop, a huge file, a name that is not UTF-8.

The server indexes a folder with the command line's discovery and reading
code, so these are the command line's fixes seen through a real client:
the other files of the folder still count (a key saved in them is known).
"""

from __future__ import annotations

import os
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_support import diagnostics_where, open_doc, position_of, start

SAVES_COUNTR = 'from cat import store\n\n\nasync def f():\n    await store.save("countr", 0)\n'


def _countr_is_known(diagnostics: list[types.Diagnostic]) -> bool:
    return len(diagnostics) > 0 and not any('"countr"' in d.message for d in diagnostics)


async def test_a_symlink_loop_and_a_huge_file_do_not_stop_the_index(client: LanguageClient, project: Path):
    demo = project / "plugins" / "demo"
    os.symlink("b.py", demo / "a.py")
    os.symlink("a.py", demo / "b.py")
    with open(demo / "huge.py", "wb") as handle:
        handle.truncate(8 * 1024**3)  # sparse: no disk, and never read
    (demo / "saver.py").write_text(SAVES_COUNTR, encoding="utf-8")
    await start(client, project)
    uri = open_doc(client, demo / "plugin.py")
    # saver.py was indexed: "countr" is saved somewhere, so no CAT006 for it.
    await diagnostics_where(client, uri, _countr_is_known)


async def test_a_file_name_that_is_not_utf8_is_indexed_and_found(client: LanguageClient, project: Path):
    demo = project / "plugins" / "demo"
    saver = Path(os.fsdecode(bytes(demo))) / os.fsdecode(b"\xff\xfe.py")
    saver.write_text(SAVES_COUNTR, encoding="utf-8")
    await start(client, project)
    path = demo / "plugin.py"
    uri = open_doc(client, path)
    await diagnostics_where(client, uri, _countr_is_known)
    text = path.read_text(encoding="utf-8")
    refs = await client.text_document_references_async(types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position_of(text, '"countr"', 2),
        context=types.ReferenceContext(include_declaration=True)))
    assert sorted(r.uri for r in refs) == sorted([uri, saver.as_uri()])
    assert saver.as_uri().endswith("/%FF%FE.py")
