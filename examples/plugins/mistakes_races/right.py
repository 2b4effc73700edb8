"""The right way: `update`, which reads and writes in one step.

`update` runs a plain function on the current value while the database is
locked, so overlapping requests queue instead of overwriting each other.
When the new value needs an `await`, hold one lock around the load and the
save (one process only).  Start-up code runs once, so it cannot race.
"""

import asyncio

from cat import endpoint, hook, store, user

REPORT_LOCK = asyncio.Lock()


@endpoint.post("/mistakes/races/visit-right", role="authenticated")
async def count_visit_right() -> dict:
    visits = await store.update("races_visits", lambda visits: visits + 1, default=0)
    return {"visits": visits}


def add_vote(choice: str):
    def add(votes: dict) -> dict:
        votes[choice] = votes.get(choice, 0) + 1
        return votes

    return add


@endpoint.post("/mistakes/races/vote-right", role="authenticated")
async def vote_right(payload: dict) -> dict:
    return await store.update("races_votes", add_vote(str(payload.get("choice", "yes"))), default={})


@endpoint.post("/mistakes/races/todo-right", role="authenticated")
async def add_todo_right(payload: dict) -> dict:
    text = str(payload.get("text", ""))
    todos = await user.update("races_todos", lambda todos: todos + [text], default=[])
    return {"todos": len(todos)}


async def summarize() -> str:
    await asyncio.sleep(0)  # stands for a call to a model or a web service
    return "all quiet"


@endpoint.post("/mistakes/races/report-right", role="admin")
async def report_right() -> dict:
    async with REPORT_LOCK:
        report = await store.load("races_report", [])
        report.append(await summarize())
        await store.save("races_report", report)
    return {"lines": len(report)}


@hook
async def after_cat_bootstrap(value):
    starts = await store.load("races_starts", 0)
    await store.save("races_starts", starts + 1)  # start-up runs once: nothing to race with
    return value


@endpoint.post("/mistakes/races/bookmark-right", role="authenticated")
async def bookmark_right(payload: dict) -> dict:
    url = str(payload.get("url", ""))
    await user.update("races_bookmarks_right", lambda marks: marks + [url], default=[])
    return {"saved": url}


@endpoint.post("/mistakes/races/bookmarks-reset-right", role="authenticated")
async def reset_bookmarks_right() -> dict:
    await user.save("races_bookmarks_right", [])  # one type for the key, everywhere
    return {"reset": True}


@endpoint.get("/mistakes/races/bookmarks-right", role="authenticated")
async def bookmarks_right() -> dict:
    marks = await user.load("races_bookmarks_right", [])
    return {"count": len(marks)}
