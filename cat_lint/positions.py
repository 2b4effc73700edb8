"""Positions for the few nodes that need them, at the cost of generating the code around them.

libcst's ``PositionProvider`` records a range for every node of the file,
which costs several times the parse.  A file needs positions only for its
findings and its literal keys, so this replays libcst's code generation
counting characters and records ranges for just those nodes.  Ranges match
``PositionProvider``'s (syntactic: parentheses and surrounding whitespace
excluded); ``outer`` ranges include a node's own parentheses, for fixes that
replace a whole expression.

Only the module-level statements that hold such nodes are generated: where
each statement starts comes from the line numbers of Python's own AST (the
engine compiles the file anyway, as a guard before libcst's parser).  Each
statement's generated text is checked against the source at that offset;
on any disagreement the whole module is generated instead.
"""

from __future__ import annotations

import ast
from contextlib import contextmanager
from typing import Iterable, Iterator, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState

from cat_lint.findings import Span
from cat_lint.fixes import LineIndex


class _CountingState(CodegenState):
    """A codegen state that keeps only a running character offset."""

    def __init__(self, module: cst.Module, wanted: set[int], outer: set[int], keep_text: bool = False) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.keep_text = keep_text
        self.offset = 0
        self.wanted = wanted
        self.outer_wanted = outer
        self.ranges: dict[int, tuple[int, int]] = {}
        self.outer: dict[int, tuple[int, int]] = {}
        self._starts: list[int] = []

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.offset += len(token)
        if self.keep_text:
            self.tokens.extend(self.indent_tokens)

    def add_token(self, value: str) -> None:
        self.offset += len(value)
        if self.keep_text:
            self.tokens.append(value)

    def pop_trailing_newline(self) -> None:  # positions before the end are unaffected
        pass

    def before_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.outer_wanted:
            self._starts.append(self.offset)

    def after_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.outer_wanted:
            self.outer[id(node)] = (self._starts.pop(), self.offset)

    @contextmanager
    def record_syntactic_position(
        self, node: cst.CSTNode, *, start_node: Optional[cst.CSTNode] = None, end_node: Optional[cst.CSTNode] = None
    ) -> Iterator[None]:
        if id(node) not in self.wanted:
            yield
            return
        start = self.offset
        yield
        self.ranges[id(node)] = (start, self.offset)


_AST_BLOCKS = ("body", "handlers", "orelse", "finalbody", "cases")


def _ast_statements(body: list[ast.stmt], out: list[ast.stmt]) -> list[ast.stmt]:
    """Every statement of an AST in document order (the order the collector numbers libcst's)."""
    for stmt in body:
        out.append(stmt)
        for name in _AST_BLOCKS:
            block = getattr(stmt, name, None)
            if not block:
                continue
            for item in block:
                if isinstance(item, ast.stmt):
                    _ast_statements([item], out)
                else:  # except handlers, match cases
                    _ast_statements(item.body, out)
    return out


def _unit_lines(units: list[cst.CSTNode], tree: ast.Module) -> list[int | None] | None:
    """The first line of each libcst statement (its first decorator's for a decorated one)."""
    statements = _ast_statements(tree.body, [])
    lines: list[int | None] = []
    j = 0
    for unit in units:
        if j >= len(statements):
            return None
        node = statements[j]
        if isinstance(unit, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            j += len(unit.body)
        else:
            j += 1
        if isinstance(unit, cst.SimpleStatementSuite):
            lines.append(None)
            continue
        decorators = getattr(node, "decorator_list", None)
        lines.append(min(d.lineno for d in decorators) if decorators else node.lineno)
    return lines if j == len(statements) else None


class Positions:
    """Spans of selected nodes of one module."""

    def __init__(
        self,
        module: cst.Module,
        source: str,
        nodes: Iterable[cst.CSTNode],
        outer: Iterable[cst.CSTNode] = (),
        units: list[cst.CSTNode] | None = None,
        tops: dict[int, int] | None = None,
        tree: ast.Module | None = None,
    ) -> None:
        nodes, outer = list(nodes), list(outer)
        wanted = {id(n) for n in nodes}
        outer_ids = {id(n) for n in outer}
        self._keep = nodes + outer  # ids stay valid while the nodes are alive
        self._lines = LineIndex(source)
        self._ranges: dict[int, tuple[int, int]] = {}
        self._outer: dict[int, tuple[int, int]] = {}
        if not wanted and not outer_ids:
            return
        if units and tops is not None and tree is not None and self._by_statement(module, source, wanted, outer_ids, units, tops, tree):
            return
        state = _CountingState(module, wanted | outer_ids, outer_ids)
        module._codegen(state)
        self._ranges, self._outer = state.ranges, state.outer

    def _by_statement(self, module, source, wanted, outer_ids, units, tops, tree) -> bool:
        indexes = {tops.get(i, -1) for i in wanted | outer_ids}
        if -1 in indexes:
            return False
        first_lines = _unit_lines(units, tree)
        if first_lines is None:
            return False
        everything = wanted | outer_ids
        for index in sorted(indexes):
            unit, line = units[index], first_lines[index]
            if line is None:
                return False
            line_start = self._lines.offset(line, 0)
            text_of_line = source[line_start : line_start + 400]
            indent = text_of_line[: len(text_of_line) - len(text_of_line.lstrip(" \t\f"))]
            leading = list(unit.leading_lines)
            decorators = getattr(unit, "decorators", ())
            if decorators:
                leading += list(decorators[0].leading_lines)
            measure = _CountingState(module, set(), set())
            measure.indent_tokens = [indent]
            for empty_line in leading:
                empty_line._codegen(measure)
            start = line_start - measure.offset
            state = _CountingState(module, everything, outer_ids, keep_text=True)
            state.indent_tokens = [indent] if indent else []
            state.offset = start
            unit._codegen(state)
            text = "".join(state.tokens)
            if start < 0 or not source.startswith(text.rstrip("\r\n"), start):
                return False
            self._ranges.update(state.ranges)
            self._outer.update(state.outer)
        return True

    def _span(self, pair: tuple[int, int]) -> Span:
        (a_line, a_col), (b_line, b_col) = self._lines.position(pair[0]), self._lines.position(pair[1])
        return Span(a_line, a_col, b_line, b_col)

    def span(self, node: cst.CSTNode) -> Span:
        return self._span(self._ranges[id(node)])

    def outer_span(self, node: cst.CSTNode) -> Span:
        return self._span(self._outer[id(node)])
