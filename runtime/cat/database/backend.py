"""The small interface every storage backend implements.

The stores (:mod:`cat.stores`) validate keys and encode values, then call
one of these coroutines.  ``user_id`` ``None`` addresses the global store
(``key_value_db``); a string addresses one user's keys
(``user_key_value_db``).  Values cross this interface already encoded by
:func:`cat.values.encode` on the way in, and decoded on the way out.

A backend belongs to the event loop it was opened in: its futures and
queues are that loop's.  :mod:`cat.database` keeps one per loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import inspect
import os
import threading
from abc import ABC, abstractmethod
from typing import Any, Callable

from cat_lint.project.location import DatabaseLocation

__all__ = ["Backend", "UpdateFn", "apply_update"]

UpdateFn = Callable[[Any], Any]


def apply_update(found: bool, old: Any, fn: UpdateFn, default: Any, ctx: contextvars.Context) -> Any:
    """The new value of an ``update``: ``fn`` applied to the stored value, or to the default.

    Every backend runs this inside its write transaction.  The default is
    deep-copied each time, so a function that mutates its argument never
    edits the caller's default; ``fn`` runs in the caller's context
    (``ctx``), so ``user`` inside it is the caller.  An async function is
    refused: its coroutine would run after the transaction had committed.
    """
    new = ctx.run(fn, old if found else copy.deepcopy(default))
    if inspect.isawaitable(new):
        if inspect.iscoroutine(new):
            new.close()
        raise TypeError("update() takes a plain function, but it returned an awaitable; do not pass an async function")
    return new


class Backend(ABC):
    """Key-value access to the Cat's two tables on one database."""

    def __init__(self, location: DatabaseLocation, loop: asyncio.AbstractEventLoop) -> None:
        self.location = location
        self.loop = loop
        self.closed = False

    @abstractmethod
    async def get(self, user_id: str | None, key: str) -> tuple[bool, Any]:
        """``(True, value)`` when the key is stored, else ``(False, None)``."""

    @abstractmethod
    async def exists(self, user_id: str | None, key: str) -> bool: ...

    @abstractmethod
    async def put(self, user_id: str | None, key: str, encoded: str | bytes) -> None:
        """Store an encoded value, committed when this returns."""

    @abstractmethod
    async def delete(self, user_id: str | None, key: str) -> bool:
        """Remove the key; True when something was removed."""

    @abstractmethod
    async def update(self, user_id: str | None, key: str, fn: UpdateFn, default: Any) -> Any:
        """Atomically replace the value with ``fn(old or default)``; return the new value.

        No other writer, in this process or another, can commit to the
        database between the read and the write.  If ``fn`` raises or
        returns a value that is not JSON, the error reaches the caller and
        nothing is written.
        """

    async def flush(self) -> None:
        """Wait until every write submitted so far is committed."""

    @abstractmethod
    async def backup(self, dest: str | os.PathLike[str]) -> Any:
        """Write a consistent copy of the database to ``dest``, after every write submitted so far."""

    @abstractmethod
    async def close(self) -> None:
        """Finish pending writes and release connections.  Idempotent."""

    def forget_inherited(self) -> None:
        """In a forked child: stop using this backend, the parent's, without releasing anything.

        Its connections and tasks are the parent's (sockets, event loops,
        driver threads that do not exist here): nothing of it may be used,
        closed or awaited in the child, so it is only marked closed, and
        :mod:`cat.database` keeps it referenced so that no finalizer runs
        either.  (The child's copies of SQLite connections are the exception,
        see :mod:`cat.database.sqlite`.)
        """
        self.closed = True

    @abstractmethod
    def abandon(self) -> list[threading.Event]:
        """Release connections without awaiting anything (another loop, interpreter exit).

        Returns an event per connection still closing, set once it has
        closed, so that interpreter exit can wait for them (closing the last
        SQLite connection checkpoints the WAL).
        """
