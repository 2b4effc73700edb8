"""Python's cyclic garbage collector in the processes cat-lint owns.

A check allocates millions of short-lived objects (libcst's tree, Python's
AST, the collector's facts) that die by reference counting at its end.
Automatic collections during a check promote them while they are alive,
and once enough are promoted the collector walks the whole heap: measured
on a 20,000-line file, a check took 2.9 s with the collector running and
1.8 s with it paused.  A check also leaves about a thousand objects in
reference cycles (functions and their nested functions point at each
other), so the collector must run between checks, or a process linting
thousands of files would keep them all.

Pausing is a decision about a whole process, so library code never takes
it on its own: an :class:`cat_lint.engine.Engine` pauses the collector
only when made with ``owns_process=True``, which the command line does (its
own process and the worker processes it starts) and the language server's
lint worker does (a process that does nothing else).  An engine used
inside someone else's program leaves the collector alone.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off for the length of one check; nested and concurrent uses are counted.

    When the last holder leaves, the collector is switched back on (if it
    was on): the next automatic collection finds the check's cyclic
    garbage, which by then is small and short-lived.
    """
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
