"""The PostgreSQL backend against the local server, on a database created for this run and dropped after."""

from __future__ import annotations

import asyncio
import subprocess
import textwrap
import uuid

import asyncpg
import pytest

import cat
from cat import request_context, store, user
from cat.database.postgres import BATCH_TEXT_LIMIT
from cat.errors import ConnectionLostError

from postgres_support import pg_database
from runtime_helpers import PYTHON, subprocess_env
from test_values import BAD, EXACT, same


@pytest.fixture
def pg_url():
    """A database of this test's own: created here, dropped at the end."""
    with pg_database() as url:
        yield url


@pytest.fixture
async def pg(pg_url, monkeypatch):
    monkeypatch.delenv("CAT_SQL", raising=False)
    cat.configure(sql=pg_url)
    await store.delete("__warm__")  # creates the tables
    conn = await asyncpg.connect(pg_url)
    yield conn
    await conn.close()
    await cat.close()
    cat.configure()


async def test_tables_have_the_cat_layout(pg):
    columns = await pg.fetch(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_name IN ('key_value_db', 'user_key_value_db') ORDER BY table_name, ordinal_position"
    )
    assert [tuple(c) for c in columns] == [
        ("key_value_db", "key", "character varying"),
        ("key_value_db", "value", "json"),
        ("user_key_value_db", "id", "uuid"),
        ("user_key_value_db", "user_id", "uuid"),
        ("user_key_value_db", "key", "character varying"),
        ("user_key_value_db", "value", "json"),
    ]


async def test_exact_round_trips(pg):
    for label, value in EXACT:
        await store.save(label, value)
    for label, value in EXACT:
        assert same(await store.load(label, "DEFAULT"), value), label
        assert await store.exists(label) is True
    async with request_context("u"):
        for label, value in EXACT:
            await user.save(label, value)
            assert same(await user.load(label, "DEFAULT"), value), label


async def test_non_json_is_refused_and_nothing_written(pg):
    for label, value, error, message in BAD:
        with pytest.raises(error) as info:
            await store.save("bad", value)
        assert message in str(info.value), label
    assert await store.exists("bad") is False


async def test_seed_verbs(pg):
    assert await store.save("theme", {"color": "dark"}) == {"color": "dark"}
    assert await store.load("theme") == {"color": "dark"}
    assert await store.delete("theme") is True
    assert await store.delete("theme") is False
    assert await store.load("theme", {}) == {}


async def test_user_ids_compare_exactly(pg):
    canonical = str(uuid.uuid4())
    ids = ["1", "01", "1.0", "a'b", "%", "_", "ユーザー", canonical, canonical.upper()]
    for user_id in ids:
        async with request_context(user_id):
            await user.save("who", user_id)
    for user_id in ids:
        async with request_context(user_id):
            assert await user.load("who") == user_id
    # a canonical UUID is stored as itself, as the Cat stores its users
    assert await pg.fetchval("SELECT count(*) FROM user_key_value_db WHERE user_id = $1", uuid.UUID(canonical)) == 1
    assert await pg.fetchval("SELECT count(*) FROM user_key_value_db") == len(ids)


async def test_concurrent_updates_and_first_saves(pg):
    async def bump() -> None:
        for _ in range(20):
            await store.update("counter", lambda v: v + 1, 0)

    await asyncio.gather(*(bump() for _ in range(10)))
    assert await store.load("counter") == 200

    async def first_save(i: int) -> None:
        async with request_context("same"):
            await user.save("fresh", i)

    await asyncio.gather(*(first_save(i) for i in range(30)))
    assert await pg.fetchval("SELECT count(*) FROM user_key_value_db WHERE key = 'fresh'") == 1


async def test_failing_update_writes_nothing(pg):
    await store.save("k", 1)
    with pytest.raises(ZeroDivisionError):
        await store.update("k", lambda v: v / 0)
    with pytest.raises(TypeError, match="value is a set"):
        await store.update("k", lambda v: {v})
    assert await store.load("k") == 1


async def test_duplicates_left_by_the_cat_collapse(pg):
    from cat.database.postgres import pg_user_id

    uid = pg_user_id("dup-user")
    for value in ("1", "2"):
        await pg.execute(
            "INSERT INTO user_key_value_db (id, user_id, key, value) VALUES ($1, $2, 'dup', $3)", uuid.uuid4(), uid, value
        )
    async with request_context("dup-user"):
        assert await user.load("dup") in (1, 2)
        assert await user.update("dup", lambda v: 10) == 10
        assert await user.load("dup") == 10
    assert await pg.fetchval("SELECT count(*) FROM user_key_value_db WHERE key = 'dup'") == 1


COUNTER = textwrap.dedent(
    """
    import asyncio, cat
    from cat import store

    async def main():
        for _ in range(100):
            await store.update("pcounter", lambda v: v + 1, 0)

    asyncio.run(main())  # and no cat.close(): the script must still exit
    """
)


@pytest.mark.slow
async def test_processes_update_exactly_and_exit_without_close(pg, pg_url, tmp_path):
    script = tmp_path / "count.py"
    script.write_text(COUNTER)
    env = subprocess_env(tmp_path)
    env["CAT_SQL"] = pg_url
    children = [subprocess.Popen([PYTHON, str(script)], env=env, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for child in children:
        _, err = await asyncio.to_thread(child.communicate, timeout=120)
        assert child.returncode == 0, err
        assert "Traceback" not in err
    assert await store.load("pcounter") == 300


class ChangedItsMind(Exception):
    """What the test's update functions raise: it must reach their callers unchanged."""


def _chain(exc: BaseException | None):
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


def _connection_lost(exc: BaseException) -> bool:
    """The server's "terminating connection", the client's view of the same (the socket went), or the
    runtime's error for a connection lost where asyncpg dropped the server's reason."""
    lost = (asyncpg.AdminShutdownError, asyncpg.PostgresConnectionError, OSError, ConnectionLostError)
    return any(isinstance(e, lost) for e in _chain(exc))


def _secondary(exc: BaseException) -> bool:
    """An error about the connection's state after it was lost, raised instead of the loss itself."""
    text = str(exc)
    return isinstance(exc, (asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError)) or any(
        part in text for part in ("released back to the pool", "another operation", "cannot switch to state")
    )


async def test_connections_terminated_by_the_server_fail_with_the_cause_and_the_store_recovers(pg, pg_url):
    """Saves and updates, global and per user, from 24 tasks while an administrator terminates
    the pool's connections again and again: each failure is the loss of the connection itself
    (never an error about the dead connection's state raised in its place), a function that
    raised gets its own exception back, and the store works again afterwards."""
    database = pg_url.rsplit("/", 1)[1]
    stop = asyncio.Event()
    failures: list[BaseException] = []
    raised: dict[int, ChangedItsMind] = {}
    got_own = 0
    calls = iter(range(1_000_000))

    def refuse(call: int):
        def fn(value):
            raised[call] = ChangedItsMind(call)
            raise raised[call]

        return fn

    async def worker(w: int) -> None:
        nonlocal got_own
        i = 0
        while not stop.is_set():
            i += 1
            call = next(calls)
            try:
                with request_context(f"user-{w % 3}"):
                    kind = (w + i) % 5
                    if kind == 0:
                        await store.save(f"s{w}", {"i": i})
                    elif kind == 1:
                        await store.update(f"n{w % 4}", lambda n: n + 1, default=0)
                    elif kind == 2:
                        await user.save(f"s{w}", i)
                    elif kind == 3:
                        await user.update("n", lambda n: n + 1, default=0)
                    else:
                        await (store.update("n0", refuse(call), default=0) if i % 2 else user.update("n", refuse(call), default=0))
            except ChangedItsMind as exc:
                assert exc is raised[call]  # unchanged: the very exception the function raised
                got_own += 1
            except Exception as exc:  # noqa: BLE001 - what the test looks at
                if call in raised:
                    failures.append(AssertionError(f"its function raised {raised[call]!r}, its caller got {exc!r}"))
                else:
                    failures.append(exc)

    admin = await asyncpg.connect(pg_url)
    killed: list[int] = []
    try:
        workers = [asyncio.create_task(worker(w)) for w in range(24)]
        for _ in range(12):
            await asyncio.sleep(0.03)
            killed += await admin.fetchval(
                "SELECT array_agg(pid) FROM (SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()) AS t",
                database,
            ) or []
        stop.set()
        await asyncio.wait_for(asyncio.gather(*workers), 60)
        # the terminated backends are gone, and this loop has read their sockets' end
        while await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])", killed):
            await asyncio.sleep(0.01)
        await admin.fetchval("SELECT 1")
    finally:
        await admin.close()

    secondary = [exc for exc in failures if _secondary(exc)]
    other = [exc for exc in failures if not _secondary(exc) and not _connection_lost(exc)]
    assert killed and failures, "the burst met no terminated connection"
    assert (len(secondary), secondary[:3]) == (0, []), f"{len(secondary)} of {len(failures)} failures hid their cause"
    assert other == []
    assert got_own > 0

    await store.save("after", 1)  # the store recovers
    assert await store.update("after", lambda n: n + 1) == 2
    with request_context("user-0"):
        await user.save("after", "yes")
        assert await user.load("after") == "yes"


async def test_big_saves_in_flight_together_are_split_by_size_and_all_stored(pg):
    """Eight saves at once whose values add up to over twice ``BATCH_TEXT_LIMIT``: all succeed and
    are stored, and no statement carries more than the limit unless it holds one value alone (each
    batch is one statement, one transaction: its rows share their ``xmin``)."""
    size = BATCH_TEXT_LIMIT // 3
    saved = {f"big{i}": f"{i:02}" + "x" * (size - 2) for i in range(8)}
    await asyncio.gather(*(store.save(key, value) for key, value in saved.items()))
    rows = await pg.fetch(
        "SELECT key, xmin::text AS xact, length(value::text) AS chars, left(value::text, 3) AS head "
        "FROM key_value_db WHERE key LIKE 'big%'"
    )
    assert {r["key"]: (r["chars"], r["head"]) for r in rows} == {k: (size + 2, f'"{v[:2]}') for k, v in saved.items()}
    statements: dict[str, list[int]] = {}
    for row in rows:
        statements.setdefault(row["xact"], []).append(row["chars"])
    too_big = [sizes for sizes in statements.values() if len(sizes) > 1 and sum(sizes) > BATCH_TEXT_LIMIT]
    assert too_big == [], f"{len(statements)} statement(s), of {sorted(len(s) for s in statements.values())} values"


async def test_big_updates_in_flight_together_are_all_stored(pg):
    """Updates of one batch whose new values add up past ``BATCH_TEXT_LIMIT`` (written in more than
    one statement of that transaction): each caller gets its value and every key holds it."""
    size = BATCH_TEXT_LIMIT // 2
    results = await asyncio.gather(*(store.update(f"grow{i}", lambda old, i=i: old + str(i) * size, default="") for i in range(3)))
    assert [len(r) for r in results] == [size] * 3
    rows = await pg.fetch("SELECT key, length(value::text) AS chars, left(value::text, 2) AS head FROM key_value_db WHERE key LIKE 'grow%'")
    assert sorted((r["key"], r["chars"], r["head"]) for r in rows) == [(f"grow{i}", size + 2, f'"{i}') for i in range(3)]


async def test_backup_says_postgresql_is_not_supported_after_the_writes_before_it(pg, tmp_path):
    pending = [asyncio.ensure_future(store.save(f"b{i}", i)) for i in range(20)]
    await asyncio.sleep(0)
    with pytest.raises(NotImplementedError, match="backups of postgresql databases are not supported by this runtime"):
        await cat.backup(tmp_path / "b.db")
    assert all(task.done() for task in pending)
    assert not (tmp_path / "b.db").exists()
    await asyncio.gather(*pending)
    assert [await store.load(f"b{i}") for i in range(20)] == list(range(20))
