"""pytest fixtures for testing Cheshire Cat plugins against the real runtime.

Installed as the pytest plugin ``cat`` (entry point ``pytest11``), so a
plugin author's tests get these fixtures with no import and no conftest:

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

Example (see docs/runtime.md)::

    from cat import store, user

    async def test_counter(cat_project, as_user):
        with as_user("alice"):
            await user.save("todos", ["milk"])
        assert cat_project.stored(user="alice") == {"todos": ["milk"]}

The runtime is imported lazily, inside the fixtures, so merely having this
package installed never slows down or breaks an unrelated pytest run.
"""

from __future__ import annotations

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
        from cat.database.inspect import KeyReader
        from cat.database.location import parse_url

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
        import cat

        cat.load_plugins(self.plugins)


@pytest.fixture
def cat_project(tmp_path: Path) -> Iterator[CatProject]:
    """A fresh project folder whose own database is *the* database during the test."""
    import cat

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
        import cat

        return cat.request_context(user_id, name=name, roles=tuple(roles))

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
    import cat

    return cat.no_request
