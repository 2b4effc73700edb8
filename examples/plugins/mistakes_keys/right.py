"""The right way: one constant per key, prefixed with the plugin's name.

A constant makes a typo a NameError instead of a silent miss; the prefix
keeps clear of the Cat's own keys and of other plugins.  The same names are
fine in a user's own store, which the Cat does not use.
"""

from cat import endpoint, store, user

COUNTER = "mistakes_keys_counter"


def plus_one(count: int) -> int:
    return count + 1


@endpoint.post("/mistakes/counter-right", role="admin")
async def bump_right() -> dict:
    return {"count": await store.update(COUNTER, plus_one, default=0)}


@endpoint.post("/mistakes/my-plugins", role="authenticated")
async def my_plugins(payload: dict) -> dict:
    await user.save("active_plugins", payload.get("plugins", []))  # a user's own key: fine
    return {"ok": True}
