"""The ``cat`` runtime: the Cat's persistence API for plugin code, hosts and tests.

Plugin code imports from here exactly as it does in the Cheshire Cat::

    from cat import store, user, hook

``store`` is the global key-value store, ``user`` the caller of the current
request with a key-value store of its own.  A host opens requests with
:func:`request_context`, fires hooks with :func:`execute_hook` and
:func:`bootstrap`, imports plugins with :func:`load_plugins`, and picks the
database with :func:`configure` (otherwise it is resolved like the Cat's:
``CAT_SQL``, the project's ``config.py``, ``data/core/core.db``).
"""

from __future__ import annotations

from pathlib import Path as _Path

from cat.installation import check_not_over_the_cat as _check_not_over_the_cat

_check_not_over_the_cat(_Path(__file__).parent)

from cat.context import no_request, request_context
from cat.database import backup, close, configure
from cat.endpoints import endpoint, tool
from cat.errors import NoRequestError, NoUserError
from cat.hooks import bootstrap, execute_hook, hook
from cat.plugins import load_plugins
from cat.stores import store, user

# What the pytest plugin checks to know this `cat` from the real Cat's.
__distribution__ = "cat-devtools-runtime"

__all__ = [
    "store",
    "user",
    "hook",
    "execute_hook",
    "bootstrap",
    "load_plugins",
    "request_context",
    "no_request",
    "configure",
    "backup",
    "close",
    "endpoint",
    "tool",
    "NoRequestError",
    "NoUserError",
]
