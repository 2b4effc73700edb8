"""Converting between the engine's positions and the editor's.

The engine counts like libcst: 1-based lines and 0-based columns in code
points.  LSP counts 0-based lines and columns in UTF-16 code units unless
client and server agreed on UTF-8 or UTF-32 at initialisation.  Every
feature converts here, at the edge, with the document's current text, so
that a key containing "é" or an emoji still gets the right squiggle.
"""

from __future__ import annotations

from lsprotocol import types

from cat_lint.findings import Span

UTF8 = types.PositionEncodingKind.Utf8
UTF16 = types.PositionEncodingKind.Utf16
UTF32 = types.PositionEncodingKind.Utf32


def _unit_len(char: str, encoding: str) -> int:
    point = ord(char)
    if encoding == UTF16:
        return 2 if point > 0xFFFF else 1
    if encoding == UTF8:
        if point < 0x80:
            return 1
        if point < 0x800:
            return 2
        if point < 0x10000:
            return 3
        return 4
    return 1


class LineIndex:
    """The lines of one version of a document, for converting columns.

    Lines are split the way LSP splits them (``\\n``, ``\\r\\n`` and a lone
    ``\\r``), which is also how Python's tokenizer counts them.
    """

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.text = text
        self.encoding = encoding
        self.lines = text.splitlines(keepends=False) if text else [""]
        # str.splitlines also breaks on \x0b, \x0c, \x1c.. which LSP does not;
        # re-split by hand only when such a character is present.
        if any(c in text for c in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
            self.lines = _split_lsp_lines(text)
        if text.endswith(("\n", "\r")):
            self.lines.append("")

    def line(self, index0: int) -> str:
        if 0 <= index0 < len(self.lines):
            return self.lines[index0]
        return ""

    # -- engine -> LSP ----------------------------------------------------
    def to_units(self, line0: int, col: int) -> int:
        """A code-point column on a 0-based line, in the negotiated units."""
        text = self.line(line0)
        col = max(0, min(col, len(text)))
        if self.encoding == UTF32 or text.isascii():
            return col
        return sum(_unit_len(c, self.encoding) for c in text[:col])

    def position(self, line1: int, col: int) -> types.Position:
        line0 = max(0, line1 - 1)
        if line0 >= len(self.lines):
            # Past the end (an engine position at EOF): clamp to the last character.
            line0 = len(self.lines) - 1
            col = len(self.lines[line0])
        return types.Position(line=line0, character=self.to_units(line0, col))

    def range(self, span: Span) -> types.Range:
        return types.Range(start=self.position(span.start_line, span.start_col), end=self.position(span.end_line, span.end_col))

    # -- LSP -> engine ----------------------------------------------------
    def to_code_points(self, line0: int, units: int) -> int:
        """An LSP column in the negotiated units, as a code-point column."""
        text = self.line(line0)
        if self.encoding == UTF32 or text.isascii():
            return max(0, min(units, len(text)))
        seen = 0
        for index, char in enumerate(text):
            if seen >= units:
                return index
            seen += _unit_len(char, self.encoding)
        return len(text)

    def engine_position(self, position: types.Position) -> tuple[int, int]:
        """``(line, col)`` as the engine counts: 1-based line, code-point column."""
        return position.line + 1, self.to_code_points(position.line, position.character)

    def span(self, rng: types.Range) -> Span:
        start = self.engine_position(rng.start)
        end = self.engine_position(rng.end)
        return Span(start[0], start[1], end[0], end[1])

    def end_position(self) -> types.Position:
        last = len(self.lines) - 1
        return types.Position(line=last, character=self.to_units(last, len(self.lines[last])))


def _split_lsp_lines(text: str) -> list[str]:
    lines: list[str] = []
    start = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\n" or char == "\r":
            lines.append(text[start:i])
            if char == "\r" and i + 1 < len(text) and text[i + 1] == "\n":
                i += 1
            start = i + 1
        i += 1
    lines.append(text[start:])
    if text.endswith(("\n", "\r")):
        lines.pop()  # the caller appends the empty last line itself
    return lines
