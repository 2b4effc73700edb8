"""Positions for the few nodes that need them, at the cost of one code generation.

libcst's ``PositionProvider`` records a range for every node of the file,
which costs several times the parse.  A file needs positions only for its
findings and its literal keys, so this replays libcst's code generation
counting characters and records ranges for just those nodes.  Ranges match
``PositionProvider``'s (syntactic: parentheses and surrounding whitespace
excluded); ``outer`` ranges include a node's own parentheses, for fixes that
replace a whole expression.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Iterator, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState

from cat_lint.findings import Span
from cat_lint.fixes import LineIndex


class _CountingState(CodegenState):
    """A codegen state that keeps only a running character offset."""

    def __init__(self, module: cst.Module, wanted: set[int], outer: set[int]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.offset = 0
        self.wanted = wanted
        self.outer_wanted = outer
        self.ranges: dict[int, tuple[int, int]] = {}
        self.outer: dict[int, tuple[int, int]] = {}
        self._starts: list[int] = []

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.offset += len(token)

    def add_token(self, value: str) -> None:
        self.offset += len(value)

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


class Positions:
    """Spans of selected nodes of one module, computed in a single pass."""

    def __init__(self, module: cst.Module, source: str, nodes: Iterable[cst.CSTNode], outer: Iterable[cst.CSTNode] = ()) -> None:
        wanted = {id(n) for n in nodes}
        outer_ids = {id(n) for n in outer}
        self._keep = list(nodes) + list(outer)  # ids stay valid while the nodes are alive
        state = _CountingState(module, wanted | outer_ids, outer_ids)
        if wanted or outer_ids:
            module._codegen(state)
        self._lines = LineIndex(source)
        self._ranges = state.ranges
        self._outer = state.outer

    def _span(self, pair: tuple[int, int]) -> Span:
        (a_line, a_col), (b_line, b_col) = self._lines.position(pair[0]), self._lines.position(pair[1])
        return Span(a_line, a_col, b_line, b_col)

    def span(self, node: cst.CSTNode) -> Span:
        return self._span(self._ranges[id(node)])

    def outer_span(self, node: cst.CSTNode) -> Span:
        return self._span(self._outer[id(node)])
