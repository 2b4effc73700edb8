"""Where the database is: the one resolver the runtime, cat-store, cat-lint and cat-lsp share."""

from __future__ import annotations

from pathlib import Path

import pytest

from cat_lint.project.location import DEFAULT_SQL, DatabaseURLError, resolve_database


def config(project: Path, text: str) -> Path:
    project.mkdir(parents=True, exist_ok=True)
    (project / "config.py").write_text(text, encoding="utf-8")
    return project


def test_default_is_data_core_db_in_the_project(tmp_path: Path):
    found = resolve_database(project=tmp_path, environ={})
    assert (found.url, found.origin) == (DEFAULT_SQL, "the default")
    assert found.path == tmp_path.resolve() / "data" / "core" / "core.db"


def test_order_configure_then_env_then_config_py_then_default(tmp_path: Path):
    config(tmp_path, 'SQL = "sqlite:///from_config.db"\n')
    env = {"CAT_SQL": "sqlite:///from_env.db"}
    assert resolve_database("sqlite:///explicit.db", tmp_path, env).path.name == "explicit.db"
    assert resolve_database(None, tmp_path, env).path.name == "from_env.db"
    assert resolve_database(None, tmp_path, {}).path.name == "from_config.db"
    assert resolve_database(None, tmp_path, {}).origin == "config.py"


def test_config_py_is_read_not_executed(tmp_path: Path):
    marker = tmp_path / "executed"
    config(tmp_path, f'open({str(marker)!r}, "w").close()\nraise SystemExit(3)\nSQL: str = "sqlite:///annotated.db"\n')
    assert resolve_database(None, tmp_path, {}).path.name == "annotated.db"
    assert not marker.exists()


def test_a_computed_sql_in_config_py_is_ignored(tmp_path: Path):
    config(tmp_path, 'import os\nSQL = os.environ.get("X", "sqlite:///computed.db")\n')
    assert resolve_database(None, tmp_path, {}).origin == "the default"


def test_a_config_py_that_does_not_parse_falls_back_to_the_default(tmp_path: Path):
    config(tmp_path, "SQL = (\n")
    assert resolve_database(None, tmp_path, {}).url == DEFAULT_SQL


def test_sqlite_paths_relative_absolute_and_in_memory(tmp_path: Path):
    assert resolve_database("sqlite:///a/b.db", tmp_path, {}).path == tmp_path.resolve() / "a" / "b.db"
    assert resolve_database(f"sqlite:///{tmp_path}/abs.db", tmp_path, {}).path == tmp_path / "abs.db"
    for memory in ("sqlite://", "sqlite:///:memory:"):
        found = resolve_database(memory, tmp_path, {})
        assert found.is_sqlite and found.path is None


@pytest.mark.parametrize("url", ["postgresql://u:p@localhost/cat", "postgresql+asyncpg://localhost/cat", "postgres://localhost/cat"])
def test_postgresql_urls(tmp_path: Path, url: str):
    found = resolve_database(url, tmp_path, {})
    assert (found.scheme, found.path) == ("postgresql", None)


def test_password_is_redacted_when_described(tmp_path: Path):
    assert "secret" not in resolve_database("postgresql://cat:secret@db/cat", tmp_path, {}).describe()


@pytest.mark.parametrize("url", ["mysql://localhost/cat", "core.db", "sqlite:relative.db"])
def test_unsupported_urls_name_the_origin(tmp_path: Path, url: str):
    with pytest.raises(DatabaseURLError, match="CAT_SQL"):
        resolve_database(None, tmp_path, {"CAT_SQL": url})


def test_project_named_by_the_user_beats_cat_project_dir_which_beats_a_discovered_one(tmp_path: Path):
    named, env_dir, discovered = (tmp_path / name for name in ("named", "env", "discovered"))
    env = {"CAT_PROJECT_DIR": str(env_dir)}
    assert resolve_database(None, named, env, discovered=discovered).project == named.resolve()
    assert resolve_database(None, None, env, discovered=discovered).project == env_dir.resolve()
    assert resolve_database(None, None, {}, discovered=discovered).project == discovered.resolve()
