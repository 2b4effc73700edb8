"""Name resolution through imports (what counts as cat.store / cat.user) and store_call_at for the editor."""

from __future__ import annotations

import pytest

from cat_lint.engine import check_source, lint_source
from cat_lint.findings import Span
from cat_lint.settings import Settings
from cat_lsp.store_call import store_call_at

S = Settings()


def found(source: str) -> list[tuple[str, int, int]]:
    return [(f.code, f.span.start_line, f.span.start_col) for f in lint_source(source, "p.py", S)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from cat import user as me\nNAME = me.name\n", [("CAT001", 2, 7)]),
        ("import cat\nNAME = cat.user.name\n", [("CAT001", 2, 7)]),
        ("import cat as c\nNAME = c.user.name\n", [("CAT001", 2, 7)]),
        ("import cat.mad_hatter.decorators\nNAME = cat.user.name\n", [("CAT001", 2, 7)]),
        ("from cat import *\nNAME = user.name\n", [("CAT001", 2, 7)]),
        ("import cat\nasync def f():\n    cat.store.save('k', 1)\n", [("CAT004", 3, 4)]),
        ("def f():\n    from cat import store\n    store.save('k', 1)\n", [("CAT004", 3, 4)]),
        # The import is not at module level, so the module-level name is something else.
        ("def f():\n    from cat import user\n    return user\nNAME = user.name\n", []),
        # A parameter, a local, an except target, a comprehension variable: not cat.user.
        ("from cat import hook, user\n@hook\ndef after_cat_bootstrap(user):\n    return user.id\n", []),
        ("from cat import hook, user\n@hook\ndef after_cat_bootstrap(v):\n    user = v\n    return user.id\n", []),
        ("from cat import user\ntry:\n    pass\nexcept Exception as user:\n    pass\n", []),
        ("from cat import user\nX = [user for user in range(3)]\n", []),
        ("from cat import user\nuser = None\nX = user\n", []),
        # A local in one function does not hide the import in another.
        (
            "from cat import hook, user\ndef helper(v):\n    user = v\n    return user.id\n@hook\ndef after_cat_bootstrap(v):\n    return user.id\n",
            [("CAT001", 7, 11)],
        ),
        # A `cat` parameter (Cat 1.x) hides the module `cat` inside its function only.
        ("import cat\ndef f(cat):\n    return cat.user.id\nX = cat.user.id\n", [("CAT001", 4, 4)]),
        ("from cat import *\ndef f(user):\n    return user.id\nX = user.id\n", [("CAT001", 4, 4)]),
        # cat.user_id on a 1.x `cat` argument, and a module that merely is called like the Cat's.
        ("from cat.mad_hatter.decorators import hook\n@hook\ndef after_cat_bootstrap(v, cat):\n    return cat.user_id\n", []),
        ("import mycat as cat\nX = cat.user.id\n", []),
        ("from mypkg import user\nX = user.id\n", []),
    ],
)
def test_resolution(source, expected):
    assert found(source) == expected


def test_key_uses_follow_aliases():
    src = "from cat import store as s, user as u\nasync def f():\n    await s.save('a', 1)\n    await u.load('b')\n    await s.exists(f'c{1}')\n"
    uses = check_source(src, "p.py", S).key_uses
    assert [(u.key, u.scope, u.verb) for u in uses] == [("a", "store", "save"), ("b", "user", "load")]


@pytest.mark.parametrize(
    ("source", "line", "col", "expected"),
    [
        ('from cat import store\nx = store.load("the', 2, 19, ("store", "load", "the", '"', Span(2, 16, 2, 19))),
        ('from cat import store as s\nx = s.load("', 2, 12, ("store", "load", "", '"', Span(2, 12, 2, 12))),
        ("from cat import user\nasync def f():\n    await user.save('to", 3, 23, ("user", "save", "to", "'", Span(3, 21, 3, 23))),
        # Complete code: the span runs to the closing quote, the prefix stops at the cursor.
        ("from cat import user\nasync def f():\n    await user.save('todos', 1)\n", 3, 23, ("user", "save", "to", "'", Span(3, 21, 3, 26))),
        ("import cat\ncat.store.exists(", 2, 17, ("store", "exists", "", "", Span(2, 17, 2, 17))),
    ],
)
def test_store_call_at(source, line, col, expected):
    ctx = store_call_at(source, line, col)
    assert ctx is not None
    assert (ctx.scope, ctx.verb, ctx.prefix, ctx.quote, ctx.span) == expected


@pytest.mark.parametrize(
    ("source", "line", "col"),
    [
        ('import json\nx = json.load("', 2, 15),  # not a store
        ('store = {}\nx = store.load("', 2, 16),  # a dict called store
        ('from cat import store\nx = store.load(key, "', 2, 21),  # the second argument
        ('from cat import store\nx = store.load("a")\n', 5, 0),  # past the end
        ("from cat import store\nx = 1\n", 2, 3),
    ],
)
def test_store_call_at_elsewhere(source, line, col):
    assert store_call_at(source, line, col) is None


def test_store_call_at_when_nothing_parses():
    # Several broken lines: aliases come from the import statements alone, parenthesized ones included.
    src = "from cat import (store as s,\n  user)\ndef f(:\ndef g(:\ny = s.load(\"ab"
    ctx = store_call_at(src, 5, 14)
    assert ctx is not None and (ctx.scope, ctx.prefix) == ("store", "ab")
    src = "import cat\nif x:\n    from cat import user as u\ndef f(:\n  u.save('"
    ctx = store_call_at(src, 5, 10)
    assert ctx is not None and (ctx.scope, ctx.verb, ctx.quote) == ("user", "save", "'")


# The fast path (spelling plus function locals) must agree with libcst's scope analysis.
# (They may differ only on code that reads a local before binding it, which raises
# UnboundLocalError: the fast path follows Python there, libcst follows the order.)
AGREEMENT = [
    "from cat import user\ndef outer():\n    user = 1\n    def inner():\n        return user.id\n    return inner\nX = user.id\n",
    "from cat import user\nf = lambda user: user.id\ng = lambda: user.id\n",
    "from cat import user, store\ndef f(store=store):\n    del user\n    return store.load('k')\n",
    "import cat\nasync def f(cat):\n    await cat.store.save('k', 1)\nasync def g():\n    await cat.store.save('k', 1)\n",
    "from cat import store as s, user\nasync def f(items):\n    for user in items:\n        await s.save(user, 1)\nasync def g():\n    with open('x') as s:\n        await s.save('k', 1)\n",
    "from cat import user\nclass A:\n    def m(self, user):\n        return user\n    def n(self):\n        return user.id\n",
    "from cat import user\nasync def f():\n    try:\n        pass\n    except Exception as user:\n        return user\n    return [u for u in user.roles]\n",
]


@pytest.mark.parametrize("source", AGREEMENT)
def test_fast_path_agrees_with_scope_analysis(source):
    import libcst as cst

    from cat_lint.facts import Collector
    from cat_lint.name_resolution import ImportTable, ScopeResolver

    module = cst.parse_module(source)
    fast = Collector(module, source).run()
    assert not fast.used_scope
    slow = Collector(module, source, ScopeResolver(module, ImportTable(module))).run()
    assert [id(r.node) for r in fast.user_refs] == [id(r.node) for r in slow.user_refs]
    assert [id(c.node) for c in fast.store_calls] == [id(c.node) for c in slow.store_calls]
