"""Every example of the persistence page (seed/persistence.md), run as written."""

from __future__ import annotations

from cat import request_context, store, user

from runtime_helpers import rows


async def test_front_door_example(project):
    await store.save("theme", {"color": "dark"})  # shared by everyone
    async with request_context("alice"):
        await user.save("todos", [{"text": "buy milk"}])  # private to the caller
    assert await store.load("theme") == {"color": "dark"}
    async with request_context("alice"):
        assert await user.load("todos") == [{"text": "buy milk"}]
    async with request_context("bob"):
        assert await user.load("todos") is None


async def test_global_store_example(project):
    await store.save("theme", {"color": "dark"})
    theme = await store.load("theme")
    assert theme == {"color": "dark"}
    assert await store.load("theme", {}) == {"color": "dark"}
    assert await store.exists("theme") is True
    assert await store.delete("theme") is True
    # ... and the unset cases the comments promise
    assert await store.load("theme") is None
    assert await store.load("theme", {}) == {}
    assert await store.exists("theme") is False
    assert await store.delete("theme") is False


async def test_save_returns_the_value(project):
    value = {"color": "dark"}
    assert await store.save("theme", value) is value


async def test_save_is_full_replacement_not_merge(project):
    await store.save("theme", {"color": "dark", "font": "mono"})
    await store.save("theme", {"color": "light"})
    assert await store.load("theme") == {"color": "light"}


async def test_load_edit_save_counter_example(project):
    for expected in (1, 2, 3):
        counts = await store.load("counts", {})
        counts["hits"] = counts.get("hits", 0) + 1
        await store.save("counts", counts)
        assert await store.load("counts") == {"hits": expected}


async def test_per_user_todos_example(project):
    async with request_context("alice"):
        todos = await user.load("todos", [])
        todos.append({"text": "buy milk", "done": False})
        await user.save("todos", todos)  # stored under this user only
        assert await user.load("todos") == [{"text": "buy milk", "done": False}]
    async with request_context("bob"):
        assert await user.load("todos", []) == []
    async with request_context("alice"):
        assert await user.delete("todos") is True
        assert await user.load("todos", []) == []


async def test_count_round_trips_as_int(project):
    await store.save("count", 9)
    loaded = await store.load("count")
    assert loaded == 9 and type(loaded) is int


async def test_json_coercions_tuples_and_keys(project):
    await store.save("t", (1, (2, 3)))
    assert await store.load("t") == [1, [2, 3]]
    await store.save("d", {1: "a", 2.5: "b", None: "d"})
    assert await store.load("d") == {"1": "a", "2.5": "b", "null": "d"}
    await store.save("b", {True: "c"})
    assert await store.load("b") == {"true": "c"}


async def test_both_stores_live_in_the_project_data_folder(project):
    await store.save("theme", {"color": "dark"})
    async with request_context("alice"):
        await user.save("todos", [])
    assert rows(project, "SELECT key FROM key_value_db") == [("theme",)]
    assert rows(project, "SELECT key FROM user_key_value_db") == [("todos",)]


async def test_update_counter_next_to_the_idiom(project):
    """The counter written with update, as the issue asks to document next to load-edit-save."""
    counts = await store.update("counts", lambda c: {**c, "hits": c.get("hits", 0) + 1}, {})
    assert counts == {"hits": 1}
    assert await store.update("counts", lambda c: {**c, "hits": c["hits"] + 1}, {}) == {"hits": 2}
