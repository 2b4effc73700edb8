"""CAT005: `user` in an endpoint that anyone may call.

With no `role=`, the endpoint is open: an anonymous caller gets through,
and the first touch of `user` raises "No authenticated user".
"""

from cat import endpoint, user


@endpoint.get("/mistakes/profile")  # no role=: anyone may call
async def profile() -> dict:
    prefs = await user.load("mistakes_prefs", {})  # CAT005
    return {"name": user.name, "prefs": prefs}  # CAT005
