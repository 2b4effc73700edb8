"""CAT009 against the real runtime: it flags exactly the programs that lose updates.

Hypothesis writes small plugin functions that load a key, compute and save
it (or update it, or hold a lock, or save something else), in the global or
the per-user store.  Each program runs on the runtime, on a fresh SQLite
database, once task after task and once as several concurrent tasks; it
loses updates when the two runs end with different data.

The programs call ``await pause()`` between their load and their save.
``pause`` is a barrier that lets tasks go on once every task has either
reached it or is waiting for the lock (the harness's lock tells it), so
racing programs interleave in the worst way every time and locked ones
never deadlock: the outcome does not depend on timing.
"""

from __future__ import annotations

import asyncio
import itertools
import textwrap
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings, strategies as st

import cat
from cat_lint.engine import lint_source
from cat_lint.fixes import apply_fixes
from cat_lint.settings import Settings


USER_ID = "the-same-user"


class Barrier:
    """Released once every task has arrived or waits for the lock; stays released."""

    def __init__(self, tasks: int) -> None:
        self.tasks = tasks
        self.arrived = 0
        self.blocked = 0
        self.released = asyncio.Event()

    def _check(self) -> None:
        if self.arrived + self.blocked >= self.tasks:
            self.released.set()

    async def __call__(self) -> None:
        self.arrived += 1
        self._check()
        await self.released.wait()


class Lock:
    """An asyncio lock that tells the barrier who is waiting for it."""

    def __init__(self, barrier: Barrier) -> None:
        self.barrier = barrier
        self.lock = asyncio.Lock()

    async def __aenter__(self) -> None:
        self.barrier.blocked += 1
        self.barrier._check()
        try:
            await self.lock.acquire()
        finally:
            self.barrier.blocked -= 1

    async def __aexit__(self, *exc: object) -> None:
        self.lock.release()


# Each shape: the body of `task(i, pause, lock)`, in terms of S (the store), K and K2 (keys), A (a number).
SHAPES = {
    "direct": "v = await S.load(K, 0)\nawait pause()\nawait S.save(K, v + A)\n",
    "through-a-name": "v = await S.load(K, 0)\nw = v * 1 + A\nawait pause()\nawait S.save(K, w)\n",
    "edited-list": "v = await S.load(K, [])\nv.append(i)\nawait pause()\nawait S.save(K, v)\n",
    "edited-dict": "v = await S.load(K, {})\nv['n'] = v.get('n', 0) + A\nawait pause()\nawait S.save(K, v)\n",
    "conditional": "v = await S.load(K, 0)\nawait pause()\nif v >= 0:\n    await S.save(K, v + A)\n",
    "lock-around-both": "async with lock:\n    v = await S.load(K, 0)\n    await pause()\n    await S.save(K, v + A)\n",
    "lock-around-each": "async with lock:\n    v = await S.load(K, 0)\nawait pause()\nasync with lock:\n    await S.save(K, v + A)\n",
    "update": "await pause()\nawait S.update(K, lambda v: v + A, default=0)\n",
    "update-after-load": "v = await S.load(K, 0)\nawait pause()\nawait S.update(K, lambda old: old + A, default=0)\n",
    "constant": "v = await S.load(K, 0)\nawait pause()\nawait S.save(K, A)\n",
    "other-key": "v = await S.load(K, 0)\nawait pause()\nawait S.save(K2, v + A)\n",
    "save-then-load": "await S.save(K, A)\nawait pause()\nv = await S.load(K, 0)\n",
    "plus-equals": "v = await S.load(K, 0)\nv += A\nawait pause()\nawait S.save(K, v)\n",
    "cache-fill": "v = await S.load(K)\nawait pause()\nif v is None:\n    v = A\n    await S.save(K, v)\n",
    "rebound-in-a-branch": "v = await S.load(K, 0)\nawait pause()\nif v < 0:\n    v = 0\nawait S.save(K, v + A)\n",
}


@dataclass(frozen=True)
class Program:
    shape: str
    scope: str
    key: str
    amount: int
    tasks: int

    @property
    def source(self) -> str:
        body = SHAPES[self.shape].replace("S.", f"{self.scope}.").replace("K2", repr(self.key + "_2"))
        body = body.replace("K", repr(self.key)).replace("A", str(self.amount))
        return "from cat import store, user\n\n\nasync def task(i, pause, lock):\n" + textwrap.indent(body, "    ")


programs = st.builds(
    Program,
    shape=st.sampled_from(sorted(SHAPES)),
    scope=st.sampled_from(["store", "user"]),
    key=st.sampled_from(["visits", "todos", "counter"]),
    amount=st.integers(1, 3),
    tasks=st.integers(2, 4),
)

_databases = itertools.count()


def outcome(source: str, scope: str, keys: tuple[str, ...], tasks: int, concurrent: bool, folder) -> tuple:
    """The keys' final values after running ``task`` ``tasks`` times, at once or one by one."""
    namespace: dict = {}
    exec(compile(source, "program.py", "exec"), namespace)
    task = namespace["task"]
    cat.configure(sql=f"sqlite:///{folder}/run{next(_databases)}.db")

    async def one(i: int, pause, lock) -> None:
        if scope == "user":
            async with cat.request_context(USER_ID):
                await task(i, pause, lock)
        else:
            await task(i, pause, lock)

    async def final() -> tuple:
        if scope == "user":
            async with cat.request_context(USER_ID):
                return tuple([await cat.user.load(k) for k in keys])
        return tuple([await cat.store.load(k) for k in keys])

    async def main() -> tuple:
        try:
            if concurrent:
                barrier = Barrier(tasks)
                lock = Lock(barrier)
                await asyncio.gather(*(one(i, barrier, lock) for i in range(tasks)))
            else:
                for i in range(tasks):
                    barrier = Barrier(1)
                    await one(i, barrier, Lock(barrier))
            return await final()
        finally:
            await cat.close()

    return asyncio.run(main())


def loses_updates(program: Program, source: str, folder) -> bool:
    keys = (program.key, program.key + "_2")
    alone = outcome(source, program.scope, keys, program.tasks, False, folder)
    together = outcome(source, program.scope, keys, program.tasks, True, folder)
    return alone != together


def flagged(source: str, **options) -> list:
    return lint_source(source, "plugin.py", Settings(select=("CAT009",), **options))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(program=programs)
def test_cat009_flags_exactly_the_programs_that_lose_updates(program, tmp_path):
    source = program.source
    lost = loses_updates(program, source, tmp_path)
    assert bool(flagged(source, lost_update_user=True)) == lost, (lost, source)
    if program.scope == "user":
        assert flagged(source) == [], "`user` is reported only with lost-update-user"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scope=st.sampled_from(["store", "user"]),
    default=st.sampled_from(["0", "default=0"]),
    expression=st.sampled_from(["v + 1", "v * 2 + 1", "max(v, 0) + 1", "-(-v - 1)"]),
    tasks=st.integers(2, 4),
)
def test_the_fix_makes_the_program_count_every_update(scope, default, expression, tasks, tmp_path):
    """The load and save side by side get the safe fix; the fixed program loses nothing and is clean."""
    source = (
        f"from cat import store, user\n\n\nasync def task(i, pause, lock):\n"
        f"    await pause()\n    v = await {scope}.load('visits', {default})\n    await {scope}.save('visits', {expression})\n"
        f"    return v\n"
    )
    found = flagged(source, lost_update_user=True)
    assert len(found) == 1 and found[0].fix is not None
    assert found[0].fix.safe is False  # `v` is returned after the save: the fix changes what it holds
    source = source.replace("    return v\n", "")
    found = flagged(source, lost_update_user=True)
    assert found[0].fix is not None and found[0].fix.safe
    fixed, applied = apply_fixes(source, found)
    assert applied == 1 and f"{scope}.update('visits', lambda v: " in fixed
    assert flagged(fixed, lost_update_user=True) == []
    program = Program("direct", scope, "visits", 1, tasks)
    assert not loses_updates(program, fixed, tmp_path)
    assert outcome(fixed, scope, ("visits",), tasks, True, tmp_path) == outcome(source, scope, ("visits",), tasks, False, tmp_path)


COUNTERS = (
    "from cat import store, user\n\n\n"
    "async def count():\n"
    "    total = await store.load('total', 0)\n"
    "    await store.save('total', total + 1)\n"
    "    mine = await user.load('mine', 0)\n"
    "    await user.save('mine', mine + 1)\n"
)


def test_command_line_fix_and_the_lost_update_user_setting(tmp_path):
    from cli_support import make_project, run_cli

    project = make_project(tmp_path, {"plugins/counter.py": COUNTERS})
    proc = run_cli(["--no-cache", "--output-format", "concise", "--select", "CAT009"], project)
    assert [line.split(":")[1] for line in proc.stdout.splitlines() if "CAT009" in line] == ["5"]
    (project / "pyproject.toml").write_text("[tool.cat-lint]\nlost-update-user = true\n", encoding="utf-8")
    proc = run_cli(["--no-cache", "--output-format", "concise", "--select", "CAT009"], project)
    assert [line.split(":")[1] for line in proc.stdout.splitlines() if "CAT009" in line] == ["5", "7"]
    proc = run_cli(["--no-cache", "--fix", "--select", "CAT009"], project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (project / "plugins" / "counter.py").read_text() == (
        "from cat import store, user\n\n\n"
        "async def count():\n"
        "    total = await store.update('total', lambda total: total + 1, default=0)\n"
        "    mine = await user.update('mine', lambda mine: mine + 1, default=0)\n"
    )
