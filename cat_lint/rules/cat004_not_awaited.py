"""CAT004: a store call that is never awaited."""

from __future__ import annotations

from typing import Iterable

from cat_lint.rules._base import EditSpec, FileRule, FixSpec, Invalid, Report, RuleContext, block, call_text

_EFFECT = {
    "save": "the write never happens",
    "update": "the update never happens",
    "delete": "nothing is deleted",
    "load": "the code gets a coroutine, not the value",
    "exists": "the code gets a coroutine, which is always true",
}


class NotAwaited(FileRule):
    code = "CAT004"
    name = "store-call-not-awaited"
    summary = "A `store`/`user` call is never awaited, so it never runs."
    fixable = "sometimes"
    what = """
        Reports a call to `save`, `load`, `exists`, `delete` or `update` of `store` or `user`
        that is written as a statement without `await`, or bound to a name that the function
        never awaits (nor passes on, returns, hands to `asyncio.gather`/`create_task`, or
        declares `global`/`nonlocal`); in functions and at module level alike.  The name may
        be bound by any assignment that holds the call itself: `x = ...`, `x: T = ...`,
        `x = y = ...`, `x, y = ..., ...` and `(x := ...)`.  The calls that make up such a value count too:
        both branches of a conditional expression (`store.save(k, v) if x else None`) and the
        elements of a list, set or dict comprehension (`[store.save(k, 1) for k in ks]`).
    """
    why = """
        The store's methods are coroutines. Without `await` the call only creates a coroutine
        object, which is dropped: the write silently does not happen (Python at most prints
        "coroutine was never awaited" to the log), and a `load` hands back a coroutine instead
        of the value.
    """
    example = """
        from cat import store

        async def remember(theme):
            store.save("theme", theme)   # CAT004: never runs
    """
    use_instead = """
        from cat import store

        async def remember(theme):
            await store.save("theme", theme)
    """
    fix_text = """
        Add `await`. In an `async def` the fix does it and `--fix` applies it. In a plain `def`,
        make the function `async` (and await it where it is called) first.
    """
    VALID = (
        block("""
            from cat import store

            async def f():
                await store.save('k', 1)
        """),
        block("""
            import asyncio
            from cat import store

            async def f():
                await asyncio.gather(store.save('a', 1), store.save('b', 2))
        """),
        block("""
            from cat import store

            async def f():
                pending = store.save('k', 1)
                await pending
        """),
        block("""
            from cat import store

            def later():
                return store.load('k')
        """),
        block("""
            import asyncio
            from cat import store

            async def f(ks):
                await asyncio.gather(*[store.save(k, 1) for k in ks])
        """),
        block("""
            import asyncio
            from cat import store

            async def f(ks):
                coros = [store.save(k, 1) for k in ks]
                await asyncio.gather(*coros)
        """),
        block("""
            from cat import store

            async def f(x):
                return await (store.load('k') if x else store.load('j'))
        """),
    )
    INVALID = (
        Invalid(
            block("""
                from cat import store

                async def f(theme):
                    store.save('theme', theme)
            """),
            4, 4,
            '`store.save("theme", ...)` is never awaited: the write never happens',
            fixed=block("""
                from cat import store

                async def f(theme):
                    await store.save('theme', theme)
            """),
        ),
        Invalid(
            block("""
                from cat import user

                async def f():
                    todos = user.load('todos', [])
                    return len(todos)
            """),
            4, 12,
            '`user.load("todos")` is never awaited: the code gets a coroutine, not the value',
            fixed=block("""
                from cat import user

                async def f():
                    todos = await user.load('todos', [])
                    return len(todos)
            """),
        ),
        Invalid(
            block("""
                from cat import store

                async def f(ks):
                    [store.save(k, 1) for k in ks]
            """),
            4, 5,
            '`store.save(..., ...)` is never awaited: the write never happens',
            fixed=block("""
                from cat import store

                async def f(ks):
                    [await store.save(k, 1) for k in ks]
            """),
        ),
        Invalid(
            block("""
                from cat import store

                async def f(x):
                    store.save('k', 1) if x else None
            """),
            4, 4,
            '`store.save("k", ...)` is never awaited: the write never happens',
            fixed=block("""
                from cat import store

                async def f(x):
                    await store.save('k', 1) if x else None
            """),
        ),
        Invalid(
            block("""
                from cat import store

                THEME = store.load('theme')
            """),
            3, 8,
            '`store.load("theme")` is never awaited: the code gets a coroutine, not the value',
        ),
        Invalid(
            block("""
                from cat import store

                def f():
                    store.delete('old')
            """),
            4, 4,
            '`store.delete("old")` is never awaited: nothing is deleted; make `f` async and await the call',
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        module_used: set[str] | None = None
        for call in ctx.facts.store_calls:
            if call.role == "statement":
                pass
            elif call.role == "assign" and call.func is not None and not call.deferred:
                used = call.func.awaited_names | call.func.handed_names
                if any(name in used for name in call.assigned_names):
                    continue
            elif call.role == "assign" and call.func is None and not call.deferred:
                # At module level nothing can await it, unless a function does, by that name.
                if module_used is None:
                    module_used = set()
                    for function in ctx.facts.functions:
                        module_used |= function.awaited_names | function.handed_names
                if any(name in module_used for name in call.assigned_names):
                    continue
            else:
                continue
            message = f"`{call_text(call.receiver, call.verb, call.key)}` is never awaited: {_EFFECT[call.verb]}"
            fix = None
            if call.func is not None and call.func.is_async and not call.deferred:
                fix = FixSpec("Add `await`", (EditSpec("insert", call.node, "await "),), safe=True)
            elif call.func is not None and not call.deferred:
                message += f"; make `{call.func.name}` async and await the call"
            yield Report(self.code, call.node, message, fix)
