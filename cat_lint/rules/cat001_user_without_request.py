"""CAT001: ``user`` where no request is in flight."""

from __future__ import annotations

from typing import Iterable

from cat_lint.rules._base import FileRule, Invalid, Report, RuleContext
from cat_lint.visitors import FunctionInfo, ModuleFacts

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
        "from cat import hook, user\n\n@hook\nasync def before_agent_run(value):\n    await user.save('seen', True)\n    return value\n",
        # A parameter named user is not cat.user.
        "from cat import hook\n\n@hook\ndef after_cat_bootstrap(user):\n    return user.id\n",
        # Cat 1.x plugins: cat.user_id on the cat argument.
        "from cat.mad_hatter.decorators import hook\n\n@hook\ndef after_cat_bootstrap(value, cat):\n    user = cat.user_id\n    return user\n",
        # A helper called only from request code.
        "from cat import hook, user\n\nasync def remember():\n    await user.save('k', 1)\n\n@hook\nasync def before_agent_run(v):\n    await remember()\n    return v\n",
        # A lambda at module level runs later, in a request.
        "from cat import user\n\ncurrent_name = lambda: user.name\n",
        # Only reading an attribute of `user` raises.
        "from cat import user\n\nprint(user)\nTEXT = f'{user}'\nSHOWN = repr(user)\nALIAS = user\n",
        # A match-statement capture named user is not cat.user (the comprehension forces scope analysis).
        "from cat import hook, user\n\nnames = [user for user in range(3)]\n\n@hook\ndef after_cat_bootstrap(value):\n    match value:\n        case [*user]:\n            return user.id\n    return value\n",
    )
    INVALID = (
        Invalid(
            "from cat import hook, user\n\n@hook\nasync def after_cat_bootstrap(value):\n    await user.save('k', 1)\n    return value\n",
            5, 10,
            "`user` is used in the `after_cat_bootstrap` hook, where no request is in flight: `user` raises NoRequestError there",
        ),
        Invalid(
            "import cat\n\n@cat.hook('before_cat_bootstrap')\ndef setup(value):\n    return cat.user.id\n",
            5, 11,
            "`user` is used in the `before_cat_bootstrap` hook, where no request is in flight: `user` raises NoRequestError there",
        ),
        Invalid(
            "from cat import user as me\n\nNAME = me.name\n",
            3, 7,
            "`user` is used at module level, which runs at import time with no request in flight: `user` raises NoRequestError there",
        ),
        Invalid(
            "from cat import user\n\nclass Settings:\n    owner = user.id\n",
            4, 12,
            "`user` is used in the body of class `Settings`, which runs at import time with no request in flight: `user` raises NoRequestError there",
        ),
        Invalid(
            "from cat import user\n\ndef greet(name=user.name):\n    return name\n",
            3, 15,
            "`user` is used in the default value of parameter `name` of `greet`, evaluated at import time with no request in flight: `user` raises NoRequestError there",
        ),
        Invalid(
            "from cat import hook, user\n\nasync def load_prefs():\n    return await user.load('prefs')\n\nasync def setup():\n    return await load_prefs()\n\n@hook\nasync def after_plugins_reload(value):\n    await setup()\n    return value\n",
            4, 17,
            "`user` is used in `load_prefs()`, which is reached from the `after_plugins_reload` hook (through `setup()`), where no request is in flight: `user` raises NoRequestError there",
        ),
        Invalid(
            "from cat import user\n\ndef register(name):\n    return lambda f: f\n\n@register((lambda: user.name)())\ndef greet():\n    pass\n",
            6, 19,
            "`user` is used in a decorator of `greet`, evaluated at import time with no request in flight: `user` raises NoRequestError there",
        ),
        Invalid(
            "from cat import hook\ntry:\n    from cat import user\nexcept ImportError:\n    user = None\n\n@hook\ndef after_cat_bootstrap(value):\n    return user.id\n",
            9, 11,
            "`user` is used in the `after_cat_bootstrap` hook, where no request is in flight: `user` raises NoRequestError there",
        ),
        Invalid(
            "from cat import hook, user\n\nALIAS = user\n\n@hook\ndef after_cat_bootstrap(value):\n    return ALIAS.id\n",
            7, 11,
            "`user` is used in the `after_cat_bootstrap` hook, where no request is in flight: `user` raises NoRequestError there",
        ),
        Invalid(
            "from cat import hook, user\n\n@hook\nasync def my_startup(value):\n    return user.id\n",
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
