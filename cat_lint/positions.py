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
import threading
from collections import OrderedDict
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


def statement_lines(body: list[ast.stmt], offset: int = 0) -> list[int]:
    """The first line of every statement of an AST in document order (a decorated one's first decorator's)."""
    lines = []
    for node in _ast_statements(body, []):
        decorators = getattr(node, "decorator_list", None)
        lines.append((min(d.lineno for d in decorators) if decorators else node.lineno) + offset)
    return lines


def _unit_lines(units: list[cst.CSTNode], firsts: list[int]) -> list[int | None] | None:
    """The first line of each libcst statement, from the first lines of Python's AST statements."""
    lines: list[int | None] = []
    j = 0
    for unit in units:
        if j >= len(firsts):
            return None
        line = firsts[j]
        if isinstance(unit, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            j += len(unit.body)
        else:
            j += 1
        lines.append(None if isinstance(unit, cst.SimpleStatementSuite) else line)
    return lines if j == len(firsts) else None


class StatementMemo:
    """Generated text and node ranges of statements, relative to each statement's start.

    For modules assembled from memoised chunks (``cat_lint.incremental``),
    whose unchanged statements are the same node objects from one lint to
    the next; owned by the incremental engine that assembles them.  Keyed
    by id(statement); each entry holds the statement itself, so an id is
    never mistaken for a newer node's.  An LRU of ``max_statements``.
    """

    def __init__(self, max_statements: int = 20_000) -> None:
        self.max_statements = max_statements
        self._items: OrderedDict[int, tuple] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, unit: cst.CSTNode, context: tuple) -> tuple | None:
        with self._lock:
            entry = self._items.get(id(unit))
            if entry is None or entry[0] is not unit or entry[1] != context:
                return None
            self._items.move_to_end(id(unit))
            return entry

    def put(self, unit: cst.CSTNode, context: tuple, text: str, ranges: dict, outer: dict) -> None:
        with self._lock:
            self._items[id(unit)] = (unit, context, text, ranges, outer)
            self._items.move_to_end(id(unit))
            while len(self._items) > self.max_statements:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class Positions:
    """Spans of selected nodes of one module.

    With ``memo`` (for a module whose unchanged statements are reused
    between lints), each statement's generated text and ranges are
    remembered relative to its start, and reused while they hold every
    node asked for.
    """

    _memo: StatementMemo | None = None

    def __init__(
        self,
        module: cst.Module,
        source: str,
        nodes: Iterable[cst.CSTNode],
        outer: Iterable[cst.CSTNode] = (),
        units: list[cst.CSTNode] | None = None,
        tops: dict[int, int] | None = None,
        tree: ast.Module | None = None,
        memo: StatementMemo | None = None,
        firsts: list[int] | None = None,
    ) -> None:
        self._memo = memo
        if firsts is None and tree is not None:
            firsts = statement_lines(tree.body)
        nodes, outer = list(nodes), list(outer)
        wanted = {id(n) for n in nodes}
        outer_ids = {id(n) for n in outer}
        self._keep = nodes + outer  # ids stay valid while the nodes are alive
        self._lines = LineIndex(source)
        self._ranges: dict[int, tuple[int, int]] = {}
        self._outer: dict[int, tuple[int, int]] = {}
        if not wanted and not outer_ids:
            return
        if units and tops is not None and firsts is not None and self._by_statement(module, source, wanted, outer_ids, units, tops, firsts):
            return
        state = _CountingState(module, wanted | outer_ids, outer_ids)
        module._codegen(state)
        self._ranges, self._outer = state.ranges, state.outer

    def _by_statement(self, module, source, wanted, outer_ids, units, tops, firsts) -> bool:
        indexes = {tops.get(i, -1) for i in wanted | outer_ids}
        if -1 in indexes:
            return False
        if isinstance(firsts, ast.Module):
            firsts = statement_lines(firsts.body)
        first_lines = _unit_lines(units, firsts)
        if first_lines is None:
            return False
        everything = wanted | outer_ids
        by_unit: dict[int, set[int]] | None = None  # statement index -> the nodes asked for in it
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
            start = line_start
            if leading:
                measure = _CountingState(module, set(), set())
                measure.indent_tokens = [indent]
                for empty_line in leading:
                    empty_line._codegen(measure)
                start -= measure.offset
            if start < 0:
                return False
            if self._memo is not None:
                if by_unit is None:
                    by_unit = {}
                    for i in everything:
                        by_unit.setdefault(tops[i], set()).add(i)
                mine = by_unit[index]
                if not self._from_memo(module, source, unit, indent, start, mine & wanted, mine & outer_ids):
                    return False
                continue
            state = _CountingState(module, everything, outer_ids, keep_text=True)
            state.indent_tokens = [indent] if indent else []
            state.offset = start
            unit._codegen(state)
            text = "".join(state.tokens)
            if not source.startswith(text.rstrip("\r\n"), start):
                return False
            self._ranges.update(state.ranges)
            self._outer.update(state.outer)
        return True

    def _from_memo(self, module, source, unit, indent, start, need: set[int], need_outer: set[int]) -> bool:
        """One statement's ranges, generated at offset 0 and remembered, shifted to ``start``."""
        context = (indent, module.default_indent, module.default_newline)
        entry = self._memo.get(unit, context)
        if entry is None or not need <= entry[3].keys() or not need_outer <= entry[4].keys():
            if entry is not None:  # keep what earlier lints asked for too
                need |= entry[3].keys()
                need_outer |= entry[4].keys()
            state = _CountingState(module, need | need_outer, need_outer, keep_text=True)
            state.indent_tokens = [indent] if indent else []
            unit._codegen(state)
            entry = (unit, context, "".join(state.tokens).rstrip("\r\n"), state.ranges, state.outer)
            self._memo.put(unit, *entry[1:])
        if not source.startswith(entry[2], start):
            return False
        for i in need:
            a, b = entry[3][i]
            self._ranges[i] = (a + start, b + start)
        for i in need_outer:
            a, b = entry[4][i]
            self._outer[i] = (a + start, b + start)
        return True

    def _span(self, pair: tuple[int, int]) -> Span:
        (a_line, a_col), (b_line, b_col) = self._lines.position(pair[0]), self._lines.position(pair[1])
        return Span(a_line, a_col, b_line, b_col)

    def span(self, node: cst.CSTNode) -> Span:
        return self._span(self._ranges[id(node)])

    def outer_span(self, node: cst.CSTNode) -> Span:
        return self._span(self._outer[id(node)])
