"""The runtime's pytest plugin (``cat_devtools_pytest``), exercised the way a plugin author uses it.

Each test writes a plugin and its author's test file into a fresh folder and
runs pytest on it in a subprocess (so the inner run loads the plugin through
its ``pytest11`` entry point, exactly as an installed package does), then
checks the outcome.
"""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

pytestmark = pytest.mark.slow

GREETER_PLUGIN = '''
from cat import endpoint, hook, store, user


def plus_one(n):
    return n + 1


@hook
async def after_cat_bootstrap(_):
    await store.update("boots", plus_one, 0)


@hook
async def before_agent_run(context):
    context["seen"] = await user.update("seen", plus_one, 0)
    context["hello"] = f"hello {user.name}"
    return context


@endpoint.get("/me", role="authenticated")
async def me():
    return {"id": user.id, "roles": list(user.roles)}
'''

AUTHOR_TESTS = '''
from pathlib import Path

import pytest

import cat
from cat import NoRequestError, NoUserError, execute_hook, store, user

PLUGIN = Path(__file__).parent.parent / "greeter"


async def test_starts_empty_and_writes_to_its_own_database(cat_project):
    assert cat_project.stored() == {}
    await store.save("theme", {"color": "dark"})
    assert cat_project.stored() == {"theme": {"color": "dark"}}
    assert cat_project.database.is_file()
    assert str(cat_project.database).startswith(str(cat_project.path))


async def test_the_next_test_gets_a_fresh_database(cat_project):
    assert await store.load("theme") is None
    assert cat_project.stored() == {}


async def test_as_user_scopes_the_user_store(cat_project, as_user):
    with as_user("alice", name="Alice", roles=["editor"]):
        assert (user.id, user.name, tuple(user.roles)) == ("alice", "Alice", ("editor",))
        await user.save("todos", ["milk"])
    async with as_user("bob"):
        assert await user.load("todos") is None
    assert cat_project.stored(user="alice") == {"todos": ["milk"]}
    assert cat_project.stored(user="bob") == {}


def test_as_user_works_in_sync_code_too(as_user):
    with as_user():
        assert user.id == "test-user"


def test_anonymous_caller(as_user):
    with as_user.anonymous():
        with pytest.raises(NoUserError, match="No authenticated user"):
            user.id


def test_no_request_even_inside_one(as_user, no_request):
    with as_user("alice"):
        with no_request():
            with pytest.raises(NoRequestError, match="^Outside a request"):
                user.save
        assert user.id == "alice"


async def test_my_plugin_end_to_end(cat_project, as_user, no_request):
    cat_project.add_plugin(PLUGIN)
    cat_project.load_plugins()
    with as_user("alice"):
        await cat.bootstrap()  # runs with no request in flight, even from inside one
    assert cat_project.stored() == {"boots": 1}

    with as_user("carol", name="Carol"):
        first = await execute_hook("before_agent_run", {})
        second = await execute_hook("before_agent_run", {})
    assert (first["seen"], second["seen"], second["hello"]) == (1, 2, "hello Carol")
    assert cat_project.stored(user="carol") == {"seen": 2}

    with no_request():
        with pytest.raises(NoRequestError):
            await execute_hook("before_agent_run", {})


async def test_plugins_loaded_by_a_test_are_gone_in_the_next(cat_project, as_user):
    with as_user("dave"):
        assert await execute_hook("before_agent_run", {}) == {}
'''


@pytest.fixture
def author_project(pytester: pytest.Pytester):
    """A plugin repository: the plugin folder and its author's tests."""
    pytester.makeini("[pytest]\nasyncio_mode = auto\n")
    (pytester.path / "greeter").mkdir()
    (pytester.path / "greeter" / "greeter.py").write_text(textwrap.dedent(GREETER_PLUGIN))
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_greeter.py").write_text(textwrap.dedent(AUTHOR_TESTS))
    return pytester


def test_a_plugin_authors_tests_pass_with_the_fixtures(author_project: pytest.Pytester, monkeypatch, tmp_path):
    # Even with CAT_SQL pointing at a real database, the fixtures never touch it.
    elsewhere = tmp_path / "real" / "core.db"
    monkeypatch.setenv("CAT_SQL", f"sqlite:///{elsewhere}")
    result = author_project.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=8)
    assert not elsewhere.exists()
    assert not (author_project.path / "data").exists()
    # every test's database was closed cleanly: no -wal file left behind
    assert list(author_project.path.rglob("core.db"))
    assert not list(author_project.path.rglob("core.db-wal"))


def test_a_failing_plugin_is_reported_with_the_cats_message(author_project: pytest.Pytester):
    (author_project.path / "greeter" / "bad.py").write_text(textwrap.dedent('''
        from cat import hook, user

        @hook
        async def after_cat_bootstrap(_):
            await user.save("oops", 1)   # no request at bootstrap: this raises
    '''))
    result = author_project.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-k", "end_to_end")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*NoRequestError: Outside a request*"])


def test_fixtures_are_listed_for_plugin_authors(pytester: pytest.Pytester):
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["cat_project*", "*fresh project folder*", "as_user*", "no_request*"])


ASYNC_TESTS = '''
import asyncio

import pytest

from cat import store

RUNS = []


async def test_plain_async_test_runs_in_its_own_loop(cat_project):
    await asyncio.sleep(0)
    await store.save("k", [1])
    RUNS.append(asyncio.get_running_loop())
    assert cat_project.stored() == {"k": [1]}


async def test_another_one_gets_a_fresh_loop(cat_project):
    RUNS.append(asyncio.get_running_loop())
    assert cat_project.stored() == {}


def test_each_async_test_ran_once_in_a_loop_of_its_own():
    assert len(RUNS) == 2 and RUNS[0] is not RUNS[1]
'''


@pytest.mark.parametrize("asyncio_plugin", ["without pytest-asyncio", "with pytest-asyncio in strict mode", "with pytest-asyncio in auto mode"])
def test_async_tests_run_with_no_async_plugin_and_beside_one(pytester: pytest.Pytester, asyncio_plugin):
    """The README's promise: `async def` tests need nothing but the runtime; pytest-asyncio, when present, keeps its own."""
    pytester.makepyfile(test_async=ASYNC_TESTS)
    args = ["-p", "no:cacheprovider", "-q"]
    if asyncio_plugin == "without pytest-asyncio":
        args += ["-p", "no:asyncio"]
    else:
        args += ["-o", f"asyncio_mode={asyncio_plugin.split()[-2]}"]
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(passed=3)
