"""CAT001: `user` where no request is in flight.

The bootstrap hooks run while the Cat starts, before anyone calls it: there
is no user to be, so every attribute of `user` raises.  The mistake is
easy to miss when the use hides in a helper the hook calls.

(The `except` only keeps `make demo` going: it prints what the real Cat
would have crashed with.  cat-lint reports both uses of `user` below.)
"""

from cat import NoRequestError, hook, store, user


async def remember_installer() -> None:
    # Called from a bootstrap hook: still no request here.
    await user.save("installed_by_me", True)  # CAT001


@hook
async def after_cat_bootstrap(value):
    try:
        name = user.name  # CAT001: no request in flight at start-up
        await remember_installer()
        await store.save("mistakes_installer", name)
    except NoRequestError as error:
        print(f"mistakes_bootstrap_user (wrong.py): {error}")
    return value
