"""CAT008: writing or deleting one of the Cat's own keys in the global store."""

from __future__ import annotations

from typing import Iterable

from cat_lint.keys import CAT_OWNED_PREFIXES, is_cat_owned
from cat_lint.rules._base import FileRule, Invalid, Report, RuleContext, block, call_text, literal_prefix, literal_text

_WRITES = {"save": "overwrites", "update": "overwrites", "delete": "deletes"}


class CatOwnedKey(FileRule):
    code = "CAT008"
    name = "cat-owned-key"
    summary = "A plugin writes or deletes a key the Cat itself keeps in the global store."
    what = """
        Reports `store.save`, `store.update` and `store.delete` on `active_plugins`,
        `installation_info` or any `settings_*` key, in the global `store`, also when the key
        is computed but surely starts with `settings_` (`f"settings_{name}"`,
        `"settings_" + name`, `"settings_%s" % name`, `"settings_{}".format(name)`). Reading them is
        fine, and the same names in a user's own store (`user.save("settings_x", ...)`) are
        fine too.
    """
    why = """
        The Cat keeps its own state in the global store: which plugins are active, the
        installation's identity, and one `settings_<plugin>_<type>_<slug>` key per configured
        service. A plugin that writes over them breaks the installation for everyone, and the
        damage survives restarts.
    """
    example = """
        from cat import store

        async def reset():
            await store.delete("active_plugins")   # CAT008
    """
    use_instead = """
        from cat import store

        async def configure(settings):
            await store.save("my_plugin_settings", settings)

        async def reset():
            await store.delete("my_plugin_settings")
    """
    fix_text = """
        Keep your plugin's state under keys of its own, prefixed with the plugin's name
        (`"my_plugin_settings"`); change the Cat's settings through its admin UI or API.
    """
    VALID = (
        block("""
            from cat import store

            async def f():
                return await store.load('active_plugins', [])
        """),
        block("""
            from cat import user

            async def f():
                await user.save('settings_theme', 'dark')
        """),
        block("""
            from cat import store

            async def f():
                await store.save('my_plugin_settings', {})
        """),
        block("""
            from cat import store

            async def f(n):
                await store.save(f'my_settings_{n}', {})
        """),
        block("""
            from cat import user

            async def f(n):
                await user.save(f'settings_{n}', {})
        """),
    )
    INVALID = (
        Invalid(
            block("""
                from cat import store

                async def f():
                    await store.delete('active_plugins')
            """),
            4, 10,
            '`store.delete("active_plugins")` deletes a key the Cat itself keeps: it breaks the installation; plugins keep their state under keys of their own',
        ),
        Invalid(
            block("""
                import cat

                async def f():
                    await cat.store.save('settings_core_config_core', {})
            """),
            4, 10,
            '`cat.store.save("settings_core_config_core", ...)` overwrites a key the Cat itself keeps: it breaks the installation; plugins keep their state under keys of their own',
        ),
        Invalid(
            block("""
                from cat import store

                async def f(n):
                    await store.save(f'settings_{n}', {})
            """),
            4, 10,
            '`store.save(..., ...)` overwrites a key the Cat itself keeps: it breaks the installation; plugins keep their state under keys of their own',
        ),
        Invalid(
            block("""
                from cat import store

                async def f(n):
                    await store.delete('settings_' + n)
            """),
            4, 10,
        ),
        Invalid(
            block("""
                from cat import store

                async def f(n):
                    await store.delete('settings_%s' % n)
            """),
            4, 10,
        ),
        Invalid(
            block("""
                from cat import store

                async def f(n):
                    await store.update('settings_{}'.format(n), dict)
            """),
            4, 10,
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        for call in ctx.facts.store_calls:
            if call.scope != "store" or call.verb not in _WRITES or call.key is None:
                continue
            key = literal_text(call.key)
            if key is None:
                # A key computed from a Cat-owned prefix (f"settings_{name}", "settings_" + name).
                prefix = literal_prefix(call.key)
                if not prefix or not prefix.startswith(CAT_OWNED_PREFIXES):
                    continue
            elif not is_cat_owned(key):
                continue
            yield Report(
                self.code,
                call.node,
                f"`{call_text(call.receiver, call.verb, call.key)}` {_WRITES[call.verb]} a key the Cat itself keeps: "
                "it breaks the installation; plugins keep their state under keys of their own",
            )
