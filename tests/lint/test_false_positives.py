"""CAT001 where nothing is wrong (issue 9, section 3): match captures, and uses of `user` that do not raise."""

from __future__ import annotations

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from cat_lint.engine import lint_source
from cat_lint.facts import Collector
from cat_lint.name_resolution import ImportTable, ScopeResolver
from cat_lint.settings import Settings

PATTERNS = [
    "[*{n}]", "[{n}, *_]", '{{"k": {n}}}', "{{**{n}}}", "Point(x={n})", "Point({n})",
    "[{n}, 2] | [2, {n}]", "str() as {n}", "[({n})]", "[1, [{n}]]", "{n} if {n}",
]


def codes(source: str) -> list[tuple[str, int]]:
    return [(f.code, f.span.start_line) for f in lint_source(source, "plugin.py", Settings())]


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("slow", [False, True])
def test_a_match_capture_named_user_is_not_cat_user(pattern, slow):
    comprehension = "names = [user for user in range(3)]\n\n" if slow else ""
    case = pattern.format(n="user")
    source = (
        f"from cat import hook, user\n\n{comprehension}"
        "@hook\ndef after_cat_bootstrap(value):\n"
        f"    match value:\n        case {case}:\n            return user.id\n    return value\n"
    )
    assert codes(source) == [], source


def test_the_import_is_still_cat_user_where_no_capture_hides_it():
    source = (
        "from cat import hook, user\n\nnames = [user for user in range(3)]\n\n"
        "@hook\ndef after_cat_bootstrap(value):\n    match value:\n        case [*other]:\n"
        "            return user.id\n    return value\n"
    )
    assert codes(source) == [("CAT001", 9)]


# --- the two resolvers agree on generated programs with pattern captures ------------

names = st.sampled_from(["user", "u", "me"])
patterns = st.sampled_from(PATTERNS)
uses = st.sampled_from(["user.id", "me.name", "u.roles", "user", "cat.user.id"])


@st.composite
def programs(draw) -> str:
    lines = ["import cat", "from cat import hook, user", "from cat import user as me", ""]
    for index in range(draw(st.integers(1, 3))):
        hook_name = draw(st.sampled_from(["after_cat_bootstrap", "before_agent_run", f"helper_{index}"]))
        lines += ["@hook", f"def {hook_name}(value):", "    match value:"]
        for case_index in range(draw(st.integers(1, 3))):
            lines += [f"        case {draw(patterns).format(n=draw(names))}:",
                      f"            x = {draw(uses)}"]
        lines += ["        case _:", "            pass"]
        if draw(st.booleans()):
            lines += ["    def inner():", f"        return {draw(uses)}", "    inner()"]
        lines += [f"    return {draw(uses)}", ""]
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(programs())
def test_fast_path_and_scope_analysis_agree_on_pattern_captures(source):
    compile(source, "generated.py", "exec")  # a program Python accepts
    module = cst.parse_module(source)
    fast = Collector(module, source).run()
    assert not fast.used_scope
    slow = Collector(module, source, ScopeResolver(module, ImportTable(module))).run()
    assert [(id(r.node), r.accessed) for r in fast.user_refs] == [(id(r.node), r.accessed) for r in slow.user_refs]
    assert [id(c.node) for c in fast.store_calls] == [id(c.node) for c in slow.store_calls]


# --- only attribute access raises ------------------------------------------------------

@pytest.mark.parametrize("statement", ["print(user)", 'TEXT = f"{user}"', "SHOWN = repr(user)", "ALIAS = user",
                                       "USERS = [user]", "IS_SET = user is not None"])
def test_uses_of_user_that_do_not_raise_are_not_reported(statement):
    assert codes(f"from cat import user\n\n{statement}\n") == []


@pytest.mark.parametrize("statement", ["NAME = user.name", "print(user.id)", 'TEXT = f"{user.id}"',
                                       "import cat\nX = cat.user.id"])
def test_attribute_access_at_import_time_is_still_reported(statement):
    assert [c for c, _ in codes(f"from cat import user\n\n{statement}\n")] == ["CAT001"]


@pytest.mark.parametrize("body", ["return ALIAS.id", "return helper()"])
def test_an_alias_made_at_import_time_is_followed_into_a_bootstrap_hook(body):
    source = (
        "from cat import hook, user\n\nALIAS = user\n\n\ndef helper():\n    return ALIAS.name\n\n\n"
        f"@hook\ndef after_cat_bootstrap(value):\n    {body}\n"
    )
    assert [c for c, _ in codes(source)] == ["CAT001"]
    # with the scope analysis too (a comprehension binding `user` forces it)
    forced = source.replace("ALIAS = user\n", "ALIAS = user\nnames = [user for user in ()]\n")
    assert [c for c, _ in codes(forced)] == ["CAT001"]


def test_an_alias_rebound_elsewhere_is_not_followed():
    source = ("from cat import hook, user\n\nALIAS = user\nALIAS = None\n\n"
              "@hook\ndef after_cat_bootstrap(value):\n    return ALIAS.id\n")
    assert codes(source) == []


def test_an_alias_in_a_request_hook_is_fine():
    source = ("from cat import hook, user\n\nALIAS = user\n\n"
              "@hook\nasync def before_agent_run(value):\n    await ALIAS.save('k', 1)\n    return value\n")
    assert codes(source) == []


@pytest.mark.parametrize("source", [
    "from cat import hook\ntry:\n    from cat import user\nexcept ImportError:\n    user = None\n\n"
    "@hook\ndef after_cat_bootstrap(value):\n    return user.id\n",
    "from cat import user\n\ndef deco(x):\n    return lambda f: f\n\n@deco((lambda: user.id)())\ndef g():\n    return (lambda: user.name)\n",
    "from cat import user\n\nALIAS = user\n\ndef f():\n    return ALIAS.id\n",
])
def test_both_resolvers_agree_on_aliases_optional_imports_and_called_lambdas(source):
    module = cst.parse_module(source)
    fast = Collector(module, source).run()
    assert not fast.used_scope
    slow = Collector(module, source, ScopeResolver(module, ImportTable(module))).run()
    assert [(id(r.node), r.accessed, r.deferred) for r in fast.user_refs] == \
        [(id(r.node), r.accessed, r.deferred) for r in slow.user_refs]
    assert fast.user_refs
