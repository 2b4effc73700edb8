"""A host may fork: the child forgets the connections it inherited and opens its own.

Each test runs the parent in this process on an event loop of its own,
forks a child with ``multiprocessing``'s ``fork`` start method (asked for
explicitly: Python 3.14 made ``forkserver`` the default on Linux), and both
write at the same time: saves of keys of their own and updates of one
shared counter.  The child reports which of its writes were acknowledged;
then every acknowledged save must be there and the counter must equal the
number of acknowledged updates, on SQLite (whose file must also pass
``PRAGMA integrity_check``) and on PostgreSQL.  A last test forks with
``os.fork`` in a script and lets the child exit normally, as a pre-forking
server's worker does: its exit must leave the parent's connections working.

Python 3.12+ warns (``DeprecationWarning``) when a process with threads
forks; the parent here has aiosqlite's threads, so the warning is silenced
for these tests only.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import sqlite3
import subprocess
import textwrap
from typing import Any, Iterator

import pytest

import cat
from cat import store, user

from postgres_support import pg_database
from runtime_helpers import PYTHON, db_path, subprocess_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded, use of fork:DeprecationWarning"),
]

FORK = multiprocessing.get_context("fork")
ROUNDS = 200  # per process: ROUNDS saves of keys of its own and ROUNDS updates of the shared counter
TASKS = 4  # concurrent writers per process, so writes also go in batches (group commit)
USER_ID = "forked-worker"
ANSWER_WAIT_SECONDS = 240  # only so that a child that hangs fails the test instead of hanging it


@contextlib.contextmanager
def scoped(scope: str) -> Iterator[Any]:
    """The store the test writes to: the global one, or ``user`` inside a request."""
    if scope == "store":
        yield store
        return
    with cat.request_context(USER_ID, name="Worker"):
        yield user


def add_one(n: int) -> int:
    return n + 1


async def write(prefix: str, scope: str, reopen: bool = False) -> dict[str, Any]:
    """ROUNDS saves and ROUNDS updates from TASKS tasks; what was acknowledged, and the errors.

    With ``reopen``, the store is closed after every quarter of them (the
    next call opens it again): the process then has no connection open for
    a moment, as a host that calls ``cat.close()`` or ``cat.configure()`` has.
    """
    acked: dict[str, Any] = {"saves": {}, "updates": 0, "errors": []}

    async def writer(numbers: range) -> None:
        with scoped(scope) as kv:
            for i in numbers:
                key = f"{prefix}-{i}"
                try:
                    await kv.save(key, i)
                    acked["saves"][key] = i
                except Exception as exc:  # noqa: BLE001 - reported, and the test fails on it
                    acked["errors"].append(f"save {key}: {exc!r}")
                try:
                    await kv.update("counter", add_one, default=0)
                    acked["updates"] += 1
                except Exception as exc:  # noqa: BLE001
                    acked["errors"].append(f"update: {exc!r}")

    quarter = ROUNDS // 4
    for start in range(0, ROUNDS, quarter if reopen else ROUNDS):
        stop = min(start + (quarter if reopen else ROUNDS), ROUNDS)
        await asyncio.gather(*(writer(range(start + t, stop, TASKS)) for t in range(TASKS)))
        if reopen:
            await cat.close()
    return acked


def child_main(answer: Any, scope: str, start: Any) -> None:
    """The forked worker: writes along with the parent, sends back what was acknowledged."""
    try:
        start.wait()
        result = asyncio.run(write("child", scope))
    except BaseException as exc:  # noqa: BLE001 - the parent reports it
        result = {"saves": {}, "updates": 0, "errors": [f"child failed: {exc!r}"]}
    answer.send(result)


def fork_a_writer(scope: str) -> tuple[Any, Any, Any]:
    """Start the child; the end its answer comes from, and the barrier that starts both writing."""
    receive, send = FORK.Pipe(duplex=False)
    start = FORK.Barrier(2)
    child = FORK.Process(target=child_main, args=(send, scope, start))
    child.start()
    send.close()
    return child, receive, start


def answer_of(child: Any, receive: Any) -> dict[str, Any]:
    try:
        assert receive.poll(ANSWER_WAIT_SECONDS), "the child gave no answer"
        return receive.recv()
    finally:
        child.join(ANSWER_WAIT_SECONDS)
        if child.is_alive():
            child.kill()
        assert child.exitcode == 0, f"the child exited with {child.exitcode}"


async def use_the_store(scope: str, mine: dict[str, Any]) -> None:
    """Open the connections (and aiosqlite's threads) with a save, an update and a load."""
    with scoped(scope) as kv:
        await kv.save("parent-before-fork", -1)
        await kv.update("counter", add_one, default=0)
        assert await kv.load("parent-before-fork") == -1
    mine["saves"]["parent-before-fork"] = -1
    mine["updates"] += 1


def merged(mine: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    return {"saves": {**mine["saves"], **ours["saves"]}, "updates": mine["updates"] + ours["updates"], "errors": mine["errors"] + ours["errors"]}


def run_parent(how: str, scope: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The parent's side; ``how`` it forks:

    * ``in-its-loop``: from a coroutine, with the store open (``multiprocessing``
      inside an async host);
    * ``between-loops``: after using the store in an event loop that has
      ended, outside any loop (a pre-forking server's master);
    * ``in-its-loop-then-reopen``: as ``in-its-loop``, closing and reopening
      the store while the child writes;
    * ``before-any-use``: before any store call.
    """
    mine: dict[str, Any] = {"saves": {}, "updates": 0, "errors": []}
    if how == "between-loops":
        asyncio.run(use_the_store(scope, mine))
    if how in ("between-loops", "before-any-use"):
        child, receive, start = fork_a_writer(scope)
        start.wait()
        ours = asyncio.run(write("parent", scope))
        theirs = answer_of(child, receive)
        asyncio.run(cat.close())
        return merged(mine, ours), theirs

    async def main() -> tuple[dict[str, Any], dict[str, Any]]:
        await use_the_store(scope, mine)
        child, receive, start = fork_a_writer(scope)
        await asyncio.to_thread(start.wait)
        ours = await write("parent", scope, reopen=how == "in-its-loop-then-reopen")
        theirs = await asyncio.to_thread(answer_of, child, receive)
        await cat.close()
        return merged(mine, ours), theirs

    loop = asyncio.new_event_loop()  # stays open across the fork, as a server's does
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


async def stored(scope: str, saves: dict[str, int]) -> tuple[list[str], Any]:
    """Which of ``saves`` are stored with their value, and the counter (read on fresh connections)."""
    try:
        with scoped(scope) as kv:
            present = [key for key, value in saves.items() if await kv.load(key) == value]
            return present, await kv.load("counter")
    finally:
        await cat.close()


def check_every_acknowledged_write(scope: str, mine: dict[str, Any], theirs: dict[str, Any]) -> None:
    """Every acknowledged save is stored, and the counter counts every acknowledged update."""
    assert mine["errors"] == [] and theirs["errors"] == [], (mine["errors"][:5], theirs["errors"][:5])
    acked = {**mine["saves"], **theirs["saves"]}
    updates = mine["updates"] + theirs["updates"]
    present, counter = asyncio.run(stored(scope, acked))
    lost = sorted(set(acked) - set(present))
    assert (len(lost), counter) == (0, updates), f"{len(lost)} of {len(acked)} acknowledged saves lost ({lost[:5]}...); counter {counter} after {updates} acknowledged updates"


@pytest.fixture
def sqlite_project(tmp_path, monkeypatch):
    monkeypatch.delenv("CAT_SQL", raising=False)
    monkeypatch.delenv("CAT_PROJECT_DIR", raising=False)
    cat.configure(project=tmp_path)
    yield tmp_path
    cat.configure()


@pytest.fixture
def postgres_url(monkeypatch):
    monkeypatch.delenv("CAT_SQL", raising=False)
    with pg_database() as url:
        cat.configure(sql=url)
        yield url
        cat.configure()


SCENARIOS = [
    pytest.param("in-its-loop", "store", id="forked-in-its-loop"),
    pytest.param("between-loops", "store", id="forked-between-loops"),
    pytest.param("in-its-loop-then-reopen", "store", id="parent-reopens-while-the-child-writes"),
    pytest.param("before-any-use", "store", id="forked-before-any-use"),
    pytest.param("between-loops", "user", id="user-store-in-a-request"),
]


@pytest.mark.parametrize("how, scope", SCENARIOS)
def test_sqlite_parent_and_forked_child_keep_every_acknowledged_write(sqlite_project, how, scope):
    mine, theirs = run_parent(how, scope)
    check_every_acknowledged_write(scope, mine, theirs)
    conn = sqlite3.connect(db_path(sqlite_project))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()


@pytest.mark.parametrize("how, scope", SCENARIOS)
def test_postgres_parent_and_forked_child_keep_every_acknowledged_write(postgres_url, how, scope):
    mine, theirs = run_parent(how, scope)
    check_every_acknowledged_write(scope, mine, theirs)


EXITING_CHILD = textwrap.dedent(
    """
    import asyncio, os, sys
    import cat
    from cat import store

    loop = asyncio.new_event_loop()  # the parent's, open across the fork

    async def setup():
        await store.save("parent", 0)
        await store.update("counter", lambda n: n + 1, default=0)

    loop.run_until_complete(setup())
    pid = os.fork()
    if pid == 0:  # a pre-forking server's worker: uses the store, then exits normally (atexit runs)
        async def child():
            await store.save("child", 1)
            await cat.close()

        asyncio.run(child())
        sys.exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, status

    async def after():  # the parent goes on with the connections it had before the fork
        await asyncio.wait_for(asyncio.gather(*(store.update("counter", lambda n: n + 1) for _ in range(50))), 120)
        print(await store.load("counter"), await store.load("child"))
        await cat.close()

    loop.run_until_complete(after())
    loop.close()
    """
)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_child_that_exits_normally_leaves_the_parents_connections_working(tmp_path, backend):
    """A child's exit (its atexit hook, its finalizers) releases nothing of what it inherited.

    The 120 s bound only turns a parent that hangs into a failure.
    """
    env = subprocess_env(tmp_path)
    with contextlib.ExitStack() as stack:
        if backend == "postgresql":
            env["CAT_SQL"] = stack.enter_context(pg_database())
        done = subprocess.run([PYTHON, "-c", EXITING_CHILD], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["51", "1"]


INHERITED_LOOP_CHILD = textwrap.dedent(
    """
    import asyncio, os, sys
    import cat
    from cat import store

    loop = asyncio.new_event_loop()  # the parent's, open across the fork
    loop.run_until_complete(store.save("parent", 0))
    pid = os.fork()
    if pid == 0:
        try:  # the parent's loop, run again in the child: refused, not a hang
            loop.run_until_complete(store.save("child", 1))
        except RuntimeError as exc:
            print("refused:", exc, flush=True)
        else:
            print("not refused", flush=True)

        async def own_loop():  # what the message says to do
            await store.save("child", 2)
            await cat.close()

        asyncio.run(own_loop())
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, status

    async def after():
        print("parent sees", await asyncio.wait_for(store.load("child"), 120), flush=True)
        await cat.close()

    loop.run_until_complete(after())
    loop.close()
    """
)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_child_running_the_parents_event_loop_is_refused_with_what_to_do(tmp_path, backend):
    """The parent's loop shares its selector and self-pipe with the child: the store refuses it there.

    Before the guard, the child hung in ``select`` on SQLite, and on PostgreSQL
    asyncpg's protocol failed in the parent, which then hung.  The 300 s bound
    only turns a hang into a failure.
    """
    env = subprocess_env(tmp_path)
    with contextlib.ExitStack() as stack:
        if backend == "postgresql":
            env["CAT_SQL"] = stack.enter_context(pg_database())
        done = subprocess.run([PYTHON, "-c", INHERITED_LOOP_CHILD], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("refused: the store cannot run in an event loop created before os.fork()"), lines
    assert "asyncio.run" in lines[0]
    assert lines[1:] == ["parent sees 2"], lines
