"""Every scope where code runs, or does not run yet, against the rules that care (issue 16).

``SCOPES`` places an expression in each scope once, as a template; each rule
that tracks a name or a scope gives the expression it reports, and its
expected number of findings per scope is written once, in ``EXPECTED``.
CAT001 cares whether the code runs with no request (at import time, or in
a bootstrap hook), CAT004 whether the coroutine is dropped, CAT006 only that
the key is read (anywhere); CAT009 pairs a load and a save of one function
run (``PAIR_SCOPES``).
"""

from __future__ import annotations

import pytest

from cat_lint.engine import lint_source
from cat_lint.settings import Settings

REQUIRED = ("module", "class body", "function", "lambda", "comprehension", "generator expression", "default value")

PREAMBLE = "from cat import hook, store, user\n\n\ndef deco(arg):\n    return lambda f: f\n\n\n"

# {expr} in each scope, as a whole program after the preamble.
SCOPES = {
    "module": "_r = {expr}\n",
    "class body": "class C:\n    _r = {expr}\n",
    "function": "async def f():\n    _r = {expr}\n",
    "lambda": "_r = lambda: {expr}\n",
    "lambda called where it stands": "_r = (lambda: {expr})()\n",
    "lambda default value": "_r = lambda v={expr}: v\n",
    "comprehension": "_r = [{expr} for _ in range(1)]\n",
    "comprehension iterable": "_r = [v for v in {expr}]\n",
    "generator expression": "_r = ({expr} for _ in range(1))\n",
    "generator expression iterated where it stands": "_r = list({expr} for _ in range(1))\n",
    "generator expression, first iterable": "_r = (v for v in {expr})\n",
    "generator expression, later iterable": "_r = (v for _ in range(1) for v in {expr})\n",
    "default value": "def f(_r={expr}):\n    pass\n",
    "keyword-only default value": "def f(*, _r={expr}):\n    pass\n",
    "decorator": "@deco({expr})\ndef f():\n    pass\n",
    "class in a function": "async def f():\n    class C:\n        _r = {expr}\n",
    "bootstrap hook": "@hook\nasync def after_cat_bootstrap(v):\n    _r = {expr}\n",
    "function nested in a bootstrap hook": "@hook\nasync def after_cat_bootstrap(v):\n    async def g():\n        _r = {expr}\n",
    "lambda in a bootstrap hook": "@hook\nasync def after_cat_bootstrap(v):\n    _r = lambda: {expr}\n",
    "comprehension in a bootstrap hook": "@hook\nasync def after_cat_bootstrap(v):\n    _r = [{expr} for _ in range(1)]\n",
    "generator expression in a bootstrap hook": "@hook\nasync def after_cat_bootstrap(v):\n    _r = ({expr} for _ in range(1))\n",
}

# What each rule reports, as an expression.
EXPRESSIONS = {
    "CAT001": "user.id",  # raises with no request in flight
    "CAT004": "store.save('k', 1)",  # a coroutine bound to a name nothing awaits
    "CAT006": "store.load('never_saved')",  # a key read and never written
}

# Findings per scope and rule. CAT001: the code runs now with no request (import time, a bootstrap
# hook and all written inside it). CAT004: the call runs and its coroutine is dropped (a lambda or a
# generator that is never run makes no call, one iterated at once hands its coroutines on; a default
# or decorator argument is handed on).
# CAT006: wherever the key is written.
EXPECTED = {
    "module": {"CAT001": 1, "CAT004": 1, "CAT006": 1},
    "class body": {"CAT001": 1, "CAT004": 1, "CAT006": 1},
    "function": {"CAT001": 0, "CAT004": 1, "CAT006": 1},
    "lambda": {"CAT001": 0, "CAT004": 0, "CAT006": 1},
    "lambda called where it stands": {"CAT001": 1, "CAT004": 0, "CAT006": 1},
    "lambda default value": {"CAT001": 1, "CAT004": 0, "CAT006": 1},
    "comprehension": {"CAT001": 1, "CAT004": 1, "CAT006": 1},
    "comprehension iterable": {"CAT001": 1, "CAT004": 0, "CAT006": 1},
    "generator expression": {"CAT001": 0, "CAT004": 0, "CAT006": 1},
    "generator expression iterated where it stands": {"CAT001": 1, "CAT004": 0, "CAT006": 1},
    "generator expression, first iterable": {"CAT001": 1, "CAT004": 0, "CAT006": 1},
    "generator expression, later iterable": {"CAT001": 0, "CAT004": 0, "CAT006": 1},
    "default value": {"CAT001": 1, "CAT004": 0, "CAT006": 1},
    "keyword-only default value": {"CAT001": 1, "CAT004": 0, "CAT006": 1},
    "decorator": {"CAT001": 1, "CAT004": 0, "CAT006": 1},
    "class in a function": {"CAT001": 0, "CAT004": 1, "CAT006": 1},
    "bootstrap hook": {"CAT001": 1, "CAT004": 1, "CAT006": 1},
    "function nested in a bootstrap hook": {"CAT001": 1, "CAT004": 1, "CAT006": 1},
    "lambda in a bootstrap hook": {"CAT001": 1, "CAT004": 0, "CAT006": 1},
    "comprehension in a bootstrap hook": {"CAT001": 1, "CAT004": 1, "CAT006": 1},
    "generator expression in a bootstrap hook": {"CAT001": 1, "CAT004": 0, "CAT006": 1},
}

# CAT009: a load in a function, the save of the same key placed in a scope inside it.
PAIR = "async def f():\n    count = await store.load('visits', 0)\n{save}"
PAIR_SCOPES = {
    "function": ("    await store.save('visits', count + 1)\n", 1),
    "comprehension": ("    _r = [await store.save('visits', count + 1) for _ in range(1)]\n", 1),
    "nested function": ("    async def g():\n        await store.save('visits', count + 1)\n", 0),
    "lambda": ("    _r = lambda: store.save('visits', count + 1)\n", 0),
    "generator expression": ("    _r = (store.save('visits', count + 1) for _ in range(1))\n", 0),
    "generator expression iterated where it stands": (
        "    await gather(*(store.save('visits', count + 1) for _ in range(1)))\n", 1),
    "class body": ("    class C:\n        _r = store.save('visits', count + 1)\n", 0),
    "default value": ("    async def g(v=store.save('visits', count + 1)):\n        pass\n", 0),
}


def test_the_tables_cover_every_scope():
    assert set(REQUIRED) <= set(SCOPES), sorted(set(REQUIRED) - set(SCOPES))
    assert set(EXPECTED) == set(SCOPES)
    assert all(set(row) == set(EXPRESSIONS) for row in EXPECTED.values())
    assert {"function", "comprehension", "lambda", "class body", "default value"} <= set(PAIR_SCOPES)


def _count(source: str, code: str) -> int:
    return len([f for f in lint_source(source, "plugin.py", Settings(select=(code,)))])


CASES = [pytest.param(code, scope, id=f"{code}-{scope}") for code in EXPRESSIONS for scope in SCOPES]


@pytest.mark.parametrize(("code", "scope"), CASES)
def test_every_rule_in_every_scope(code, scope):
    source = PREAMBLE + SCOPES[scope].format(expr=EXPRESSIONS[code])
    compile(source, "plugin.py", "exec")  # each program is valid Python
    assert _count(source, code) == EXPECTED[scope][code], source


@pytest.mark.parametrize("scope", list(PAIR_SCOPES))
def test_a_lost_update_in_every_scope(scope):
    save, expected = PAIR_SCOPES[scope]
    source = PREAMBLE + PAIR.format(save=save)
    compile(source, "plugin.py", "exec")
    assert _count(source, "CAT009") == expected, source


@pytest.mark.parametrize("scope", list(SCOPES))
def test_a_shadowed_name_is_never_the_cats_in_any_scope(scope):
    """`store` and `user` rebound at module level are no longer provably the Cat's, in any scope."""
    for code, expr in EXPRESSIONS.items():
        name = "user" if code == "CAT001" else "store"
        program = SCOPES[scope].format(expr=expr)
        if scope.startswith(("lambda", "comprehension", "generator")):
            continue  # their own variables: covered by test_grammar_bindings
        source = PREAMBLE + f"{name} = None\n\n" + program
        compile(source, "plugin.py", "exec")
        assert _count(source, code) == 0, source
