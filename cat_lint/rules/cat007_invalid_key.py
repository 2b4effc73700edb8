"""CAT007: a key that cannot work."""

from __future__ import annotations

from typing import Iterable

import libcst as cst

from cat_lint.project.schema import MAX_KEY_LENGTH, key_text_problem
from cat_lint.rules._base import FileRule, Invalid, Report, RuleContext, block, literal_text

_LITERAL_KINDS = {
    cst.Integer: "an int",
    cst.Float: "a float",
    cst.Imaginary: "a complex number",
    cst.List: "a list",
    cst.Tuple: "a tuple",
    cst.Dict: "a dict",
    cst.Set: "a set",
    cst.ListComp: "a list",
    cst.DictComp: "a dict",
    cst.SetComp: "a set",
}


def key_problem(key: cst.BaseExpression, call: str = "the call") -> str | None:
    """Why a literal key cannot work, or None when it can (or cannot be known)."""
    kind = _LITERAL_KINDS.get(type(key))
    if kind is None and isinstance(key, cst.Name) and key.value in ("None", "True", "False"):
        kind = "None" if key.value == "None" else "a bool"
    if kind is None and isinstance(key, (cst.SimpleString, cst.ConcatenatedString)):
        if literal_text(key) is None:
            try:
                if isinstance(key.evaluated_value, bytes):
                    kind = "bytes"
            except Exception:
                pass
    if kind is not None:
        return f"the key passed to {call} is {kind}, not a string: the store only takes string keys"
    text = literal_text(key)
    if text is None:
        return None
    if text == "":
        return f"the key passed to {call} is empty: an empty key cannot be told apart from a missing one and is rejected"
    if len(text) > MAX_KEY_LENGTH:
        return f"the key passed to {call} is {len(text):,} characters long: the database holds keys of at most {MAX_KEY_LENGTH:,}"
    problem = key_text_problem(text)
    if problem is not None:
        return f"the key passed to {call} {problem}"
    return None


class InvalidKey(FileRule):
    code = "CAT007"
    name = "invalid-key"
    summary = "A key that cannot work: not a string, empty, longer than 1024 characters, or not storable text."
    what = """
        Reports a literal key passed to a `store`/`user` method that is not a string (a number,
        `None`, bytes, a tuple...), is empty, is longer than 1024 characters, or holds a NUL
        character or a lone surrogate.
    """
    why = """
        Keys are strings of at most 1024 characters (the `key VARCHAR(1024)` column of the Cat's
        tables), of text every backend can store: PostgreSQL cannot hold NUL, and no database
        holds a lone surrogate. The runtime refuses anything else, in every request that reaches
        the call.
    """
    example = """
        from cat import store

        async def f():
            await store.save(42, "answer")   # CAT007
    """
    use_instead = """
        from cat import store

        async def f():
            await store.save("answer", 42)
    """
    fix_text = 'Use a short, non-empty string key: `await store.save("answer", 42)`.'
    VALID = (
        block("""
            from cat import store

            async def f(name):
                await store.save(f'counter_{name}', 0)
        """),
        block("""
            from cat import store

            async def f(key):
                await store.load(key)
        """),
    )
    INVALID = (
        Invalid(
            block("""
                from cat import store

                async def f():
                    await store.save(42, 'answer')
            """),
            4, 21,
            "the key passed to `store.save` is an int, not a string: the store only takes string keys",
        ),
        Invalid(
            block("""
                from cat import user

                async def f():
                    await user.load('')
            """),
            4, 20,
            "the key passed to `user.load` is empty: an empty key cannot be told apart from a missing one and is rejected",
        ),
        Invalid(
            block("""
                from cat import store

                async def f():
                    await store.exists('KEY')
            """).replace("KEY", "k" * 1100),
            4, 23,
            "the key passed to `store.exists` is 1,100 characters long: the database holds keys of at most 1,024",
        ),
        Invalid(
            block("""
                from cat import store

                async def f():
                    await store.delete(key=None)
            """),
            4, 27,
        ),
        Invalid(
            block("""
                from cat import store

                async def f():
                    await store.save('a\\x00b', 1)
            """),
            4, 21,
            "the key passed to `store.save` contains a NUL character (at index 1), which PostgreSQL cannot store",
        ),
        Invalid(
            block("""
                from cat import user

                async def f():
                    await user.load('x\\ud800')
            """),
            4, 20,
            "the key passed to `user.load` contains a lone surrogate ('\\ud800' at index 1), which is not valid Unicode text",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        for call in ctx.facts.store_calls:
            if call.key is None:
                continue
            problem = key_problem(call.key, f"`{call.receiver}.{call.verb}`")
            if problem is not None:
                yield Report(self.code, call.key, problem)
