"""Count every conversation turn: one shared total, and one count per user.

Both counters use `update`, the atomic read-modify-write: when many requests
arrive at once, every one of them is counted.  (The load-edit-save idiom,
`n = await store.load("visits", 0); await store.save("visits", n + 1)`,
would let two simultaneous requests read the same `n` and count once.)
"""

from cat import endpoint, hook, store, user


def add_one(count: int) -> int:
    return count + 1


@hook(priority=10)  # run early, so later hooks see the updated count
async def before_agent_run(context: dict) -> dict:
    # A request is in flight here, so `user` is the caller.
    context["visits_total"] = await store.update("visits_total", add_one, default=0)
    context["visits_mine"] = await user.update("visits", add_one, default=0)
    return context


@endpoint.get("/visits")  # no role: open to anonymous callers, so it only touches `store`
async def visits() -> dict:
    return {"total": await store.load("visits_total", 0)}


@endpoint.get("/visits/mine", role="authenticated")
async def my_visits() -> dict:
    return {"user": user.name, "visits": await user.load("visits", 0)}
