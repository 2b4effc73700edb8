"""Benchmark: many saves of one key against as many distinct keys (issue 16, item 8).

Not a test (``make bench`` runs it).  ``cat-lint --no-cache`` in a fresh
process on two generated projects of ``--saves`` saves (20,000 by
default) spread over files of 100 saves each: every save of the same key
``"k"``, then every save of its own key.  Both parse the same amount of
code, so the second is the reference: CAT010 compares each use of a key
with the key's other places, and that work must grow with the number of
uses, not with its square.  Target: one key within 1.5x of distinct keys.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
PER_FILE = 100


def project(root: Path, saves: int, same_key: bool) -> Path:
    (root / "plugins").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.cat-lint]\n", encoding="utf-8")
    for start in range(0, saves, PER_FILE):
        body = "".join(f'    await store.save("{"k" if same_key else f"k{i}"}", [n])\n'
                       for i in range(start, min(saves, start + PER_FILE)))
        (root / "plugins" / f"p{start // PER_FILE}.py").write_text(
            f"from cat import store\n\n\nasync def save_{start}(n):\n{body}", encoding="utf-8")
    return root


def timed(folder: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run([str(BIN / "cat-lint"), "--no-cache", "--exit-zero", "--quiet", "."], cwd=folder,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"cat-lint failed in {folder}: {proc.stderr}")
    return wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=20_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        distinct = timed(project(Path(folder) / "distinct", args.saves, same_key=False))
        one = timed(project(Path(folder) / "one", args.saves, same_key=True))
    ratio = one / distinct
    verdict = "ok" if ratio < 1.5 else "OVER TARGET"
    print(f"{args.saves:,} saves of one key: {one:.1f} s; of {args.saves:,} distinct keys (the reference): "
          f"{distinct:.1f} s; ratio {ratio:.2f}  [target < 1.5: {verdict}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
