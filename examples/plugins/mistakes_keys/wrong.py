"""CAT006, CAT007 and CAT008: keys.

- CAT006: a key read but written nowhere (here a typo of a saved key):
  the load always returns the default, and nothing says why.
- CAT007: a key that cannot work: not a string, or empty.
- CAT008: writing to a key the Cat keeps for itself (`active_plugins`,
  `installation_info`, `settings_*`) breaks the installation.
"""

from cat import endpoint, store


@endpoint.post("/mistakes/counter", role="admin")
async def bump() -> dict:
    await store.update("mistakes_counter", lambda count: count + 1, default=0)
    return {"count": await store.load("mistakes_countre", 0)}  # CAT006: did you mean "mistakes_counter"?


@endpoint.post("/mistakes/bad-keys", role="admin")
async def bad_keys() -> dict:
    await store.save(42, "answer")  # CAT007: not a string
    await store.save("", "nothing")  # CAT007: empty
    return {"ok": True}


@endpoint.post("/mistakes/reset", role="admin")
async def reset() -> dict:
    await store.save("active_plugins", [])  # CAT008: the Cat's own list of plugins
    await store.delete("settings_core_config_core")  # CAT008: the Cat's own settings
    return {"reset": True}
