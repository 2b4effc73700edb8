"""The ambient request: who is calling, held in a ``ContextVar``.

A host (web middleware, test, script) opens a request with
:func:`request_context`; ``cat.user`` reads it.  A ``ContextVar`` is what
makes this safe under asyncio: every task runs in a copy of the context it
was created in, so concurrent requests never see each other's user, and
tasks spawned inside a request inherit its user.

Three states, because the Cat distinguishes them in its errors:

* no request in flight (``None`` in the variable): ``user`` raises
  :class:`~cat.errors.NoRequestError`;
* an anonymous request (a :class:`Request` whose ``user_id`` is ``None``):
  ``user`` raises :class:`~cat.errors.NoUserError`;
* an authenticated request: ``user`` works.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any, Iterable

from cat.errors import NoRequestError, NoUserError

__all__ = ["Request", "request_context", "no_request", "current_request", "require_user"]


@dataclass(frozen=True)
class Request:
    """The caller of one request; ``user_id`` is ``None`` when nobody logged in."""

    user_id: str | None
    name: str | None = None
    roles: tuple[str, ...] = ()


_current: ContextVar[Request | None] = ContextVar("cat_request", default=None)


def current_request() -> Request | None:
    """The request in flight in this context, or ``None``."""
    return _current.get()


def require_user() -> Request:
    """The current request, or the error the Cat raises when there is no user."""
    request = _current.get()
    if request is None:
        raise NoRequestError()
    if request.user_id is None:
        raise NoUserError()
    return request


def _check_user_id(user_id: Any) -> str | None:
    if user_id is None:
        return None
    if isinstance(user_id, uuid.UUID):
        return str(user_id)
    if not isinstance(user_id, str):
        raise TypeError(f"user_id must be a str (or None for an anonymous request), not {type(user_id).__name__}")
    if not user_id:
        raise ValueError("user_id must be a non-empty string (use None for an anonymous request)")
    surrogate = next((i for i, c in enumerate(user_id) if "\ud800" <= c <= "\udfff"), None)
    if surrogate is not None:
        raise ValueError(
            f"user_id {user_id!r:.80} contains a lone surrogate (at index {surrogate}), which is not valid "
            "Unicode text and cannot be stored"
        )
    return user_id


def _check_roles(roles: Iterable[str] | str | None) -> tuple[str, ...]:
    if roles is None:
        return ()
    if isinstance(roles, str):
        return (roles,)
    roles = tuple(roles)
    for role in roles:
        if not isinstance(role, str):
            raise TypeError(f"roles must be strings, got {type(role).__name__} ({role!r})")
    return roles


class _Scope:
    """Sets the ambient request for a ``with``/``async with`` block and restores it after.

    The same object may be entered again (nested or sequentially); each
    entry gets its own token so exits restore the right state.
    """

    def __init__(self, request: Request | None) -> None:
        self.request = request
        self._tokens: list[Token[Request | None]] = []

    def __enter__(self) -> Request | None:
        self._tokens.append(_current.set(self.request))
        return self.request

    def __exit__(self, *exc: object) -> None:
        _current.reset(self._tokens.pop())

    async def __aenter__(self) -> Request | None:
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__(*exc)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.request!r})"


class request_context(_Scope):  # noqa: N801 - used like a function, as contextlib's helpers are
    """Run a block as one request of ``user_id`` (``None``: an anonymous request).

    Usable with ``with`` and ``async with``; entering returns the
    :class:`Request`.  ``user_id`` is any non-empty string and is compared
    exactly (``"1"``, ``"01"`` and ``"1.0"`` are three users); a
    :class:`uuid.UUID` is accepted and turned into its text.
    """

    def __init__(self, user_id: str | None, name: str | None = None, roles: Iterable[str] | str | None = ()) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a str or None, not {type(name).__name__}")
        super().__init__(Request(_check_user_id(user_id), name, _check_roles(roles)))


class no_request(_Scope):  # noqa: N801
    """Run a block with no request in flight, as bootstrap hooks and background jobs do.

    Inside it ``user`` raises :class:`~cat.errors.NoRequestError` even when
    the surrounding code is handling a request.
    """

    def __init__(self) -> None:
        super().__init__(None)
