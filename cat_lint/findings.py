"""What the engine hands to its callers: findings, their fixes, and key uses.

Positions follow libcst: lines are 1-based, columns are 0-based counts of
code points.  Each output format (and the language server, which speaks
UTF-16) converts at its own edge, never here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, order=True)
class Span:
    start_line: int
    start_col: int
    end_line: int
    end_col: int


@dataclass(frozen=True)
class Edit:
    """Replace the text in ``span`` by ``text`` (an insertion when the span is empty)."""

    span: Span
    text: str


@dataclass(frozen=True)
class Fix:
    """A change that resolves a finding.

    ``safe`` fixes keep the program's meaning (turning a tuple literal into a
    list before it is saved) and are applied by ``--fix`` and by the
    editor's fix-all; unsafe ones are offered, never applied in bulk.
    """

    title: str
    edits: tuple[Edit, ...]
    safe: bool = True


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    path: str
    span: Span
    fix: Fix | None = None
    # Alternatives offered one by one in an editor ("did you mean" keys).
    suggestions: tuple[Fix, ...] = ()
    # Other places the message names (path, span, what is there): the editor shows them as related information.
    related: tuple[tuple[str, Span, str], ...] = ()


WRITE_VERBS = frozenset({"save", "update"})


@dataclass(frozen=True)
class KeyUse:
    """A literal key passed to a ``store``/``user`` method: the workspace's key index is made of these."""

    key: str
    scope: Literal["store", "user"]
    verb: str
    path: str
    span: Span  # the string literal, quotes included
    # The JSON type the call gives the key, when the code says it plainly: what a save writes,
    # the default of a load or an update ("array", "object", "string", "integer", "number",
    # "boolean", "null"); None when unknown.  CAT010 compares them.
    json_type: str | None = None
    value_span: Span | None = None  # the value or default that gives that type, when there is one

    @property
    def writes(self) -> bool:
        return self.verb in WRITE_VERBS


@dataclass
class FileResult:
    """Everything the engine learns from one file, before project-wide rules run.

    It is what the command line caches per file and what the language server
    keeps per document: ``findings`` from the per-file rules, ``key_uses`` for
    the project-wide index, ``noqa`` (line -> codes, an empty set meaning
    every code) and ``file_noqa`` for suppression after the project-wide
    rules have added theirs.
    """

    path: str
    findings: list[Finding] = field(default_factory=list)
    key_uses: list[KeyUse] = field(default_factory=list)
    noqa: dict[int, frozenset[str]] = field(default_factory=dict)
    file_noqa: bool = False
    # line -> (column where the code before the comment ends, column of the comment, comment text),
    # for the line-level suppressions: CAT100 points at them and removes what they do not use.
    noqa_comments: dict[int, tuple[int, int, str]] = field(default_factory=dict)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def python_lines(text: str, keepends: bool = False) -> list[str]:
    """The lines of source text as Python counts them: broken at ``\\n``, ``\\r\\n`` and ``\\r`` only.

    ``str.splitlines`` also breaks at U+2028, U+0085, ``\\x1c``... which may
    stand in a comment or a string; rows would then disagree with Python's.
    """
    if "\r" not in text:  # the common case, at the speed of str.split
        pieces = text.split("\n")
        last = pieces.pop()
        if keepends:
            pieces = [piece + "\n" for piece in pieces]
        if last:
            pieces.append(last)
        return pieces
    lines, start = [], 0
    for match in _LINE_BREAK.finditer(text):
        lines.append(text[start:match.end() if keepends else match.start()])
        start = match.end()
    if start < len(text):
        lines.append(text[start:])
    return lines
