"""Hooks, bootstrap without a request, plugin loading, and the endpoint/tool decorators."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

import cat
from cat import NoRequestError, bootstrap, endpoint, execute_hook, hook, load_plugins, request_context, store, tool, user
from cat import endpoints as endpoint_registry
from cat import hooks as hook_registry
from cat.errors import PluginLoadError


@pytest.fixture(autouse=True)
def clean_registry():
    """Each test starts with no plugins and drops the hooks it defined."""
    cat.plugins.unload_plugins()
    yield
    cat.plugins.unload_plugins()
    hook_registry.unregister_module(__name__)


async def test_bare_named_and_priority_forms():
    calls = []

    @hook
    def my_test_hook(value):
        calls.append(("bare", value))

    @hook("my_test_hook")
    def other_name(value):
        calls.append(("named", value))

    @hook(priority=5)
    def my_test_hook_2(value):
        calls.append(("priority", value))

    assert my_test_hook.__name__ == "my_test_hook"  # returned unchanged, still callable
    await execute_hook("my_test_hook", 1)
    assert calls == [("bare", 1), ("named", 1)]
    await execute_hook("my_test_hook_2", 2)
    assert calls[-1] == ("priority", 2)


async def test_higher_priority_runs_first_and_ties_keep_order():
    order = []

    @hook("ordered", priority=1)
    def low(value):
        order.append("low")

    @hook("ordered", priority=10)
    def high(value):
        order.append("high")

    @hook("ordered", priority=1)
    def low_second(value):
        order.append("low_second")

    @hook("ordered", priority=0)
    def lowest(value):
        order.append("lowest")

    await execute_hook("ordered", None)
    assert order == ["high", "low", "low_second", "lowest"]


async def test_mutation_replacement_and_none_keeps_value():
    @hook("pipe", priority=3)
    def mutate(value):
        value["seen"].append("mutate")  # returns None: the (mutated) value goes on

    @hook("pipe", priority=2)
    async def replace(value):
        return {"seen": value["seen"] + ["replace"], "replaced": True}

    @hook("pipe", priority=1)
    def keep(value):
        assert value["replaced"] is True
        return None

    result = await execute_hook("pipe", {"seen": []})
    assert result == {"seen": ["mutate", "replace"], "replaced": True}


async def test_unknown_hook_returns_the_value():
    value = object()
    assert await execute_hook("nobody_listens", value) is value


async def test_hook_sees_the_request_it_runs_in(project):
    @hook("before_agent_run")
    async def remember(value):
        await user.save("last", value)
        return user.id

    async with request_context("alice"):
        assert await execute_hook("before_agent_run", "hello") == "alice"
        assert await user.load("last") == "hello"

    with pytest.raises(NoRequestError):
        await execute_hook("before_agent_run", "no request")


async def test_bootstrap_runs_with_no_request_even_inside_one(project):
    seen = []

    @hook
    def before_cat_bootstrap(value):
        try:
            user.id  # noqa: B018
        except NoRequestError as exc:
            seen.append(("before_cat_bootstrap", str(exc)))

    @hook
    async def after_cat_bootstrap(value):
        await store.save("booted", True)
        with pytest.raises(NoRequestError):
            user.load  # noqa: B018
        seen.append(("after_cat_bootstrap", None))

    @hook
    def after_plugins_reload(value):
        with pytest.raises(NoRequestError):
            user.id  # noqa: B018
        seen.append(("after_plugins_reload", None))

    async with request_context("admin"):
        await bootstrap()
        assert user.id == "admin"  # the request is back after bootstrap
    assert [name for name, _ in seen] == ["before_cat_bootstrap", "after_cat_bootstrap", "after_plugins_reload"]
    assert seen[0][1].startswith("Outside a request — no user/stream available.")
    assert await store.load("booted") is True


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def make_project(root: Path) -> Path:
    write(root, "plugins/alpha/helpers.py", "NAME = 'alpha helpers'\n")
    write(
        root,
        "plugins/alpha/main.py",
        """
        from cat import hook, store
        from .helpers import NAME

        @hook
        async def after_cat_bootstrap(value):
            await store.save("alpha", NAME)
        """,
    )
    write(root, "plugins/beta-plugin/helpers.py", "NAME = 'beta helpers'\n")
    write(
        root,
        "plugins/beta-plugin/sub/deep.py",
        """
        from cat import hook, store, endpoint, tool
        from ..helpers import NAME

        @hook(priority=3)
        async def after_cat_bootstrap(value):
            await store.save("beta", NAME)

        @endpoint.get("/beta/hello", role="authenticated")
        def hello():
            return "hi"

        @tool
        def beta_tool(text):
            return text
        """,
    )
    write(root, "plugins/alpha/tests/test_alpha.py", "raise RuntimeError('tests/ must not be imported')\n")
    write(root, "plugins/beta-plugin/sub/tests/conftest.py", "raise RuntimeError('nested tests/ neither')\n")
    return root


async def test_load_plugins_imports_every_file_but_tests(project):
    make_project(project)
    loaded = load_plugins(project)
    assert loaded == ["alpha", "beta-plugin"]
    names = [h.module for h in hook_registry.handlers("after_cat_bootstrap")]
    assert names == ["cat_plugins.beta_plugin.sub.deep", "cat_plugins.alpha.main"]  # priority 3 first
    # both helpers.py loaded, under distinct names
    assert sys.modules["cat_plugins.alpha.helpers"].NAME == "alpha helpers"
    assert sys.modules["cat_plugins.beta_plugin.helpers"].NAME == "beta helpers"
    await bootstrap()
    assert await store.load("alpha") == "alpha helpers"
    assert await store.load("beta") == "beta helpers"
    assert [(e.method, e.path, e.role) for e in endpoint_registry.endpoints()] == [("GET", "/beta/hello", "authenticated")]
    assert [t.name for t in endpoint_registry.tools()] == ["beta_tool"]


async def test_reloading_does_not_register_twice(project):
    make_project(project)
    load_plugins(project / "plugins")
    load_plugins(project)
    assert len(hook_registry.handlers("after_cat_bootstrap")) == 2
    assert len(endpoint_registry.endpoints()) == 1


async def test_reloading_picks_up_edits(project):
    make_project(project)
    load_plugins(project)
    write(project, "plugins/alpha/helpers.py", "NAME = 'edited'\n")
    load_plugins(project)
    await bootstrap()
    assert await store.load("alpha") == "edited"


def test_default_folder_is_the_configured_projects_plugins(project):
    make_project(project)
    assert load_plugins() == ["alpha", "beta-plugin"]


def test_broken_plugin_names_its_file(project):
    write(project, "plugins/broken/main.py", "import does_not_exist_anywhere\n")
    with pytest.raises(PluginLoadError, match=r"plugins/broken/main.py.*does_not_exist_anywhere"):
        load_plugins(project)


def test_missing_plugins_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no plugins folder"):
        load_plugins(tmp_path / "nowhere")


def test_endpoint_and_tool_return_the_function_unchanged():
    def handler():
        return 1

    for verb in ("get", "post", "put", "patch", "delete"):
        assert getattr(endpoint, verb)(f"/x/{verb}")(handler) is handler
    assert {(e.method, e.path, e.role) for e in endpoint_registry.endpoints() if e.path.startswith("/x/")} == {
        ("GET", "/x/get", None),
        ("POST", "/x/post", None),
        ("PUT", "/x/put", None),
        ("PATCH", "/x/patch", None),
        ("DELETE", "/x/delete", None),
    }

    @tool(return_direct=True)
    def with_args(x):
        return x

    assert with_args(3) == 3
    assert with_args.__cat_tool__.options == {"return_direct": True}
    endpoint_registry.unregister_module(__name__)
    assert not [e for e in endpoint_registry.endpoints() if e.path.startswith("/x/")]


def test_hook_decorator_errors():
    with pytest.raises(TypeError):
        hook(1)
    with pytest.raises(TypeError):
        hook(priority="high")(lambda v: v)
