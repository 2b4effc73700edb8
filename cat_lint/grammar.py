"""Syntax each Python version added, judged for the target version alone (CAT000).

What a file may use depends on the ``target-version`` setting, not on the
Python running cat-lint: a 3.13 running cat-lint must refuse for a py311
target what 3.11 refuses, and a 3.10 must accept for a py312 target what
3.12 accepts.  The running Python's own parser cannot say either (its
``feature_version`` gates only part of the grammar, and it knows nothing
newer than itself), so the syntax added since 3.10 is listed here and
looked for explicitly:

- 3.11: ``except*``; a starred expression in a subscript or in a ``*args``
  annotation (PEP 646);
- 3.12: type parameter lists and the ``type`` statement (PEP 695), and
  f-strings that need the new grammar (PEP 701): a replacement field that
  reuses the f-string's quote, holds a backslash or a comment, or breaks
  the line of a single-quoted f-string;
- 3.13: type parameter defaults (PEP 696).

The same checks run on Python's AST (when the running Python parsed the
file) and on libcst's tree (when only libcst could), and report the same
position: the construct's first character.

``lower`` turns a libcst module that uses newer syntax into one the running
Python can compile, line for line, so the checks Python's compiler makes
after parsing (``await`` outside async...) still run on it.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from typing import Iterator, NamedTuple

import libcst as cst

# Text that may hold each construct: a file without it is not walked at all.
_MAY_HOLD = {
    "except*": re.compile(r"except\s*\*"),
    "starred": re.compile(r"[\[,:]\s*\*"),
    "type params": re.compile(r"\b(?:def|class|type)\s+\w+\s*\["),
    "type statement": re.compile(r"^[ \t]*type\s+\w", re.MULTILINE),
    "f-string": re.compile(r"(?<![\w'\"])(?:[fF][rR]?|[rR][fF])['\"]"),
}


class Newer(NamedTuple):
    """A construct newer than the target: where it starts (1-based line, 0-based column) and what it is."""

    line: int
    col: int
    what: str
    added: tuple[int, int]

    def message(self, target: tuple[int, int]) -> str:
        return (f"the file does not parse on Python {target[0]}.{target[1]} (target-version): {self.what}, "
                f"which needs Python {self.added[0]}.{self.added[1]} or newer")


_EXCEPT_STAR = ("`except*`", (3, 11))
_STARRED_SUBSCRIPT = ("a starred expression in a subscript", (3, 11))
_STARRED_ANNOTATION = ("a starred annotation of `*args`", (3, 11))
_TYPE_PARAMS = ("a type parameter list", (3, 12))
_TYPE_STATEMENT = ("a `type` statement", (3, 12))
_TYPE_DEFAULT = ("a type parameter default", (3, 13))
_FSTRING = {
    "quote": ("an f-string that reuses its quote inside a replacement field", (3, 12)),
    "backslash": ("a backslash inside an f-string's replacement field", (3, 12)),
    "comment": ("a `#` inside an f-string's replacement field", (3, 12)),
    "newline": ("a line break inside a single-quoted f-string's replacement field", (3, 12)),
}


def _wanted(source: str, target: tuple[int, int]) -> set[str]:
    """The constructs that are newer than the target and that the text may hold."""
    wanted = set()
    if target < (3, 11):
        wanted |= {k for k in ("except*", "starred") if _MAY_HOLD[k].search(source)}
    if target < (3, 13) and _MAY_HOLD["type params"].search(source):
        wanted.add("type params")
    if target < (3, 12):
        wanted |= {k for k in ("type statement", "f-string") if _MAY_HOLD[k].search(source)}
    return wanted


def fstring_problem(text: str) -> str | None:
    """What in one f-string literal (prefix and quotes included) only Python 3.12 accepts, else None.

    Before 3.12 an f-string was one string token: it ended at the first
    matching quote, and its replacement fields could hold no backslash and
    no ``#`` (nor a line break, in a single-quoted one).
    """
    start = next(i for i, c in enumerate(text) if c in "'\"")
    quote = text[start:start + 3] if text[start:start + 3] in ('"""', "'''") else text[start]
    body = text[start + len(quote):len(text) - len(quote)]
    depth = 0
    i = 0
    while i < len(body):
        c = body[i]
        if depth == 0:
            if c in "{}" and body[i:i + 2] in ("{{", "}}"):
                i += 2
                continue
            if c == "{":
                depth = 1
        else:
            if body.startswith(quote, i):
                return "quote"
            if c == "\\":
                return "backslash"
            if c == "#":
                return "comment"
            if c == "\n" and len(quote) == 1:
                return "newline"
            if c in "'\"":  # a string inside the field: its braces are text, not the field's
                inner = body[i:i + 3] if body[i:i + 3] in ("'''", '"""') else c
                end = body.find(inner, i + len(inner))
                literal = body[i:end if end >= 0 else len(body)]
                if "\\" in literal:
                    return "backslash"
                if "#" in literal:
                    return "comment"
                if end < 0:
                    return None
                i = end + len(inner)
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
        i += 1
    return None


def _char_col(lines: list[str], line: int, byte_col: int) -> int:
    """A column in characters from Python's UTF-8 byte offset."""
    if 1 <= line <= len(lines) and not lines[line - 1].isascii():
        return len(lines[line - 1].encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))
    return byte_col


def _parenthesized(text: str) -> bool:
    """Whether an expression's text is wholly inside one pair of parentheses: ``(a, *b)``, not ``(a), *b``."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return index == len(text) - 1
    return False


def newer_in_tree(tree: ast.Module, source: str, target: tuple[int, int]) -> Newer | None:
    """The first construct newer than ``target`` in a file the running Python parsed."""
    wanted = _wanted(source, target)
    if not wanted:
        return None
    found: list[Newer] = []
    lines = source.splitlines()

    def at(node: ast.AST, kind: tuple[str, tuple[int, int]]) -> None:
        if target < kind[1]:
            found.append(Newer(node.lineno, _char_col(lines, node.lineno, node.col_offset), *kind))

    try_star = getattr(ast, "TryStar", None)
    type_alias = getattr(ast, "TypeAlias", None)
    for node in ast.walk(tree) if wanted - {"f-string"} else ():
        if try_star is not None and isinstance(node, try_star):
            at(node.handlers[0], _EXCEPT_STAR)
        elif isinstance(node, ast.Subscript) and "starred" in wanted and isinstance(node.slice, ast.Tuple):
            starred = next((part for part in node.slice.elts if isinstance(part, ast.Starred)), None)
            if starred is not None and not _parenthesized(ast.get_source_segment(source, node.slice) or ""):
                at(starred, _STARRED_SUBSCRIPT)  # `a[*b]`, `a[1, *b]`; `a[(*b,)]` is older syntax
        elif isinstance(node, ast.arguments) and node.vararg is not None and isinstance(node.vararg.annotation, ast.Starred):
            at(node.vararg.annotation, _STARRED_ANNOTATION)
        elif type_alias is not None and isinstance(node, type_alias):
            at(node, _TYPE_STATEMENT)
        if getattr(node, "type_params", None):
            params = node.type_params
            at(params[0], _TYPE_PARAMS)
            for param in params:
                default = getattr(param, "default_value", None)
                if default is not None:
                    at(default, _TYPE_DEFAULT)
    if "f-string" in wanted:
        found.extend(_fstrings_by_tokens(source))
    return min(found, default=None, key=lambda n: (n.line, n.col))


def _fstrings_by_tokens(source: str) -> Iterator[Newer]:
    """f-strings of the 3.12 grammar, read with the tokenizer of a Python that has it (3.12+)."""
    start_type = getattr(tokenize, "FSTRING_START", None)
    end_type = getattr(tokenize, "FSTRING_END", None)
    if start_type is None:
        return  # an older tokenizer reads each f-string as one string token: it parsed, so it is old style
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for text in lines:
        offsets.append(offsets[-1] + len(text))
    starts: list[tuple[int, int]] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == start_type:
                starts.append(token.start)
            elif token.type == end_type and starts:
                (line, col) = starts.pop()
                text = source[offsets[line - 1] + col:offsets[token.end[0] - 1] + token.end[1]]
                problem = fstring_problem(text)
                if problem is not None:
                    yield Newer(line, col, *_FSTRING[problem])
    except (tokenize.TokenError, SyntaxError):
        return


def newer_in_module(module: cst.Module, source: str, target: tuple[int, int]) -> Newer | None:
    """The first construct newer than ``target`` in a libcst module (a file the running Python could not parse)."""
    wanted = _wanted(source, target)
    if not wanted:
        return None
    from libcst.metadata import MetadataWrapper, PositionProvider

    candidates: list[tuple[cst.CSTNode, tuple[str, tuple[int, int]]]] = []

    class _Finder(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            kind = None
            if isinstance(node, getattr(cst, "TryStar", ())):
                candidates.append((node.handlers[0], _EXCEPT_STAR))
            elif isinstance(node, cst.Index) and node.star is not None:
                kind = _STARRED_SUBSCRIPT
            elif isinstance(node, cst.Param) and node.star == "*" and node.annotation is not None \
                    and isinstance(node.annotation.annotation, cst.StarredElement):
                candidates.append((node.annotation.annotation, _STARRED_ANNOTATION))
            elif isinstance(node, getattr(cst, "TypeAlias", ())):
                kind = _TYPE_STATEMENT
            elif isinstance(node, getattr(cst, "TypeParameters", ())) and node.params:
                candidates.append((node.params[0].param, _TYPE_PARAMS))
            elif isinstance(node, getattr(cst, "TypeParam", ())) and getattr(node, "default", None) is not None:
                candidates.append((node.default, _TYPE_DEFAULT))
            elif isinstance(node, cst.FormattedString) and "f-string" in wanted:
                problem = fstring_problem(cst.Module([]).code_for_node(node))
                if problem is not None:
                    kind = _FSTRING[problem]
            if kind is not None:
                candidates.append((node, kind))
            return True

    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    wrapper.module.visit(_Finder())
    candidates = [(node, kind) for node, kind in candidates if target < kind[1]]
    if not candidates:
        return None
    positions = wrapper.resolve(PositionProvider)
    found = []
    for node, kind in candidates:
        start = positions[node].start
        found.append(Newer(start.line, start.column, *kind))
    return min(found, key=lambda n: (n.line, n.col))


EXCEPT_STAR_EXIT = "'break', 'continue' and 'return' cannot appear in an except* block"


def except_star_exit(module: cst.Module) -> tuple[int, int] | None:
    """Where an ``except*`` block is left by ``return``, or by ``break``/``continue`` of a loop
    around it, as Python 3.11+ reports it (a ``return``'s value, else the statement): the one
    check of the compiler that lowering ``except*`` to ``except`` would lose."""
    if not _MAY_HOLD["except*"].search(module.code):
        return None
    found: list[cst.CSTNode] = []

    class _Exits(cst.CSTVisitor):
        def __init__(self) -> None:
            self.stack: list[str] = []  # "star" (an except* block), "loop", "scope", innermost last

        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, cst.ExceptStarHandler):
                self.stack.append("star")
            elif isinstance(node, (cst.For, cst.While)):
                self.stack.append("loop")
            elif isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                self.stack.append("scope")
            elif "star" in self.stack:
                innermost = {kind: i for i, kind in enumerate(self.stack)}
                star = innermost["star"]
                if star > innermost.get("scope", -1):
                    loop = innermost.get("loop", -1)
                    if isinstance(node, cst.Return):
                        found.append(node.value if node.value is not None else node)
                    elif isinstance(node, (cst.Break, cst.Continue)) and loop < star:
                        found.append(node)
            return True

        def on_leave(self, node: cst.CSTNode) -> None:
            if isinstance(node, (cst.ExceptStarHandler, cst.For, cst.While, cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                self.stack.pop()

    from libcst.metadata import MetadataWrapper, PositionProvider

    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    wrapper.module.visit(_Exits())
    if not found:
        return None
    start = wrapper.resolve(PositionProvider)[found[0]].start
    return start.line, start.column


# --- lowering: the same code in the running Python's grammar -------------------------

class _Lower(cst.CSTTransformer):
    """Rewrites newer constructs as older ones that keep every line where it was."""

    def leave_TypeAlias(self, original, updated):  # `type X[T] = v` -> `X = v`
        return cst.Assign(targets=[cst.AssignTarget(updated.name)], value=updated.value)

    def leave_FunctionDef(self, original, updated):
        return updated.with_changes(type_parameters=None) if getattr(updated, "type_parameters", None) else updated

    def leave_ClassDef(self, original, updated):
        return updated.with_changes(type_parameters=None) if getattr(updated, "type_parameters", None) else updated

    def leave_TryStar(self, original, updated):
        handlers = [cst.ExceptHandler(body=h.body, type=h.type, name=h.name, leading_lines=h.leading_lines,
                                      whitespace_after_except=cst.SimpleWhitespace(" "))
                    for h in updated.handlers]
        return cst.Try(body=updated.body, handlers=handlers, orelse=updated.orelse, finalbody=updated.finalbody,
                       leading_lines=updated.leading_lines)

    def leave_Index(self, original, updated):
        return updated.with_changes(star=None) if updated.star is not None else updated

    def leave_Param(self, original, updated):
        if updated.annotation is not None and isinstance(updated.annotation.annotation, cst.StarredElement):
            return updated.with_changes(annotation=updated.annotation.with_changes(annotation=updated.annotation.annotation.value))
        return updated

    def leave_FormattedString(self, original, updated):
        # A tuple of its expressions, with the line breaks of its text kept as whitespace.
        code = cst.Module([]).code_for_node
        pieces: list[str] = []

        def parts(items) -> None:
            for part in items:
                if isinstance(part, cst.FormattedStringText):
                    pieces.append("\n" * part.value.count("\n"))
                else:
                    pieces.append("(" + code(part.expression) + "),")
                    if part.format_spec:
                        parts(part.format_spec)

        parts(updated.parts)
        text = "".join(pieces)
        # Line breaks the pieces lost (a comment inside a field) come back before the closing parenthesis.
        text += "\n" * max(0, code(original).count("\n") - text.count("\n"))
        return cst.parse_expression("(" + text + ")")

    def leave_ConcatenatedString(self, original, updated):
        if isinstance(updated.left, cst.BaseString) and isinstance(updated.right, cst.BaseString):
            return updated
        code = cst.Module([]).code_for_node
        return cst.parse_expression("(" + code(updated.left) + "," + code(updated.whitespace_between) + code(updated.right) + ")")


def lower(module: cst.Module) -> str | None:
    """The module's code with the constructs above rewritten in older syntax, line for line (None if that fails)."""
    try:
        return module.visit(_Lower()).code
    except Exception:  # a construct the rewrite does not know: the compiler's checks are skipped
        return None
