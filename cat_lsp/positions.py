"""Converting between the engine's positions and the editor's.

The engine counts like libcst: 1-based lines and 0-based columns in code
points.  LSP counts 0-based lines and columns in UTF-16 code units unless
client and server agreed on UTF-8 or UTF-32 at initialisation.  Every
feature converts here, at the edge, with the document's current text, so
that a key containing "é" or an emoji still gets the right squiggle.

The unit counting is pygls's :class:`pygls.workspace.PositionCodec` (the
same code pygls uses to apply the editor's changes); this module adds what
the engine needs around it: LSP's line breaks, 1-based lines, clamping to
the document, and :class:`cat_lint.findings.Span`.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace import PositionCodec

from cat_lint.findings import Span

UTF8 = types.PositionEncodingKind.Utf8
UTF16 = types.PositionEncodingKind.Utf16
UTF32 = types.PositionEncodingKind.Utf32

# str.splitlines also breaks on these, which LSP does not.
_NOT_LSP_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


class EditorPositions:
    """One version of a document's lines, for converting positions between the engine and the editor.

    Lines are split the way LSP splits them (``\\n``, ``\\r\\n`` and a lone
    ``\\r``), which is also how Python's tokenizer counts them.
    """

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.text = text
        self.encoding = encoding
        self.codec = PositionCodec(types.PositionEncodingKind(encoding))
        self.lines = text.splitlines(keepends=False) if text else [""]
        if any(c in text for c in _NOT_LSP_BREAKS):
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
        col = max(0, min(col, len(self.line(line0))))
        if not 0 <= line0 < len(self.lines):
            return col
        return self.codec.position_to_client_units(self.lines, types.Position(line=line0, character=col)).character

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
        """An LSP column in the negotiated units, as a code-point column (clamped to the line)."""
        if not 0 <= line0 < len(self.lines):
            return 0
        text = self.lines[line0]
        units = max(0, min(units, self.codec.client_num_units(text)))
        return self.codec.position_from_client_units(self.lines, types.Position(line=line0, character=units)).character

    def engine_position(self, position: types.Position) -> tuple[int, int]:
        """``(line, col)`` as the engine counts: 1-based line, code-point column."""
        return position.line + 1, self.to_code_points(position.line, position.character)

    def span(self, rng: types.Range) -> Span:
        start = self.engine_position(rng.start)
        end = self.engine_position(rng.end)
        return Span(start[0], start[1], end[0], end[1])


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
