"""cat-lint on real Cat projects: the right project from any file list (issue 9, section 1).

Every tool finds the same Cat project (the nearest folder above the code,
and above the working folder, holding ``plugins/`` or ``config.py``); the
project rule CAT006 knows every key the project saves whatever files were
named; excludes can be forced on named files; SARIF URIs are relative to
the repository; and standard input is linted as the file it stands for.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cli_support import make_project, run_cli

UNAWAITED = 'from cat import store\n\n\nasync def remember(x):\n    store.save("notes", x)\n'
FIXED = 'from cat import store\n\n\nasync def remember(x):\n    await store.save("notes", x)\n'
WRITER = 'from cat import store\n\n\nasync def put():\n    await store.save("shared_key", 1)\n'
READER = 'from cat import store\n\n\nasync def get():\n    return await store.load("shared_key")\n'
READS_DB_KEY = 'from cat import store\n\n\nasync def get():\n    return await store.load("only_in_the_database")\n'
CAT_STORE = Path(sys.executable).parent / "cat-store"


def codes(text: str) -> list[tuple[str, str]]:
    """(path, code) from concise output."""
    return [(m[1], m[2]) for m in re.finditer(r"^(\S+?):\d+:\d+: (CAT\d{3})", text, re.M)]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_database(path: Path, global_keys: list[str]) -> None:
    from cat_lint.project.schema import SQLITE_SCHEMA

    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    with db:
        for statement in SQLITE_SCHEMA:
            db.execute(statement)
        db.executemany("INSERT INTO key_value_db (key, value) VALUES (?, '1')", [(k,) for k in global_keys])
    db.close()


def bare_cat_project(tmp_path: Path) -> Path:
    """An ordinary Cat project: config.py, plugins/, data/; no pyproject.toml, no .git."""
    project = tmp_path / "cat"
    write(project / "config.py", "# the Cat's settings\n")
    write(project / "plugins" / "reader" / "reader.py", READS_DB_KEY)
    make_database(project / "data" / "core" / "core.db", ["only_in_the_database"])
    return project


# --- 1.1 which project ------------------------------------------------------------

@pytest.mark.parametrize("args", [["plugins"], ["plugins/"], ["plugins/reader/reader.py"], ["."]])
def test_linting_plugins_of_a_bare_cat_project_uses_its_database(tmp_path, args):
    project = bare_cat_project(tmp_path)
    proc = run_cli(["--output-format", "concise", "-v", *args], project)
    assert (proc.returncode, codes(proc.stdout)) == (0, []), proc.stdout + proc.stderr
    assert str(project / "data" / "core" / "core.db") in proc.stderr


def test_linting_from_inside_plugins_finds_the_project_above(tmp_path):
    project = bare_cat_project(tmp_path)
    proc = run_cli(["--output-format", "concise"], project / "plugins")
    assert (proc.returncode, codes(proc.stdout)) == (0, []), proc.stdout + proc.stderr


def test_cat_store_finds_the_same_project_from_a_subfolder(tmp_path):
    project = bare_cat_project(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("CAT_SQL", "CAT_PROJECT_DIR")}
    proc = subprocess.run([str(CAT_STORE), "keys", "--json"], cwd=project / "plugins" / "reader",
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "only_in_the_database" in proc.stdout
    # CAT_PROJECT_DIR and --project still win over the discovered project
    other = tmp_path / "other"
    make_database(other / "data" / "core" / "core.db", ["elsewhere"])
    for extra_env, argv in (({"CAT_PROJECT_DIR": str(other)}, []), ({}, ["--project", str(other)])):
        proc = subprocess.run([str(CAT_STORE), "keys", "--json", *argv], cwd=project / "plugins",
                              env={**env, **extra_env}, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and "elsewhere" in proc.stdout, proc.stderr


def test_the_language_server_finds_the_same_project(tmp_path):
    from cat_lsp.workspace import Project

    project = bare_cat_project(tmp_path)
    opened = Project(project / "plugins")  # the editor opened plugins/ as its workspace folder
    assert opened.snapshot().reason is None
    assert "only_in_the_database" in opened.snapshot().global_keys


# --- 1.2 partial file lists ---------------------------------------------------------

def test_a_key_saved_in_a_file_not_named_is_known(tmp_path):
    project = bare_cat_project(tmp_path)
    write(project / "plugins" / "p" / "writer.py", WRITER)
    write(project / "plugins" / "p" / "reader.py", READER)
    proc = run_cli(["--output-format", "concise", "plugins/p/reader.py"], project)
    assert (proc.returncode, codes(proc.stdout)) == (0, []), proc.stdout + proc.stderr
    # the rest of the project is cached, and a change there is seen
    again = run_cli(["--output-format", "concise", "plugins/p/reader.py"], project)
    assert (again.returncode, codes(again.stdout)) == (0, [])
    write(project / "plugins" / "p" / "writer.py", WRITER.replace("shared_key", "another_key"))
    changed = run_cli(["--output-format", "concise", "plugins/p/reader.py"], project)
    assert codes(changed.stdout) == [("plugins/p/reader.py", "CAT006")], changed.stdout + changed.stderr


def test_findings_of_files_not_named_are_not_reported(tmp_path):
    project = bare_cat_project(tmp_path)
    write(project / "plugins" / "p" / "bad.py", UNAWAITED)
    write(project / "plugins" / "p" / "good.py", FIXED)
    proc = run_cli(["--output-format", "concise", "plugins/p/good.py"], project)
    assert (proc.returncode, codes(proc.stdout)) == (0, []), proc.stdout


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
                    "-c", "commit.gpgsign=false", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.slow
def test_pre_commit_hook_on_a_partial_commit(tmp_path):
    """The shipped .pre-commit-hooks.yaml, through `pre-commit try-repo`, on the staged files only."""
    repo_root = Path(__file__).resolve().parents[2]
    project = tmp_path / "cat"
    write(project / "config.py", "")
    write(project / "pyproject.toml", '[tool.cat-lint]\nextend-exclude = ["plugins/vendored"]\n')
    write(project / "plugins" / "p" / "writer.py", WRITER)
    _git(project, "init", "-q")
    _git(project, "add", ".")
    _git(project, "commit", "-q", "-m", "writer")
    write(project / "plugins" / "p" / "reader.py", READER)
    write(project / "plugins" / "vendored" / "third_party.py", UNAWAITED)  # excluded, yet staged
    _git(project, "add", "plugins/p/reader.py", "plugins/vendored/third_party.py")
    env = {k: v for k, v in os.environ.items() if k not in ("CAT_SQL", "CAT_PROJECT_DIR")}
    env["PRE_COMMIT_HOME"] = str(tmp_path.parent / "pre-commit-home")

    def try_repo() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(repo_root), "cat-lint"],
                              cwd=project, env=env, capture_output=True, text=True, timeout=900)

    proc = try_repo()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"cat-lint\.+Passed", proc.stdout), proc.stdout
    # and the hook does fail on a real mistake in a staged file
    write(project / "plugins" / "p" / "reader.py", READER + UNAWAITED.replace("from cat import store\n", ""))
    _git(project, "add", "plugins/p/reader.py")
    proc = try_repo()
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "CAT004" in proc.stdout and "third_party" not in proc.stdout, proc.stdout


# --- 1.3 excludes -----------------------------------------------------------------

def test_force_exclude_applies_excludes_to_named_files(tmp_path):
    project = make_project(tmp_path, {"plugins/vendored/x.py": UNAWAITED, "plugins/a.py": UNAWAITED},
                           config='extend-exclude = ["plugins/vendored"]')
    named = ["--output-format", "concise", "plugins/vendored/x.py", "plugins/a.py"]
    assert codes(run_cli(named, project).stdout) == [("plugins/a.py", "CAT004"), ("plugins/vendored/x.py", "CAT004")]
    assert codes(run_cli([*named, "--force-exclude"], project).stdout) == [("plugins/a.py", "CAT004")]
    # a default exclude, through a folder: .venv/lib/x.py
    write(project / ".venv" / "lib" / "y.py", UNAWAITED)
    assert codes(run_cli(["--output-format", "concise", "--force-exclude", ".venv/lib/y.py"], project).stdout) == []
    # the setting
    write(project / "pyproject.toml", '[tool.cat-lint]\nextend-exclude = ["plugins/vendored"]\nforce-exclude = true\n')
    assert codes(run_cli(named, project).stdout) == [("plugins/a.py", "CAT004")]
    assert len(codes(run_cli([*named, "--no-force-exclude"], project).stdout)) == 2


def test_extend_exclude_on_the_command_line(tmp_path):
    project = make_project(tmp_path, {"plugins/old/x.py": UNAWAITED, "plugins/a.py": UNAWAITED})
    proc = run_cli(["--output-format", "concise", "--extend-exclude", "plugins/old,*.tmp.py"], project)
    assert codes(proc.stdout) == [("plugins/a.py", "CAT004")]


def test_extend_select_in_the_configuration(tmp_path):
    source = UNAWAITED + '\n\nasync def other():\n    return await store.load("never_saved")\n'
    project = make_project(tmp_path, {"plugins/a.py": source},
                           config='select = ["CAT006"]\nextend-select = ["CAT004"]')
    proc = run_cli(["--output-format", "concise"], project)
    assert sorted(c for _, c in codes(proc.stdout)) == ["CAT004", "CAT006"], proc.stdout + proc.stderr
    (tmp_path / "bad").mkdir()
    bad = make_project(tmp_path / "bad", {"a.py": ""}, config='extend-select = ["CAT999"]')
    proc = run_cli([], bad)
    assert proc.returncode == 2 and "`extend-select` names unknown rule 'CAT999'" in proc.stderr


# --- 1.4 SARIF ---------------------------------------------------------------------

def test_sarif_uris_are_relative_to_the_repository_root(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    project = repo / "deploy" / "cat"
    write(project / "config.py", "")
    write(project / "pyproject.toml", "[tool.cat-lint]\n")  # the configuration's folder is not the repository
    write(project / "plugins" / "mistakes" / "wrong.py", UNAWAITED)
    for cwd, args in ((project, ["plugins"]), (project / "plugins", ["mistakes/wrong.py"]), (repo, ["deploy"])):
        proc = run_cli(["--output-format", "sarif", *args], cwd)
        run = json.loads(proc.stdout)["runs"][0]
        assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.resolve().as_uri() + "/"
        uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]]
        assert uris == ["deploy/cat/plugins/mistakes/wrong.py"], (cwd, uris)


def test_sarif_without_git_is_relative_to_the_working_folder(tmp_path):
    project = tmp_path / "cat"
    write(project / "plugins" / "m" / "wrong.py", UNAWAITED)
    proc = run_cli(["--output-format", "sarif", "plugins/m"], project)
    run = json.loads(proc.stdout)["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "plugins/m/wrong.py", "uriBaseId": "%SRCROOT%"}


# --- 1.5 standard input ------------------------------------------------------------

def run_stdin(args: list[str], cwd: Path, text: str) -> subprocess.CompletedProcess[str]:
    from cli_support import CAT_LINT

    env = {k: v for k, v in os.environ.items() if k not in ("CAT_SQL", "CAT_PROJECT_DIR")}
    return subprocess.run([str(CAT_LINT), *args], cwd=cwd, input=text, capture_output=True, text=True,
                          env=env, timeout=120)


def test_dash_lints_standard_input(tmp_path):
    project = make_project(tmp_path, {})
    proc = run_stdin(["--output-format", "concise", "-"], project, UNAWAITED)
    assert proc.returncode == 1, proc.stderr
    assert codes(proc.stdout) == [("-", "CAT004")]
    assert run_stdin(["-"], project, FIXED).returncode == 0


def test_stdin_filename_decides_project_configuration_and_per_file_settings(tmp_path):
    project = bare_cat_project(tmp_path)
    write(project / "pyproject.toml", '[tool.cat-lint]\nper-file-ignores = { "plugins/legacy/*" = ["CAT004"] }\n')
    write(project / "plugins" / "p" / "writer.py", WRITER)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    # named after a file of the project, from outside it: its database and its other files count
    text = READER + READS_DB_KEY.replace("from cat import store\n", "").replace("def get", "def get2")
    proc = run_stdin(["--output-format", "concise", "--stdin-filename", str(project / "plugins/p/new.py")],
                     outside, text)
    assert (proc.returncode, proc.stdout.strip()) == (0, "All checks passed!"), proc.stdout + proc.stderr
    proc = run_stdin(["--output-format", "concise", "--stdin-filename", str(project / "plugins/p/new.py")],
                     outside, UNAWAITED)
    assert proc.returncode == 1 and "plugins/p/new.py" in proc.stdout and "CAT004" in proc.stdout
    proc = run_stdin(["--output-format", "concise", "--stdin-filename", "plugins/legacy/old.py", "-"],
                     project, UNAWAITED)
    assert (proc.returncode, codes(proc.stdout)) == (0, []), proc.stdout + proc.stderr


def test_fix_on_stdin_writes_the_fixed_source_to_stdout(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": "# on disk, untouched\n"})
    crlf = UNAWAITED.replace("\n", "\r\n")
    proc = subprocess.run([str(Path(sys.executable).parent / "cat-lint"), "--fix", "--stdin-filename", "plugins/a.py"],
                          cwd=project, input=crlf.encode(), capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == FIXED.replace("\n", "\r\n").encode()
    assert (project / "plugins" / "a.py").read_text() == "# on disk, untouched\n"
    # nothing to fix: the text comes back unchanged, remaining findings go to stderr
    source = READER.replace("shared_key", "never_saved")
    proc = run_stdin(["--fix", "--output-format", "concise", "-"], project, source)
    assert proc.returncode == 1 and proc.stdout == source and "CAT006" in proc.stderr


def test_dash_with_other_paths_is_a_usage_error(tmp_path):
    project = make_project(tmp_path, {"a.py": ""})
    proc = run_stdin(["-", "a.py"], project, "")
    assert proc.returncode == 2 and "cannot be combined" in proc.stderr and "Traceback" not in proc.stderr


def test_a_plugin_repository_without_cat_markers_is_indexed_from_its_root(tmp_path):
    """A plugin kept in a repository of its own: the repository is the project for CAT006."""
    repo = tmp_path / "my-plugin"
    (repo / ".git").mkdir(parents=True)
    write(repo / "writer.py", WRITER)
    write(repo / "reader.py", READER)
    proc = run_cli(["--output-format", "concise", "reader.py"], repo)
    assert (proc.returncode, codes(proc.stdout)) == (0, []), proc.stdout + proc.stderr


def test_a_file_in_a_folder_that_is_no_project_is_linted_alone(tmp_path):
    """Not every folder a file lies in is a project: its neighbours are not read."""
    folder = tmp_path / "downloads"
    write(folder / "writer.py", WRITER)
    write(folder / "reader.py", READER)
    proc = run_cli(["--output-format", "concise", "reader.py"], folder)
    assert codes(proc.stdout) == [("reader.py", "CAT006")], proc.stdout + proc.stderr
