"""literal_text is memoised per node; its answers must not change because of it."""

from __future__ import annotations

import libcst as cst

from cat_lint.rules._base import literal_text


def test_answers_are_the_same_on_every_call_and_per_node():
    cases = {
        '"theme"': "theme",
        "'a' 'b'": "ab",
        'b"raw"': None,
        'f"x{y}"': None,
        "name": None,
        '"\\N{BULLET}"': "\u2022",
    }
    for source, expected in cases.items():
        node = cst.parse_expression(source)
        assert literal_text(node) == expected, source
        assert literal_text(node) == expected, source  # from the memo this time


def test_equal_looking_nodes_are_distinct_entries():
    first, second = cst.parse_expression('"a"'), cst.parse_expression('"b"')
    assert (literal_text(first), literal_text(second)) == ("a", "b")
    changed = first.with_changes(value='"c"')
    assert literal_text(changed) == "c" and literal_text(first) == "a"
