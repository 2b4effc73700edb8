"""``cat-lint`` on plugin files written on Windows (CRLF) and on files that mix line endings.

Python breaks lines at ``\\n``, ``\\r\\n`` and a lone ``\\r``; so do libcst and
LSP.  A file's findings must stand on the same rows and columns whatever its
line endings, ``--fix`` and ``--add-noqa`` must keep each line's own ending,
and ``--diff`` must be a patch that ``git apply`` turns into exactly what
``--fix`` writes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from cat_lint.engine import lint_source
from cat_lint.settings import Settings
from cli_support import CAT_LINT, run_cli
from line_endings_support import BREAK, SOURCE, with_endings

KINDS = ["crlf", "mixed", "cr"]


def endings(text: str) -> list[str]:
    return BREAK.findall(text)


def lf(text: str) -> str:
    return BREAK.sub("\n", text)


def project_with(tmp_path: Path, files: dict[str, str]) -> Path:
    project = tmp_path / "project"
    (project / "plugins" / "demo").mkdir(parents=True)
    (project / "pyproject.toml").write_bytes(b"[tool.cat-lint]\n")
    for name, text in files.items():
        (project / "plugins" / "demo" / name).write_bytes(text.encode("utf-8"))
    return project


def json_rows(project: Path, *args: str) -> list[tuple]:
    proc = run_cli(["--output-format", "json", "--no-cache", *args], project)
    assert proc.returncode in (0, 1), proc.stderr
    return sorted((Path(f["filename"]).name, f["code"], f["location"]["row"], f["location"]["column"],
                   f["end_location"]["row"], f["end_location"]["column"],
                   tuple((e["location"]["row"], e["location"]["column"], e["end_location"]["row"], e["end_location"]["column"])
                         for e in (f["fix"] or {}).get("edits", [])))
                  for f in json.loads(proc.stdout))


@pytest.mark.parametrize("kind", KINDS)
def test_findings_stand_where_they_stand_in_the_lf_file(tmp_path: Path, kind: str):
    project = project_with(tmp_path, {"windows.py": with_endings(SOURCE, kind)})
    reference = project_with(tmp_path / "lf", {"windows.py": SOURCE})
    want = json_rows(reference, "plugins")
    assert [row[1] for row in want] == sorted(["CAT003", "CAT003", "CAT004", "CAT004", "CAT006", "CAT006", "CAT100", "CAT100"])
    assert json_rows(project, "plugins") == want
    concise = run_cli(["--output-format", "concise", "--no-cache", "plugins"], project).stdout
    assert concise == run_cli(["--output-format", "concise", "--no-cache", "plugins"], reference).stdout


@pytest.mark.parametrize("kind", KINDS)
def test_fix_keeps_each_line_ending(tmp_path: Path, kind: str):
    text = with_endings(SOURCE, kind)
    project = project_with(tmp_path, {"windows.py": text})
    reference = project_with(tmp_path / "lf", {"windows.py": SOURCE})
    for folder in (project, reference):
        run_cli(["--fix", "--unsafe-fixes", "--no-cache", "--exit-zero", "plugins"], folder)
    fixed = (project / "plugins" / "demo" / "windows.py").read_bytes().decode("utf-8")
    lf_fixed = (reference / "plugins" / "demo" / "windows.py").read_bytes().decode("utf-8")
    assert fixed != text and "await store.save(\"counter\", [1, 2])" in fixed
    assert endings(fixed) == endings(text)
    assert lf(fixed) == lf_fixed
    if kind == "crlf":
        assert fixed.encode() == lf_fixed.replace("\n", "\r\n").encode()


@pytest.mark.parametrize("kind", [*KINDS, "crlf without a final line break"])
def test_diff_is_a_patch_that_gives_what_fix_writes(tmp_path: Path, kind: str):
    text = with_endings(SOURCE, "crlf")[:-2] if kind.startswith("crlf without") else with_endings(SOURCE, kind)
    if kind.startswith("crlf without"):
        text = text.replace("    return message", '    store.save("last", 1)')
    project = project_with(tmp_path, {"windows.py": text, "other.py": "from cat import store\r\n\r\nasync def g():\r\n    store.delete('x')"})
    diff = subprocess.run([str(CAT_LINT), "--diff", "--no-cache", "plugins"], cwd=project, capture_output=True, timeout=120)
    assert diff.returncode == 1, diff.stderr
    patch = tmp_path / "fixes.patch"
    patch.write_bytes(diff.stdout)  # bytes: text mode would turn every CRLF of the diff into LF
    expected = tmp_path / "expected"
    shutil.copytree(project, expected)
    run_cli(["--fix", "--no-cache", "--exit-zero", "plugins"], expected)
    applied = subprocess.run(["git", "apply", str(patch)], cwd=project,
                             capture_output=True, text=True, timeout=60)
    assert applied.returncode == 0, applied.stderr
    for name in ("windows.py", "other.py"):
        got = (project / "plugins" / "demo" / name).read_bytes()
        assert got == (expected / "plugins" / "demo" / name).read_bytes(), name


def test_add_noqa_puts_each_comment_on_its_row_and_keeps_the_endings(tmp_path: Path):
    text = with_endings(SOURCE, "mixed")
    project = project_with(tmp_path, {"windows.py": text})
    reference = project_with(tmp_path / "lf", {"windows.py": SOURCE})
    for folder in (project, reference):
        proc = run_cli(["--add-noqa", "--no-cache", "plugins"], folder)
        assert proc.returncode == 0, proc.stderr
    added = (project / "plugins" / "demo" / "windows.py").read_bytes().decode("utf-8")
    lf_added = (reference / "plugins" / "demo" / "windows.py").read_bytes().decode("utf-8")
    assert endings(added) == endings(text)
    assert lf(added) == lf_added
    assert BREAK.split(added)[11] == "    x = 1  # noqa: CAT004, CAT100"


def test_a_noqa_after_a_lone_cr_silences_its_own_row(tmp_path: Path):
    # Row 4 is not awaited and silenced; row 5 is not awaited and must be reported.
    text = "from cat import store\r\rasync def f():\r    store.save('a', 1)  # noqa: CAT004\r    store.save('b', 1)\r"
    project = project_with(tmp_path, {"windows.py": text})
    assert [(row[1], row[2]) for row in json_rows(project, "plugins")] == [("CAT004", 5)]


@pytest.mark.parametrize("bad, message", [(b"\x00", "NUL character"), (b"\xff", "cannot decode the file as utf-8")])
def test_a_file_that_cannot_parse_is_reported_on_its_row(tmp_path: Path, bad: bytes, message: str):
    project = project_with(tmp_path, {})
    (project / "plugins" / "demo" / "windows.py").write_bytes(b"x = 1\ry = 2\r\nz = '" + bad + b"'\n")
    rows = json_rows(project, "plugins")
    assert [(row[1], row[2], row[3]) for row in rows] == [("CAT000", 3, 6)], rows
    assert message in run_cli(["--no-cache", "plugins"], project).stdout


def test_text_the_engine_cannot_parse_is_reported_on_its_row():
    """Text that kept undecodable bytes as surrogate escapes (an API caller's), after a lone CR."""
    findings = lint_source("x = 1\ry = '\udcff'\n", "p.py", Settings())
    assert [(f.code, f.span.start_line, f.span.start_col) for f in findings] == [("CAT000", 2, 5)]
