"""CAT002 and CAT003: values the store cannot keep, or cannot give back as they were.

The stores hold JSON.  A set or a datetime cannot be saved at all (CAT002,
the save raises); a tuple comes back as a list and a dict with int keys
comes back with string keys (CAT003, silently different).
"""

from datetime import datetime

from cat import endpoint, store

@endpoint.post("/mistakes/values", role="admin")
async def save_things(payload: dict) -> dict:
    await store.save("mistakes_tags", {"python", "cats"})  # CAT002: a set
    await store.save("mistakes_seen_at", {"when": datetime.now()})  # CAT002: a datetime inside a dict
    tags = frozenset(["a", "b"])  # CAT002: a frozenset, saved through a local name below
    await store.save("mistakes_tags_again", tags)
    await store.save("mistakes_origin", (45.46, 9.19))  # CAT003: loads back as a list
    await store.save("mistakes_by_id", {1: "one", 2: "two"})  # CAT003: keys load back as "1", "2"
    return {"saved": True}
