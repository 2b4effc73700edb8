"""The right way: global set-up in the bootstrap hooks, per-user state in a request.

Start-up work uses the global `store` only.  What belongs to a person is
written the first time that person makes a request, where `user` is
whoever is calling.
"""

from cat import hook, store, tool, user


def first_start(current):
    return current or {"started": True}


@hook
async def after_cat_bootstrap(value):
    await store.update("mistakes_started", first_start, default=None)
    return value


@tool
async def mistakes_remember_me(_: str = "") -> str:
    """Remember that the caller has used this plugin."""
    await user.save("mistakes_seen", True)
    return f"Nice to meet you, {user.name}."
