"""The ambient user: request contexts, isolation between users and tasks, and the two errors."""

from __future__ import annotations

import asyncio
import uuid

import pytest

import cat
from cat import NoRequestError, NoUserError, request_context, store, user

from runtime_helpers import rows

NO_REQUEST = "Outside a request — no user/stream available."
NO_USER = "No authenticated user in the current request context."


@pytest.mark.parametrize("attribute", ["id", "name", "roles", "save", "load", "exists", "delete", "update", "anything"])
def test_outside_a_request_every_attribute_raises(attribute):
    with pytest.raises(NoRequestError) as info:
        getattr(user, attribute)
    assert isinstance(info.value, RuntimeError)
    message = str(info.value)
    assert message.startswith(NO_REQUEST)
    # it tells where user can be used
    assert "tools" in message and "endpoints" in message and "request_context" in message


@pytest.mark.parametrize("attribute", ["id", "name", "roles", "save", "load", "exists", "delete", "update"])
def test_anonymous_request_raises_no_user(attribute):
    with request_context(None):
        with pytest.raises(NoUserError) as info:
            getattr(user, attribute)
    assert isinstance(info.value, RuntimeError)
    assert str(info.value) == NO_USER


def test_error_comes_at_attribute_access_before_any_coroutine():
    with pytest.raises(NoRequestError):
        user.save  # noqa: B018 - the access itself must raise


def test_repr_never_raises():
    assert "outside a request" in repr(user)
    with request_context(None):
        assert "anonymous" in repr(user)
    with request_context("abc"):
        assert "abc" in repr(user)


def test_identity_fields():
    with request_context("u-1", name="Alice", roles=("admin", "editor")) as request:
        assert request.user_id == "u-1"
        assert user.id == "u-1"
        assert user.name == "Alice"
        assert user.roles == ("admin", "editor")
    with request_context("u-2"):
        assert user.name is None and user.roles == ()
    with request_context("u-3", roles="admin"):
        assert user.roles == ("admin",)
    the_id = uuid.uuid4()
    with request_context(the_id):
        assert user.id == str(the_id)


def test_request_context_restores_the_previous_state():
    with request_context("outer"):
        with request_context("inner"):
            assert user.id == "inner"
        with request_context(None):
            with pytest.raises(NoUserError):
                user.id  # noqa: B018
        assert user.id == "outer"
    with pytest.raises(NoRequestError):
        user.id  # noqa: B018


async def test_async_with_request_context():
    async with request_context("a"):
        assert user.id == "a"
    with pytest.raises(NoRequestError):
        user.id  # noqa: B018


@pytest.mark.parametrize("bad, error", [("", ValueError), (1, TypeError), (b"x", TypeError)])
def test_request_context_validates_the_user_id(bad, error):
    with pytest.raises(error):
        request_context(bad)


def test_user_is_read_only():
    with request_context("a"):
        with pytest.raises(AttributeError):
            user.id = "b"


async def test_concurrent_tasks_never_see_each_others_user(project):
    seen: dict[str, list[str]] = {}

    async def request(user_id: str) -> None:
        async with request_context(user_id):
            for step in range(5):
                await user.save("step", step)
                await asyncio.sleep(0)
                seen.setdefault(user_id, []).append(user.id)
                assert await user.load("step") == step

    await asyncio.gather(*(request(f"user-{i}") for i in range(20)))
    assert all(ids == [uid] * 5 for uid, ids in seen.items())
    assert len(seen) == 20


async def test_tasks_created_inside_a_request_inherit_its_user(project):
    async with request_context("parent"):
        child = asyncio.create_task(_whoami())
    # the child keeps the user even though the parent left the request
    assert await child == "parent"
    # a task created outside any request has none
    with pytest.raises(NoRequestError):
        await asyncio.create_task(_whoami())


async def _whoami() -> str:
    await asyncio.sleep(0)
    return user.id


async def test_update_function_runs_in_the_callers_context(project):
    async with request_context("alice"):
        assert await store.update("last_writer", lambda old: user.id) == "alice"


IDS = ["1", "01", "1.0", "1e0", " 1", "+1", "-0", "0x1", "a'b", 'a"b', "a%b", "a_b", "%", "_", "a/b:c;d", "ユーザー", "🐈", str(uuid.uuid4())]


async def test_users_are_isolated_and_ids_compare_exactly(project):
    for user_id in IDS:
        async with request_context(user_id):
            await user.save("who", user_id)
    for user_id in IDS:
        async with request_context(user_id):
            assert await user.load("who") == user_id
            assert await user.exists("who") is True
    # one row per user, none merged by SQLite's type affinity
    assert len(rows(project, "SELECT * FROM user_key_value_db")) == len(IDS)
    async with request_context("1"):
        assert await user.delete("who") is True
    async with request_context("01"):
        assert await user.load("who") == "01"
    async with request_context("1.0"):
        assert await user.load("who") == "1.0"


async def test_user_keys_do_not_touch_global_keys(project):
    await store.save("k", "global")
    async with request_context("u"):
        assert await user.load("k") is None
        await user.save("k", "mine")
        assert await user.delete("k") is True
    assert await store.load("k") == "global"


async def test_user_rows_have_the_cat_layout(project):
    async with request_context("3f2504e0-4f89-11d3-9a0c-0305e82c3301"):
        await user.save("todos", [1])
        await user.save("todos", [1, 2])  # an update, not a second row
    [(row_id, user_id, key, value)] = rows(project, "SELECT id, user_id, key, value FROM user_key_value_db")
    assert str(uuid.UUID(row_id)) == row_id
    assert user_id == "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
    assert (key, value) == ("todos", "[1,2]")


async def test_duplicates_left_by_the_real_cat_are_tolerated_and_collapsed(project):
    import sqlite3

    from runtime_helpers import db_path

    async with request_context("u"):
        await user.save("warm", 0)  # creates the tables
    conn = sqlite3.connect(db_path(project))
    for value in ("1", "2", "3"):
        conn.execute(
            "INSERT INTO user_key_value_db (id, user_id, key, value) VALUES (?, ?, ?, ?)",
            (str(uuid.uuid4()), "u", "dup", value),
        )
    conn.commit()
    conn.close()
    async with request_context("u"):
        assert await user.load("dup") == 3  # the newest row wins
        assert await user.update("dup", lambda v: v * 10) == 30
        assert await user.load("dup") == 30
    assert rows(project, "SELECT count(*) FROM user_key_value_db WHERE key = 'dup'") == [(1,)]
    async with request_context("u"):
        await user.save("dup", "x")
        assert await user.delete("dup") is True
        assert await user.exists("dup") is False


async def test_store_works_without_a_request(project):
    with cat.no_request():
        await store.save("k", 1)
        assert await store.load("k") == 1
