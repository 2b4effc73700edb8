"""CAT009: updates lost when requests overlap.

Load a value, compute from it, save it back: two requests that overlap both
load the same value, and the second save overwrites the first.  Nothing
fails, a visit or a vote is simply gone (bench/store.py: 189 of 192
concurrent increments lost this way).
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
