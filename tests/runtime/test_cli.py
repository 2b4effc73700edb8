"""``cat-store``: what a person sees, on databases the runtime really wrote."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import cat
from cat_lint.project.cli import main
from cat_lint.project.reader import KeyReader
from cat_lint.project.location import parse_url

ALICE = "3f0c6c0e-8e4b-4c3e-9a51-0c1f3b2b7a11"


def write_project(root: Path, url: str | None = None) -> Path:
    """Fill a project's database through the runtime, as plugins would."""
    import asyncio

    async def fill() -> None:
        cat.configure(sql=url or f"sqlite:///{root / 'data/core/core.db'}", project=root)
        await cat.store.save("theme", {"color": "dark"})
        await cat.store.save("count", 9)
        await cat.store.save("ratio", 9.0)
        await cat.store.save("notes", "line one\nline two " + "x" * 200)
        for uid, todos in ((ALICE, ["milk"]), ("1", ["one"]), ("01", ["zero-one"])):
            with cat.request_context(uid):
                await cat.user.save("todos", todos)
        with cat.request_context(ALICE):
            await cat.user.save("score", 3.5)
        await cat.close()

    asyncio.run(fill())
    cat.configure()
    return root / "data" / "core" / "core.db"


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "project"
    root.mkdir()
    write_project(root)
    monkeypatch.chdir(root)
    monkeypatch.delenv("CAT_SQL", raising=False)
    monkeypatch.delenv("CAT_PROJECT_DIR", raising=False)
    yield root
    cat.configure()


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def stored(root: Path, user: str | None = None) -> dict:
    with KeyReader(parse_url("sqlite:///data/core/core.db", root)) as reader:
        keys = reader.global_keys() if user is None else reader.user_keys(user)
        return {k.key: reader.get(k.key, user)[1] for k in keys}


# -- keys ---------------------------------------------------------------------------


def test_keys_shows_both_stores_as_tables(project, capsys):
    status, out, err = run(capsys, "keys")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"database: {project / 'data/core/core.db'} (from the default)"
    assert "global store: 4 keys" in lines
    assert "per-user store: 2 keys, 3 users" in lines
    row = {line.split()[0]: line.split() for line in lines if line.startswith("  ")}
    assert row["theme"][:4] == ["theme", "object", "16", "B"]
    assert row["count"][1:2] == ["integer"] and row["ratio"][1:2] == ["number"]
    assert row["todos"][1] == "array" and row["todos"][4] == "3"  # 3 users hold it
    assert row["score"][4] == "1"
    notes_preview = next(line for line in lines if line.startswith("  notes"))
    assert '"line one\\nline two xxx' in notes_preview and notes_preview.endswith("…")


def test_keys_of_one_user(project, capsys):
    status, out, _ = run(capsys, "keys", "--user", ALICE)
    assert status == 0
    assert f"per-user store of user {ALICE!r}: 2 keys" in out
    assert "theme" not in out and "score" in out and '["milk"]' in out


def test_keys_json_is_machine_readable(project, capsys):
    status, out, _ = run(capsys, "keys", "--json")
    assert status == 0
    data = {(k["scope"], k["key"]): k for k in json.loads(out)}
    assert data[("global", "count")]["type"] == "integer"
    assert data[("user", "todos")]["users"] == 3
    assert "users" not in data[("global", "theme")]


def test_numeric_looking_user_ids_stay_distinct(project, capsys):
    assert run(capsys, "get", "todos", "--user", "1")[1] == '[\n  "one"\n]\n'
    assert run(capsys, "get", "todos", "--user", "01")[1] == '[\n  "zero-one"\n]\n'


# -- get ----------------------------------------------------------------------------


def test_get_prints_pretty_json_with_exact_numbers(project, capsys):
    assert run(capsys, "get", "theme") == (0, '{\n  "color": "dark"\n}\n', "")
    assert run(capsys, "get", "ratio")[1] == "9.0\n"
    assert run(capsys, "get", "count")[1] == "9\n"
    assert run(capsys, "get", "score", "--user", ALICE)[1] == "3.5\n"


def test_unknown_key_suggests_the_close_one(project, capsys):
    status, out, err = run(capsys, "get", "thme")
    assert (status, out) == (1, "")
    assert err == "cat-store: error: no key 'thme' in the global store; did you mean 'theme'?\n"


def test_unknown_key_without_a_close_one_names_the_database(project, capsys):
    status, _, err = run(capsys, "get", "zzzzzz")
    assert status == 1
    assert err == f"cat-store: error: no key 'zzzzzz' in the global store in {project / 'data/core/core.db'} (from the default)\n"


def test_per_user_key_asked_globally_says_to_add_user(project, capsys):
    status, _, err = run(capsys, "get", "todos")
    assert status == 1
    assert "'todos' is a per-user key (3 users): add --user ID" in err


def test_global_key_asked_for_a_user_says_to_drop_user(project, capsys):
    status, _, err = run(capsys, "get", "theme", "--user", ALICE)
    assert status == 1 and "'theme' is a global key: drop --user" in err


def test_unknown_user_suggests_a_close_one(project, capsys):
    status, _, err = run(capsys, "get", "todos", "--user", ALICE[:-1] + "2")
    assert status == 1
    assert err.endswith(f"did you mean {ALICE!r}?\n")


# -- delete -------------------------------------------------------------------------


def test_delete_a_global_key(project, capsys):
    assert run(capsys, "delete", "theme") == (0, "deleted 'theme' from the global store\n", "")
    assert "theme" not in stored(project)
    assert stored(project)["count"] == 9


def test_delete_one_users_key_leaves_the_others(project, capsys):
    status, out, _ = run(capsys, "delete", "todos", "--user", "1")
    assert status == 0 and out == "deleted 'todos' from the per-user store of user '1'\n"
    assert stored(project, "1") == {}
    assert stored(project, "01") == {"todos": ["zero-one"]}
    assert stored(project, ALICE) == {"todos": ["milk"], "score": 3.5}


def test_delete_unknown_key_changes_nothing(project, capsys):
    before = (project / "data/core/core.db").read_bytes()
    status, _, err = run(capsys, "delete", "themes")
    assert status == 1 and "did you mean 'theme'?" in err
    assert stored(project)["theme"] == {"color": "dark"}
    assert (project / "data/core/core.db").read_bytes() == before


# -- backup -------------------------------------------------------------------------


def test_backup_writes_a_consistent_copy(project, capsys, tmp_path):
    dest = tmp_path / "backup.db"
    status, out, err = run(capsys, "backup", str(dest))
    assert (status, err) == (0, "")
    assert f"to {dest}" in out
    backup_project = tmp_path / "restored"
    (backup_project / "data" / "core").mkdir(parents=True)
    shutil.copyfile(dest, backup_project / "data/core/core.db")
    assert stored(backup_project) == stored(project)
    assert stored(backup_project, ALICE) == {"todos": ["milk"], "score": 3.5}


def test_backup_into_a_missing_folder(project, capsys, tmp_path):
    status, _, err = run(capsys, "backup", str(tmp_path / "no" / "such" / "b.db"))
    assert status == 1
    assert err == f"cat-store: error: cannot write the backup to {tmp_path / 'no/such/b.db'}: the folder {tmp_path / 'no/such'} does not exist\n"


# -- where the database is ----------------------------------------------------------


def test_missing_database_is_reported_with_its_origin_and_not_created(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CAT_SQL", raising=False)
    monkeypatch.delenv("CAT_PROJECT_DIR", raising=False)
    for argv in (["keys"], ["get", "x"], ["delete", "x"], ["backup", str(tmp_path / "b.db")]):
        status, out, err = run(capsys, *argv)
        assert (status, out) == (1, "")
        assert err == f"cat-store: error: no database at {tmp_path / 'data/core/core.db'} (from the default)\n"
    assert list(tmp_path.iterdir()) == []


def test_bad_url_is_a_usage_error(tmp_path, capsys):
    status, _, err = run(capsys, "--sql", "mysql://localhost/cat", "keys")
    assert status == 2
    assert err.startswith("cat-store: error: --sql: unsupported database URL 'mysql://localhost/cat'")


def test_location_options_before_or_after_the_command(project, tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    url = f"sqlite:///{project / 'data/core/core.db'}"
    for argv in (["--sql", url, "get", "count"], ["get", "count", "--sql", url], ["get", "count", "--project", str(project)]):
        os.chdir(other)
        assert run(capsys, *argv) == (0, "9\n", ""), argv


def test_config_py_and_environment_are_honoured(project, tmp_path, monkeypatch, capsys):
    moved = tmp_path / "elsewhere.db"
    shutil.move(project / "data/core/core.db", moved)
    (project / "config.py").write_text(f'SQL = "sqlite:///{moved}"\n')
    status, out, _ = run(capsys, "keys")
    assert status == 0 and out.startswith(f"database: {moved} (from config.py)")

    monkeypatch.setenv("CAT_SQL", "sqlite:///nowhere.db")
    status, _, err = run(capsys, "keys")
    assert status == 1 and err.endswith(f"no database at {project / 'nowhere.db'} (from CAT_SQL)\n")


def test_not_a_database(tmp_path, capsys):
    (tmp_path / "junk.db").write_bytes(b"certainly not SQLite" * 50)
    status, _, err = run(capsys, "--sql", f"sqlite:///{tmp_path / 'junk.db'}", "keys")
    assert status == 1 and "cannot read" in err and "Traceback" not in err


# -- the installed command ----------------------------------------------------------


def test_the_console_script_end_to_end(project):
    script = Path(sys.executable).with_name("cat-store")
    env = {k: v for k, v in os.environ.items() if k not in ("CAT_SQL", "CAT_PROJECT_DIR")}

    def cli(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(script), *argv], cwd=project, env=env, capture_output=True, text=True, timeout=60)

    listed = cli("keys")
    assert listed.returncode == 0 and "theme" in listed.stdout
    missing = cli("get", "thme")
    assert missing.returncode == 1
    assert missing.stderr == "cat-store: error: no key 'thme' in the global store; did you mean 'theme'?\n"
    usage = cli("frobnicate")
    assert usage.returncode == 2 and "invalid choice" in usage.stderr and "Traceback" not in usage.stderr
    deleted = cli("delete", "todos", "--user", ALICE)
    assert deleted.returncode == 0
    assert cli("get", "todos", "--user", ALICE).returncode == 1


def test_reading_never_writes_while_the_cat_runs(project, capsys):
    """A running Cat holds the database open in WAL mode; looking must not disturb it."""
    live = sqlite3.connect(project / "data/core/core.db", isolation_level=None)
    live.execute("PRAGMA journal_mode = WAL")
    live.execute("BEGIN IMMEDIATE")  # the Cat is in the middle of a write
    live.execute("UPDATE key_value_db SET value = '{\"color\":\"light\"}' WHERE key = 'theme'")
    try:
        assert run(capsys, "get", "theme")[1] == '{\n  "color": "dark"\n}\n'  # the last committed value
        assert run(capsys, "keys")[0] == 0
    finally:
        live.execute("COMMIT")
        live.close()
    assert run(capsys, "get", "theme")[1] == '{\n  "color": "light"\n}\n'


# -- PostgreSQL: the same commands, on a database of its own --------------------------


@pytest.fixture
def pg_project(tmp_path):
    """A project whose config.py names a new PostgreSQL database, filled through the runtime."""
    from postgres_support import pg_database

    with pg_database() as url:
        (tmp_path / "config.py").write_text(f"SQL = {url!r}\n", encoding="utf-8")
        write_project(tmp_path, url)
        yield tmp_path, url
    cat.configure()


def test_postgresql_keys_list_both_stores(pg_project, capsys, monkeypatch):
    root, url = pg_project
    monkeypatch.chdir(root)  # found through config.py, as the Cat finds it
    status, out, err = run(capsys, "keys")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("database: postgresql://") and lines[0].endswith("(from config.py)")
    assert "global store: 4 keys" in lines and "per-user store: 2 keys, 3 users" in lines
    row = {line.split()[0]: line.split() for line in lines if line.startswith("  ")}
    assert row["theme"][:2] == ["theme", "object"]
    assert row["count"][1] == "integer" and row["ratio"][1] == "number"
    assert row["todos"][1] == "array" and row["todos"][4] == "3"
    status, out, _ = run(capsys, "keys", "--user", ALICE, "--json")
    assert status == 0
    assert {k["key"] for k in json.loads(out)} == {"todos", "score"}


def test_postgresql_get_and_delete(pg_project, capsys):
    _, url = pg_project
    assert run(capsys, "--sql", url, "get", "ratio") == (0, "9.0\n", "")
    assert run(capsys, "--sql", url, "get", "todos", "--user", "01") == (0, '[\n  "zero-one"\n]\n', "")
    status, _, err = run(capsys, "--sql", url, "get", "thme")
    assert status == 1 and "did you mean 'theme'?" in err
    assert run(capsys, "--sql", url, "delete", "todos", "--user", "1")[0] == 0
    assert run(capsys, "--sql", url, "get", "todos", "--user", "01")[0] == 0  # another user's row stays
    status, _, err = run(capsys, "--sql", url, "get", "todos", "--user", "1")
    assert status == 1 and "no keys stored for user '1'" in err  # that was their only key
    assert run(capsys, "--sql", url, "delete", "theme")[0] == 0
    status, _, err = run(capsys, "--sql", url, "get", "theme")
    assert status == 1 and "no key 'theme' in the global store" in err


def test_postgresql_reading_needs_only_select(pg_project, capsys):
    """The tools read in read-only transactions: a role that may only SELECT is enough."""
    import secrets

    from postgres_support import run_admin

    _, url = pg_project
    role = f"cat_reader_{secrets.token_hex(4)}"
    run_admin(f"CREATE ROLE {role} LOGIN")
    try:
        run_admin(f"GRANT SELECT ON key_value_db, user_key_value_db TO {role}", url)
        scheme, rest = url.split("://", 1)
        reader_url = f"{scheme}://{role}@{rest.split('@', 1)[-1]}"
        status, out, err = run(capsys, "--sql", reader_url, "keys", "--json")
        assert (status, err) == (0, "")
        assert len(json.loads(out)) == 6
        status, _, err = run(capsys, "--sql", reader_url, "delete", "count")
        assert status == 1 and "permission denied" in err  # the one command that writes says why it cannot
    finally:
        run_admin(f"DROP OWNED BY {role}", url)
        run_admin(f"DROP ROLE {role}")


def test_postgresql_database_the_cat_never_wrote_to_has_no_keys(capsys):
    from postgres_support import pg_database

    with pg_database() as url:
        status, out, _ = run(capsys, "--sql", url, "keys")
        assert status == 0 and "global store: 0 keys" in out
        status, _, err = run(capsys, "--sql", url, "get", "anything")
        assert status == 1 and "no key 'anything'" in err


def test_postgresql_backup_says_how_to_use_pg_dump(capsys, tmp_path):
    status, out, err = run(capsys, "--sql", "postgresql://cat:secret@db.example/cat", "backup", str(tmp_path / "b.db"))
    assert (status, out) == (1, "")
    assert "pg_dump --format=custom --table=key_value_db --table=user_key_value_db --file=DEST.dump 'postgresql://cat:***@db.example/cat'" in err
    assert "secret" not in err


def test_unreachable_postgresql_is_one_line(capsys):
    status, out, err = run(capsys, "--sql", "postgresql://nobody@127.0.0.1:1/none", "keys")
    assert (status, out) == (1, "")
    assert err.startswith("cat-store: error: cannot read postgresql://nobody@127.0.0.1:1/none") and err.count("\n") == 1


def test_odd_keys_are_shown_unambiguously_and_reachable(tmp_path, capsys):
    import asyncio

    odd = ['quote"d', "50%_off", "a/b:c", "gatto 🐱", "line\nbreak", " padded "]
    db = tmp_path / "odd.db"

    async def fill() -> None:
        cat.configure(sql=f"sqlite:///{db}")
        for i, key in enumerate(odd):
            await cat.store.save(key, i)
            with cat.request_context("%_user"):
                await cat.user.save(key, -i)
        await cat.close()

    asyncio.run(fill())
    cat.configure()
    url = f"sqlite:///{db}"
    status, out, _ = run(capsys, "--sql", url, "keys")
    assert status == 0
    assert '  "line\\nbreak"  ' in out and '  " padded "  ' in out and "  50%_off  " in out
    for i, key in enumerate(odd):
        assert run(capsys, "--sql", url, "get", key) == (0, f"{i}\n", "")
        assert run(capsys, "--sql", url, "get", key, "--user", "%_user") == (0, f"{-i}\n", "")
    assert run(capsys, "--sql", url, "get", "50%_of")[2].endswith("did you mean '50%_off'?\n")
    assert run(capsys, "--sql", url, "get", "50__off")[0] == 1  # no LIKE-style wildcard matching
    assert run(capsys, "--sql", url, "delete", "50%_off", "--user", "%_user")[0] == 0
    assert run(capsys, "--sql", url, "get", "50%_off")[1] == "1\n"


def test_postgresql_users_are_listed_so_that_each_can_be_read_back(pg_project):
    """A hashed id cannot be shown as its text: it is listed as its stored form, which reads back."""
    from cat_lint.project.reader import open_reader

    _, url = pg_project
    with open_reader(parse_url(url, Path("."), "test")) as reader:
        listed = reader.user_ids("todos")
        assert ALICE in listed and len(listed) == 3
        others = [u for u in listed if u != ALICE]
        assert all(u.startswith("stored:") for u in others)
        assert sorted(reader.get("todos", u)[1] for u in others) == [["one"], ["zero-one"]]
        assert len(reader.user_ids("todos", limit=1)) == 1
