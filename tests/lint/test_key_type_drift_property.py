"""CAT010 against the runtime: it flags exactly the places whose type disagrees with another's.

Hypothesis writes a function that saves, loads with a default, or updates
one key in several places, with values written the many ways Python can
(literals, constructors, comprehensions, tuples, f-strings, negative
numbers, booleans), and fills the database with the key for a few users.
The runtime is the oracle for types: each place's value is saved and loaded
back (or returned as the default) by the runtime, and typed from what comes
back.  A place disagrees when a save or an update's default elsewhere, or a
user's stored value, has another JSON type (integers and floats are both
numbers; None and values the code does not state never disagree).  Values
are written in the call or assigned to a local name first.
"""

from __future__ import annotations

import asyncio
import itertools

from hypothesis import HealthCheck, given, settings, strategies as st

import cat
from cat_lint.engine import check_project, check_source
from cat_lint.keys import KeyIndex, load_database_keys
from cat_lint.settings import Settings


# Python expressions; the last ones are not stated plainly (a parameter, a call of unknown result).
PLAIN = [
    "[]", "[1, 2]", "(1, 2)", "list(x)", "sorted(x)", "[c for c in x]", "{}", "{'a': 1}", "dict(a=1)",
    "{c: 1 for c in x}", "'text'", "f'{x}!'", "str(3)", "0", "-2", "1.5", "len(x)", "True", "False", "None",
]
UNSTATED = ["x", "x.upper()"]
STORED = [[], ["a"], {}, {"a": 1}, "s", 3, 2.5, True, None]

places = st.lists(st.tuples(st.sampled_from(["save", "load", "update"]), st.sampled_from(PLAIN + UNSTATED), st.booleans()),
                  min_size=1, max_size=4)
_databases = itertools.count()


def kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {list: "array", tuple: "array", dict: "object", str: "string"}[type(value)]  # a tuple stands for a JSON array


def call(scope: str, verb: str, key: str, expression: str, through: bool = False, number: int = 0) -> str:
    """One line: the call, its value or default written in it or assigned to a local name first."""
    if through:
        return f"v{number} = {expression}; " + call(scope, verb, key, f"v{number}")
    if verb == "save":
        return f"await {scope}.save({key!r}, {expression})"
    if verb == "load":
        return f"await {scope}.load({key!r}, {expression})"
    return f"await {scope}.update({key!r}, lambda old: old, default={expression})"


def run(url: str, scope: str, body: str, stored: list) -> list:
    """Run ``body`` (statements that await, returning a list) in a request, after storing ``stored`` per user."""
    namespace: dict = {}
    exec("from cat import store, user\n\nasync def probe(x='ab'):\n" + body, namespace)
    cat.configure(sql=url)

    async def main() -> list:
        try:
            for number, value in enumerate(stored):
                async with cat.request_context(f"user-{number}"):
                    await (cat.user if scope == "user" else cat.store).save("k", value)
            async with cat.request_context("probe-user"):
                return await namespace["probe"]()
        finally:
            await cat.close()

    return asyncio.run(main())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scope=st.sampled_from(["store", "user"]), uses=places,
       stored=st.lists(st.sampled_from(STORED), max_size=3))
def test_cat010_flags_exactly_the_places_that_disagree(scope, uses, stored, tmp_path):
    if scope == "store":
        stored = stored[-1:]  # one global value
    # The oracle: what the runtime gives back for each place, each under a key of its own.
    probes = "".join(f"    out{i} = {call(scope, verb, f'probe{i}', e)}\n" for i, (verb, e, _) in enumerate(uses))
    probes += "".join(f"    out{i} = await {scope}.load('probe{i}')\n" for i, (verb, _, _) in enumerate(uses) if verb == "save")
    probes += f"    return [{', '.join(f'out{i}' for i in range(len(uses)))}]\n"
    observed = run(f"sqlite:///{tmp_path}/oracle{next(_databases)}.db", scope, probes, [])
    stated = [kind(v) if e not in UNSTATED else "null" for v, (_verb, e, _) in zip(observed, uses)]
    held = {kind(v) for v in stored} - {"null"}
    expected = set()
    for i, (verb, _e, _through) in enumerate(uses):
        if stated[i] == "null":
            continue
        writers = {stated[j] for j, (other, _, _) in enumerate(uses) if j != i and other in ("save", "update")} - {"null"}
        if writers - {stated[i]} or held - {stated[i]}:
            expected.add(i + 4)  # the line of place i in the linted file

    # The linted file: the same places on one key, and a database the runtime filled.
    source = "from cat import store, user\n\n\nasync def f(x='ab'):\n" + "".join(
        f"    {call(scope, verb, 'k', e, through, i)}\n" for i, (verb, e, through) in enumerate(uses))
    url = f"sqlite:///{tmp_path}/db{next(_databases)}.db"
    run(url, scope, "    return []\n", stored)
    options = Settings(select=("CAT010",), database=url, project=str(tmp_path))
    result = check_source(source, "plugin.py", options)
    index = KeyIndex(load_database_keys(options))
    index.set_file("plugin.py", result.key_uses)
    found = check_project([result], options, index)["plugin.py"]
    assert {f.span.start_line - 1 for f in found} == expected, (source, stored, observed, [f.message for f in found])
