"""Key rules: a non-empty str of at most 1024 characters, checked before the database is touched."""

from __future__ import annotations

import pytest

from cat import request_context, store, user

from runtime_helpers import db_path, rows

BAD_KEYS = [
    (None, TypeError),
    (1, TypeError),
    (b"key", TypeError),
    (("a",), TypeError),
    ("", ValueError),
    ("k" * 1025, ValueError),
]


def calls(target):
    return [
        lambda key: target.save(key, 1),
        lambda key: target.load(key),
        lambda key: target.exists(key),
        lambda key: target.delete(key),
        lambda key: target.update(key, lambda v: 1),
    ]


@pytest.mark.parametrize("key, error", BAD_KEYS, ids=["None", "int", "bytes", "tuple", "empty", "1025 chars"])
async def test_bad_keys_raise_before_the_database_exists(project, key, error):
    for call in calls(store):
        with pytest.raises(error):
            await call(key)
    async with request_context("u"):
        for call in calls(user):
            with pytest.raises(error):
                await call(key)
    assert not db_path(project).exists()


async def test_key_error_messages_say_what_is_wrong(project):
    with pytest.raises(TypeError, match="store keys are strings, not int"):
        await store.save(1, "x")
    with pytest.raises(ValueError, match="non-empty"):
        await store.load("")
    with pytest.raises(ValueError, match="at most 1024 characters; this one has 1025"):
        await store.exists("k" * 1025)


async def test_longest_key_is_accepted(project):
    key = "k" * 1024
    await store.save(key, 1)
    assert await store.load(key) == 1


WEIRD_KEYS = ["'", '"', "a'b\"c", "%", "_", "a%b_c", "user:1/theme", "a\\b", "a;DROP TABLE key_value_db;--", " ", "\n", "ключ", "猫", "🐈", "1", "1.0", "01"]


@pytest.mark.parametrize("key", WEIRD_KEYS)
async def test_keys_are_exact_strings(project, key):
    """Quotes, separators and LIKE wildcards are plain characters; numeric-looking keys stay distinct."""
    await store.save(key, key)
    assert await store.load(key) == key
    # a LIKE-style neighbour never matches
    assert await store.exists(key + "x") is False
    async with request_context("u"):
        await user.save(key, [key])
        assert await user.load(key) == [key]


async def test_numeric_looking_keys_are_distinct(project):
    for key in ("1", "01", "1.0", "1e0"):
        await store.save(key, key)
    for key in ("1", "01", "1.0", "1e0"):
        assert await store.load(key) == key
    assert len(rows(project, "SELECT key FROM key_value_db")) == 4



# Literal keys as plugin code writes them; CAT007 must report exactly those the runtime refuses.
LITERAL_KEYS = ["42", "None", "b'key'", "('a',)", "''", "'" + "k" * 1025 + "'", "'k' * 3", "'a\\x00b'", "'x\\ud800'", "'fine'", "'k' + 'ey'"]


@pytest.mark.parametrize("literal", LITERAL_KEYS, ids=lambda text: text[:12])
async def test_cat007_reports_exactly_the_literal_keys_the_runtime_refuses(project, literal):
    from cat_lint.engine import lint_source
    from cat_lint.settings import Settings

    source = f"from cat import store\n\nasync def f():\n    await store.load({literal})\n"
    reported = [f.code for f in lint_source(source, "plugin.py", Settings(select=("CAT007",)))] == ["CAT007"]
    try:
        await store.load(eval(literal))  # this test's own constants, evaluated as the plugin would
    except (TypeError, ValueError):
        refused = True
    else:
        refused = False
    assert reported == refused
