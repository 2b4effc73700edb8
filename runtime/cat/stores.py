"""``store`` and ``user``: the two key-value stores plugin code reaches from ``cat``.

Everything a caller can get wrong is checked here, before the database is
touched (or even located): the key must be a non-empty ``str`` of at most
1024 characters, the value must be JSON (:func:`cat.values.encode` names
where it is not), ``update`` needs a plain function.  Only then does the
call reach the backend of the running event loop.

``user`` is a proxy for the caller of the current request.  Reading any of
its public attributes first checks the ambient request, so outside one the
error comes at attribute access, before any coroutine exists, as in the
Cat.  The per-user methods are bound to the user id at that moment.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from cat import values
from cat.context import current_request, require_user
from cat.database import get_backend
from cat_lint.project.schema import MAX_KEY_LENGTH, key_text_problem

__all__ = ["store", "user", "GlobalStore", "UserStore", "UserProxy", "check_key"]


def check_key(key: Any) -> str:
    """The key itself, or ``TypeError``/``ValueError`` saying what is wrong with it."""
    if not isinstance(key, str):
        raise TypeError(f"store keys are strings, not {type(key).__name__} ({key!r:.60})")
    if not key:
        raise ValueError("store keys must be non-empty strings")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"store keys are at most {MAX_KEY_LENGTH} characters; this one has {len(key)} ({key[:40]!r}...)")
    problem = key_text_problem(key)
    if problem:
        raise ValueError(f"store key {key!r:.80} {problem}")
    return key


def _check_update_fn(fn: Any) -> Callable[[Any], Any]:
    if not callable(fn):
        raise TypeError(f"update() needs a function from the old value to the new one, not {type(fn).__name__}")
    target = getattr(fn, "func", fn)  # see through functools.partial
    if inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(getattr(target, "__call__", None)):
        raise TypeError(
            "update() takes a plain (sync) function: it runs while the database is locked, "
            "so it cannot await; load, compute, then save if you need to await"
        )
    return fn


class _KeyValue:
    """The five verbs, for the global store (``user_id`` None) or one user."""

    __slots__ = ("_user_id",)

    def __init__(self, user_id: str | None) -> None:
        self._user_id = user_id

    async def save(self, key: str, value: Any) -> Any:
        """Replace the value of ``key`` (committed when this returns) and return ``value``."""
        check_key(key)
        encoded = values.encode(value)
        await get_backend().put(self._user_id, key, encoded)
        return value

    async def load(self, key: str, default: Any = None) -> Any:
        """The stored value, or ``default`` when the key is unset (a stored ``None`` is a value)."""
        check_key(key)
        found, value = await get_backend().get(self._user_id, key)
        return value if found else default

    async def exists(self, key: str) -> bool:
        """Whether the key is stored, whatever its value (``None``, ``False``, ``0``...)."""
        check_key(key)
        return await get_backend().exists(self._user_id, key)

    async def delete(self, key: str) -> bool:
        """Remove the key; True when something was removed."""
        check_key(key)
        return await get_backend().delete(self._user_id, key)

    async def update(self, key: str, fn: Callable[[Any], Any], default: Any = None) -> Any:
        """Atomically set ``key`` to ``fn(current value or default)`` and return the new value.

        No other task or process can write between the read and the write,
        so concurrent updates never lose each other (unlike load, edit,
        save).  ``fn`` is a plain, quick function: it runs while the
        database's write lock is held, on the database thread, in a copy of
        the caller's context.  If it raises, or returns something that is
        not JSON, the error reaches the caller and nothing is written.
        """
        check_key(key)
        _check_update_fn(fn)
        return await get_backend().update(self._user_id, key, fn, default)


class GlobalStore(_KeyValue):
    """The key-value space shared by the whole installation."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(None)

    def __repr__(self) -> str:
        return "<cat.store: the global key-value store>"


class UserStore(_KeyValue):
    """One user's keys, plus who that user is."""

    __slots__ = ("name", "roles")

    def __init__(self, user_id: str, name: str | None = None, roles: tuple[str, ...] = ()) -> None:
        super().__init__(user_id)
        self.name = name
        self.roles = roles

    @property
    def id(self) -> str:
        return self._user_id  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"<cat.user id={self._user_id!r}>"


class UserProxy:
    """``cat.user``: the caller of the current request, resolved at every attribute access."""

    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("__"):
            return object.__getattribute__(self, name)
        request = require_user()
        scoped = UserStore(request.user_id, request.name, request.roles)  # type: ignore[arg-type]
        return getattr(scoped, name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("cat.user is read-only: open a request with cat.request_context(user_id, name, roles)")

    def __dir__(self) -> list[str]:
        return ["id", "name", "roles", "save", "load", "exists", "delete", "update"]

    def __repr__(self) -> str:
        request = current_request()
        if request is None:
            return "<cat.user: outside a request>"
        if request.user_id is None:
            return "<cat.user: anonymous request>"
        return f"<cat.user id={request.user_id!r}>"


store = GlobalStore()
user = UserProxy()
