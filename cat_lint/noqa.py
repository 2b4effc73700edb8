"""Suppression comments: ``# noqa``, ``# noqa: CAT001, CAT004`` and the file-level ``# cat-lint: noqa``.

Only real comments count, so a ``"# noqa"`` inside a string suppresses
nothing: comments are found with the tokenizer.  The tokenizer is skipped
entirely for the (usual) file that never says "noqa", and a file that does
not tokenize (it is being typed, or is CAT000) falls back to a per-line scan.

File-level forms: ``# cat-lint: noqa`` silences the whole file;
``# cat-lint: noqa: CAT001`` silences those codes in the whole file and is
recorded under line 0 of ``FileResult.noqa``.
"""

from __future__ import annotations

import io
import re
import tokenize

_LINE = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Za-z]+[0-9]*(?:[\s,]+[A-Za-z]+[0-9]+)*))?", re.IGNORECASE)
_FILE = re.compile(r"#\s*cat-lint\s*:\s*noqa(?::\s*(?P<codes>[A-Za-z]+[0-9]*(?:[\s,]+[A-Za-z]+[0-9]+)*))?", re.IGNORECASE)
_CODE = re.compile(r"[A-Za-z]+[0-9]*")

FILE_LINE = 0  # the key under which file-level, code-specific suppressions are kept


def _codes(text: str | None) -> frozenset[str]:
    return frozenset(code.upper() for code in _CODE.findall(text or ""))


def _comments(source: str) -> list[tuple[int, str]]:
    try:
        return [
            (tok.start[0], tok.string)
            for tok in tokenize.generate_tokens(io.StringIO(source).readline)
            if tok.type == tokenize.COMMENT
        ]
    except (tokenize.TokenError, SyntaxError, ValueError):
        found = []
        for number, line in enumerate(source.splitlines(), start=1):
            at = line.find("#")
            if at >= 0:
                found.append((number, line[at:]))
        return found


def parse_noqa(source: str) -> tuple[dict[int, frozenset[str]], bool]:
    """Return ``(line -> codes, file_noqa)``; an empty code set means every code."""
    lowered = source.lower()
    if "noqa" not in lowered:
        return {}, False
    lines: dict[int, frozenset[str]] = {}
    whole_file = False
    for line, comment in _comments(source):
        file_match = _FILE.search(comment)
        if file_match:
            if file_match.group("codes"):
                lines[FILE_LINE] = lines.get(FILE_LINE, frozenset()) | _codes(file_match.group("codes"))
            else:
                whole_file = True
            continue
        match = _LINE.search(comment)
        if match is None:
            continue
        codes = _codes(match.group("codes"))
        if line in lines and (not lines[line] or not codes):
            lines[line] = frozenset()
        else:
            lines[line] = lines.get(line, frozenset()) | codes
    return lines, whole_file


def is_suppressed(code: str, lines: tuple[int, ...], noqa: dict[int, frozenset[str]], file_noqa: bool) -> bool:
    """Whether a finding with ``code`` on any of ``lines`` is silenced."""
    if file_noqa:
        return True
    if code in noqa.get(FILE_LINE, ()):
        return True
    for line in lines:
        codes = noqa.get(line)
        if codes is not None and (not codes or code in codes):
            return True
    return False
