"""Columns in the encoding client and server agreed on, through a real session.

An emoji is 2 UTF-16 code units, 4 UTF-8 bytes and 1 code point: a finding
after one on the same line must move by that much.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_support import diagnostics_where, open_doc, push_capabilities, start

TEXT = 'from cat import store\n\n\nasync def f():\n    a = "😀é"; return await store.load("nowhere")\n'


@pytest.mark.parametrize("encoding, width", [
    (types.PositionEncodingKind.Utf16, 3),  # 😀 = 2, é = 1
    (types.PositionEncodingKind.Utf8, 6),  # 😀 = 4, é = 2
    (types.PositionEncodingKind.Utf32, 2),
])
async def test_finding_columns_follow_the_agreed_encoding(client: LanguageClient, project: Path, encoding, width):
    caps = push_capabilities()
    caps.general = types.GeneralClientCapabilities(position_encodings=[encoding])
    result = await start(client, project, caps)
    assert result.capabilities.position_encoding == encoding
    uri = open_doc(client, project / "plugins" / "demo" / "wide.py", TEXT)
    diagnostics = await diagnostics_where(client, uri, lambda d: any(x.code == "CAT006" for x in d))
    cat006 = next(d for d in diagnostics if d.code == "CAT006")
    line = TEXT.splitlines()[4]
    code_points = line.index('"nowhere"')
    assert cat006.range.start == types.Position(line=4, character=code_points - 2 + width)
