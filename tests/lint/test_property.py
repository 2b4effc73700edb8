"""Generated programs (hypothesmith) never crash the engine.

Each program is linted as is and with the Cat's names imported in front, so
the rules' code paths (not only the parse) see arbitrary syntax.  Examples
are bounded so that the test runs in seconds.
"""

from __future__ import annotations

import hypothesmith
from hypothesis import HealthCheck, given, settings

from cat_lint.engine import check_project, check_source
from cat_lint.fixes import apply_fixes
from cat_lint.keys import KeyIndex
from cat_lint.settings import Settings

S = Settings()
PRELUDE = "from cat import store, user, hook, endpoint\nimport cat\n"
BOUNDED = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def _check(source: str) -> None:
    result = check_source(source, "gen.py", S)
    lines = source.splitlines() or [""]
    for finding in result.findings:
        span = finding.span
        assert 1 <= span.start_line <= max(1, len(lines)) + 1
        assert (span.start_line, span.start_col) <= (span.end_line, span.end_col)
    index = KeyIndex()
    index.set_file("gen.py", result.key_uses)
    final = check_project([result], S, index)["gen.py"]
    new, _ = apply_fixes(source, final, safe_only=True)
    assert isinstance(new, str)


@BOUNDED
@given(hypothesmith.from_grammar())
def test_generated_programs(source):
    _check(source)


@BOUNDED
@given(hypothesmith.from_grammar())
def test_generated_programs_with_the_cats_names(source):
    _check(PRELUDE + source)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)  # generating trees is slow
@given(hypothesmith.from_node())
def test_generated_trees_with_the_cats_names(source):
    _check(PRELUDE + source)


# --- the value rules agree with the runtime -----------------------------------

from hypothesis import strategies as st  # noqa: E402

import datetime, decimal, json, math, uuid  # noqa: E401,E402

from cat.values import check_json  # noqa: E402

_LEAVES = st.sampled_from(
    [
        "1", "-2", "2.5", "'a'", '"b"', "True", "False", "None", "float('nan')", "float('-inf')", "math.inf", "math.nan",
        "{1, 2}", "frozenset()", "set()", "b'x'", "1j", "datetime.date.today()", "datetime.datetime.now()",
        "uuid.uuid4()", "decimal.Decimal('1.5')", "lambda: 1", "object()", "(x for x in [])", "tuple([1])",
    ]
)
_KEYS = st.sampled_from(["'k'", "'name'", "1", "2.5", "True", "None", "(1, 2)", "b'k'"])


def _containers(children):
    items = st.lists(children, max_size=3)
    return st.one_of(
        items.map(lambda xs: "[" + ", ".join(xs) + "]"),
        items.map(lambda xs: "(" + ", ".join(xs) + ("," if len(xs) == 1 else "") + ")"),
        st.lists(st.tuples(_KEYS, children), max_size=3).map(lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"),
    )


VALUES = st.recursive(_LEAVES, _containers, max_leaves=8)
PLUGIN = "import datetime, decimal, math, uuid\nfrom cat import store\n\nasync def f():\n    await store.save('k', {value})\n"


@settings(max_examples=150, deadline=None, derandomize=True)
@given(VALUES)
def test_cat002_and_cat003_agree_with_the_runtime(value_source):
    value = eval(value_source, {"datetime": datetime, "decimal": decimal, "math": math, "uuid": uuid})
    result = check_source(PLUGIN.format(value=value_source), "v.py", S)
    codes = {f.code for f in result.findings}
    try:
        check_json(value)
    except (TypeError, ValueError):
        assert "CAT002" in codes, value_source
        return
    assert "CAT002" not in codes, value_source
    lossy = json.loads(json.dumps(value)) != value or _has_tuple(value)
    assert ("CAT003" in codes) == lossy, value_source


def _has_tuple(value) -> bool:
    if isinstance(value, tuple):
        return True
    if isinstance(value, list):
        return any(_has_tuple(v) for v in value)
    if isinstance(value, dict):
        return any(_has_tuple(v) for v in value.values())
    return False
