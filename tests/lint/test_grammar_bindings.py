"""Every way Python binds a name, against every rule that follows a name (issue 16).

The binding forms are written once, as data (``FORMS``): each is a template
that binds ``{name}``, to ``{value}`` when the form takes a value.  Two
facts are written once per form, and every rule's expected result follows
from them:

* ``SHADOWS``: bound by the form in a function (or at module level), does
  ``store``/``user`` stop being the Cat's there?  A comprehension variable
  lives in the comprehension's own scope, so it does not.
* ``HOLDS``: does the name provably hold ``{value}`` itself afterwards (so
  a rule follows the name to the value)?  ``DERIVES`` adds the forms where
  the name holds a value computed from it (``+=``), which is what CAT009
  follows.

The rules checked: CAT001 (``user`` at bootstrap), CAT002 (a set saved),
CAT003 (a tuple saved), CAT004 (a store call never awaited), CAT006 (a key read, never written),
CAT009 (a load saved back).  ``test_the_tables_cover_every_binding_form``
fails when a form of the issue's list is missing.
"""

from __future__ import annotations

import textwrap

import pytest

from cat_lint.engine import lint_source
from cat_lint.settings import Settings

# The forms the issue lists; the tables below must cover each.
REQUIRED = (
    "assignment", "augmented", "annotated", "walrus", "chained", "unpacking", "for", "with", "except",
    "match", "comprehension", "import", "def", "class", "global", "nonlocal",
)

# How each form binds {name} (to {value} where it takes one), as statements of a function body.
# `_other` is a second name some forms bind alongside; `nonlocal` needs an enclosing binding.
FORMS = {
    "assignment": "{name} = {value}",
    "augmented": "{name} = 0\n{name} += {value}",
    "annotated": "{name}: object = {value}",
    "walrus": "({name} := {value})",
    "walrus in a condition": "if ({name} := {value}) is not None:\n    pass",
    "walrus in a comprehension": "_all = [({name} := {value}) for _ in range(1)]",
    "chained": "{name} = _other = {value}",
    "chained, second": "_other = {name} = {value}",
    "unpacking": "{name}, _other = {value}, None",
    "unpacking, starred": "[_other, *{name}] = [None, {value}]",
    "for": "for {name} in [{value}]:\n    pass",
    "async for": "async for {name} in _aiter({value}):\n    pass",
    "with": "with {value} as {name}:\n    pass",
    "except": "try:\n    pass\nexcept {value} as {name}:\n    pass",
    "match": "match {value}:\n    case {name}:\n        pass",
    "match, in a sequence": "match [{value}]:\n    case [{name}]:\n        pass",
    "comprehension": "_all = [{name} for {name} in [{value}]]",
    "generator expression": "_all = list({name} for {name} in [{value}])",
    "import": "from somewhere import {name}",
    "import as": "import somewhere as {name}",
    "def": "def {name}():\n    pass",
    "class": "class {name}:\n    pass",
    "global": "global {name}\n{name} = {value}",
    "nonlocal": "def _inner():\n    nonlocal {name}\n    {name} = {value}\n_inner()",
}

# Bound by the form, does the name stop being the import? (A comprehension's variables are its own.)
SHADOWS = {form: not form.startswith(("comprehension", "generator")) for form in FORMS}

# Does the name provably hold {value} itself afterwards (an expression the rules can look into)?
HOLDS = {form: form in {
    "assignment", "annotated", "walrus", "walrus in a condition", "walrus in a comprehension", "chained",
    "chained, second", "unpacking", "global",
} for form in FORMS}
# A store call in a global is handed to the whole module: only a local one is provably never awaited.
HOLDS_LOCALLY = {form: HOLDS[form] and form != "global" for form in FORMS}
# ... or a value computed from it (what CAT009 follows): also `+=`.
DERIVES = {form: HOLDS[form] or form == "augmented" for form in FORMS}

# Forms that make no sense at module level (`nonlocal` is a syntax error there, `global` a no-op,
# `async for` needs a coroutine function).
FUNCTION_ONLY = {"global", "nonlocal", "async for"}


def test_the_tables_cover_every_binding_form():
    covered = {form.split(",")[0].split(" in ")[0].removeprefix("async ") for form in FORMS}
    assert set(REQUIRED) <= covered, sorted(set(REQUIRED) - covered)
    assert set(SHADOWS) == set(HOLDS) == set(HOLDS_LOCALLY) == set(DERIVES) == set(FORMS)


def _bind(form: str, name: str, value: str, indent: str = "    ") -> str:
    """The form's statements binding ``name``, indented for a function body (``nonlocal`` gets its outer binding)."""
    text = FORMS[form].format(name=name, value=value)
    if form == "nonlocal":
        text = f"{name} = None\n" + text
    return textwrap.indent(text, indent)


def _codes(source: str, code: str, **options) -> list[tuple[str, int]]:
    return [(f.code, f.span.start_line) for f in lint_source(source, "plugin.py", Settings(select=(code,), **options))]


def _count(source: str, code: str, **options) -> int:
    return len(_codes(source, code, **options))


PREAMBLE = "from cat import hook, store, user\n\n\ndef _aiter(items):\n    return items\n\n\n"


# --- SHADOWS: `user` / `store` bound by the form -------------------------------------------------

# What each rule reports on the Cat's name, written after the binding in the same function.
# {bind} is the binding of `store` or `user`; each program yields one finding of its rule when the name is the Cat's.
SHADOW_PROGRAMS = {
    "CAT001": ("user", "@hook\nasync def after_cat_bootstrap(other):\n{bind}\n    return user.id\n"),
    "CAT002": ("store", "async def f(other):\n{bind}\n    await store.save('tags', {{'a'}})\n"),
    "CAT003": ("store", "async def f(other):\n{bind}\n    await store.save('size', (640, 480))\n"),
    "CAT004": ("store", "async def f(other):\n{bind}\n    store.save('k', 1)\n"),
    "CAT006": ("store", "async def f(other):\n{bind}\n    return await store.load('never_saved')\n"),
    "CAT009": ("store", "async def f(other):\n{bind}\n    count = await store.load('visits', 0)\n"
                        "    await store.save('visits', count + 1)\n"),
}

SHADOW_CASES = [pytest.param(code, form, id=f"{code}-{form}") for code in SHADOW_PROGRAMS for form in FORMS]


@pytest.mark.parametrize(("code", "form"), SHADOW_CASES)
def test_a_name_bound_in_the_function_by_every_form(code, form):
    name, program = SHADOW_PROGRAMS[code]
    source = PREAMBLE + program.format(bind=_bind(form, name, "other"))
    expected = 0 if SHADOWS[form] else 1
    assert _count(source, code) == expected, source


MODULE_SHADOW_PROGRAMS = {
    "CAT001": ("user", "@hook\nasync def after_cat_bootstrap(value):\n    return user.id\n"),
    "CAT004": ("store", "async def f():\n    store.save('k', 1)\n"),
    "CAT006": ("store", "async def f():\n    return await store.load('never_saved')\n"),
    "CAT009": ("store", "async def f():\n    count = await store.load('visits', 0)\n    await store.save('visits', count + 1)\n"),
}

MODULE_SHADOW_CASES = [pytest.param(code, form, id=f"{code}-{form}")
                       for code in MODULE_SHADOW_PROGRAMS for form in FORMS if form not in FUNCTION_ONLY]


@pytest.mark.parametrize(("code", "form"), MODULE_SHADOW_CASES)
def test_a_name_bound_at_module_level_by_every_form(code, form):
    """Rebound at module level (after the import), the name is no longer provably the Cat's in a function."""
    name, program = MODULE_SHADOW_PROGRAMS[code]
    source = PREAMBLE + _bind(form, name, "None", indent="") + "\n\n\n" + program
    expected = 0 if SHADOWS[form] else 1
    assert _count(source, code) == expected, source


# --- HOLDS: a value bound to a name by the form, followed by the rules ----------------------------

# {bind} binds `x` by the form; the program yields one finding when the rule follows `x` to its value.
FLOW_PROGRAMS = {
    # CAT004: a store call bound to a name the function never awaits.
    "CAT004": ("x", "store.load('k')", "async def f(other):\n{bind}\n    return 1\n", HOLDS_LOCALLY),
    # CAT002: a set bound to a name, then saved.
    "CAT002": ("x", "{{'a'}}", "async def f(other):\n{bind}\n    await store.save('tags', x)\n", HOLDS),
    # CAT003: a tuple bound to a name, then saved.
    "CAT003": ("x", "(640, 480)", "async def f(other):\n{bind}\n    await store.save('size', x)\n", HOLDS),
    # CAT009: a loaded value (or one computed from it) bound to a name, saved back.
    "CAT009": ("count", "await store.load('visits', 0)",
               "async def f(other):\n{bind}\n    await store.save('visits', count + 1)\n", DERIVES),
}

FLOW_CASES = [pytest.param(code, form, id=f"{code}-{form}") for code in FLOW_PROGRAMS for form in FORMS
              if form not in ("import", "import as", "def", "class", "except", "with")]


@pytest.mark.parametrize(("code", "form"), FLOW_CASES)
def test_a_value_bound_by_every_form_is_followed(code, form):
    name, value, program, follows = FLOW_PROGRAMS[code]
    source = PREAMBLE + program.format(bind=_bind(form, name, value.format()))
    expected = 1 if follows[form] else 0
    assert _count(source, code) == expected, source


AWAITED_CASES = [pytest.param(form, id=form) for form in FORMS if HOLDS_LOCALLY[form]]


@pytest.mark.parametrize("form", AWAITED_CASES)
def test_a_store_call_bound_by_every_form_and_awaited_by_that_name_is_fine(form):
    source = PREAMBLE + "async def f(other):\n" + _bind(form, "x", "store.load('k')") + "\n    return await x\n"
    assert _count(source, "CAT004") == 0, source


@pytest.mark.parametrize("form", AWAITED_CASES)
def test_a_store_call_bound_by_every_form_at_module_level(form):
    """At module level nothing awaits it: never awaited, unless a function awaits that name."""
    if form in FUNCTION_ONLY:
        pytest.fail("a holding form must work at module level")
    bound = _bind(form, "x", "store.load('k')", indent="")
    assert _count(PREAMBLE + bound + "\n", "CAT004") == 1, bound
    awaited = PREAMBLE + bound + "\n\n\nasync def f():\n    return await x\n"
    assert _count(awaited, "CAT004") == 0, awaited


@pytest.mark.parametrize("form", AWAITED_CASES)
def test_a_module_level_alias_of_user_bound_by_every_form_is_followed(form):
    """`ALIAS = user` (and each other form that holds the value) makes `ALIAS.id` at bootstrap a CAT001."""
    bound = _bind(form, "ALIAS", "user", indent="")
    source = PREAMBLE + bound + "\n\n\n@hook\nasync def after_cat_bootstrap(value):\n    return ALIAS.id\n"
    assert _count(source, "CAT001") == 1, source


# --- rebinding: a second binding by any form stops the rules from following the first ------------

REBIND_PROGRAMS = {
    "CAT002": ("x", "async def f(other):\n    x = {{'a'}}\n{bind}\n    await store.save('tags', x)\n"),
    "CAT009": ("count", "async def f(other):\n    count = await store.load('visits', 0)\n{bind}\n"
                        "    await store.save('visits', count + 1)\n"),
}

# Rebound by the form, does the name stop carrying the first value on the way to the save?
# A comprehension's variable is its own; a loop body, an except clause or a case may not run; the rest rebind.
REBINDS = {form: SHADOWS[form] and form not in ("for", "async for", "except", "match", "match, in a sequence")
           for form in FORMS}

REBIND_CASES = [pytest.param(code, form, id=f"{code}-{form}") for code in REBIND_PROGRAMS for form in FORMS
                if form not in ("global", "nonlocal", "augmented")]


@pytest.mark.parametrize(("code", "form"), REBIND_CASES)
def test_a_name_rebound_by_every_form(code, form):
    name, program = REBIND_PROGRAMS[code]
    source = PREAMBLE + program.format(bind=_bind(form, name, "other"))
    if code == "CAT002":
        expected = 0 if SHADOWS[form] else 1  # a name bound twice is not followed at all
    else:
        expected = 0 if REBINDS[form] else 1
    assert _count(source, code) == expected, source
