"""``endpoint`` and ``tool``: just enough of the Cat's decorators for plugins to import and run.

Plugin code written for the Cat imports them from ``cat``.  This runtime
serves no HTTP and runs no agent, so the decorators only record what was
declared (so a host, a test or the demo can list and call it) and return the
function unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

__all__ = ["endpoint", "tool", "Endpoint", "Tool", "endpoints", "tools"]

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Endpoint:
    """A declared endpoint; ``role`` ``None`` means open to anonymous callers."""

    method: str
    path: str
    role: str | tuple[str, ...] | None
    function: Callable[..., Any]


@dataclass(frozen=True)
class Tool:
    """A function marked ``@tool``, with the decorator's keyword arguments."""

    name: str
    function: Callable[..., Any]
    options: dict[str, Any] = field(default_factory=dict)


_endpoints: dict[tuple[str, str], Endpoint] = {}
_tools: dict[tuple[str, str], Tool] = {}


def _identity(function: Callable[..., Any]) -> tuple[str, str]:
    return (getattr(function, "__module__", "") or "", getattr(function, "__qualname__", "") or repr(function))


class _EndpointDecorators:
    """``endpoint.get(path, role=None)`` and its siblings, one per HTTP method."""

    def _route(self, method: str, path: str, role: str | Iterable[str] | None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"endpoint path must be a string starting with '/', got {path!r}")
        if role is not None and not isinstance(role, str):
            role = tuple(role)

        def decorator(function: Callable[..., Any]) -> Callable[..., Any]:
            if not callable(function):
                raise TypeError(f"@endpoint.{method.lower()} decorates a function, not {type(function).__name__}")
            key = (method, path)
            _endpoints[key] = Endpoint(method, path, role, function)
            return function

        return decorator

    def get(self, path: str, role: str | Iterable[str] | None = None, **_: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._route("GET", path, role)

    def post(self, path: str, role: str | Iterable[str] | None = None, **_: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._route("POST", path, role)

    def put(self, path: str, role: str | Iterable[str] | None = None, **_: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._route("PUT", path, role)

    def patch(self, path: str, role: str | Iterable[str] | None = None, **_: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._route("PATCH", path, role)

    def delete(self, path: str, role: str | Iterable[str] | None = None, **_: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._route("DELETE", path, role)

    def __repr__(self) -> str:
        return "<cat.endpoint: get/post/put/patch/delete(path, role=None)>"


endpoint = _EndpointDecorators()


def tool(*args: Any, **options: Any) -> Any:
    """Mark a function (or an agent's method) as a tool: ``@tool`` or ``@tool(...)``."""
    if len(args) == 1 and callable(args[0]) and not options:
        return _mark_tool(args[0], {})
    if args:
        raise TypeError("@tool takes keyword arguments only, e.g. @tool(return_direct=True)")

    def decorator(function: Callable[..., Any]) -> Callable[..., Any]:
        return _mark_tool(function, options)

    return decorator


def _mark_tool(function: Callable[..., Any], options: dict[str, Any]) -> Callable[..., Any]:
    name = getattr(function, "__name__", None) or repr(function)
    record = Tool(name, function, dict(options))
    _tools[_identity(function)] = record
    try:
        function.__cat_tool__ = record  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        pass  # builtins and some callables take no attributes; the registry still has it
    return function


def endpoints() -> list[Endpoint]:
    """Every declared endpoint, by path then method."""
    return sorted(_endpoints.values(), key=lambda e: (e.path, HTTP_METHODS.index(e.method)))


def tools() -> list[Tool]:
    """Every function marked as a tool, in declaration order."""
    return list(_tools.values())


def unregister_module(prefix: str) -> None:
    """Forget endpoints and tools declared in module ``prefix`` or below (a plugin reload)."""
    def inside(function: Callable[..., Any]) -> bool:
        module = getattr(function, "__module__", "") or ""
        return module == prefix or module.startswith(prefix + ".")

    for key in [k for k, e in _endpoints.items() if inside(e.function)]:
        del _endpoints[key]
    for key in [k for k, t in _tools.items() if inside(t.function)]:
        del _tools[key]
