"""What the VS Code extension relies on: its settings (database, lint selection)
applied at start and live, the key explorer's requests (``cat/keys``'s places
and marks, ``cat/keyValue``, ``cat/userIds``) and the ``cat/databaseChanged``
notification, all against a real server and keys the runtime wrote."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_support import codes, diagnostics_where, open_doc, plain, start, wait_for, write_keys


SAVES = '''\
from cat import hook, store, user


@hook
async def before_cat_sends_message(message, cat):
    await store.save("counter", (1, 2))
    total = await store.load("counter")
    await store.load("countr")
    return message
'''


def folders(project: Path, **settings) -> dict:
    """The extension's options: editor defaults, then this folder's settings."""
    entry = {"uri": project.as_uri(), "database": None, "select": None, "ignore": None}
    entry.update(settings)
    return {"folders": [{"uri": None, "database": None, "select": None, "ignore": None}, entry]}


def change_settings(client: LanguageClient, project: Path, **settings) -> None:
    """What the extension sends when a setting changes: the whole `cat` section."""
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"cat": folders(project, **settings)})
    )


async def keys(client: LanguageClient, **params) -> dict:
    return plain(await client.protocol.send_request_async("cat/keys", params))


async def test_key_value_global_per_user_and_missing(client: LanguageClient, project: Path):
    write_keys(project, global_keys={"theme": {"dark": True, "sizes": [1, 2.5]}}, user_keys={"alice": {"todos": ["milk"]}, "bob": {"todos": []}})
    await start(client, project)
    value = plain(await client.protocol.send_request_async("cat/keyValue", {"key": "theme"}))
    assert value["found"] is True
    assert value["value"] == {"dark": True, "sizes": [1, 2.5]}
    assert value["database"].endswith("(from config.py)")
    alice = plain(await client.protocol.send_request_async("cat/keyValue", {"key": "todos", "userId": "alice", "uri": project.as_uri()}))
    assert (alice["found"], alice["value"]) == (True, ["milk"])
    missing = plain(await client.protocol.send_request_async("cat/keyValue", {"key": "todos", "userId": "carol"}))
    assert (missing["found"], missing["value"]) == (False, None)
    assert plain(await client.protocol.send_request_async("cat/keyValue", {"key": "nope"}))["found"] is False


async def test_user_ids_lists_the_first_fifty_holders_of_a_key(client: LanguageClient, project: Path):
    users = {f"user{i:03d}": {"todos": [i]} for i in range(60)}
    users["solo"] = {"prefs": 1}
    write_keys(project, user_keys=users)
    await start(client, project)
    todos = plain(await client.protocol.send_request_async("cat/userIds", {"key": "todos"}))
    assert todos["userIds"] == [f"user{i:03d}" for i in range(50)]
    assert todos["more"] is True
    prefs = plain(await client.protocol.send_request_async("cat/userIds", {"key": "prefs"}))
    assert prefs == {"userIds": ["solo"], "more": False}


async def test_keys_listing_marks_unused_and_not_yet_stored_keys_with_their_places(client: LanguageClient, project: Path):
    (project / "plugins" / "demo" / "plugin.py").write_text(SAVES, encoding="utf-8")
    write_keys(project, global_keys={"orphan": 1})
    await start(client, project)
    result = await keys(client)
    by_key = {(k["scope"], k["key"]): k for k in result["keys"]}
    orphan = by_key[("global", "orphan")]
    assert (orphan["inDatabase"], orphan["savedInCode"], orphan["readInCode"]) == (True, False, False)
    assert orphan["saves"] == orphan["reads"] == []
    counter = by_key[("global", "counter")]
    assert (counter["inDatabase"], counter["savedInCode"], counter["readInCode"]) == (False, True, True)
    plugin_uri = (project / "plugins" / "demo" / "plugin.py").as_uri()
    assert [(p["uri"], p["range"]["start"]["line"]) for p in counter["saves"]] == [(plugin_uri, 5)]
    assert [(p["uri"], p["range"]["start"]["line"]) for p in counter["reads"]] == [(plugin_uri, 6)]


async def keys_until(client: LanguageClient, predicate, what: str) -> dict:
    """Ask ``cat/keys`` until its answer satisfies ``predicate`` (settings apply asynchronously)."""
    for _ in range(200):
        result = await keys(client)
        if predicate(result):
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"cat/keys never showed {what}: {result}")


async def test_database_change_is_notified(client: LanguageClient, project: Path):
    notified: list[dict] = []
    client.feature("cat/databaseChanged")(lambda params: notified.append(plain(params)))
    write_keys(project, global_keys={"first": 1})
    await start(client, project)
    assert {k["key"] for k in (await keys(client))["keys"]} >= {"first"}
    await asyncio.sleep(1.0)  # let the poll see the first read (it may notify it) before counting
    notified.clear()
    write_keys(project, global_keys={"second": 2})
    await wait_for(lambda: bool(notified), what="cat/databaseChanged")
    assert notified[0] == {"uri": project.as_uri()}
    assert {k["key"] for k in (await keys(client))["keys"]} >= {"first", "second"}


async def test_database_setting_overrides_the_resolver_at_start_and_live(client: LanguageClient, project: Path):
    write_keys(project, global_keys={"from_config": 1})
    other = project / "elsewhere"
    other.mkdir()
    (other / "config.py").write_text('SQL = "sqlite:///other.db"\n', encoding="utf-8")
    write_keys(other, global_keys={"from_setting": 2})
    await start(client, project, **folders(project, database="sqlite:///elsewhere/other.db"))
    result = await keys(client)
    assert result["database"] == f"{project / 'elsewhere' / 'other.db'} (from the editor setting cat.database)"
    stored = {k["key"] for k in result["keys"] if k["inDatabase"]}
    assert stored == {"from_setting"}

    change_settings(client, project, database=None)
    result = await keys_until(client, lambda r: (r["database"] or "").endswith("(from config.py)"), "config.py's database")
    assert {k["key"] for k in result["keys"] if k["inDatabase"]} == {"from_config"}

    change_settings(client, project, database="sqlite:///missing/none.db")
    result = await keys_until(client, lambda r: r["reason"] is not None, "a reason")
    assert result["reason"] == f"no database at {project / 'missing' / 'none.db'} (from the editor setting cat.database)"


async def test_lint_select_and_ignore_take_precedence_over_the_configuration(client: LanguageClient, project: Path):
    (project / "pyproject.toml").write_text('[tool.cat-lint]\nignore = ["CAT003"]\n', encoding="utf-8")
    plugin = project / "plugins" / "demo" / "plugin.py"
    plugin.write_text(SAVES, encoding="utf-8")
    await start(client, project, **folders(project, ignore=["CAT006"]))
    uri = open_doc(client, plugin)
    # The editor's ignore replaces the configured one: CAT003 is back, CAT006 is gone.
    assert codes(await diagnostics_where(client, uri, lambda d: len(d) > 0)) == ["CAT003"]

    change_settings(client, project, select=["CAT006"])
    assert codes(await diagnostics_where(client, uri, lambda d: codes(d) == ["CAT006"])) == ["CAT006"]

    # Back to the project's configuration: CAT003 ignored there, CAT006 reported.
    change_settings(client, project)
    assert codes(await diagnostics_where(client, uri, lambda d: codes(d) == ["CAT006"])) == ["CAT006"]


async def test_an_invalid_selector_is_reported_and_the_rest_applies(client: LanguageClient, project: Path):
    plugin = project / "plugins" / "demo" / "plugin.py"
    plugin.write_text(SAVES, encoding="utf-8")
    await start(client, project, **folders(project, select=["CAT999"], ignore=["CAT006"]))
    uri = open_doc(client, plugin)
    assert codes(await diagnostics_where(client, uri, lambda d: len(d) > 0)) == ["CAT003"]
    await wait_for(lambda: any("CAT999" in m.message for m in client.messages), what="a message about CAT999")
    message = next(m for m in client.messages if "CAT999" in m.message)
    assert message.type == types.MessageType.Warning
    assert "cat.lint.select" in message.message
