"""The command-line conventions CI systems and Ruff users expect (issue 9, section 7)."""

from __future__ import annotations

import json

from cli_support import make_project, run_cli

UNAWAITED = 'from cat import store\n\n\nasync def remember(x):\n    store.save("notes", x)\n'
TUPLE = 'from cat import store\n\n\nasync def remember(x):\n    await store.save("notes", (1, 2))\n'
UNKNOWN = 'from cat import store\n\n\nasync def get():\n    return await store.load("never_saved")\n'


def test_show_files_lists_what_would_be_linted(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": UNAWAITED, "plugins/b.py": "", ".venv/c.py": "", "notes.txt": ""})
    proc = run_cli(["--show-files"], project)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [str((project / "plugins" / n).resolve()) for n in ("a.py", "b.py")]


def test_show_settings_says_what_is_in_force(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": ""}, config='ignore = ["CAT006"]\ntarget-version = "py312"')
    (project / "config.py").write_text("")
    proc = run_cli(["--show-settings"], project)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"configuration file: {(project / 'pyproject.toml').resolve()}" in out
    assert f"Cat project: {project.resolve()}" in out
    assert "ignore: CAT006" in out and "target-version: py312" in out and "force-exclude: False" in out
    assert "data/core/core.db (from the default)" in out


def test_output_file_receives_the_report(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": UNAWAITED})
    proc = run_cli(["--output-format", "json", "--output-file", "reports/lint.json"], project)
    assert proc.returncode == 1 and proc.stdout == "", proc.stderr
    data = json.loads((project / "reports" / "lint.json").read_text())
    assert [d["code"] for d in data] == ["CAT004"]
    blocked = project / "blocked"
    blocked.write_text("a file, not a folder")
    proc = run_cli(["--output-file", "blocked/lint.txt"], project)
    assert proc.returncode == 2 and "cannot write the report to blocked/lint.txt" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_fix_only_and_exit_non_zero_on_fix(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": UNAWAITED, "plugins/b.py": UNKNOWN})
    proc = run_cli(["--fix-only"], project)
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr  # CAT006 remains, not reported
    assert "Fixed 1 error." in proc.stderr
    assert "await store.save" in (project / "plugins" / "a.py").read_text()
    (project / "plugins" / "a.py").write_text(UNAWAITED)
    assert run_cli(["--fix-only", "--exit-non-zero-on-fix"], project).returncode == 1
    (project / "plugins" / "a.py").write_text(UNAWAITED)
    (project / "plugins" / "b.py").write_text("")
    proc = run_cli(["--fix", "--exit-non-zero-on-fix"], project)
    assert proc.returncode == 1 and "(1 fixed, 0 remaining)" in proc.stdout, proc.stdout + proc.stderr
    assert run_cli(["--fix", "--exit-non-zero-on-fix"], project).returncode == 0  # nothing left to fix


def test_unsafe_fixes_apply_the_fixes_only_the_language_server_applied(tmp_path):
    writer = 'from cat import store\n\n\nasync def put():\n    await store.save("theme", 1)\n'
    reader = 'from cat import store\n\n\nasync def get():\n    return await store.load("them")\n'
    project = make_project(tmp_path, {"plugins/w.py": writer, "plugins/r.py": reader})
    proc = run_cli(["--fix"], project)
    assert proc.returncode == 1 and '"them"' in (project / "plugins" / "r.py").read_text()
    proc = run_cli(["--fix", "--unsafe-fixes"], project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '"theme"' in (project / "plugins" / "r.py").read_text()


def test_add_noqa_suppresses_every_finding(tmp_path):
    multi = ('from cat import store\n\n\nasync def f(x):\n    store.save("k", """a\nb""")  # keep\n'
             '    store.save("k2", (\n        1,\n    ))  # noqa: E501\n')
    project = make_project(tmp_path, {"plugins/a.py": UNAWAITED, "plugins/b.py": multi})
    before = run_cli(["--output-format", "concise", "--no-cache"], project)
    assert before.returncode == 1
    proc = run_cli(["--add-noqa"], project)
    assert proc.returncode == 0, proc.stderr
    assert "Added 3 noqa directives." in proc.stderr
    assert '    store.save("notes", x)  # noqa: CAT004\n' in (project / "plugins" / "a.py").read_text()
    b = (project / "plugins" / "b.py").read_text()
    assert 'b""")  # keep  # noqa: CAT004\n' in b and '"k2", (  # noqa: CAT003, CAT004\n' in b
    after = run_cli(["--output-format", "concise", "--no-cache"], project)
    assert (after.returncode, after.stdout.strip()) == (0, "All checks passed!"), after.stdout
    for path in project.glob("plugins/*.py"):
        compile(path.read_text(), str(path), "exec")
