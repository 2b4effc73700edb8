"""Suppression comments: ``# noqa``, ``# noqa: CAT001, CAT004`` and the file-level ``# cat-lint: noqa``.

Only real comments count, so a ``"# noqa"`` inside a string suppresses
nothing.  Nothing is scanned for the (usual) file that never says "noqa".
Otherwise comments are found by one regular-expression pass that steps over
string literals (single, triple-quoted, with escapes and backslash
continuations) - the pure-Python tokenizer took ~60 ms on a 3,000-line file,
and the language server re-lints on every edit.  The pass gives up, and the
tokenizer decides as before, whenever its answer could differ from the
tokenizer's: an unterminated quote, unbalanced brackets or a trailing
or stray backslash (the tokenizer fails on those, and a file that does not tokenize -
it is being typed, or is CAT000 - falls back to a per-line scan), or a tab
in the indentation.

File-level forms: ``# cat-lint: noqa`` silences the whole file;
``# cat-lint: noqa: CAT001`` silences those codes in the whole file and is
recorded under line 0 of ``FileResult.noqa``.
"""

from __future__ import annotations

import re
import tokenize
from typing import Iterator

_LINE = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Za-z]+[0-9]*(?:[\s,]+[A-Za-z]+[0-9]+)*))?", re.IGNORECASE)
_FILE = re.compile(r"#\s*cat-lint\s*:\s*noqa(?::\s*(?P<codes>[A-Za-z]+[0-9]*(?:[\s,]+[A-Za-z]+[0-9]+)*))?", re.IGNORECASE)
_CODE = re.compile(r"[A-Za-z]+[0-9]*")

FILE_LINE = 0  # the key under which file-level, code-specific suppressions are kept

#: A line's ``# noqa`` or ``# noqa: CODES`` (group ``codes``), exactly as the
#: engine reads it: the editor's "Ignore CAT00x on this line" edits the
#: comment this finds, so both agree on what already suppresses.
LINE_NOQA = _LINE


def listed_codes(codes: str | None) -> list[str]:
    """The codes of a ``# noqa: ...`` list as written, in order (``LINE_NOQA``'s ``codes`` group)."""
    return _CODE.findall(codes or "")


def _codes(text: str | None) -> frozenset[str]:
    return frozenset(code.upper() for code in _CODE.findall(text or ""))


# A string literal (longest forms first) or a comment, scanning left to right;
# a lone quote means an unterminated string, where the tokenizer decides.  The
# leading lookahead lets the engine skip ordinary code at C speed.
_STRING_OR_COMMENT = re.compile(
    r"""(?=['"#])(?:'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"""
    r'''|"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'''
    r"""|'[^'\\\n]*(?:\\.[^'\\\n]*)*'"""
    r'''|"[^"\\\n]*(?:\\.[^"\\\n]*)*"'''
    r"|(?P<comment>#[^\r\n]*)"
    r"""|(?P<open>['"]))""",
    re.DOTALL,
)
# Any text that could be a suppression once it is known to sit in a comment.
_CANDIDATE = re.compile(r"#\s*(?:cat-lint\s*:\s*)?noqa", re.IGNORECASE)
_TAB_INDENT = re.compile(r"^[ \f]*\t", re.MULTILINE)
_STRAY_BACKSLASH = re.compile(r"\\(?!\r?\n)")


def _scanned_comments(source: str) -> list[tuple[int, str]] | None:
    """Comments found without the tokenizer, or None when only it can tell."""
    if _TAB_INDENT.search(source):
        return None
    found = []
    line, counted_to = 1, 0
    for match in _STRING_OR_COMMENT.finditer(source):
        if match.lastgroup == "open":
            return None
        comment = match.group("comment")
        if comment is not None and "noqa" in comment.lower():
            line += source.count("\n", counted_to, match.start())
            counted_to = match.start()
            found.append((line, comment))
    code = _STRING_OR_COMMENT.sub(" ", source)
    opened = code.count("(") + code.count("[") + code.count("{")
    closed = code.count(")") + code.count("]") + code.count("}")
    if opened != closed or code.rstrip().endswith("\\") or _STRAY_BACKSLASH.search(code):
        return None
    return found


_ODD_LINE_BREAK = re.compile("[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def _per_line_comments(source: str) -> list[tuple[int, str]]:
    """What the per-line fallback reads, on the lines that could suppress."""
    found = []
    last_line_start = -1
    number, counted_to = 1, 0
    for match in _CANDIDATE.finditer(source):
        start = source.rfind("\n", 0, match.start()) + 1
        if start == last_line_start:
            continue
        last_line_start = start
        end = source.find("\n", start)
        line = source[start:end if end >= 0 else len(source)]
        number += source.count("\n", counted_to, start)
        counted_to = start
        found.append((number, line[line.find("#"):]))
    return found


def _comments(source: str) -> list[tuple[int, str]]:
    # The scan answers for the tokenizer when the tokenizer would succeed; a
    # file can still fail to tokenize in ways the scan does not look for (an
    # inconsistent dedent), so its answer is only used when the per-line
    # fallback would say the same - or the tokenizer decides.
    scanned = _scanned_comments(source) if not _ODD_LINE_BREAK.search(source) else None
    if scanned is not None and _suppressions(scanned) == _suppressions(_per_line_comments(source)):
        return scanned
    return _tokenized_comments(source)


def generate_tokens(source: str) -> Iterator[tokenize.TokenInfo]:
    """:func:`tokenize.generate_tokens` on ``source``, its rows numbered as Python numbers lines.

    Read through ``io.StringIO``, the text would break at ``\\n`` only, and
    after a lone ``\\r`` (a line break to Python, libcst and LSP alike)
    every row would be off by one.  Each line is handed over ending in
    ``\\n``; rows and columns stay those of the source.
    """
    from cat_lint.findings import python_lines

    lines = iter([line + "\n" for line in python_lines(source)])
    return tokenize.generate_tokens(lambda: next(lines, ""))


def _tokenized_comments(source: str) -> list[tuple[int, str]]:
    from cat_lint.findings import python_lines

    try:
        return [(tok.start[0], tok.string) for tok in generate_tokens(source) if tok.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError, ValueError):
        found = []
        for number, line in enumerate(python_lines(source), start=1):
            at = line.find("#")
            if at >= 0:
                found.append((number, line[at:]))
        return found


def noqa_comments(source: str, lines: dict[int, frozenset[str]]) -> dict[int, tuple[int, int, str]]:
    """Where each line-level suppression stands: line -> (end of the code, comment column, comment).

    The comment runs to the end of its line, so its column is the line's
    length minus the comment's; the code ends where the spaces before it start.
    """
    from cat_lint.findings import python_lines

    wanted = {line for line in lines if line != FILE_LINE}
    if not wanted:
        return {}
    text_lines = python_lines(source)
    out: dict[int, tuple[int, int, str]] = {}
    for line, comment in _comments(source):
        if line not in wanted or line > len(text_lines) or not _LINE.search(comment):
            continue
        physical = text_lines[line - 1]
        if not physical.endswith(comment):
            continue
        col = len(physical) - len(comment)
        out[line] = (len(physical[:col].rstrip()), col, comment)
    return out


def parse_noqa(source: str) -> tuple[dict[int, frozenset[str]], bool]:
    """Return ``(line -> codes, file_noqa)``; an empty code set means every code."""
    if "noqa" not in source.lower() or not _CANDIDATE.search(source):
        return {}, False
    return _suppressions(_comments(source))


def _suppressions(comments: list[tuple[int, str]]) -> tuple[dict[int, frozenset[str]], bool]:
    lines: dict[int, frozenset[str]] = {}
    whole_file = False
    for line, comment in comments:
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


_EXISTING = re.compile(r"#\s*noqa\s*:\s*(?P<codes>[A-Za-z]+[0-9]+(?:[\s,]+[A-Za-z]+[0-9]+)*)", re.IGNORECASE)


def add_noqa(source: str, findings) -> tuple[str, int]:
    """``source`` with ``# noqa: CODES`` on each line that has findings; and how many lines changed.

    The comment goes on the finding's first line when that line ends outside
    a string (else on its last line); codes join an existing ``# noqa:``
    comment there.  CAT000 cannot be suppressed, and a file that does not
    tokenize is left alone.
    """
    try:
        tokens = list(generate_tokens(source))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return source, 0
    ends = {tok.start[0] for tok in tokens if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT)}
    wanted: dict[int, set[str]] = {}
    for finding in findings:
        if finding.code == "CAT000":
            continue
        line = next((n for n in (finding.span.start_line, finding.span.end_line) if n in ends), None)
        if line is not None:
            wanted.setdefault(line, set()).add(finding.code)
    if not wanted:
        return source, 0
    lines = _python_lines(source)
    changed = 0
    for number, codes in sorted(wanted.items()):
        if number > len(lines):
            continue
        text = lines[number - 1]
        body = text.rstrip("\r\n")
        ending = text[len(body):]
        existing = _EXISTING.search(body)
        if existing is not None:
            merged = sorted(set(_codes(existing.group("codes"))) | codes)
            body = body[:existing.start("codes")] + ", ".join(merged) + body[existing.end("codes"):]
        else:
            body = f"{body.rstrip()}  # noqa: {', '.join(sorted(codes))}"
        if body + ending != text:
            lines[number - 1] = body + ending
            changed += 1
    return "".join(lines), changed


def _python_lines(source: str) -> list[str]:
    from cat_lint.findings import python_lines

    return python_lines(source, keepends=True)
