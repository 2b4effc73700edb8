"""CAT009 and CAT010: updates lost when requests overlap, and a key whose type drifts.

- CAT009: load a value, compute from it, save it back: two requests that
  overlap both load the same value, and the second save overwrites the
  first.  Nothing fails, a visit or a vote is simply gone (bench/store.py:
  189 of 192 concurrent increments lost this way).
- CAT010: one place saves a key as a list, another as a dict, or loads it
  with a default of another type: the code written for one type crashes on
  the other, later, for whoever's data the other place wrote.
"""

from cat import endpoint, store, user


@endpoint.post("/mistakes/races/visit", role="authenticated")
async def count_visit() -> dict:
    visits = await store.load("races_visits", 0)  # CAT009: the fix makes it one `update`
    await store.save("races_visits", visits + 1)
    return {"counted": True}


@endpoint.post("/mistakes/races/vote", role="authenticated")
async def vote(payload: dict) -> dict:
    votes = await store.load("races_votes", {})  # CAT009: no automatic fix, the dict is edited in between
    choice = str(payload.get("choice", "yes"))
    votes[choice] = votes.get(choice, 0) + 1
    await store.save("races_votes", votes)
    return votes


@endpoint.post("/mistakes/races/todo", role="authenticated")
async def add_todo(payload: dict) -> dict:
    # Only this user's own overlapping requests race here (two tabs, a retry):
    # reported when the project sets `lost-update-user = true`.
    todos = await user.load("races_todos", [])
    todos.append(str(payload.get("text", "")))
    await user.save("races_todos", todos)
    return {"todos": len(todos)}


@endpoint.post("/mistakes/races/bookmark", role="authenticated")
async def bookmark(payload: dict) -> dict:
    url = str(payload.get("url", ""))
    await user.update("races_bookmarks", lambda marks: marks + [url], default=[])  # CAT010: a list here
    return {"saved": url}


@endpoint.post("/mistakes/races/bookmarks-reset", role="authenticated")
async def reset_bookmarks() -> dict:
    await user.save("races_bookmarks", {})  # CAT010: a dict, where `bookmark` keeps a list
    return {"reset": True}


@endpoint.get("/mistakes/races/bookmarks", role="authenticated")
async def bookmarks() -> dict:
    marks = await user.load("races_bookmarks", {})  # CAT010: a dict default for a list
    return {"count": len(marks)}
