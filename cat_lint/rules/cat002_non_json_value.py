"""CAT002: a value that is not JSON, saved or returned by an update function."""

from __future__ import annotations

from typing import Iterable

from cat_lint.rules._base import FileRule, Invalid, Report, RuleContext, block, call_text
from cat_lint.rules._values import origin, value_problems


class NonJsonValue(FileRule):
    code = "CAT002"
    name = "non-json-value"
    summary = "A value that is not JSON is passed to `save` or returned by an `update` function."
    what = """
        Reports a value, passed to `store.save`/`user.save` or returned by the function given to
        `update`, that the store cannot hold, where the source shows it: set and frozenset
        literals and calls, bytes, complex numbers, `datetime`/`date`/`time`/`timedelta`,
        `Decimal`, `UUID` and `Path` objects (constructors and factories such as
        `datetime.now()`, `date.today()`, `uuid.uuid4()`, `Path.cwd()`), lambdas, generators,
        `object()`, NaN and infinities (`float("nan")`, `math.inf`). It looks inside list, tuple
        and dict literals and through a local name assigned once, and names the part, like
        `value["items"][2]`.
    """
    why = """
        The stores hold JSON. Saving anything else raises when the code runs, often in a path
        that tests do not reach; NaN and infinities are not JSON either, although Python's
        `json` module writes them, and other tools cannot read them back.
    """
    example = """
        from datetime import datetime
        from cat import user

        async def remember_visit():
            await user.save("visit", {"at": datetime.now(), "tags": {"new"}})   # CAT002 twice
    """
    use_instead = """
        from datetime import datetime
        from cat import user

        async def remember_visit():
            await user.save("visit", {"at": datetime.now().isoformat(), "tags": ["new"]})
    """
    fix_text = """
        Convert to JSON types before saving: `datetime.now().isoformat()`, `sorted(tags)` or
        `list(tags)`, `str(uuid4())`, `str(path)`, `str(decimal)` or `float(decimal)`, and `None`
        instead of NaN.
    """
    limits = """
        Only what the source shows: values returned by other functions, attributes and names
        assigned more than once are not followed.
    """
    VALID = (
        block("""
            from cat import store

            async def f():
                await store.save('tags', sorted({'a', 'b'}))
        """),
        block("""
            from datetime import datetime
            from cat import store

            async def f():
                await store.save('at', datetime.now().isoformat())
        """),
        block("""
            from cat import user

            async def f(items):
                data = {'items': list(items)}
                await user.save('data', data)
        """),
        block("""
            from cat import store

            def set(x):
                return [x]

            async def f():
                await store.save('k', set(1))
        """),
    )
    INVALID = (
        Invalid(
            block("""
                from cat import store

                async def f():
                    await store.save('cart', {'items': [1, 2, {3}]})
            """),
            4, 46,
            '`value["items"][2]` is a set, which is not JSON: `store.save("cart", ...)` raises',
        ),
        Invalid(
            block("""
                import datetime
                from cat import user

                async def f():
                    now = datetime.datetime.now()
                    await user.save('seen', now)
            """),
            5, 10,
            '`value` is a datetime, which is not JSON (through `now`): `user.save("seen", ...)` raises',
        ),
        Invalid(
            block("""
                import math, uuid
                from cat import store

                async def f():
                    await store.save('x', [float('nan'), math.inf, uuid.uuid4(), b'raw', 1j, lambda: 1])
            """),
            5, 27, '`value[0]` is NaN, which is not JSON: `store.save("x", ...)` raises', count=6,
        ),
        Invalid(
            block("""
                from cat import store

                async def f():
                    await store.save('grid', {(0, 0): 'start'})
            """),
            4, 30, '`value` has a key that is a tuple, which is not JSON: `store.save("grid", ...)` raises',
        ),
        Invalid(
            block("""
                from cat import store

                def add_tag(tags):
                    return frozenset(tags or ())

                async def f():
                    await store.update('tags', add_tag)
            """),
            4, 11,
            '`value` is a frozenset (returned by the update function `add_tag`), which is not JSON: `store.update("tags", ...)` raises',
        ),
        Invalid(
            block("""
                from decimal import Decimal
                from pathlib import Path
                from cat import store

                async def f():
                    await store.update('p', lambda old: {'price': Decimal('1.5'), 'dir': Path.cwd()})
            """),
            6, 50, count=2,
        ),
        Invalid(
            block("""
                import math
                from cat import store

                async def f():
                    await store.save('limits', [-math.inf, 1e999])
            """),
            5, 32, '`value[0]` is -Infinity, which is not JSON: `store.save("limits", ...)` raises', count=2,
        ),
        Invalid(
            block("""
                from cat import store

                async def f():
                    await store.save('deep', DEEP)
            """).replace("DEEP", "[" * 30 + "{1}" + "]" * 30),
            4, 59, '`value' + "[0]" * 30 + '` is a set, which is not JSON: `store.save("deep", ...)` raises',
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        for call, how, problem in value_problems(ctx.facts):
            if problem.kind != "not-json":
                continue
            through = f" (through `{problem.through}`)" if problem.through else ""
            yield Report(
                self.code,
                problem.node,
                f"`{problem.where}` {problem.what}{origin(how)}, which is not JSON{through}: `{call_text(call.receiver, call.verb, call.key)}` raises",
            )
