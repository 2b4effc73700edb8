"""The owner of the session's background tasks.

The event loop keeps only a weak reference to a task: one started with
``asyncio.ensure_future`` and not stored anywhere may be garbage-collected
before it finishes.  Every task the server starts on its own (a folder scan,
a debounce timer, a database poll, a re-check of other documents) is
started here, held until it ends, and its failure logged, never lost.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Coroutine

log = logging.getLogger(__name__)


class BackgroundTasks:
    """A set of running tasks, each removed when done; all cancelled at shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()

    def start(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    def __len__(self) -> int:
        return len(self._tasks)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
