"""CAT006: a key that is read but never written."""

from __future__ import annotations

import json
from typing import Iterable

from cat_lint.findings import Edit, Finding, Fix, KeyUse, Span
from cat_lint.keys import KeyIndex
from cat_lint.rules._base import IndexRule, Invalid, block

_STORE_NAME = {"store": "the global store", "user": "the per-user store"}


def _replacement(use: KeyUse, key: str) -> Edit:
    span = use.span
    if span.start_line == span.end_line and span.end_col - span.start_col == len(use.key) + 2:
        # A plain 'key' or "key": replace what is between the quotes, keeping the author's quotes.
        return Edit(Span(span.start_line, span.start_col + 1, span.end_line, span.end_col - 1), key)
    return Edit(span, json.dumps(key, ensure_ascii=False))


class UnknownKey(IndexRule):
    code = "CAT006"
    name = "unknown-key"
    summary = "A key is read but never written in the project, and the database does not hold it."
    fixable = "sometimes"
    what = """
        Reports a literal key passed to `load`, `exists` or `delete` of `store` or `user` that
        no `save` or `update` of the same store writes anywhere in the linted tree, that is not
        one of the Cat's own keys (`active_plugins`, `installation_info`, `settings_*`, global
        store only), and that the project's database does not hold. When a saved key is close,
        the message says "did you mean" and the finding carries a fix (offered, never applied by
        `--fix`) that replaces the key.
    """
    why = """
        A key nobody writes is almost always a typo (`"thme"` for `"theme"`) or a leftover of a
        rename. `load` then quietly returns the default forever, and the bug looks like missing
        data rather than a wrong name.
    """
    example = """
        from cat import store

        async def remember(theme):
            await store.save("theme", theme)

        async def current():
            return await store.load("thme", "light")   # CAT006: did you mean "theme"?
    """
    use_instead = """
        from cat import store

        async def remember(theme):
            await store.save("theme", theme)

        async def current():
            return await store.load("theme", "light")
    """
    fix_text = "Use the key that is saved, or save the key somewhere."
    limits = """
        Only string literal keys are checked; f-strings and variables are left alone. The tree is
        what the run lints (the workspace in the editor) plus the keys already in the database
        where the project's configuration points.
    """
    VALID = (
        block("""
            from cat import store

            async def f():
                await store.save('theme', 'dark')
                return await store.load('theme')
        """),
        block("""
            from cat import store

            async def f():
                return await store.load('active_plugins', [])
        """),
        block("""
            from cat import user

            async def f(name):
                return await user.load(f'todo_{name}')
        """),
    )
    INVALID = (
        Invalid(
            block("""
                from cat import store

                async def f():
                    await store.save('theme', 'dark')
                    return await store.load('thme')
            """),
            5, 28,
            'the key "thme" is read here but never written to the global store, in this project or its database; did you mean "theme"?',
            fixed=block("""
                from cat import store

                async def f():
                    await store.save('theme', 'dark')
                    return await store.load('theme')
            """),
        ),
        Invalid(
            block("""
                from cat import store, user

                async def f():
                    await store.save('todos', [])
                    return await user.exists('todos')
            """),
            5, 29,
            'the key "todos" is read here but never written to the per-user store, in this project or its database',
        ),
    )

    def check_uses(self, key_uses: Iterable[KeyUse], index: KeyIndex) -> Iterable[Finding]:
        for use in key_uses:
            if use.writes or index.is_known(use.key, use.scope):
                continue
            message = f'the key {json.dumps(use.key, ensure_ascii=False)} is read here but never written to {_STORE_NAME[use.scope]}, in this project or its database'
            fix = None
            suggestion = index.suggest(use.key, use.scope)
            if suggestion is not None:
                message += f"; did you mean {json.dumps(suggestion, ensure_ascii=False)}?"
                fix = Fix(f"Replace with {json.dumps(suggestion, ensure_ascii=False)}", (_replacement(use, suggestion),), safe=False)
            yield Finding(self.code, message, use.path, use.span, fix)
