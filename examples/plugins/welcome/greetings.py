"""Installation-wide greetings set up at start-up; each user's language chosen per request.

The bootstrap hooks run with no request in flight, so they may use `store`
but never `user`: there is nobody to be.  Defaults are written only when
missing (`update` with a default), so an admin's later edits survive restarts.
"""

from cat import endpoint, hook, store, user

DEFAULT_GREETINGS = {"en": "Welcome back", "it": "Bentornato", "fr": "Bon retour"}


def keep_or_default(current: dict | None) -> dict:
    return current if current else dict(DEFAULT_GREETINGS)


@hook
async def after_cat_bootstrap(_: object) -> None:
    # No request here: `store` is fine, `user` would raise NoRequestError.
    await store.update("welcome_greetings", keep_or_default, default=None)


@hook
async def before_agent_run(context: dict) -> dict:
    greetings = await store.load("welcome_greetings", DEFAULT_GREETINGS)
    preferences = await user.load("preferences", {})
    greeting = greetings.get(preferences.get("language", "en"), greetings["en"])
    context["greeting"] = f"{greeting}, {user.name or 'friend'}!"
    return context


@endpoint.put("/preferences", role="authenticated")
async def set_preferences(payload: dict) -> dict:
    def merge(current: dict) -> dict:
        return {**current, **payload}

    return await user.update("preferences", merge, default={})
