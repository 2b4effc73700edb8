"""What every rule is made of, and what a rule reports.

A rule is a class holding its code, its documentation (Ruff's "what it does
/ why is this bad / example, use instead / fix" sections) and its VALID/INVALID examples
(Fixit's way: the examples are the rule's tests), next to its ``check``.
``check`` reads the facts the collector gathered in the file's single walk
(see ``cat_lint.facts``) and returns ``Report`` objects holding nodes,
not positions: the engine computes the positions of all reports of a file
at once, only when there are some.
"""

from __future__ import annotations

import ast

import textwrap
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterable, Iterator

import libcst as cst

from cat_lint.facts import ModuleFacts
from cat_lint.settings import Settings



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


@dataclass(frozen=True)
class Invalid:
    """An example that must produce a finding of the rule at ``line``/``col`` (1-based line, 0-based column).

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
    project_wide: bool = False
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

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        return ()

    def __repr__(self) -> str:
        return f"<rule {self.code} {self.name}>"


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
