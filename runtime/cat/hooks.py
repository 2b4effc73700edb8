"""Hooks with the Cat's semantics: a registry, ``@hook`` and ``execute_hook``.

A hook handler takes exactly one argument, the piped value.  Handlers run
from the highest priority down (ties: registration order); each may mutate
the value in place or return a replacement, and returning ``None`` keeps
the value as it is.  Sync and async handlers mix freely.

Handlers are keyed by their module and qualified name, so importing a
plugin module again (a reload) replaces its handlers instead of adding
a second copy.

One deliberate difference: the Cat logs a handler that raises and carries
on with the value it had.  Here the exception propagates to whoever fired
the hook, because this runtime runs plugins in development and in tests,
where a broken hook should fail loudly, not leave a log line.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from itertools import count
from typing import Any, Callable, overload

from cat.context import no_request

__all__ = ["hook", "execute_hook", "bootstrap", "handlers", "unregister_module", "BOOTSTRAP_HOOKS", "Hook"]

BOOTSTRAP_HOOKS = ("before_cat_bootstrap", "after_cat_bootstrap", "after_plugins_reload")

_order = count()


@dataclass(frozen=True)
class Hook:
    """One registered handler."""

    name: str
    function: Callable[[Any], Any]
    priority: float = 1
    module: str = ""
    qualname: str = ""
    order: int = field(default_factory=lambda: next(_order), compare=False)


# name -> {(module, qualname): Hook}
_registry: dict[str, dict[tuple[str, str], Hook]] = {}


def _register(function: Callable[[Any], Any], name: str | None, priority: float) -> Callable[[Any], Any]:
    if not callable(function):
        raise TypeError(f"@hook decorates a function, not {type(function).__name__}")
    if isinstance(priority, bool) or not isinstance(priority, (int, float)):
        raise TypeError(f"hook priority must be a number, not {type(priority).__name__}")
    hook_name = name or getattr(function, "__name__", None)
    if not hook_name:
        raise TypeError("@hook needs a name for a function without __name__: use @hook(\"hook_name\")")
    module = getattr(function, "__module__", "") or ""
    qualname = getattr(function, "__qualname__", "") or repr(function)
    identity = (module, qualname)
    bucket = _registry.setdefault(hook_name, {})
    previous = bucket.get(identity)
    # A reload keeps the original place in the order, so priorities tie the same way.
    order = previous.order if previous is not None else next(_order)
    bucket[identity] = Hook(hook_name, function, priority, module, qualname, order)
    return function


@overload
def hook(function: Callable[[Any], Any], /) -> Callable[[Any], Any]: ...
@overload
def hook(name: str | None = None, /, *, priority: float = 1) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]: ...


def hook(*args: Any, name: str | None = None, priority: float = 1) -> Any:
    """Register a hook handler: ``@hook``, ``@hook("name")``, ``@hook(priority=2)``.

    The hook's name is the function's name unless given.  The function is
    returned unchanged, so it stays callable and testable on its own.
    """
    if len(args) > 1:
        raise TypeError("@hook takes at most one positional argument, the hook name")
    if args and callable(args[0]) and not isinstance(args[0], str):
        return _register(args[0], name, priority)
    if args:
        if args[0] is not None and not isinstance(args[0], str):
            raise TypeError(f"@hook(name) expects a str name, not {type(args[0]).__name__}")
        if name is not None:
            raise TypeError("give the hook name once, positionally or as name=")
        name = args[0]

    def decorator(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return _register(function, name, priority)

    return decorator


def handlers(name: str) -> list[Hook]:
    """The handlers of one hook in the order they run."""
    bucket = _registry.get(name, {})
    return sorted(bucket.values(), key=lambda h: (-h.priority, h.order))


def unregister_module(prefix: str) -> int:
    """Drop every handler defined in module ``prefix`` or below it; returns how many."""
    dropped = 0
    for bucket in _registry.values():
        for identity in [i for i in bucket if i[0] == prefix or i[0].startswith(prefix + ".")]:
            del bucket[identity]
            dropped += 1
    return dropped


async def execute_hook(name: str, value: Any = None) -> Any:
    """Pipe ``value`` through the handlers of ``name`` and return the result."""
    for handler in handlers(name):
        result = handler.function(value)
        if inspect.isawaitable(result):
            result = await result
        if result is not None:
            value = result
    return value


async def bootstrap(value: Any = None) -> None:
    """Fire the start-up hooks the way the Cat does: with no request in flight.

    Even when called from inside a request (a test, a reload endpoint),
    the ambient request is cleared for the duration, so ``user`` raises in
    these hooks exactly as it does in the real Cat.
    """
    with no_request():
        for name in BOOTSTRAP_HOOKS:
            await execute_hook(name, value)
