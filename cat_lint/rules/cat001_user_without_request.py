"""CAT001: ``user`` where no request is in flight."""

from __future__ import annotations

from typing import Iterable

from cat_lint.rules._base import FileRule, Invalid, Report, RuleContext, block
from cat_lint.facts import FunctionInfo, ModuleFacts

_RAISES = "`user` raises NoRequestError there"


def _roots(facts: ModuleFacts, hooks: frozenset[str]) -> list[tuple[FunctionInfo, str]]:
    return [(f, f"the `{f.hook_name}` hook") for f in facts.functions if f.hook_name in hooks]


def reachable(facts: ModuleFacts, hooks: frozenset[str]) -> dict[int, tuple[FunctionInfo, str, tuple[str, ...]]]:
    """Module-level functions called, directly or not, from a place with no request.

    Maps ``id(function)`` to (function, the place that has no request, the
    chain of calls in between).  Calls are followed by plain name to
    functions defined at the top level of the same module, to any depth.

    Linear in the size of the module: the calls made inside each function
    (its nested functions included) are gathered once, the search visits
    each function once, and a chain is kept as a link to the step before
    (spelled out only for the functions that are reported).
    """
    from collections import deque

    within: dict[int, list[tuple[str, object]]] = {}
    for function in facts.functions:
        for outer in function.chain():
            within.setdefault(id(outer), []).extend(function.calls)
    found: dict[int, tuple[FunctionInfo, str, int | None, str | None]] = {}  # id -> (fn, where, previous id, name)
    queue: deque[FunctionInfo] = deque()

    def visit_calls(calls, where: str, previous: int | None) -> None:
        for name, _call in calls:
            callee = facts.module_functions.get(name)
            if callee is None or id(callee) in found or callee.hook_name in hooks:
                continue
            found[id(callee)] = (callee, where, previous, name)
            queue.append(callee)

    # Calls made while the module is imported (module level, class bodies, decorators, defaults).
    for name, call, place in facts.import_calls:
        visit_calls([(name, call)], place.short(), None)
    for hook, where in _roots(facts, hooks):
        visit_calls(within.get(id(hook), ()), where, None)
    while queue:
        function = queue.popleft()
        visit_calls(within.get(id(function), ()), found[id(function)][1], id(function))
    return _Chains(found)


class _Chains(dict):
    """``id(function) -> (function, where, via)``, each ``via`` spelled out when asked for."""

    def __init__(self, found) -> None:
        super().__init__()
        self._found = found

    def __contains__(self, key) -> bool:
        return key in self._found

    def __getitem__(self, key):
        function, where, previous, _name = self._found[key]
        via: list[str] = []
        while previous is not None:
            _fn, _where, previous_of_previous, name = self._found[previous]
            via.append(name)
            previous = previous_of_previous
        return function, where, tuple(reversed(via))


def _through(via: tuple[str, ...]) -> str:
    """" (through `a()`)", or for a long chain its first and last steps: the message stays short."""
    if not via:
        return ""
    if len(via) <= 3:
        return f" (through {', '.join(f'`{name}()`' for name in via)})"
    return f" (through `{via[0]}()`, `{via[1]}()`, ... `{via[-1]}()`: {len(via)} calls)"


class UserWithoutRequest(FileRule):
    code = "CAT001"
    name = "user-without-request"
    summary = "`user` is used where no request is in flight, so it raises."
    what = """
        Reports each use of the ambient `user` (however it is imported: `from cat import user`,
        `from cat import user as me`, `import cat` then `cat.user`) in code that runs with no
        request in flight:

        - the bootstrap hooks `before_cat_bootstrap`, `after_cat_bootstrap`, `after_plugins_reload`
          and its old name `after_mad_hatter_refresh`, plus the names added by the
          `bootstrap-hooks` setting; everything written inside such a hook counts, nested
          functions and lambdas included;
        - module top level and class bodies, which run when the plugin is imported;
        - decorators and default argument values of functions defined there, evaluated at import time
          (a lambda called where it stands, `(lambda: user.id)()`, runs there too);
        - functions of the same module called from any of these places.

        A use is reading an attribute of `user` (`user.id`, `await user.save(...)`), which is
        what raises; `print(user)`, `f"{user}"` or `ALIAS = user` do not. A module-level alias
        is followed: after `ALIAS = user` (or `ALIAS: T = user`, `ALIAS = OTHER = user`,
        `ALIAS, OTHER = user, x`, `(ALIAS := user)`), `ALIAS.id` in a bootstrap hook is
        reported. A generator expression's body runs when it is iterated: where it is written
        when it is passed straight to a call (`list(u.id for u in ...)`), otherwise only its
        first iterable runs there. So is the
        optional import: `try: from cat import user` / `except ImportError: user = None`.
    """
    why = """
        `user` is the caller of the current request. Outside a request there is no caller, and
        touching any attribute of `user` raises `NoRequestError` before anything is read or
        written: the hook fails, or the plugin fails to import.
    """
    example = """
        from cat import hook, user

        @hook
        async def after_cat_bootstrap(value):
            await user.save("welcome_shown", False)   # CAT001: no request at bootstrap
            return value
    """
    use_instead = """
        from cat import hook, user

        @hook
        async def before_agent_run(value):
            if not await user.load("welcome_shown", False):   # in a request: `user` is its caller
                await user.save("welcome_shown", True)
            return value
    """
    fix_text = """
        Keep per-user state for code that runs in a request (tools, endpoints with a role,
        `before_agent_run`...). At bootstrap, use the global `store`, or set the per-user default
        lazily: `await user.load("welcome_shown", False)` in the request.
    """
    limits = """
        Calls are followed by plain name (`helper()`, `await helper()`) to functions defined at
        the top level of the same module, to any depth and through cycles; methods
        (`self.helper()`), other modules and functions passed as values are not followed.
        `after_plugins_reload` runs with a request when an admin toggles a plugin over HTTP, but
        first at start-up without one, so it is treated as having none.
    """
    VALID = (
        # In a request hook, an endpoint with a role, a tool: there is a request.
        block("""
            from cat import hook, user

            @hook
            async def before_agent_run(value):
                await user.save('seen', True)
                return value
        """),
        # A parameter named user is not cat.user.
        block("""
            from cat import hook

            @hook
            def after_cat_bootstrap(user):
                return user.id
        """),
        # Cat 1.x plugins: cat.user_id on the cat argument.
        block("""
            from cat.mad_hatter.decorators import hook

            @hook
            def after_cat_bootstrap(value, cat):
                user = cat.user_id
                return user
        """),
        # A helper called only from request code.
        block("""
            from cat import hook, user

            async def remember():
                await user.save('k', 1)

            @hook
            async def before_agent_run(v):
                await remember()
                return v
        """),
        # A lambda at module level runs later, in a request.
        block("""
            from cat import user

            current_name = lambda: user.name
        """),
        # Only reading an attribute of `user` raises.
        block("""
            from cat import user

            print(user)
            TEXT = f'{user}'
            SHOWN = repr(user)
            ALIAS = user
        """),
        # A match-statement capture named user is not cat.user (the comprehension forces scope analysis).
        block("""
            from cat import hook, user

            names = [user for user in range(3)]

            @hook
            def after_cat_bootstrap(value):
                match value:
                    case [*user]:
                        return user.id
                return value
        """),
    )
    INVALID = (
        Invalid(
            block("""
                from cat import hook, user

                @hook
                async def after_cat_bootstrap(value):
                    await user.save('k', 1)
                    return value
            """),
            5, 10,
            "`user` is used in the `after_cat_bootstrap` hook, where no request is in flight: `user` raises NoRequestError there",
        ),
        Invalid(
            block("""
                import cat

                @cat.hook('before_cat_bootstrap')
                def setup(value):
                    return cat.user.id
            """),
            5, 11,
            "`user` is used in the `before_cat_bootstrap` hook, where no request is in flight: `user` raises NoRequestError there",
        ),
        Invalid(
            block("""
                from cat import user as me

                NAME = me.name
            """),
            3, 7,
            "`user` is used at module level, which runs at import time with no request in flight: `user` raises NoRequestError there",
        ),
        Invalid(
            block("""
                from cat import user

                class Settings:
                    owner = user.id
            """),
            4, 12,
            "`user` is used in the body of class `Settings`, which runs at import time with no request in flight: `user` raises NoRequestError there",
        ),
        Invalid(
            block("""
                from cat import user

                def greet(name=user.name):
                    return name
            """),
            3, 15,
            "`user` is used in the default value of parameter `name` of `greet`, evaluated at import time with no request in flight: `user` raises NoRequestError there",
        ),
        Invalid(
            block("""
                from cat import hook, user

                async def load_prefs():
                    return await user.load('prefs')

                async def setup():
                    return await load_prefs()

                @hook
                async def after_plugins_reload(value):
                    await setup()
                    return value
            """),
            4, 17,
            "`user` is used in `load_prefs()`, which is reached from the `after_plugins_reload` hook (through `setup()`), where no request is in flight: `user` raises NoRequestError there",
        ),
        Invalid(
            block("""
                from cat import user

                def register(name):
                    return lambda f: f

                @register((lambda: user.name)())
                def greet():
                    pass
            """),
            6, 19,
            "`user` is used in a decorator of `greet`, evaluated at import time with no request in flight: `user` raises NoRequestError there",
        ),
        Invalid(
            block("""
                from cat import hook
                try:
                    from cat import user
                except ImportError:
                    user = None

                @hook
                def after_cat_bootstrap(value):
                    return user.id
            """),
            9, 11,
            "`user` is used in the `after_cat_bootstrap` hook, where no request is in flight: `user` raises NoRequestError there",
        ),
        Invalid(
            block("""
                from cat import hook, user

                ALIAS = user

                @hook
                def after_cat_bootstrap(value):
                    return ALIAS.id
            """),
            7, 11,
            "`user` is used in the `after_cat_bootstrap` hook, where no request is in flight: `user` raises NoRequestError there",
        ),
        Invalid(
            block("""
                from cat import hook, user

                @hook
                async def my_startup(value):
                    return user.id
            """),
            5, 11,
            "`user` is used in the `my_startup` hook, where no request is in flight: `user` raises NoRequestError there",
            bootstrap_hooks=("my_startup",),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        facts = ctx.facts
        if not facts.user_refs:
            return
        hooks = frozenset(ctx.settings.bootstrap_hooks)
        called = None
        for ref in facts.user_refs:
            if not ref.accessed:
                continue  # `print(user)`, `ALIAS = user`: only reading an attribute raises
            if ref.place is not None:
                yield Report(self.code, ref.node, f"`user` is used {ref.place.describe()} with no request in flight: {_RAISES}")
                continue
            if ref.func is None:
                continue
            hook = next((f for f in ref.func.chain() if f.hook_name in hooks), None)
            if hook is not None:
                yield Report(self.code, ref.node, f"`user` is used in the `{hook.hook_name}` hook, where no request is in flight: {_RAISES}")
                continue
            if called is None:
                called = reachable(facts, hooks)
            hit = next((called[id(f)] for f in ref.func.chain() if id(f) in called), None)
            if hit is not None:
                function, where, via = hit
                through = _through(via)
                yield Report(
                    self.code,
                    ref.node,
                    f"`user` is used in `{function.name}()`, which is reached from {where}{through}, where no request is in flight: {_RAISES}",
                )
