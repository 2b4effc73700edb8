"""The errors plugin code may meet, importable as ``from cat import ...``.

Both user errors are ``RuntimeError`` subclasses because the real Cat raises
plain ``RuntimeError`` in the same places: code written against it (``except
RuntimeError``) keeps working, and code written against this runtime can be
more precise.
"""

from __future__ import annotations

__all__ = [
    "NoRequestError",
    "NoUserError",
    "PluginLoadError",
    "DatabaseOpenError",
    "StoreClosedError",
    "ConnectionLostError",
    "NO_REQUEST_MESSAGE",
    "NO_USER_MESSAGE",
]

NO_REQUEST_MESSAGE = (
    "Outside a request — no user/stream available. "
    "`user` only works while a request is in flight: in tools, endpoints, directives "
    "and request hooks such as before_agent_run/after_agent_run. "
    "Bootstrap hooks (before_cat_bootstrap, after_cat_bootstrap, after_plugins_reload), "
    "module import time and background work have no caller: use `store` there, "
    "or open a request explicitly with cat.request_context(user_id)."
)

NO_USER_MESSAGE = "No authenticated user in the current request context."


class NoRequestError(RuntimeError):
    """``user`` was touched with no request in flight."""

    def __init__(self, message: str = NO_REQUEST_MESSAGE) -> None:
        super().__init__(message)


class NoUserError(RuntimeError):
    """``user`` was touched inside a request nobody authenticated."""

    def __init__(self, message: str = NO_USER_MESSAGE) -> None:
        super().__init__(message)


class PluginLoadError(ImportError):
    """A plugin module failed to import; the message names the file."""


class DatabaseOpenError(RuntimeError):
    """The store's database could not be opened; the message says which file and why."""


class ConnectionLostError(RuntimeError):
    """The database connection broke during an operation and the driver lost the server's reason.

    Raised only where asyncpg reports its own state instead (a PostgreSQL
    server that ends a connection while it waits between statements); the
    server's and the socket's own errors reach the caller as they are.
    """


class StoreClosedError(RuntimeError):
    """An operation raced with ``cat.close()`` or ``cat.configure()`` and did not run."""

    def __init__(self, message: str = "the store was closed or reconfigured before this operation ran; nothing was written") -> None:
        super().__init__(message)
