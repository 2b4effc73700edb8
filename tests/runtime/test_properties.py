"""Property tests: any JSON value round-trips exactly; any two distinct user ids never share keys."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cat
from cat import request_context, store, user

from test_values import same

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One event loop and one database for all the examples of this module."""
    folder = tmp_path_factory.mktemp("properties")
    loop = asyncio.new_event_loop()
    cat.configure(sql=f"sqlite:///{folder / 'core.db'}")
    yield loop.run_until_complete
    loop.run_until_complete(cat.close())
    loop.close()
    cat.configure()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values)
def test_any_json_value_round_trips_exactly(run, value):
    async def round_trip():
        await store.save("prop", value)
        return await store.load("prop", default=object())

    assert same(run(round_trip()), value)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=st.text(min_size=1, max_size=12),
    second=st.text(min_size=1, max_size=12),
    key=st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=20),  # NUL: refused (test_backends_agree)
)
def test_distinct_user_ids_never_share_keys(run, first, second, key):
    async def scenario():
        async with request_context(first):
            await user.delete(key)
        async with request_context(second):
            await user.save(key, second)
        async with request_context(first):
            return await user.load(key, default="unset")

    expected = second if first == second else "unset"
    assert run(scenario()) == expected
