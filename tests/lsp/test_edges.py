"""Edge cases of the server's own conversions, checked directly (fast, no subprocess)."""

from __future__ import annotations

from lsprotocol import types

from cat_lint.findings import Span
from cat_lsp.code_actions import minimal_edit, noqa_edit
from cat_lsp.completion import quoted, reduced_source
from cat_lsp.positions import UTF8, UTF16, UTF32, EditorPositions

from lsp_support import apply_edits


def test_columns_in_every_encoding_round_trip():
    text = 'a = "é😀x"\r\nb = 1\rc = 2\n'
    # Code points: a=0 ' '=1 '='=2 ' '=3 '"'=4 é=5 😀=6 x=7 '"'=8; the line ends at 9.
    for encoding, expected in ((UTF16, 10), (UTF8, 13), (UTF32, 9)):
        lines = EditorPositions(text, encoding)
        pos = lines.position(1, 8)
        assert pos.line == 0
        assert lines.engine_position(pos) == (1, 8)
        assert lines.position(1, 9).character == expected
    lines = EditorPositions(text)
    assert lines.lines == ['a = "é😀x"', "b = 1", "c = 2", ""]
    assert lines.position(3, 4) == types.Position(line=2, character=4)
    # Past the end is clamped, never an error.
    assert lines.position(99, 0) == types.Position(line=3, character=0)
    # A column in the middle of a surrogate pair maps to the character after it.
    assert EditorPositions("😀a").to_code_points(0, 1) == 1


def test_noqa_edit_cases():
    text = "x = load('a')\ny = load('b')  # noqa: CAT004\nz = load('c')  # noqa\nw = 1  # type: ignore\n"
    line, edit = noqa_edit(text, 1, 1, "CAT006")
    assert line == 1 and apply_edits(text, [edit]).splitlines()[0] == "x = load('a')  # noqa: CAT006"
    line, edit = noqa_edit(text, 2, 2, "CAT006")
    assert apply_edits(text, [edit]).splitlines()[1] == "y = load('b')  # noqa: CAT004, CAT006"
    assert noqa_edit(text, 2, 2, "CAT004") is None  # already there
    assert noqa_edit(text, 3, 3, "CAT006") is None  # a bare noqa silences everything already
    _, edit = noqa_edit(text, 4, 4, "CAT006")
    assert apply_edits(text, [edit]).splitlines()[3] == "w = 1  # type: ignore # noqa: CAT006"
    # A finding starting on a line that ends inside a multi-line string: the comment goes on its last line.
    text = 'save("k", """\n  text\n""")\n'
    line, edit = noqa_edit(text, 1, 3, "CAT002")
    assert line == 3 and apply_edits(text, [edit]).splitlines()[2] == '""")  # noqa: CAT002'


def test_minimal_edit_and_quoting():
    old = "a = (1, 2)\nb = 'é'\n"
    new = "a = [1, 2]\nb = 'é'\n"
    edit = minimal_edit(old, new, EditorPositions(old))
    assert apply_edits(old, [edit]) == new
    assert edit.range.start == types.Position(line=0, character=4)
    assert quoted('it\'s "x"\\', "'") == "it\\'s \"x\"\\\\"
    assert quoted('it\'s "x"', '"') == "it's \\\"x\\\""


def test_reduced_source_keeps_imports_and_the_cursor_line():
    lines = ["import os", "from cat import (", "    store as s,", ")", "def f():", "    s.load('a", "x = 1"]
    text, at = reduced_source(lines, 6)
    assert text.splitlines() == ["import os", "from cat import (", "    store as s,", ")", "    s.load('a"]
    assert at == 5
    assert Span(1, 0, 1, 0)  # the engine's spans are plain data
