"""The engine's contract: check_source / check_project / lint_source, noqa, settings, the database."""

from __future__ import annotations

import pickle
import sqlite3

import pytest

from cat_lint.engine import check_project, check_source, lint_source
from cat_lint.keys import KeyIndex, load_database_keys
from cat_lint.rules import ALL_RULES
from cat_lint.settings import Settings

S = Settings()

BAD = """\
from cat import hook, store, user

@hook
async def after_cat_bootstrap(value):
    store.save("theme", {"dark"})
    await user.save("x", 1)
    return value
"""


def codes(findings):
    return [f.code for f in findings]


def test_findings_are_sorted_with_positions_and_fix():
    findings = lint_source(BAD, "p.py", S)
    assert codes(findings) == ["CAT004", "CAT002", "CAT001"]
    assert [(f.span.start_line, f.span.start_col) for f in findings] == [(5, 4), (5, 24), (6, 10)]
    not_awaited = findings[0]
    assert not_awaited.fix is not None and not_awaited.fix.safe
    assert not_awaited.fix.edits[0].text == "await "
    assert all(f.path == "p.py" for f in findings)


def test_check_source_result_is_picklable_and_holds_key_uses():
    result = check_source(BAD, "p.py", S)
    again = pickle.loads(pickle.dumps(result))
    assert again == result
    assert [(u.key, u.scope, u.verb) for u in result.key_uses] == [("theme", "store", "save"), ("x", "user", "save")]
    assert (result.key_uses[0].span.start_line, result.key_uses[0].span.start_col) == (5, 15)


@pytest.mark.parametrize(
    "source",
    [
        "x = '\x00'\n",
        "def f(:\n",
        "x = '\udcff'\n",  # a lone surrogate, as a bad decode leaves it
        "(" * 5000 + ")" * 5000 + "\n",  # past Python's nesting limit: libcst's parser would crawl or crash
        "-" * 20000 + "1\n",
        "x" + ".a" * 20000 + "\n",
        "f(" * 1000 + ")" * 1000 + "\n",
        "\ufeffx = 1\n",
        "if True:\n\tx = 1\n        y = 2\n",
        "",
        "\n\n\n",
    ],
)
def test_odd_input_never_raises(source):
    result = check_source(source, "odd.py", S)
    assert all(f.code == "CAT000" for f in result.findings)
    for finding in result.findings:
        assert finding.span.start_line >= 1 and finding.span.start_col >= 0


def test_nul_byte_is_a_parse_error_at_its_position():
    (finding,) = lint_source("x = 1\ny = '\x00'\n", "p.py", S)
    assert finding.code == "CAT000"
    assert (finding.span.start_line, finding.span.start_col) == (2, 5)
    assert "NUL" in finding.message


def test_undecodable_text_is_a_parse_error_at_its_position():
    (finding,) = lint_source("x = 1\ny = '\udcff'\n", "p.py", S)
    assert finding.code == "CAT000" and "UTF-8" in finding.message
    assert (finding.span.start_line, finding.span.start_col) == (2, 5)


def test_huge_input_is_reported_not_parsed():
    (finding,) = lint_source("x = 1\n" * 1_000_000, "big.py", S)
    assert finding.code == "CAT000" and "too large" in finding.message


def test_noqa_line_codes_and_file():
    src = BAD.replace('{"dark"})', '{"dark"})  # noqa: CAT004')
    assert codes(lint_source(src, "p.py", S)) == ["CAT002", "CAT001"]
    src = BAD.replace('{"dark"})', '{"dark"})  # noqa')
    assert codes(lint_source(src, "p.py", S)) == ["CAT001"]
    assert lint_source("# cat-lint: noqa\n" + BAD, "p.py", S) == []
    assert codes(lint_source("# cat-lint: noqa: CAT001\n" + BAD, "p.py", S)) == ["CAT004", "CAT002"]


def test_noqa_inside_a_string_suppresses_nothing():
    src = BAD.replace("await user.save(\"x\", 1)", "await user.save(\"x # noqa\", 1)")
    assert "CAT001" in codes(lint_source(src, "p.py", S))


def test_select_ignore_and_per_file_ignores():
    assert codes(lint_source(BAD, "p.py", Settings(select=("CAT001",)))) == ["CAT001"]
    assert codes(lint_source(BAD, "p.py", Settings(ignore=("CAT00",)))) == []
    assert codes(lint_source(BAD, "p.py", Settings(select=("CAT",), ignore=("CAT004",)))) == ["CAT002", "CAT001"]
    per_file = Settings(per_file_ignores=(("plugins/legacy/*.py", ("CAT001", "CAT002")),))
    assert codes(lint_source(BAD, "plugins/legacy/p.py", per_file)) == ["CAT004"]
    assert codes(lint_source(BAD, "plugins/new/p.py", per_file)) == ["CAT004", "CAT002", "CAT001"]


def test_configured_bootstrap_hooks():
    src = "from cat import hook, user\n\n@hook('warm_up')\ndef prepare(v):\n    return user.id\n"
    assert lint_source(src, "p.py", S) == []
    (finding,) = lint_source(src, "p.py", Settings(bootstrap_hooks=("warm_up",)))
    assert "`warm_up` hook" in finding.message


def test_unknown_keys_across_files():
    writer = check_source("from cat import store\nasync def f():\n    await store.save('theme', 1)\n", "a.py", S)
    reader = check_source(
        "from cat import store\nasync def g():\n    await store.load('theme')\n    await store.load('thme2')\n    await store.load('nothing_like_it')\n",
        "b.py",
        S,
    )
    index = KeyIndex()
    for result in (writer, reader):
        index.set_file(result.path, result.key_uses)
    out = check_project([writer, reader], S, index)
    assert out["a.py"] == []
    assert [(f.code, f.span.start_line) for f in out["b.py"]] == [("CAT006", 4), ("CAT006", 5)]
    assert 'did you mean "theme"?' in out["b.py"][0].message
    assert out["b.py"][0].fix is not None and not out["b.py"][0].fix.safe  # offered once: the fix, not also a suggestion
    assert "did you mean" not in out["b.py"][1].message
    index.remove_file("a.py")
    assert len(check_project([reader], S, index)["b.py"]) == 3


def _make_db(path, global_keys=(), user_keys=()):
    from cat_lint.project.schema import GLOBAL_TABLE, SQLITE_SCHEMA, USER_TABLE

    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    for statement in SQLITE_SCHEMA:
        conn.execute(statement)
    for key in global_keys:
        conn.execute(f"INSERT INTO {GLOBAL_TABLE} (key, value) VALUES (?, '1')", (key,))
    for i, key in enumerate(user_keys):
        conn.execute(f"INSERT INTO {USER_TABLE} (id, user_id, key, value) VALUES (?, 'u1', ?, '1')", (f"id{i}", key))
    conn.commit()
    conn.close()


def test_keys_in_the_database_are_known(tmp_path):
    db = tmp_path / "data" / "core" / "core.db"
    _make_db(db, global_keys=["legacy_counter"], user_keys=["old_todos"])
    settings = Settings(project=str(tmp_path), database=f"sqlite:///{db}")
    keys = load_database_keys(settings)
    assert keys is not None and "legacy_counter" in keys.store and "old_todos" in keys.user
    src = "from cat import store, user\nasync def f():\n    await store.load('legacy_counter')\n    await user.load('old_todos')\n    await store.load('old_todos')\n"
    findings = lint_source(src, "p.py", settings, KeyIndex(keys))
    assert [(f.code, f.span.start_line) for f in findings] == [("CAT006", 5)]


def test_default_database_location_and_missing_database(tmp_path, monkeypatch):
    monkeypatch.delenv("CAT_SQL", raising=False)
    assert load_database_keys(Settings(project=str(tmp_path))) is None
    _make_db(tmp_path / "data" / "core" / "core.db", global_keys=["k"])
    keys = load_database_keys(Settings(project=str(tmp_path)))
    assert keys is not None and keys.store == {"k"}
    # Reading never writes: no journal or WAL left behind, the file is unchanged.
    assert sorted(p.name for p in (tmp_path / "data" / "core").iterdir()) == ["core.db"]


def test_lint_source_uses_the_given_index():
    index = KeyIndex()
    index.set_file("other.py", check_source("from cat import user\nasync def f():\n    await user.save('todos', [])\n", "other.py", S).key_uses)
    src = "from cat import user\nasync def f():\n    return await user.load('todos')\n"
    assert lint_source(src, "p.py", S, index) == []
    assert codes(lint_source(src, "p.py", S)) == ["CAT006"]


def test_rule_registry():
    from cat_lint.rules import get_rule

    assert get_rule("cat004").code == "CAT004"
    assert get_rule("user-without-request").code == "CAT001"
    assert get_rule("CAT999") is None
    assert len({r.code for r in ALL_RULES}) == 12

