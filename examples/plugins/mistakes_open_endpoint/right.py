"""The right way: say who may call an endpoint that needs a user."""

from cat import endpoint, store, user


@endpoint.put("/mistakes/profile", role="authenticated")
async def save_profile(payload: dict) -> dict:
    await user.save("mistakes_prefs", payload)
    return {"name": user.name, "prefs": payload}


@endpoint.get("/mistakes/status")  # open on purpose: it never touches `user`
async def status() -> dict:
    return {"started": await store.exists("mistakes_started")}
