"""pytest fixtures for testing Cheshire Cat plugins against the cat-devtools runtime.

Installed with ``cat-devtools-runtime`` as the pytest plugin
``cat-devtools-runtime`` (entry point ``pytest11``), so a plugin author's
tests get these fixtures with no import, no conftest and no other plugin:

``cat_project``
    A fresh project folder (``plugins/``, ``data/``) with its own SQLite
    database, configured as *the* database for the duration of the test and
    closed afterwards.  Nothing leaks between tests and nothing touches the
    author's real ``data/``.
``as_user``
    ``with as_user("alice", roles=["admin"]):`` runs code as if a request
    from that user were in flight, so ``user.save(...)`` and ``user.id``
    work; ``as_user(None)`` is an anonymous caller (``user`` raises
    ``NoUserError``, as on an open endpoint).
``no_request``
    ``with no_request():`` runs code with no request in flight, as the
    bootstrap hooks do; any touch of ``user`` raises ``NoRequestError``.

``async def`` tests run as they are, each in a fresh event loop, because the
store is async: a plugin author should not have to find out about
pytest-asyncio and its modes first.  A test that an async plugin already
runs (pytest-asyncio, anyio, trio) is left to that plugin.

Example (see docs/runtime.md)::

    from cat import store, user

    async def test_counter(cat_project, as_user):
        with as_user("alice"):
            await user.save("todos", ["milk"])
        assert cat_project.stored(user="alice") == {"todos": ["milk"]}

This module lives outside the ``cat`` package and imports the runtime lazily,
inside the fixtures.  So pytest always starts, whatever ``cat`` is installed:
where the real Cat's ``cat`` is the one Python finds, only the tests that ask
for these fixtures fail, with a message that says why.
"""

from __future__ import annotations

import asyncio
import inspect
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterable, Iterator

import pytest

__all__ = ["CatProject", "cat_project", "as_user", "no_request"]


@dataclass(frozen=True)
class CatProject:
    """The temporary project a test runs against."""

    path: Path
    """The project folder (holds ``plugins/`` and ``data/``)."""

    @property
    def plugins(self) -> Path:
        return self.path / "plugins"

    @property
    def database(self) -> Path:
        """The SQLite file; it exists once the runtime first touched the stores."""
        return self.path / "data" / "core" / "core.db"

    @property
    def sql(self) -> str:
        return f"sqlite:///{self.database}"

    def stored(self, user: str | None = None) -> dict[str, Any]:
        """Every key and value as the database holds it right now.

        Read straight from the file (read-only), not through the runtime, so
        an assertion on it proves what was really committed.  ``user`` picks
        one user's keys; without it, the global store.
        """
        from cat_lint.project.location import parse_url
        from cat_lint.project.reader import KeyReader

        if not self.database.exists():
            return {}
        with KeyReader(parse_url(self.sql, self.path, "cat_project")) as reader:
            keys = reader.global_keys() if user is None else reader.user_keys(user)
            return {k.key: reader.get(k.key, user)[1] for k in keys}

    def add_plugin(self, source: str | Path) -> Path:
        """Copy a plugin folder (yours, usually) into ``plugins/``; return the copy.

        Its ``tests/`` folder and caches are left out, as the Cat's loader skips them.
        """
        source = Path(source).resolve()
        if not source.is_dir():
            raise FileNotFoundError(f"no plugin folder at {source}")
        target = self.plugins / source.name
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("tests", "__pycache__", ".*"))
        return target

    def load_plugins(self) -> None:
        """Import every plugin under ``plugins/`` (hooks, endpoints, tools register), as the Cat does at start-up."""
        _runtime().load_plugins(self.plugins)


@pytest.fixture
def cat_project(tmp_path: Path) -> Iterator[CatProject]:
    """A fresh project folder whose own database is *the* database during the test."""
    cat = _runtime()

    root = tmp_path / "cat-project"
    (root / "plugins").mkdir(parents=True)
    (root / "data" / "core").mkdir(parents=True)
    project = CatProject(root)
    # An explicit URL, so neither CAT_SQL nor a config.py can redirect the test
    # to a real database.
    cat.configure(sql=project.sql, project=root)
    try:
        yield project
    finally:
        # Plugins the test loaded must not fire in the next test.  Reconfiguring
        # closes the connections of every event loop (the test's loop may
        # already be gone) and leaves nothing pointing into tmp_path.
        from cat.plugins import unload_plugins

        unload_plugins()
        cat.configure()


class _AsUser:
    """``as_user(id, name=None, roles=())``: a request from that user (sync or async ``with``)."""

    def __call__(
        self, user_id: str | None = "test-user", name: str | None = None, roles: Iterable[str] = ()
    ) -> ContextManager[Any]:
        return _runtime().request_context(user_id, name=name, roles=tuple(roles))

    def anonymous(self) -> ContextManager[Any]:
        """A request nobody authenticated: ``user`` raises ``NoUserError``."""
        return self(None)


@pytest.fixture
def as_user() -> _AsUser:
    """Run code as a given user: ``with as_user("alice", roles=["admin"]): ...``."""
    return _AsUser()


@pytest.fixture
def no_request() -> Callable[[], ContextManager[None]]:
    """Run code with no request in flight, as the bootstrap hooks run: ``with no_request(): ...``."""
    return _runtime().no_request


# Markers by which other async frameworks claim a test for their own event loop.
_OTHER_FRAMEWORKS = ("anyio", "trio", "gen_test")


def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run an ``async def`` test in a fresh event loop, unless an async plugin runs it.

    pytest itself fails every coroutine test ("async def functions are not
    natively supported"), in a hook marked ``trylast``, so this one has the
    default rank to come first.  pytest-asyncio turns the tests it runs into
    plain functions when it collects them, and the frameworks named in
    ``_OTHER_FRAMEWORKS`` mark theirs: those are left alone.
    """
    test = pyfuncitem.obj
    if not inspect.iscoroutinefunction(test) or any(pyfuncitem.get_closest_marker(m) for m in _OTHER_FRAMEWORKS):
        return None
    wanted = inspect.signature(test).parameters
    asyncio.run(test(**{name: value for name, value in pyfuncitem.funcargs.items() if name in wanted}))
    return True


def _runtime() -> Any:
    """The ``cat`` runtime, or a test error that says which ``cat`` was found instead and what to do."""
    import cat  # the runtime's own ImportError (installed over the Cat's files) explains itself

    if getattr(cat, "__distribution__", None) != "cat-devtools-runtime":
        pytest.fail(
            f"the fixtures of cat-devtools-runtime need its `cat` package, but `import cat` found "
            f"{_whose(cat)} at {getattr(cat, '__file__', None) or '?'}, which takes precedence where both are "
            "installed. Test with the Cat's own fixtures here, or run these tests in a virtual environment "
            "without cheshire-cat-ai.",
            pytrace=False,
        )
    return cat


def _whose(package: Any) -> str:
    from importlib import metadata

    try:
        return f"the real Cat's (cheshire-cat-ai {metadata.version('cheshire-cat-ai')})"
    except metadata.PackageNotFoundError:
        return "another package named `cat`"
