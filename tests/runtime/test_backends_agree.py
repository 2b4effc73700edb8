"""The promises SQLite keeps, kept on PostgreSQL too, and answered alike by both.

Every test runs on both backends: SQLite in the test's folder, PostgreSQL on
a database of its own on the local server, created for the test and dropped
after it.  Where no PostgreSQL server answers, the PostgreSQL half skips with
the reason (CI's machines have one, so there it always runs).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import textwrap
import threading
import uuid

import asyncpg
import pytest

import cat
from cat import request_context, store, user
from cat.errors import DatabaseOpenError, StoreClosedError

from postgres_support import BASE_URL, drop_database, new_database, run_admin
from runtime_helpers import ROOT


@pytest.fixture
def databases(request, tmp_path, monkeypatch):
    """Make database URLs of the backend under test: ``databases()`` gives a new, empty one each call."""
    monkeypatch.delenv("CAT_SQL", raising=False)
    made: list[str] = []
    count = iter(range(1000))

    def make() -> str:
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path / f'db{next(count)}' / 'core.db'}"
        made.append(new_database())
        return f"{BASE_URL}/{made[-1]}"

    make.backend = request.param
    yield make
    cat.configure()
    for name in made:
        drop_database(name)


both = pytest.mark.parametrize("databases", ["sqlite", "postgresql"], indirect=True)


# -- 1. close() closes only the calling loop's database -------------------------------


@both
def test_close_in_one_loop_leaves_another_threads_loop_working(databases):
    cat.configure(sql=databases())
    acknowledged, errors = [], []
    stop = threading.Event()

    def other_thread() -> None:
        async def increments() -> None:
            while not stop.is_set():
                try:
                    acknowledged.append(await store.update("w", lambda n: n + 1, default=0))
                except Exception as exc:  # noqa: BLE001 - what the test looks for
                    errors.append(repr(exc))
                    return
            await cat.close()

        asyncio.run(increments())

    async def main_loop() -> None:
        for round_ in range(5):
            await store.save(f"main-{round_}", round_)
            await asyncio.sleep(0.05)
            await cat.close()

    worker = threading.Thread(target=other_thread)
    worker.start()
    try:
        asyncio.run(main_loop())
    finally:
        stop.set()
        worker.join(60)
    assert not worker.is_alive(), "the other loop hung"
    assert errors == []
    assert acknowledged, "the other loop never wrote"

    async def stored() -> int:
        try:
            return await store.load("w")
        finally:
            await cat.close()

    assert asyncio.run(stored()) == len(acknowledged) == acknowledged[-1]


# -- 2. configure() while operations are in flight ------------------------------------


@both
async def test_configure_while_updates_are_in_flight_lets_them_finish(databases):
    first, second = databases(), databases()
    cat.configure(sql=first)
    await store.save("n", 0)
    tasks = [asyncio.create_task(store.update("n", lambda n: n + 1, default=0)) for _ in range(50)]
    await asyncio.sleep(0)
    cat.configure(sql=second)
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(f, StoreClosedError) for f in failures), failures
    done = len(results) - len(failures)

    await store.save("elsewhere", True)  # the new database
    assert await store.load("n", "absent") == "absent"
    await cat.close()
    cat.configure(sql=first)
    assert await store.load("n") == done
    assert not await store.exists("elsewhere")
    await cat.close()


@both
async def test_a_save_issued_before_configure_completes_on_the_old_database(databases):
    first, second = databases(), databases()
    cat.configure(sql=first)
    pending = asyncio.create_task(store.save("k", 1))
    await asyncio.sleep(0)  # the backend is still opening
    cat.configure(sql=second)
    await asyncio.wait_for(pending, 30)
    await cat.close()
    cat.configure(sql=first)
    assert await store.load("k") == 1
    await cat.close()


# -- 3. user ids never alias ----------------------------------------------------------


def ids_to_try() -> list[str]:
    some = uuid.UUID("3f0c6c0e-8e4b-4c3e-9a51-0c1f3b2b7a11")
    return ["alice", "1", "01", str(some), str(some).upper(), f"{{{some}}}", f"urn:uuid:{some}", some.hex]


async def stored_user_ids(backend: str, url: str) -> list[str]:
    """The user_id column as the database holds it."""
    if backend == "sqlite":
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return [r[0].decode() if isinstance(r[0], bytes) else str(r[0]) for r in conn.execute("SELECT user_id FROM user_key_value_db")]
        finally:
            conn.close()
    conn = await asyncpg.connect(url)
    try:
        return [str(r[0]) for r in await conn.fetch("SELECT user_id FROM user_key_value_db")]
    finally:
        await conn.close()


@both
async def test_the_stored_form_of_one_id_never_reaches_another_users_data(databases):
    url = databases()
    cat.configure(sql=url)
    for user_id in ids_to_try():
        with request_context(user_id):
            await user.save("secret", user_id)
    for column in await stored_user_ids(databases.backend, url):
        with request_context(column):
            found = await user.load("secret", None)
        # the column's text is someone's data only when it is that someone's exact id
        assert found in (None, column), (column, found)
    for user_id in ids_to_try():  # and every id still reads its own
        with request_context(user_id):
            assert await user.load("secret") == user_id
    await cat.close()


# -- 4 and 5. NUL in keys, lone surrogates --------------------------------------------


@both
async def test_a_key_with_nul_is_refused_the_same_way(databases):
    cat.configure(sql=databases())
    with pytest.raises(ValueError, match=r"store key 'a\\x00b' contains a NUL character \(at index 1\), which PostgreSQL cannot store"):
        await store.save("a\x00b", 1)
    with request_context("alice"), pytest.raises(ValueError, match="NUL character"):
        await user.load("\x00")
    await cat.close()


@both
async def test_lone_surrogates_in_values_round_trip_exactly(databases):
    url = databases()
    cat.configure(sql=url)
    value = {"text": "\ud800 and \udfff", "\udbff": ["\ud83d"], "fine": "🐱"}
    await store.save("odd", value)
    with request_context("alice"):
        await user.save("odd", "\ud800")
    await cat.close()
    cat.configure(sql=url)
    assert await store.load("odd") == value
    with request_context("alice"):
        assert await user.load("odd") == "\ud800"
    await cat.close()


@both
async def test_a_key_or_user_id_with_a_lone_surrogate_is_refused_with_its_place(databases):
    cat.configure(sql=databases())
    with pytest.raises(ValueError, match=r"contains a lone surrogate \('\\ud800' at index 3\)"):
        await store.save("key\ud800", 1)
    with pytest.raises(ValueError, match=r"user_id .* contains a lone surrogate \(at index 0\)"):
        request_context("\udc00")
    await cat.close()


# -- 7. dict keys that collide in JSON ------------------------------------------------


@both
@pytest.mark.parametrize("value, first, second", [
    ({1: "int", "1": "str"}, "1", "'1'"),
    ({"a": {True: 1, "true": 2}}, "True", "'true'"),
    ({"a": [{None: 1, "null": 2}]}, "None", "'null'"),
])
async def test_dict_keys_that_collide_in_json_are_refused_and_nothing_is_written(databases, value, first, second):
    cat.configure(sql=databases())
    with pytest.raises(ValueError, match=f"has the keys {first} and {second}, which are both .* in JSON"):
        await store.save("d", value)
    assert not await store.exists("d")
    await cat.close()


# -- 6. a role that may use the tables but not create them (PostgreSQL) --------------


@pytest.fixture
def restricted_role():
    """A PostgreSQL database whose public schema the test role may not create in."""
    name = new_database()
    role = f"cat_app_{secrets.token_hex(4)}"
    url = f"{BASE_URL}/{name}"
    run_admin(f"CREATE ROLE {role} LOGIN")
    run_admin(f"REVOKE CREATE ON SCHEMA public FROM PUBLIC; GRANT USAGE ON SCHEMA public TO {role}", url)
    scheme, rest = BASE_URL.split("://", 1)
    host = rest.split("@", 1)[-1]
    try:
        yield url, f"{scheme}://{role}@{host}/{name}", role
    finally:
        cat.configure()
        drop_database(name)
        run_admin(f"DROP ROLE IF EXISTS {role}")


async def test_a_role_without_create_uses_existing_tables(restricted_role):
    admin_url, role_url, role = restricted_role
    cat.configure(sql=admin_url)
    await store.save("made-by-admin", 1)  # the tables now exist, owned by the administrator
    await cat.close()
    run_admin(f"GRANT SELECT, INSERT, UPDATE, DELETE ON key_value_db, user_key_value_db TO {role}", admin_url)

    cat.configure(sql=role_url)
    assert await store.load("made-by-admin") == 1
    assert await store.update("n", lambda n: n + 1, default=0) == 1
    with request_context("alice"):
        await user.save("theme", "dark")
        assert await user.load("theme") == "dark"
    await cat.close()


async def test_a_role_without_create_and_no_tables_is_told_which_privilege(restricted_role):
    _, role_url, role = restricted_role
    cat.configure(sql=role_url)
    with pytest.raises(DatabaseOpenError) as raised:
        await store.load("anything", None)
    message = str(raised.value)
    assert f"the role '{role}' may not create them" in message
    assert "InsufficientPrivilegeError" in message and "GRANT CREATE ON SCHEMA public" in message
    await cat.close()


# -- 8. a server that never answers ---------------------------------------------------


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"postgresql://nobody@127.0.0.1:{listener.getsockname()[1]}/nothing"
    stop.set()
    thread.join(2)
    for conn in accepted:
        conn.close()
    listener.close()


async def test_a_server_that_never_answers_fails_after_the_connect_timeout_with_the_cause(silent_server):
    cat.configure(sql=silent_server, connect_timeout=0.5)
    try:
        with pytest.raises(DatabaseOpenError, match=r"cannot connect to .*: no answer within 0.5 s \(cat.configure\(connect_timeout=...\)"):
            await asyncio.wait_for(store.load("k", None), 20)
    finally:
        await cat.close()
        cat.configure()


def test_cancelled_operations_leave_no_noise_on_stderr(silent_server, tmp_path):
    script = textwrap.dedent(
        f"""
        import asyncio, gc
        import cat

        async def main():
            cat.configure(sql={silent_server!r}, connect_timeout=0.3)
            tasks = [asyncio.create_task(cat.store.load("k", None)) for _ in range(3)]
            await asyncio.sleep(0.05)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.sleep(0.6)  # the connection attempt fails meanwhile
            await cat.close()
            gc.collect()

        asyncio.run(main())
        gc.collect()
        print("done")
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "runtime")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "done"
    assert "never retrieved" not in done.stderr and "Traceback" not in done.stderr, done.stderr


# -- updates in flight together -------------------------------------------------------


@both
async def test_updates_in_flight_together_are_exact_and_a_failing_one_fails_alone(databases):
    """Many updates of a few keys at once (the PostgreSQL backend runs them as batches): exact counts,
    each function sees the result of the one before it, and a function that raises or returns
    what is not JSON fails its own caller only."""
    cat.configure(sql=databases())

    def boom(n):
        raise ValueError("this update changes its mind")

    plain = [store.update(f"k{i % 4}", lambda n: n + 1, default=0) for i in range(200)]
    seen: list[int] = []

    def record(n):
        seen.append(n)
        return n + 1

    ordered = [store.update("seq", record, default=0) for _ in range(50)]
    bad = [store.update("k0", boom, default=0), store.update("k1", lambda n: {n}, default=0)]
    results = await asyncio.gather(*plain, *ordered, *bad, return_exceptions=True)
    errors = results[250:]
    assert isinstance(errors[0], ValueError) and "changes its mind" in str(errors[0])
    assert isinstance(errors[1], TypeError) and "is a set" in str(errors[1])
    assert not any(isinstance(r, BaseException) for r in results[:250])
    assert [await store.load(f"k{i}") for i in range(4)] == [50, 50, 50, 50]
    assert seen == list(range(50))  # one after the other, none saw the same value
    assert await store.load("seq") == 50
    await cat.close()


@both
@pytest.mark.parametrize("odd", ["raises", "returns NaN"])
async def test_a_failing_update_that_edited_its_argument_leaks_into_no_other(databases, odd):
    """40 updates of one list at once: the even ones append their number in place and return the
    list; the odd ones append too, then raise (or append a NaN and return the list, which is not
    JSON).  Every function sees a value no failing function has touched: the 20 good updates
    succeed, the 20 bad ones fail their own callers, and the list holds the good numbers only."""
    cat.configure(sql=databases())
    await store.save("list", [])

    def change(i):
        def fn(items):
            if i % 2 == 0:
                items.append(i)
                return items
            if odd == "raises":
                items.append(i)
                raise ValueError(f"update {i} changes its mind")
            items.append(float("nan"))
            return items

        return fn

    results = await asyncio.gather(*(store.update("list", change(i)) for i in range(40)), return_exceptions=True)
    good = [r for i, r in enumerate(results) if i % 2 == 0]
    bad = [r for i, r in enumerate(results) if i % 2 == 1]
    failed_good = [r for r in good if isinstance(r, BaseException)]
    assert (len(failed_good), failed_good[:1]) == (0, [])
    if odd == "raises":
        assert [str(r) for r in bad] == [f"update {i} changes its mind" for i in range(1, 40, 2)]
    else:
        assert all(isinstance(r, ValueError) and "NaN" in str(r) for r in bad), bad
    assert sorted(await store.load("list")) == list(range(0, 40, 2))
    for i, seen in zip(range(0, 40, 2), good):  # what each good update returned: good numbers only
        assert i in seen and all(n % 2 == 0 for n in seen), (i, seen)
    await cat.close()
