"""The right way: store plain JSON and convert at the edges.

Sets become sorted lists, datetimes ISO strings, tuples lists, and dict
keys strings; convert back when loading if the code needs the richer type.
"""

from datetime import datetime, timezone

from cat import endpoint, store


@endpoint.post("/mistakes/values-done-right", role="admin")
async def save_things_right(payload: dict) -> dict:
    await store.save("mistakes_tags", sorted({"python", "cats"}))
    await store.save("mistakes_seen_at", {"when": datetime.now(timezone.utc).isoformat()})
    await store.save("mistakes_origin", [45.46, 9.19])
    await store.save("mistakes_by_id", {"1": "one", "2": "two"})
    tags = set(await store.load("mistakes_tags", []))
    return {"tags": sorted(tags)}
