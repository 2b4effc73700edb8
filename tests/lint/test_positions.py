"""Positions computed statement by statement must equal libcst's PositionProvider."""

from __future__ import annotations

import ast

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from libcst.metadata import MetadataWrapper, PositionProvider

from cat_lint.facts import collect
from cat_lint.positions import Positions

TRICKY = [
    "from cat import store\n\n# a comment\n\n@decorator  # why\n# between\n@other(1,\n       2)\ndef f(a, b=store):\n    x = 1; y = 2  # two on a line\n    if x: y = 3; z = 4\n    return store.save('k', (1, 2))\n",
    "class A:\n\tdef m(self):\n\t\treturn {'é😀': [1, 2]}  # unicode before the column\n\n\tz = 'x'\n",
    "x = 1\r\nif x:\r\n    y = [\r\n        1,\r\n    ]\r\nelse:\r\n    y = 2\r\n",
    "try:\n    a = 1\nexcept (ValueError, TypeError) as e:\n    b = e\nelse:\n    c = 3\nfinally:\n    d = 4\nwhile a:\n    break\nelse:\n    pass\n",
    "match command:\n    case [x, y]:\n        pass\n    case {'k': v}:\n        w = v\n    case _:\n        pass\n",
    "async def f():\n    async with a as b, c:\n        async for i in b:\n            await g(i)\n    return [j async for j in b]\n",
    "def f():\n    '''doc\n    string'''\n    return \\\n        1\n",
    "x = 1",  # no trailing newline
    "\ufeffimport os\nprint(os)\n",
    "if a:\n    pass\nelif b:\n    c = 1\nelif d:\n    e = 2\nelse:\n    f = 3\n",
    "@a\n\n# gap\n\n@b\nclass C(Base, metaclass=M):\n    x: int = 1\n\n    @property\n    def p(self): return self.x\n",
]


def _check(source: str) -> None:
    try:
        module = cst.parse_module(source)
        tree = compile(source, "p.py", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, cst.ParserSyntaxError, ValueError, RecursionError, MemoryError):
        return
    facts = collect(module, source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = [n for n in expected if id(n) in facts.tops and isinstance(n, cst.BaseExpression)]
    positions = Positions(module, source, nodes, (), facts.units, facts.tops, tree)
    for node in nodes:
        r = expected[node]
        span = positions.span(node)
        assert (span.start_line, span.start_col, span.end_line, span.end_col) == (r.start.line, r.start.column, r.end.line, r.end.column), type(node).__name__


@pytest.mark.parametrize("source", TRICKY)
def test_tricky_layouts(source):
    _check(source)


def test_the_statement_path_is_taken():
    # The fast path must be the one tested above, not the whole-module fallback.
    source = TRICKY[0]
    module = cst.parse_module(source)
    facts = collect(module, source)
    tree = compile(source, "p.py", "exec", ast.PyCF_ONLY_AST)
    call = facts.store_calls[0].node
    probe = Positions.__new__(Positions)
    from cat_lint.fixes import LineIndex

    probe._lines, probe._ranges, probe._outer = LineIndex(source), {}, {}
    assert probe._by_statement(module, source, {id(call)}, set(), facts.units, facts.tops, tree)
    assert probe.span(call).start_line == 12


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(hypothesmith.from_grammar())
def test_generated_programs(source):
    _check(source)
