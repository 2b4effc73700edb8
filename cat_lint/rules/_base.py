"""What every rule is made of, the kinds of rule, and what a rule reports.

A rule is a class holding its code, its documentation (Ruff's "what it does
/ why is this bad / example, use instead / fix" sections) and its VALID/INVALID examples
(Fixit's way: the examples are the rule's tests), next to the method its kind
declares.  A rule is of one of four kinds, and the engine runs each kind at
its own stage without naming any rule:

- ``ParseRule``: reported by the parse itself (``cat_lint.parse``); a file it
  refuses reaches no other rule;
- ``FileRule``: ``check`` reads the facts the collector gathered in the
  file's single walk (see ``cat_lint.facts``) and returns ``Report``
  objects holding nodes, not positions: the engine computes the positions
  of all reports of a file at once, only when there are some;
- ``IndexRule``: ``check_uses`` judges a file's key uses against the
  project's key index (``cat_lint.keys``), once every file is checked;
- ``NoqaRule``: ``check_result`` judges a file's suppression comments
  against all the file's findings, the index rules' included.
"""

from __future__ import annotations

import ast

import textwrap
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterable, Iterator

import libcst as cst

from cat_lint.findings import FileResult, Finding, KeyUse
from cat_lint.keys import KeyIndex
from cat_lint.noqa import FILE_LINE, is_suppressed
from cat_lint.settings import Settings
from cat_lint.facts import ModuleFacts


@dataclass(frozen=True)
class EditSpec:
    """An edit expressed on a node: ``insert`` before it, ``append`` after it, ``replace`` it,
    ``replace_outer`` (with its parentheses), replace its opening (``outer_first``) or
    closing (``outer_last``) parenthesis alone, or ``delete_lines``: remove the whole lines
    a statement stands on (indentation, trailing comment and line break included)."""

    kind: str
    node: cst.CSTNode
    text: str


@dataclass(frozen=True)
class FixSpec:
    title: str
    edits: tuple[EditSpec, ...]
    safe: bool = True


@dataclass(frozen=True)
class Report:
    code: str
    node: cst.CSTNode
    message: str
    fix: FixSpec | None = None


def block(text: str) -> str:
    """A rule's case written as a triple-quoted block, indented with the code around it, as a file.

    The block is read as the ``example`` is: dedented, without the line breaks
    that open and close it, and ending in one line break.
    """
    return textwrap.dedent(text).strip("\n") + "\n"


@dataclass(frozen=True)
class Invalid:
    """An example that must produce a finding of the rule at ``line``/``col`` (1-based line, 0-based column).

    ``source`` and ``fixed`` are files, most often written as triple-quoted ``block`` calls.

    ``message`` is compared in full when given; ``fixed`` is the source after
    the rule's fixes are applied (safe and unsafe).
    """

    source: str
    line: int
    col: int
    message: str | None = None
    fixed: str | None = None
    count: int | None = None  # how many findings of the rule the example yields, when not one
    bootstrap_hooks: tuple[str, ...] = ()  # hook names the example's settings add
    settings: tuple[tuple[str, object], ...] = ()  # other settings of the example: (("lost_update_user", True),)


@dataclass
class RuleContext:
    facts: ModuleFacts
    settings: Settings
    path: str


class Rule:
    """What every rule has: its code, its page and its cases.  A rule subclasses one of the kinds below."""

    code: str = ""
    name: str = ""
    summary: str = ""
    what: str = ""
    why: str = ""
    example: str = ""
    use_instead: str = ""  # the Example, corrected: it lints clean (tests/lint/test_rules.py checks both)
    fix_text: str = ""
    limits: str = ""
    fixable: str = "never"  # "never", "sometimes" or "always"
    VALID: tuple[str, ...] = ()
    INVALID: tuple[Invalid, ...] = ()

    @property
    def url(self) -> str | None:
        """The rule's web page (``cat_lint.home``); ``None`` while the project has no home."""
        from cat_lint.home import rule_page

        return rule_page(self.code)

    @property
    def docs(self) -> str:
        """The rule's page, rendered from the class (``cat-lint rule CODE`` prints it)."""
        parts = [f"# {self.code} ({self.name})", "", self.summary, ""]
        fixable = {"always": "Fix is always available.", "sometimes": "Fix is sometimes available."}.get(self.fixable)
        if fixable:
            parts += [f"*{fixable}*", ""]
        parts += ["## What it does", "", textwrap.dedent(self.what).strip(), ""]
        parts += ["## Why is this bad?", "", textwrap.dedent(self.why).strip(), ""]
        if self.example:
            parts += ["## Example", "", "```python", textwrap.dedent(self.example).strip("\n"), "```", ""]
        if self.use_instead:
            parts += ["Use instead:", "", "```python", textwrap.dedent(self.use_instead).strip("\n"), "```", ""]
        if self.fix_text:
            parts += ["## Fix", "", textwrap.dedent(self.fix_text).strip(), ""]
        if self.limits:
            parts += ["## Limits", "", textwrap.dedent(self.limits).strip(), ""]
        return "\n".join(parts).rstrip() + "\n"

    def silenced(self, finding: Finding, result: FileResult) -> bool:
        """Whether the file's noqa comments silence ``finding``: on its first or its last line, or file-wide."""
        span = finding.span
        lines = (span.start_line,) if span.start_line == span.end_line else (span.start_line, span.end_line)
        return is_suppressed(finding.code, lines, result.noqa, result.file_noqa)

    def __repr__(self) -> str:
        return f"<rule {self.code} {self.name}>"


class ParseRule(Rule):
    """Reported by the parse itself, never by a method: the file did not parse, so nothing in it,
    its noqa comments included, was checked, and no comment silences the finding."""

    def silenced(self, finding: Finding, result: FileResult) -> bool:
        return False


class FileRule(Rule):
    """A rule on one file: what the collector found in it, and nothing else."""

    def applies(self, facts: ModuleFacts) -> bool:
        """Whether the file holds what the rule looks at (by default a use of the Cat's stores);
        a file no rule applies to is done with once collected."""
        return bool(facts.store_calls or facts.user_refs)

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        raise NotImplementedError


class IndexRule(Rule):
    """A rule on the project's key index: each file's key uses, judged against every file's and the database's."""

    def check_uses(self, key_uses: Iterable[KeyUse], index: KeyIndex) -> Iterable[Finding]:
        raise NotImplementedError


class NoqaRule(Rule):
    """A rule on the noqa result: a parsed file's suppression comments, judged against all its findings.

    It runs only on a file that has such comments.  Its findings are about the
    comments themselves, so only a comment naming its code silences them (on
    the line, or file-wide): a bare ``# noqa`` is what it reports.
    """

    def check_result(self, result: FileResult, findings: Iterable[Finding]) -> Iterable[Finding]:
        raise NotImplementedError

    def silenced(self, finding: Finding, result: FileResult) -> bool:
        return (self.code in result.noqa.get(finding.span.start_line, ()) or bool(result.file_noqa)
                or self.code in result.noqa.get(FILE_LINE, ()))


class LiteralMemo:
    """``literal_text``'s answers for nodes seen again, owned by an incremental engine.

    The incremental parse hands the rules the same node objects edit after
    edit, so each literal is evaluated (a compile) once, not on every
    re-lint.  libcst nodes hash and compare by identity, and holding the
    node keeps its id from being reused.  Bounded crudely: emptied when it
    grows past ``limit`` entries.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self._texts: dict[cst.CSTNode, str | None] = {}

    def text(self, node: cst.BaseExpression) -> str | None:
        try:
            return self._texts[node]
        except KeyError:
            pass
        text = _evaluate(node)
        if len(self._texts) >= self.limit:
            self._texts.clear()
        self._texts[node] = text
        return text

    def __len__(self) -> int:
        return len(self._texts)


# The memo of the engine checking a file in this thread or task, if it keeps one
# (set by ``cat_lint.engine.Engine.check`` for the length of one check).
_ACTIVE_MEMO: ContextVar[LiteralMemo | None] = ContextVar("cat_lint_literal_memo", default=None)


@contextmanager
def using_literal_memo(memo: LiteralMemo | None) -> Iterator[None]:
    token = _ACTIVE_MEMO.set(memo)
    try:
        yield
    finally:
        _ACTIVE_MEMO.reset(token)


def _evaluate(node: cst.BaseExpression) -> str | None:
    try:
        value = node.evaluated_value
    except Exception:
        value = None
    return value if isinstance(value, str) else None


def literal_text(node: cst.BaseExpression) -> str | None:
    """The value of a plain string literal (no f-string parts), else None."""
    if not isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        return None
    memo = _ACTIVE_MEMO.get()
    return memo.text(node) if memo is not None else _evaluate(node)


def literal_prefix(node: cst.BaseExpression) -> str | None:
    """The text a computed string surely starts with: ``f"settings_{n}"``, ``"settings_" + n``,
    ``"settings_%s" % n`` and ``"settings_{}".format(n)`` all start with ``settings_``."""
    text = literal_text(node)
    if text is not None:
        return text
    if isinstance(node, cst.FormattedString):
        if "b" in node.prefix.lower():
            return None
        raw = []
        for part in node.parts:
            if not isinstance(part, cst.FormattedStringText):
                break
            raw.append(part.value.replace("{{", "{").replace("}}", "}"))
        quote = node.start[len(node.prefix):]
        try:
            value = ast.literal_eval(node.prefix.lower().replace("f", "") + quote + "".join(raw) + quote)
        except (SyntaxError, ValueError):
            return None
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        return literal_prefix(node.left)
    if isinstance(node, cst.BinaryOperation):
        if isinstance(node.operator, cst.Add):
            return literal_prefix(node.left)
        left = literal_text(node.left)
        if isinstance(node.operator, cst.Modulo) and left is not None:
            return left.split("%", 1)[0]
        return None
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "format":
        template = literal_text(node.func.value)
        return template.split("{", 1)[0] if template is not None else None
    return None


def call_text(scope_receiver: str, verb: str, key: cst.BaseExpression | None) -> str:
    """``store.save("theme", ...)`` as messages show a call."""
    text = literal_text(key) if key is not None else None
    shown = f'"{text}"' if text is not None and len(text) <= 40 else "..."
    return f"{scope_receiver}.{verb}({shown}{', ...' if verb in ('save', 'update') else ''})"
