"""The example mistake plugins: each marked line is found, the right way beside it is clean.

Every ``wrong.py`` under ``examples/plugins/mistakes_*`` marks the lines
cat-lint must report with a trailing ``# CATxxx`` comment; ``right.py`` is
the same job done right and must lint clean.  The plugins must also import
(the demo loads every plugin of the example project).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from cli_support import run_cli

REPO = Path(__file__).resolve().parents[2]
PLUGINS = REPO / "examples" / "plugins"
MISTAKES = sorted(PLUGINS.glob("mistakes_*"))
MARK = re.compile(r"#\s*(CAT\d{3})\b")


def test_there_is_a_mistake_plugin_for_every_rule_but_the_parse_error():
    marked = {m for folder in MISTAKES for line in (folder / "wrong.py").read_text().splitlines()
              for m in MARK.findall(line)}
    assert marked == {f"CAT{i:03}" for i in range(1, 11)}


@pytest.fixture(scope="module")
def findings() -> dict[str, Counter]:
    proc = run_cli(["--no-cache", "--output-format", "json", *[str(m) for m in MISTAKES]], REPO)
    assert proc.returncode == 1, proc.stderr
    found: dict[str, Counter] = {}
    for item in json.loads(proc.stdout):
        rel = Path(item["filename"]).relative_to(PLUGINS).as_posix()
        found.setdefault(rel, Counter())[(item["location"]["row"], item["code"])] += 1
    return found


@pytest.mark.parametrize("folder", MISTAKES, ids=lambda p: p.name)
def test_wrong_is_reported_where_marked_and_right_is_clean(folder, findings):
    wrong = f"{folder.name}/wrong.py"
    expected = {(row, code) for row, line in enumerate((folder / "wrong.py").read_text().splitlines(), 1)
                for code in MARK.findall(line.split('"""')[0]) if "#" in line}
    assert set(findings.get(wrong, {})) == expected
    assert f"{folder.name}/right.py" not in findings


def test_mistake_plugins_import():
    code = (
        "import sys, tempfile; sys.path.insert(0, sys.argv[1]);"
        "import cat; d = tempfile.mkdtemp(); cat.configure(sql=f'sqlite:///{d}/core.db');"
        "print(cat.load_plugins(sys.argv[2]))"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(REPO / "runtime"), str(PLUGINS)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for folder in MISTAKES:
        assert folder.name in proc.stdout
