"""CAT005: ``user`` in an endpoint declared without ``role=``."""

from __future__ import annotations

from typing import Iterable

from cat_lint.rules._base import EditSpec, FileRule, FixSpec, Invalid, Report, RuleContext, block


class UserInOpenEndpoint(FileRule):
    code = "CAT005"
    name = "user-in-open-endpoint"
    summary = "`user` is used in an endpoint that anyone may call, declared without `role=`."
    fixable = "sometimes"
    what = """
        Reports each use of the ambient `user` inside a function decorated with
        `@endpoint.get(...)` (or `post`, `put`, `patch`, `delete`, `endpoint`) that has no
        `role=` argument (or `role=None`).
    """
    why = """
        Without `role=` the endpoint is open: anyone may call it, logged in or not. For an
        anonymous caller there is no user, and any use of `user` raises "No authenticated user"
        (a server error instead of a 401), and nothing is read or saved.
    """
    example = """
        from cat import endpoint, user

        @endpoint.get("/todos")
        async def todos():
            return await user.load("todos", [])   # CAT005
    """
    use_instead = """
        from cat import endpoint, user

        @endpoint.get("/todos", role="authenticated")
        async def todos():
            return await user.load("todos", [])

        @endpoint.post("/todos", role="authenticated")
        async def add_todo(text: str):
            return await user.update("todos", lambda todos: todos + [text], default=[])
    """
    fix_text = """
        Declare who may call the endpoint: `@endpoint.get("/todos", role="authenticated")` (or
        `role="admin"`, or a list of roles). The fix adds `role="authenticated"`; it is offered,
        not applied by `--fix`, because it changes who can call the endpoint.
    """
    limits = "Only uses written inside the endpoint function are reported; helpers it calls are not followed."
    VALID = (
        block("""
            from cat import endpoint, user

            @endpoint.get('/todos', role='authenticated')
            async def todos():
                return await user.load('todos', [])
        """),
        block("""
            from cat import endpoint, store

            @endpoint.get('/health')
            async def health():
                return await store.exists('theme')
        """),
        block("""
            from cat import endpoint

            @endpoint.post('/echo')
            def echo(user: str):
                return user
        """),
    )
    INVALID = (
        Invalid(
            block("""
                from cat import endpoint, user

                @endpoint.get('/todos')
                async def todos():
                    return await user.load('todos', [])
            """),
            5, 17,
            "`user` is used in the endpoint `GET /todos`, declared without `role=`: an anonymous caller gets a \"No authenticated user\" error",
            fixed=block("""
                from cat import endpoint, user

                @endpoint.get('/todos', role="authenticated")
                async def todos():
                    return await user.load('todos', [])
            """),
        ),
        Invalid(
            block("""
                import cat

                @cat.endpoint.post('/todos', role=None)
                async def add(text: str):
                    todos = await cat.user.load('todos', [])
                    todos.append(text)
                    await cat.user.save('todos', todos)
            """),
            5, 18,
            count=2,
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        for ref in ctx.facts.user_refs:
            if ref.func is None:
                continue
            endpoint = next((f.endpoint for f in ref.func.chain() if f.endpoint is not None), None)
            if endpoint is None or not endpoint.open:
                continue
            where = f"`{endpoint.method} {endpoint.path}`" if endpoint.path else "function"
            fix = None
            call = endpoint.decorator
            if call is not None and not any(a.keyword is not None and a.keyword.value == "role" for a in call.args) and call.args:
                last = call.args[-1]
                fix = FixSpec('Add role="authenticated"', (EditSpec("append", last.value, ', role="authenticated"'),), safe=False)
            yield Report(
                self.code,
                ref.node,
                f"`user` is used in the endpoint {where}, declared without `role=`: an anonymous caller gets a \"No authenticated user\" error",
                fix,
            )
