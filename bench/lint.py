"""Benchmark: cat-lint's files per second, next to libcst parsing alone and Fixit 2.

Not a test (``make bench`` runs it).  It generates a tree of plugin files
(``--files``, at least 2,000 by default) that look like real Cat plugins:
hooks, tools, endpoints, settings, helpers, old 1.x plugins, and a share of
the mistakes cat-lint exists for.  Then, with the same number of worker
processes for everyone, it times (wall clock, whole process, best of
``--repeat``):

- libcst parsing alone: every file through ``libcst.parse_module`` in a
  process pool; the floor for any libcst-based tool;
- cat-lint cold: empty cache, every rule;
- cat-lint warm: the same tree again, served from the cache;
- Fixit 2 (``fixit lint``) running one comparable rule
  (``bench/fixit_unawaited.py``: unawaited store calls, resolved through
  qualified names), with none of its built-in rules.

and prints them side by side with the ratios against the targets:
cold >= 3x Fixit's files per second; warm >= 20x faster than cold; cold
within 2x of parsing alone.  With ``--baseline CMD`` (another cat-lint, say
main's before a new rule), its cold runs alternate with ours and ours must
stay within 10% of it.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
BIN = Path(sys.executable).parent

# --- the generated tree -----------------------------------------------------------

HEADER = '"""{title} for the {plugin} plugin."""\n\n'

TEMPLATES = {
    "hooks": '''
from __future__ import annotations

import logging
from datetime import datetime, timezone

from cat import hook, store, user

log = logging.getLogger(__name__)
GREETING_KEY = "{plugin}_greeting"


@hook
async def before_agent_run(value):
    """Count every run and remember what the caller asked last."""
    counts = await store.load("{plugin}_runs", {{}})
    counts["total"] = counts.get("total", 0) + 1
    await store.save("{plugin}_runs", counts)
    history = await user.load("{plugin}_history", [])
    history.append({{"text": str(value)[:200], "at": datetime.now(timezone.utc).isoformat()}})
    await user.save("{plugin}_history", history[-{n}:])
    return value


@hook(priority={n})
async def after_agent_run(value):
    prefs = await user.load("{plugin}_prefs", {{"tone": "plain"}})
    if prefs.get("tone") == "friendly":
        value = f"{{value}} :)"
    log.debug("run finished for %s", "{plugin}")
    return value


@hook
async def after_cat_bootstrap(value):
    if not await store.exists(GREETING_KEY):
        await store.save(GREETING_KEY, "Hello from {plugin}")
    await store.save("{plugin}_version", "1.{n}")
    return value
{mistake}''',
    "tools": '''
from __future__ import annotations

from cat import store, tool, user
from cat.agents import Agent


class {Plugin}Agent(Agent):
    """Keeps a small to-do list per user."""

    @tool
    async def add_todo(self, text: str) -> str:
        """Add a to-do item."""
        todos = await user.load("{plugin}_todos", [])
        todos.append({{"text": text, "done": False, "n": len(todos) + {n}}})
        await user.save("{plugin}_todos", todos)
        return f"added {{text!r}}, {{len(todos)}} items"

    @tool
    async def done(self, index: int) -> str:
        """Mark an item done."""
        todos = await user.load("{plugin}_todos", [])
        if not 0 <= index < len(todos):
            return "no such item"
        todos[index]["done"] = True
        await user.save("{plugin}_todos", todos)
        stats = await store.load("{plugin}_stats", {{"done": 0}})
        stats["done"] += 1
        await store.save("{plugin}_stats", stats)
        return "ok"

    @tool
    async def set_tone(self, tone: str) -> str:
        """Choose how the assistant talks to you."""
        await user.save("{plugin}_prefs", {{"tone": tone}})
        return f"tone set to {{tone}}"

    @tool
    async def clear(self) -> str:
        """Forget every item."""
        removed = await user.delete("{plugin}_todos")
        return "cleared" if removed else "nothing to clear"
{mistake}''',
    "endpoints": '''
from __future__ import annotations

from cat import endpoint, store, user

PAGE = {n}


@endpoint.get("/{plugin}/items", role="authenticated")
async def list_items(page: int = 0):
    items = await user.load("{plugin}_items", [])
    return {{"items": items[page * PAGE:(page + 1) * PAGE], "total": len(items)}}


@endpoint.post("/{plugin}/items", role="authenticated")
async def add_item(item: dict):
    items = await user.load("{plugin}_items", [])
    items.append(item)
    await user.save("{plugin}_items", items)
    return {{"ok": True, "count": len(items)}}


@endpoint.get("/{plugin}/health")
async def health():
    version = await store.load("{plugin}_version", "0")
    return {{"status": "ok", "version": version}}
{mistake}''',
    "helpers": '''
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

SLUG = re.compile(r"[^a-z0-9]+")


@dataclass
class Entry:
    title: str
    tags: list[str] = field(default_factory=list)
    weight: int = {n}

    def slug(self) -> str:
        return SLUG.sub("-", self.title.lower()).strip("-")

    def to_json(self) -> dict:
        return {{"title": self.title, "tags": list(self.tags), "weight": self.weight}}


def parse_entries(text: str) -> list[Entry]:
    entries = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        title, _, rest = line.partition("|")
        tags = [t.strip() for t in rest.split(",") if t.strip()]
        entries.append(Entry(title.strip(), tags))
    return entries


def dump(entries: list[Entry]) -> str:
    return json.dumps([e.to_json() for e in entries], indent=2, sort_keys=True)


def score(entry: Entry, query: str) -> float:
    words = set(query.lower().split())
    hits = sum(1 for w in words if w in entry.title.lower())
    hits += sum(2 for t in entry.tags if t.lower() in words)
    return hits * entry.weight / max(1, len(words))
{mistake}''',
    "legacy": '''
from cat.mad_hatter.decorators import hook, tool


@hook
def agent_prompt_prefix(prefix, cat):
    user = cat.user_id
    settings = cat.mad_hatter.get_plugin().load_settings()
    return prefix + f"\\nYou speak to {{user}} in a {{settings.get('tone', 'plain')}} tone."


@tool(return_direct=True)
def weather(city, cat):
    """What is the weather like in a city? Input is the city name."""
    user = {{"name": cat.user_id, "city": city}}
    return f"It is sunny in {{user['city']}} ({n} degrees)."


def helper(user, data):
    user.save = lambda *a: None
    return [user, data]
{mistake}''',
    "settings": '''
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from cat import hook, store


class {Plugin}Settings(BaseModel):
    tone: Literal["plain", "friendly", "formal"] = "plain"
    max_items: int = Field({n}, ge=1, le=1000)
    greeting: str = "Hi"


@hook
async def settings_model(value):
    return {Plugin}Settings


async def current_settings() -> {Plugin}Settings:
    raw = await store.load("{plugin}_settings", {{}})
    return {Plugin}Settings(**raw)


async def update_settings(**changes) -> {Plugin}Settings:
    merged = (await current_settings()).model_dump() | changes
    await store.save("{plugin}_settings", merged)
    return {Plugin}Settings(**merged)
{mistake}''',
}

MISTAKES = [
    "",
    "",
    "",
    '''

async def forgetful(value):
    store.save("{plugin}_last", value)
''',
    '''

async def pairs():
    await store.save("{plugin}_pair", (1, {n}))
''',
    '''

async def tags():
    await store.save("{plugin}_tags", {{"a", "b"}})
''',
    '''

async def lookup():
    return await store.load("{plugin}_typo_key")
''',
    '''

async def reset():
    await store.save("active_plugins", [])
''',
]


def generate(root: Path, count: int, seed: int = 7) -> list[Path]:
    """Write ``count`` plugin files under ``root/plugins`` (deterministic for a seed)."""
    rng = random.Random(seed)
    if root.exists():
        shutil.rmtree(root)
    (root / "plugins").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        "[tool.cat-lint]\n\n"
        "[tool.fixit]\nroot = true\ndisable = [\"fixit.rules\"]\nenable = [\"fixit_unawaited\"]\n",
        encoding="utf-8")
    kinds = list(TEMPLATES)
    files = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        plugin = f"plugin_{i // len(kinds):04d}"
        mistake = "" if kind == "legacy" else rng.choice(MISTAKES)
        fields = {"plugin": plugin, "Plugin": plugin.title().replace("_", ""), "n": rng.randint(2, 60),
                  "title": kind.title()}
        text = HEADER.format(**fields) + textwrap.dedent(TEMPLATES[kind]).lstrip("\n").format(
            mistake=mistake.format(**fields), **fields)
        path = root / "plugins" / plugin / f"{kind}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        files.append(path)
    # Dated an hour back, as the files of a checkout are by the time it is linted twice: cat-lint
    # does not trust the size and time of a file written within two seconds of its reading (see
    # cat_lint.cache), so files written just now would be read and hashed again by the warm run.
    past = time.time() - 3600
    for path in files:
        os.utime(path, (past, past))
    return files


# --- what is timed ----------------------------------------------------------------------

PARSE_ONLY = r'''
import os, sys
from concurrent.futures import ProcessPoolExecutor
import libcst

def parse_chunk(paths):
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            libcst.parse_module(handle.read())
    return len(paths)

if __name__ == "__main__":
    root, jobs = sys.argv[1], int(sys.argv[2])
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".py"))
    size = max(1, min(64, len(files) // (jobs * 4)))
    chunks = [files[i:i + size] for i in range(0, len(files), size)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        print(sum(pool.map(parse_chunk, chunks)))
'''


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, proc


def best(runs: list[tuple[float, subprocess.CompletedProcess]]) -> tuple[float, subprocess.CompletedProcess]:
    return min(runs, key=lambda r: r[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2100)
    parser.add_argument("--jobs", type=int, default=None, help="processes for everyone (default: CPUs available)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the best counts")
    parser.add_argument("--skip-fixit", action="store_true")
    parser.add_argument("--cat-lint", default=str(BIN / "cat-lint"), help="the cat-lint command to time")
    parser.add_argument("--baseline", default=None,
                        help="another cat-lint command (say, main before new rules): its cold runs are timed "
                             "between ours, and ours must stay within 10%% of it")
    args = parser.parse_args(argv)

    from cat_lint.runner import default_jobs

    jobs = args.jobs or default_jobs()
    root = WORK / "lint-tree"
    files = generate(root, args.files)
    n = len(files)
    lines = sum(p.read_text(encoding="utf-8").count("\n") for p in files)
    print(f"generated {n} plugin files ({lines} lines) in {root}; {jobs} processes for every tool\n")
    cat_lint = args.cat_lint.split()

    parse_script = WORK / "parse_only.py"
    parse_script.write_text(PARSE_ONLY, encoding="utf-8")
    parse_t, parse_p = best([timed([sys.executable, str(parse_script), str(root / "plugins"), str(jobs)], root)
                             for _ in range(args.repeat)])
    if parse_p.returncode != 0:
        print(parse_p.stderr)
        return 2

    cold_runs, warm_runs, baseline_runs = [], [], []
    for _ in range(args.repeat):
        shutil.rmtree(root / ".cat-lint-cache", ignore_errors=True)
        # The default output (what CI shows), every finding with its source line.
        cold_runs.append(timed([*cat_lint, "--jobs", str(jobs), "plugins"], root))
        warm_runs.append(timed([*cat_lint, "--jobs", str(jobs), "plugins"], root))
        if args.baseline:  # alternated with ours, so that both see the same load on the machine
            shutil.rmtree(root / ".cat-lint-cache", ignore_errors=True)
            baseline_runs.append(timed([*args.baseline.split(), "--jobs", str(jobs), "plugins"], root))
    cold_t, cold_p = best(cold_runs)
    warm_t, warm_p = best(warm_runs)
    if cold_p.returncode not in (0, 1) or warm_p.stdout != cold_p.stdout:
        print("cat-lint failed or the warm run differs:\n", cold_p.stdout[-2000:], cold_p.stderr[-2000:])
        return 2

    fixit_t = None
    if not args.skip_fixit:
        fixit = BIN / "fixit"
        if not fixit.exists():
            print("fixit is not installed (pip install -e '.[bench]'); skipping it\n")
        else:
            env = dict(os.environ, PYTHONPATH=str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""))
            # Fixit's runner uses one process per CPU (trailrunner); pin it to
            # the same count through the affinity mask when we have fewer jobs.
            cmd = [str(fixit), "lint", "plugins"]
            if jobs < default_jobs() and shutil.which("taskset"):
                cmd = ["taskset", "-c", ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[:jobs]), *cmd]
            fixit_t, fixit_p = best([timed(cmd, root, env) for _ in range(args.repeat)])
            reported = sum(1 for line in fixit_p.stdout.splitlines() if "UnawaitedStoreCall" in line)
            if fixit_p.returncode not in (0, 1) or not reported:
                print("fixit did not run as expected:\n", fixit_p.stdout[-1500:], fixit_p.stderr[-1500:])
                return 2

    def row(name: str, seconds: float | None, note: str = "") -> str:
        if seconds is None:
            return f"{name:<34} {'-':>8} {'-':>10}  {note}"
        return f"{name:<34} {seconds:>7.2f}s {n / seconds:>9.0f}/s  {note}"

    found = re.search(r"Found (\d+) errors?", cold_p.stdout)
    findings = int(found.group(1)) if found else 0
    statistics = subprocess.run([*cat_lint, "--statistics", "plugins"], cwd=root, capture_output=True, text=True)
    print(row("libcst parse only", parse_t))
    print(row("cat-lint cold (all rules)", cold_t, f"{findings} findings"))
    print(row("cat-lint warm (cache)", warm_t))
    baseline_t = best(baseline_runs)[0] if baseline_runs else None
    if baseline_t is not None:
        found = re.search(r"Found (\d+) errors?", best(baseline_runs)[1].stdout)
        print(row("baseline cat-lint cold", baseline_t, f"{found.group(1) if found else 0} findings"))
    print(row("Fixit 2 (one comparable rule)", fixit_t,
              f"{reported} findings" if fixit_t is not None else "not run"))
    print()

    def check(label: str, value: float, target: float, higher_is_better: bool = True) -> bool:
        ok = value >= target if higher_is_better else value <= target
        relation = ">=" if higher_is_better else "<="
        print(f"{label:<46} {value:>6.2f}x  (target {relation} {target:g}x)  {'OK' if ok else 'MISSED'}")
        return ok

    results = []
    if fixit_t is not None:
        results.append(check("cat-lint cold vs Fixit (files/s ratio)", fixit_t / cold_t, 3))
    results.append(check("warm re-run speed-up over cold", cold_t / warm_t, 25))
    results.append(check("cold cost relative to parsing alone", cold_t / parse_t, 2, higher_is_better=False))
    if baseline_t is not None:
        results.append(check("cold time relative to the baseline", cold_t / baseline_t, 1.10, higher_is_better=False))
    print("\ncat-lint --statistics on the tree:\n" + textwrap.indent(statistics.stdout.strip(), "  "))
    if fixit_t is not None:
        cat004 = re.search(r"^\s*(\d+)\tCAT004", statistics.stdout, re.M)
        print(f"\nsame mistake, both tools: cat-lint CAT004 {cat004.group(1) if cat004 else 0}, "
              f"Fixit's UnawaitedStoreCall {reported}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
