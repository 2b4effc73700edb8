"""The value matrix: exact JSON round trips, refused non-JSON values, falsy values vs defaults."""

from __future__ import annotations

import datetime
import decimal
import math

import pytest

from cat import request_context, store, user

from runtime_helpers import db_path, rows

EXACT = [
    ("int", 9),
    ("negative int", -42),
    ("float 9.0", 9.0),
    ("negative zero", -0.0),
    ("1e16", 1e16),
    ("small float", 1.5e-300),
    ("huge int", 2**70),
    ("negative huge int", -(2**80) + 1),
    ("nul char", "\x00"),
    ("string with nul inside", "a\x00b"),
    ("1 MB string", "x" * (1 << 20)),
    ("unicode", "héllo wörld ✓ 猫 🐈"),
    ("numeric-looking string", "9.0"),
    ("json-looking string", '{"a": 1}'),
    ("true", True),
    ("false", False),
    ("none", None),
    ("zero", 0),
    ("empty string", ""),
    ("empty list", []),
    ("empty dict", {}),
    ("nested", {"a": [1, 2.0, {"b": None, "c": [True, "x"]}], "big": 2**70, "f": 9.0}),
]


def same(a, b) -> bool:
    """Equal with the same types all the way down (and -0.0 keeps its sign)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


@pytest.mark.parametrize("label, value", EXACT, ids=[e[0] for e in EXACT])
async def test_global_round_trip_is_exact(project, label, value):
    assert await store.save("k", value) is value
    assert same(await store.load("k", default="DEFAULT"), value)
    assert await store.exists("k") is True


@pytest.mark.parametrize("label, value", EXACT, ids=[e[0] for e in EXACT])
async def test_user_round_trip_is_exact(project, label, value):
    async with request_context("u-1"):
        await user.save("k", value)
        assert same(await user.load("k", default="DEFAULT"), value)
        assert await user.exists("k") is True


async def test_round_trip_survives_reopening(project):
    import cat

    for label, value in EXACT:
        await store.save(label, value)
    await cat.close()
    for label, value in EXACT:
        assert same(await store.load(label), value), label


@pytest.mark.parametrize("value", [None, False, 0, 0.0, "", [], {}], ids=repr)
async def test_falsy_values_are_values_not_missing(project, value):
    await store.save("falsy", value)
    assert same(await store.load("falsy", default="DEFAULT"), value)
    assert await store.exists("falsy") is True
    assert await store.delete("falsy") is True
    assert await store.load("falsy", default="DEFAULT") == "DEFAULT"


async def test_load_default_is_returned_when_unset(project):
    sentinel = object()
    assert await store.load("missing", sentinel) is sentinel
    assert await store.load("missing") is None


class Thing:
    pass


circular_list: list = [1]
circular_list.append(circular_list)
circular_dict: dict = {"a": {}}
circular_dict["a"]["back"] = circular_dict

BAD = [
    ("set", {"items": [1, 2, {3}]}, TypeError, 'value["items"][2] is a set'),
    ("top-level set", {1, 2}, TypeError, "value is a set"),
    ("bytes", {"blob": b"x"}, TypeError, 'value["blob"] is bytes'),
    ("datetime", [datetime.datetime(2024, 1, 1)], TypeError, "value[0] is a datetime.datetime"),
    ("date", {"d": datetime.date(2024, 1, 1)}, TypeError, 'value["d"]'),
    ("decimal", {"price": decimal.Decimal("1.5")}, TypeError, 'value["price"]'),
    ("object", {"obj": Thing()}, TypeError, 'value["obj"]'),
    ("nan", {"x": float("nan")}, ValueError, 'value["x"] is NaN'),
    ("inf", [float("inf")], ValueError, "value[0] is Infinity"),
    ("-inf", float("-inf"), ValueError, "value is -Infinity"),
    ("circular list", circular_list, ValueError, "circular"),
    ("circular dict", circular_dict, ValueError, "circular"),
    ("tuple key", {(1, 2): "x"}, TypeError, "key"),
]


@pytest.mark.parametrize("label, value, error, message", BAD, ids=[b[0] for b in BAD])
async def test_non_json_is_refused_with_its_path_and_nothing_is_written(project, label, value, error, message):
    await store.save("k", "before")
    with pytest.raises(error, match=None) as info:
        await store.save("k", value)
    assert message in str(info.value)
    assert await store.load("k") == "before"
    async with request_context("u"):
        with pytest.raises(error) as info:
            await user.save("k", value)
        assert message in str(info.value)
        assert await user.exists("k") is False


async def test_refused_value_never_creates_the_database(project):
    with pytest.raises(TypeError):
        await store.save("k", {1, 2})
    assert not db_path(project).exists()


async def test_top_level_numbers_survive_numeric_affinity_for_other_readers(project):
    """The real Cat reads with json.loads: what we store must decode to the same value there too."""
    import json

    await store.save("f", 9.0)
    await store.save("big", 2**70)
    raw = dict(rows(project, "SELECT key, value FROM key_value_db"))
    assert json.loads(raw["f"]) == 9.0 and isinstance(json.loads(raw["f"]), float)
    assert json.loads(raw["big"]) == 2**70
