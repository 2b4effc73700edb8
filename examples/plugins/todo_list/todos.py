"""A to-do list private to each user, kept in the per-user store.

Nothing here passes a user id around: `user` is whoever is behind the
current request, so two users never see each other's list.  Every change is
one `user.update`, so a tool call and an HTTP call racing on the same list
both land.
"""

from __future__ import annotations

from cat import endpoint, tool, user

KEY = "todos"


def _with_item(text: str):
    def add(todos: list) -> list:
        return todos + [{"text": text, "done": False}]

    return add


def _marked_done(text: str):
    def mark(todos: list) -> list:
        return [dict(item, done=item["done"] or item["text"] == text) for item in todos]

    return mark


@tool
async def add_todo(text: str) -> str:
    """Add an item to the caller's to-do list. Input is the item's text."""
    todos = await user.update(KEY, _with_item(text), default=[])
    return f"Added; {len(todos)} item(s) on the list."


@tool
async def list_todos(_: str = "") -> str:
    """List the caller's open to-do items."""
    todos = await user.load(KEY, [])
    open_items = [item["text"] for item in todos if not item["done"]]
    return "Nothing left to do." if not open_items else "To do: " + "; ".join(open_items)


@endpoint.get("/todos", role="authenticated")
async def get_todos() -> list:
    return await user.load(KEY, [])


@endpoint.post("/todos/done", role="authenticated")
async def mark_done(payload: dict) -> list:
    return await user.update(KEY, _marked_done(payload["text"]), default=[])


@endpoint.delete("/todos", role="admin")
async def clear_my_todos() -> dict:
    return {"removed": await user.delete(KEY)}
