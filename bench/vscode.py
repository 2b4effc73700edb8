"""The VS Code extension, measured (not asserted): the .vsix's size, and the time
to the first diagnostic in code-server.

Run by `make vscode-bench` (after `make vscode-ready`).  Each round starts a
fresh code-server with the .vsix installed on a copy of the example project
and opens it in headless Chromium (bench/vscode_first_diagnostic.mjs):

* first file: from opening a plugin with mistakes, as soon as the workbench
  shows, to its first cat-lint problem: the extension's activation, the
  interpreter check, the server's start and the first lint (also given from
  the page load, and the workbench's own share);
* warm: from opening a second plugin, the server running, to its problems.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "vscode"))

from vscode_support import EXTENSION, code_server_session, example_project, vsix  # noqa: E402

ROUNDS = 3


def main() -> None:
    package = vsix()
    with zipfile.ZipFile(package) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
        per_python = {}
        for info in archive.infolist():
            parts = info.filename.split("/")
            if parts[:3] == ["extension", "bundled", "libs"] and len(parts) > 4:
                per_python[parts[3]] = per_python.get(parts[3], 0) + info.file_size
    print(f".vsix: {package.name}: {package.stat().st_size / 1e6:.1f} MB "
          f"({unpacked / 1e6:.1f} MB unpacked; {', '.join(f'{k} {v / 1e6:.1f} MB' for k, v in sorted(per_python.items()))})")
    workbench, cold, first_open, warm = [], [], [], []
    for round_ in range(1, ROUNDS + 1):
        with tempfile.TemporaryDirectory(prefix="cat-vscode-bench-") as tmp:
            workspace = example_project(Path(tmp) / "project")
            with code_server_session(workspace, Path(tmp) / "code-server") as session:
                env = dict(session.env, PLUGIN="plugins/mistakes_unawaited/wrong.py",
                           SECOND_PLUGIN="plugins/mistakes_values/wrong.py")
                out = subprocess.run(["node", str(Path(__file__).with_name("vscode_first_diagnostic.mjs"))], env=env,
                                     cwd=EXTENSION, capture_output=True, text=True, timeout=600)
                if out.returncode != 0:
                    raise SystemExit(f"round {round_} failed:\n{out.stdout}\n{out.stderr[-3000:]}")
                figures = json.loads(out.stdout.strip().splitlines()[-1])
                workbench.append(figures["workbenchMs"] / 1000)
                cold.append(figures["coldMs"] / 1000)
                first_open.append(figures["coldFromOpenMs"] / 1000)
                warm.append(figures["warmMs"] / 1000)
                print(f"round {round_}: workbench {workbench[-1]:.1f} s; opening the first plugin to its first "
                      f"diagnostic {first_open[-1]:.1f} s (page load to it {cold[-1]:.1f} s); "
                      f"opening a second plugin to its diagnostics {warm[-1]:.2f} s")
    median = statistics.median
    print(f"time to first diagnostic in code-server (median of {ROUNDS}): {median(first_open):.1f} s from opening "
          f"the first file ({median(cold):.1f} s from the page load, of which {median(workbench):.1f} s for the "
          f"workbench), {median(warm):.2f} s from opening a file once the server runs")


if __name__ == "__main__":
    main()
