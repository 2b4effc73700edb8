"""Benchmark: one very large plugin file, and CAT001's call chains (issue 9, section 5).

Not a test (``make bench`` runs it).  It measures, for ``cat-lint --no-cache``
in a fresh process, the wall time and the peak memory (max RSS of the
child) on:

- one generated plugin file of ``--lines`` lines (100,000 by default, about
  3 MB) of hooks, helpers and store calls; target: under 10 s and 600 MB;
- a chain of 1,000, 2,000 and 4,000 helpers, each calling the next, the
  first called from a bootstrap hook and the last using `user`: CAT001
  follows it in linear time (the time roughly doubles with the length)
  and its message stays short.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

BIN = Path(sys.executable).parent

BLOCK = '''

@hook
async def before_agent_run_{i}(context):
    visits = await store.load("visits_{i}", 0)
    await store.save("visits_{i}", visits + 1)
    todos = await user.load("todos", [])
    todos.append({{"text": context.get("message", ""), "done": False, "n": {i}}})
    await user.save("todos", todos)
    return context


def helper_{i}(items, limit=10):
    total = 0
    for item in items[:limit]:
        if isinstance(item, dict) and item.get("done"):
            total += 1
        elif isinstance(item, (list, tuple)):
            total += len(item)
    return {{"total": total, "name": "helper_{i}", "ratio": total / max(1, len(items))}}


class Settings{i}:
    greeting = "hello {i}"
    retries = {i} % 5
'''
HEADER = "from cat import hook, store, user\n"


def big_file(lines: int) -> str:
    per_block = BLOCK.count("\n")
    return HEADER + "".join(BLOCK.format(i=i) for i in range(lines // per_block + 1))


def chain(length: int) -> str:
    parts = [HEADER, "\n@hook\ndef after_cat_bootstrap(value):\n    step_0()\n    return value\n"]
    for i in range(length - 1):
        parts.append(f"\ndef step_{i}():\n    return step_{i + 1}()\n")
    parts.append(f"\ndef step_{length - 1}():\n    return user.id\n")
    return "".join(parts)


def measure(path: Path) -> tuple[float, float, int, subprocess.CompletedProcess]:
    """Wall seconds, peak RSS (MB) and findings of `cat-lint --no-cache` on one file, in a child process."""
    script = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "wall = time.perf_counter() - start\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "found = sum(' CAT' in line for line in proc.stdout.splitlines())\n"
        "print(f'{wall} {rss} {found}'); sys.stdout.write(proc.stdout[-2000:])\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(BIN / "cat-lint"), "--no-cache", "--exit-zero",
                           "--output-format", "concise", str(path)], capture_output=True, text=True)
    first, _, rest = proc.stdout.partition("\n")
    wall, rss, found = (float(x) for x in first.split())
    return wall, rss, int(found), subprocess.CompletedProcess(proc.args, proc.returncode, rest, proc.stderr)


def parse_only(path: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a process that only parses the file with libcst: the floor."""
    script = (
        "import resource, sys, time\n"
        "start = time.perf_counter()\n"
        "import libcst\n"
        "libcst.parse_module(open(sys.argv[1], encoding='utf-8').read())\n"
        "wall = time.perf_counter() - start\n"
        "print(wall, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True).stdout
    wall, rss = (float(x) for x in out.split())
    return wall, rss


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--chains", default="1000,2000,4000")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "plugins").mkdir()
        path = root / "plugins" / "big.py"
        path.write_text(big_file(args.lines), encoding="utf-8")
        text = path.read_text()
        size = len(text.encode())
        wall, rss, findings, proc = measure(path)
        parse_wall, parse_rss = parse_only(path)
        verdict = "ok" if wall < 10 and rss < 600 else "OVER TARGET"
        print(f"one file of {text.count(chr(10)):,} lines ({size / 1e6:.1f} MB): {wall:.1f} s, "
              f"{rss:.0f} MB peak, {findings} findings  [target < 10 s, < 600 MB: {verdict}]")
        print(f"  the reference, libcst.parse_module of that file alone: {parse_wall:.1f} s, {parse_rss:.0f} MB peak; "
              f"cat-lint takes {wall / parse_wall:.2f}x its time and {rss / parse_rss:.2f}x its memory")
        for length in (int(n) for n in args.chains.split(",")):
            (root / f"chain_{length}" / "plugins").mkdir(parents=True)  # a project of its own
            path = root / f"chain_{length}" / "plugins" / "chain.py"
            path.write_text(chain(length), encoding="utf-8")
            wall, rss, _, proc = measure(path)
            message = next((line for line in proc.stdout.splitlines() if "CAT001" in line), "")
            print(f"CAT001 chain of {length:,} functions: {wall:.2f} s, message {len(message)} characters")
            path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
