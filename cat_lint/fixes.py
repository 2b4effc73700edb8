"""Applying fixes to source text: the one implementation behind ``--fix``,
``--diff`` and the editor's fix-all.

Edits are positioned by (line, code-point column) spans, as findings are.
A fix is applied whole or not at all: when one of its edits overlaps an edit
already accepted, the fix waits for the next round (callers re-lint and call
again until nothing applies).
"""

from __future__ import annotations

import re
from typing import Iterable

from cat_lint.findings import Finding, Fix

_NEWLINE = re.compile(r"\r\n?|\n")


class LineIndex:
    """Converts libcst-style (1-based line, 0-based column) positions to string offsets."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(source)]

    def offset(self, line: int, col: int) -> int:
        if line < 1:
            return 0
        if line > len(self.starts):
            return len(self.source)
        return min(self.starts[line - 1] + col, len(self.source))

    def position(self, offset: int) -> tuple[int, int]:
        from bisect import bisect_right

        line = bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1]


def _fix_ranges(fix: Fix, lines: LineIndex) -> list[tuple[int, int, str]]:
    return sorted((lines.offset(e.span.start_line, e.span.start_col), lines.offset(e.span.end_line, e.span.end_col), e.text) for e in fix.edits)


def _overlaps(ranges: list[tuple[int, int, str]], taken: list[tuple[int, int]]) -> bool:
    for start, end, _ in ranges:
        for t_start, t_end in taken:
            # Two insertions at one point would be ambiguous; touching ranges are fine.
            if start < t_end and t_start < end or (start == end == t_start == t_end) or (start == end and t_start < start < t_end) or (t_start == t_end and start < t_start < end):
                return True
    return False


def apply_fixes(source: str, findings: Iterable[Finding], safe_only: bool = True) -> tuple[str, int]:
    """Apply the fixes of ``findings`` that do not overlap; return ``(new_source, applied_count)``."""
    lines = LineIndex(source)
    taken: list[tuple[int, int]] = []
    edits: list[tuple[int, int, str]] = []
    applied = 0
    seen: set[Fix] = set()
    for finding in sorted(findings, key=lambda f: f.span):
        fix = finding.fix
        if fix is None or (safe_only and not fix.safe) or fix in seen:
            continue
        seen.add(fix)
        ranges = _fix_ranges(fix, lines)
        if _overlaps(ranges, taken):
            continue
        taken.extend((start, end) for start, end, _ in ranges)
        edits.extend(ranges)
        applied += 1
    if not edits:
        return source, 0
    out = []
    cursor = 0
    for start, end, text in sorted(edits, key=lambda e: (e[0], e[1])):
        out.append(source[cursor:start])
        out.append(text)
        cursor = end
    out.append(source[cursor:])
    return "".join(out), applied


def unified_diff(old: str, new: str, name: str) -> str:
    """``--diff``'s text: a unified diff from ``a/name`` to ``b/name`` that ``git apply`` and ``patch`` accept.

    Lines are cut at ``\\n`` only, as those tools cut them: a lone ``\\r``
    (a line break to Python) stays inside its diff line, and a CRLF line
    keeps its ``\\r``.  A last line without a line break is marked the way
    ``diff`` marks it, or the next line of the diff would be glued to it.
    """
    import difflib

    out = []
    for line in difflib.unified_diff(_diff_lines(old), _diff_lines(new), f"a/{name}", f"b/{name}"):
        out.append(line)
        if not line.endswith("\n"):
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)


def _diff_lines(text: str) -> list[str]:
    pieces = text.split("\n")
    lines = [piece + "\n" for piece in pieces[:-1]]
    return lines + [pieces[-1]] if pieces[-1] else lines
