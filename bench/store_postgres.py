"""The PostgreSQL half of ``bench/store.py``: the runtime next to two references, on the local server.

Three ways of doing the same key-value work, each on a database of its own
created for the run and dropped after it:

* **runtime** - ``cat.store`` on its PostgreSQL backend (asyncpg pool,
  a transaction and an advisory lock per write).
* **asyncpg** - one plain ``INSERT ... ON CONFLICT DO UPDATE`` per save (one
  round trip, no lock) and one ``SELECT`` per load, on a pool of the same
  size: the practical limit.  Its "update" is a transaction with
  ``SELECT ... FOR UPDATE`` on a row created beforehand.
* **Cat** - the Cat's approach: per save a ``SELECT`` then an ``INSERT`` or
  an ``UPDATE``, each auto-committed; its "update" is the load-edit-save idiom.

Concurrency is where a server database earns its keep, so the rows are one
task, 64 tasks on 64 keys, and 64 tasks on one hot key (update).  Then a
multi-host simulation: 4 processes, each with its own pool and its own users,
increment one shared counter and their users' counters at once; the totals
must be exact.

Targets (issue 11): 64 savers at least 3x one task, and within 1.5x of the
asyncpg reference; update by 64 tasks on 64 keys at least 3x one task; the
hot key exact.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

from store import run_tasks  # the same time-sliced runner as the SQLite half

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("CAT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
POOL_SIZE = 10  # the runtime's pool; the reference gets the same
TASKS = 64
PROCESSES = 4
USERS_PER_PROCESS = 8


def payload(i: int) -> dict:
    return {"n": i, "text": "a small realistic value", "tags": ["x", "y"], "ok": True}


async def bench_runtime(url: str, seconds: float) -> dict[str, float | str]:
    import cat

    cat.configure(sql=url)
    out: dict[str, float | str] = {}
    try:
        store = cat.store
        await store.save("warm-up", 0)
        for tasks in (1, TASKS):
            out[f"save x{tasks}"], _ = await run_tasks(lambda t, i: store.save(f"k-{t}-{i % 32}", payload(i)), tasks, seconds)
            out[f"load x{tasks}"], _ = await run_tasks(lambda t, i: store.load(f"k-{t}-{i % 32}"), tasks, seconds)
            out[f"update x{tasks}"], _ = await run_tasks(lambda t, i: store.update(f"c-{t}", lambda n: n + 1, default=0), tasks, seconds)
        rate, total = await run_tasks(lambda t, i: store.update("hot", lambda n: n + 1, default=0), TASKS, seconds)
        out["update hot x64"] = rate
        final = await store.load("hot")
        out["hot key"] = "exact" if final == total else f"LOST {total - final} of {total}"
    finally:
        await cat.close()
        cat.configure()
    return out


async def bench_asyncpg(url: str, seconds: float) -> dict[str, float | str]:
    import asyncpg

    from cat import values

    pool = await asyncpg.create_pool(url, min_size=POOL_SIZE, max_size=POOL_SIZE)
    upsert = "INSERT INTO key_value_db (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    select = "SELECT value FROM key_value_db WHERE key = $1"
    out: dict[str, float | str] = {}

    async def save(t: int, i: int) -> None:
        await pool.execute(upsert, f"k-{t}-{i % 32}", values.dumps(payload(i)))

    async def load(t: int, i: int) -> None:
        row = await pool.fetchrow(select, f"k-{t}-{i % 32}")
        values.decode(row[0]) if row else None

    async def update(t: int, i: int) -> None:
        async with pool.acquire() as conn, conn.transaction():
            old = await conn.fetchval(f"{select} FOR UPDATE", f"c-{t}")
            await conn.execute(upsert, f"c-{t}", values.dumps(values.decode(old) + 1))

    try:
        for t in range(TASKS):
            await pool.execute(upsert, f"c-{t}", "0")
        for tasks in (1, TASKS):
            out[f"save x{tasks}"], _ = await run_tasks(save, tasks, seconds)
            out[f"load x{tasks}"], _ = await run_tasks(load, tasks, seconds)
            out[f"update x{tasks}"], _ = await run_tasks(update, tasks, seconds)
    finally:
        await pool.close()
    return out


async def bench_cat(url: str, seconds: float) -> dict[str, float | str]:
    import asyncpg

    from cat import values

    pool = await asyncpg.create_pool(url, min_size=POOL_SIZE, max_size=POOL_SIZE)
    select = "SELECT value FROM key_value_db WHERE key = $1"
    failed = {"n": 0}

    async def cat_load(key: str, default=None):
        row = await pool.fetchrow(select, key)
        return default if row is None else values.decode(row[0])

    async def cat_save(key: str, value) -> None:
        text = values.dumps(value)
        try:
            if await pool.fetchrow(select, key) is None:
                await pool.execute("INSERT INTO key_value_db (key, value) VALUES ($1, $2)", key, text)
            else:
                await pool.execute("UPDATE key_value_db SET value = $1 WHERE key = $2", text, key)
        except asyncpg.UniqueViolationError:
            failed["n"] += 1  # two first saves of one key raced

    out: dict[str, float | str] = {}
    try:
        for tasks in (1, TASKS):
            out[f"save x{tasks}"], _ = await run_tasks(lambda t, i: cat_save(f"k-{t}-{i % 32}", payload(i)), tasks, seconds)
            out[f"load x{tasks}"], _ = await run_tasks(lambda t, i: cat_load(f"k-{t}-{i % 32}"), tasks, seconds)

            async def update(t: int, i: int) -> None:
                await cat_save(f"c-{t}", await cat_load(f"c-{t}", 0) + 1)

            out[f"update x{tasks}"], _ = await run_tasks(update, tasks, seconds)

        async def hot(t: int, i: int) -> None:
            await cat_save("hot", await cat_load("hot", 0) + 1)

        out["update hot x64"], total = await run_tasks(hot, TASKS, seconds)
        final = await cat_load("hot", 0)
        out["hot key"] = "exact" if final == total else f"LOST {total - final} of {total}"
    finally:
        await pool.close()
    return out


HOST = textwrap.dedent(
    """
    import asyncio, sys, time
    import cat

    async def main(url, host, users, seconds):
        cat.configure(sql=url)
        done = 0
        deadline = time.perf_counter() + seconds

        async def visitor(u):
            nonlocal done
            while time.perf_counter() < deadline:
                with cat.request_context(f"host{host}-user{u}"):
                    await cat.store.update("visits", lambda n: n + 1, default=0)
                    await cat.user.update("visits", lambda n: n + 1, default=0)
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(visitor(u) for u in range(users)))
        elapsed = time.perf_counter() - start
        await cat.close()
        print(done, elapsed)

    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))
    """
)


async def multi_host(url: str, seconds: float) -> str:
    """4 processes, own pools, own users: one shared counter and each user's counter, exact."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "runtime"), str(ROOT)])}
    hosts = [
        subprocess.Popen([sys.executable, "-c", HOST, url, str(h), str(USERS_PER_PROCESS), str(seconds)],
                         stdout=subprocess.PIPE, text=True, env=env)
        for h in range(PROCESSES)
    ]
    reports = [host.communicate(timeout=120)[0].split() for host in hosts]
    visits = sum(int(r[0]) for r in reports)
    elapsed = max(float(r[1]) for r in reports)

    import cat

    cat.configure(sql=url)
    try:
        shared = await cat.store.load("visits", 0)
        per_user = 0
        for h in range(PROCESSES):
            for u in range(USERS_PER_PROCESS):
                with cat.request_context(f"host{h}-user{u}"):
                    per_user += await cat.user.load("visits", 0)
    finally:
        await cat.close()
        cat.configure()
    exact = shared == visits == per_user
    verdict = "exact" if exact else f"NOT EXACT: {visits} visits, shared counter {shared}, users' counters {per_user}"
    return (f"{PROCESSES} processes x {USERS_PER_PROCESS} users: {visits:,} visits "
            f"({2 * visits / elapsed:,.0f} updates/s combined), totals {verdict}")


async def _database(action: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        await conn.execute(f"{action} DATABASE {name}" + (" WITH (FORCE)" if action == "DROP" else ""))
    finally:
        await conn.close()


def run(seconds: float, rounds: int) -> int:
    """Print the PostgreSQL table; return how many targets were missed (or 0, with a note, without a server)."""
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        print("PostgreSQL: skipped (asyncpg is not installed)")
        return 0
    base = ADMIN_URL.rsplit("/", 1)[0]
    results: dict[str, dict[str, float | str]] = {"runtime": {}, "asyncpg": {}, "cat": {}}
    host_line = ""
    for round_ in range(rounds):
        for impl, bench in (("runtime", bench_runtime), ("asyncpg", bench_asyncpg), ("cat", bench_cat)):
            name = f"cat_bench_{secrets.token_hex(4)}"
            try:
                asyncio.run(_database("CREATE", name))
            except Exception as exc:  # noqa: BLE001 - no server here: say so and go on
                print(f"PostgreSQL: skipped (no server at {ADMIN_URL}: {exc})")
                return 0
            try:
                url = f"{base}/{name}"
                if impl != "runtime":  # the references need the tables; the runtime makes its own
                    asyncio.run(_make_tables(url))
                for cell, value in asyncio.run(bench(url, seconds)).items():
                    old = results[impl].get(cell)
                    results[impl][cell] = value if not isinstance(value, float) or old is None else max(value, old)  # type: ignore[type-var]
                if impl == "runtime" and round_ == rounds - 1:
                    host_line = asyncio.run(multi_host(url, seconds * 3))
            finally:
                asyncio.run(_database("DROP", name))
    return report(results, host_line)


async def _make_tables(url: str) -> None:
    import asyncpg

    from cat.database.postgres import POSTGRES_SCHEMA

    conn = await asyncpg.connect(url)
    try:
        for statement in POSTGRES_SCHEMA:
            await conn.execute(statement)
    finally:
        await conn.close()


def report(results: dict[str, dict[str, float | str]], host_line: str) -> int:
    ours, ref, cat = results["runtime"], results["asyncpg"], results["cat"]
    header = f"{'op':<16}{'runtime':>12}{'asyncpg':>12}{'Cat':>11}{'vs asyncpg':>12}{'vs Cat':>9}"
    print(header)
    print("-" * len(header))
    for cell in ("save x1", "save x64", "load x1", "load x64", "update x1", "update x64", "update hot x64"):
        r, a, c = ours.get(cell), ref.get(cell), cat.get(cell)
        a_text = f"{a:>10,.0f}/s" if isinstance(a, float) else f"{'-':>12}"
        vs_a = f"{r / a:>11.2f}x" if isinstance(a, float) else f"{'':>12}"
        print(f"{cell:<16}{r:>10,.0f}/s{a_text}{c:>9,.0f}/s{vs_a}{r / c:>8.1f}x")
    print(f"hot key, 64 tasks: runtime {ours['hot key']}, Cat {cat['hot key']}")
    print(host_line)
    checks = [
        ("save, 64 tasks: >= 3x one task", ours["save x64"] / ours["save x1"], 3.0),
        ("save, 64 tasks: within 1.5x of asyncpg", ours["save x64"] / ref["save x64"], 1 / 1.5),
        ("update, 64 tasks on 64 keys: >= 3x one task", ours["update x64"] / ours["update x1"], 3.0),
    ]
    print()
    print("targets:")
    missed = 0
    for label, ratio, need in checks:
        ok = ratio >= need
        missed += not ok
        print(f"  {'ok  ' if ok else 'MISS'}  {label}: {ratio:.2f}x (need >= {need:.2f}x)")
    exact = ours["hot key"] == "exact" and "totals exact" in host_line
    missed += not exact
    print(f"  {'ok  ' if exact else 'MISS'}  hot key and multi-host totals exact: {ours['hot key']}; {host_line.rsplit(', ', 1)[-1]}")
    return missed
