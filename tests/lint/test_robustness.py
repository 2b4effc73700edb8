"""Input that used to crash or hang the tools (issue 9, section 5): errors about the input instead."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from cli_support import CAT_LINT, make_project, run_cli

CAT_STORE = Path(sys.executable).parent / "cat-store"
UNAWAITED = 'from cat import store\n\n\nasync def remember(x):\n    store.save("notes", x)\n'


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("CAT_SQL", "CAT_PROJECT_DIR")}


@pytest.fixture
def shared_dir():
    """A folder another user can enter (pytest's own tmp folders are private to their owner)."""
    folder = Path(tempfile.mkdtemp(prefix="cat-lint-perm-"))
    folder.chmod(0o755)
    yield folder
    for root, dirs, _files in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
    shutil.rmtree(folder, ignore_errors=True)


def as_unprivileged(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run as a user that permissions apply to: ourselves, or `nobody` through setpriv when root.

    setpriv comes with util-linux, which every Debian system has (it is
    essential), so root always has a way to drop its privileges here.
    """
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    return subprocess.run([*prefix, *argv], cwd=cwd, capture_output=True, text=True, env=_env(), timeout=120)


def test_a_folder_without_read_permission_named_on_the_command_line(shared_dir):
    locked = shared_dir / "locked"
    locked.mkdir()
    (locked / "a.py").write_text(UNAWAITED)
    locked.chmod(0)
    proc = as_unprivileged([str(CAT_LINT), "--no-cache", "locked"], shared_dir)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "This is a bug" not in proc.stderr and "Traceback" not in proc.stderr
    assert "locked" in proc.stderr and "Permission denied" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_an_unreadable_subfolder_met_during_the_walk_is_warned_about(shared_dir):
    (shared_dir / "plugins" / "open").mkdir(parents=True)
    (shared_dir / "plugins" / "open" / "a.py").write_text(UNAWAITED)
    (shared_dir / "plugins" / "secret").mkdir()
    (shared_dir / "plugins" / "secret" / "b.py").write_text(UNAWAITED)
    (shared_dir / "plugins" / "secret").chmod(0)
    proc = as_unprivileged([str(CAT_LINT), "--no-cache", "--output-format", "concise", "."], shared_dir)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "plugins/open/a.py" in proc.stdout and "secret/b.py" not in proc.stdout
    assert "warning: cannot read folder" in proc.stderr and "plugins/secret" in proc.stderr


def test_a_fifo_named_on_the_command_line_does_not_block(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": UNAWAITED})
    os.mkfifo(project / "plugins" / "pipe.py")
    proc = run_cli(["--output-format", "concise", "plugins/pipe.py", "plugins/a.py"], project)  # timeout: 120 s
    assert proc.returncode == 1, proc.stderr
    assert "skipping plugins/pipe.py: not a regular file" in proc.stderr
    assert "plugins/a.py:5:5: CAT004" in proc.stdout


def test_a_config_py_that_is_a_fifo_does_not_block(tmp_path):
    project = tmp_path / "cat"
    (project / "plugins").mkdir(parents=True)
    (project / "plugins" / "a.py").write_text(UNAWAITED)
    os.mkfifo(project / "config.py")
    proc = run_cli(["--output-format", "concise", "plugins"], project)
    assert proc.returncode == 1 and "CAT004" in proc.stdout, proc.stderr
    store = subprocess.run([str(CAT_STORE), "keys"], cwd=project, capture_output=True, text=True, env=_env(), timeout=60)
    assert store.returncode != 0 and "Traceback" not in store.stderr
    assert len(store.stderr.strip().splitlines()) == 1, store.stderr


def test_a_config_py_nested_too_deeply_is_an_error_about_the_input(tmp_path):
    project = tmp_path / "cat"
    (project / "plugins").mkdir(parents=True)
    (project / "plugins" / "a.py").write_text(UNAWAITED)
    (project / "config.py").write_text("SQL = " + "not " * 20_000 + "1\n")
    proc = run_cli(["--output-format", "concise", "plugins"], project)
    assert proc.returncode == 1 and "CAT004" in proc.stdout, proc.stderr
    assert "This is a bug" not in proc.stderr
    assert "config.py: nests too deeply to read `SQL` from it" in proc.stderr
    store = subprocess.run([str(CAT_STORE), "keys"], cwd=project, capture_output=True, text=True, env=_env(), timeout=60)
    assert store.returncode == 2 and "Traceback" not in store.stderr
    assert "config.py: nests too deeply" in store.stderr


def test_jobs_is_capped_at_the_cpus_available(tmp_path):
    from cat_lint.runner import default_jobs

    project = make_project(tmp_path, {f"plugins/p{i}.py": UNAWAITED.replace("notes", f"n{i}") for i in range(20)})
    proc = run_cli(["--no-cache", "-v", "--jobs", "100000"], project)
    assert proc.returncode == 1, proc.stderr
    assert f"at most {default_jobs()} worker processes" in proc.stderr


def test_a_long_call_chain_gives_a_short_message():
    from cat_lint.engine import lint_source
    from cat_lint.settings import Settings

    steps = ["from cat import hook, user\n\n@hook\ndef after_cat_bootstrap(value):\n    step_0()\n"]
    steps += [f"\ndef step_{i}():\n    return step_{i + 1}()\n" for i in range(499)]
    steps.append("\ndef step_499():\n    return user.id\n")
    (finding,) = lint_source("".join(steps), "chain.py", Settings())
    assert finding.code == "CAT001"
    assert "`step_0()`" in finding.message and "`step_498()`" in finding.message and "499 calls" in finding.message
    assert len(finding.message) < 300, finding.message


# --- issue 16, items 5 to 9: file names and files that used to crash the command line ---------------

OTHER = UNAWAITED.replace("notes", "other")


def test_a_symlink_loop_in_the_tree_is_skipped_by_name_and_the_rest_is_linted(tmp_path):
    project = make_project(tmp_path, {"plugins/ok.py": UNAWAITED})
    os.symlink("b.py", project / "plugins" / "a.py")
    os.symlink("a.py", project / "plugins" / "b.py")
    proc = run_cli(["--no-cache", "--output-format", "concise", "."], project)
    assert proc.returncode == 1, proc.stderr
    assert "This is a bug" not in proc.stderr and "internal error" not in proc.stderr
    assert "plugins/ok.py:5:5: CAT004" in proc.stdout
    warnings = [line for line in proc.stderr.splitlines() if "warning: skipping" in line]
    assert len(warnings) == 2, proc.stderr
    assert "plugins/a.py" in warnings[0] and "too many levels of symbolic links" in warnings[0].lower()
    assert "plugins/b.py" in warnings[1]


def test_a_symlink_loop_named_on_the_command_line_is_skipped_by_name(tmp_path):
    """Before: "no such file or directory: plugins/a.py" (exit 2), then an internal error once that was fixed."""
    project = make_project(tmp_path, {"plugins/ok.py": UNAWAITED})
    os.symlink("b.py", project / "plugins" / "a.py")
    os.symlink("a.py", project / "plugins" / "b.py")
    proc = run_cli(["--no-cache", "--output-format", "concise", "plugins/a.py", "plugins/ok.py"], project)
    assert "internal error" not in proc.stderr and "no such file" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, proc.stderr
    assert "plugins/ok.py:5:5: CAT004" in proc.stdout
    assert "warning: skipping plugins/a.py: Too many levels of symbolic links" in proc.stderr
    alone = run_cli(["--no-cache", "plugins/a.py"], project)
    assert alone.returncode == 0 and "internal error" not in alone.stderr, alone.stderr
    assert "no Python files found" in alone.stderr


def test_a_fifo_and_a_dangling_link_in_the_tree_are_named(tmp_path):
    """Before: both were skipped without a word, unlike the same FIFO named on the command line."""
    project = make_project(tmp_path, {"plugins/ok.py": UNAWAITED})
    os.mkfifo(project / "plugins" / "pipe.py")
    os.symlink("gone.py", project / "plugins" / "dangling.py")
    proc = run_cli(["--no-cache", "--output-format", "concise", "."], project)
    assert proc.returncode == 1, proc.stderr
    assert "plugins/ok.py:5:5: CAT004" in proc.stdout
    warnings = sorted(line for line in proc.stderr.splitlines() if "warning: skipping" in line)
    assert len(warnings) == 2, proc.stderr
    assert "dangling.py: No such file or directory" in warnings[0]
    assert "pipe.py: not a regular file" in warnings[1]


def _child_peak_rss(argv: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run ``argv`` from a small Python parent; return its result and the peak RSS (bytes) of its children."""
    script = (
        "import resource, subprocess, sys\n"
        "proc = subprocess.run(sys.argv[1:])\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, file=sys.stderr)\n"
        "sys.exit(proc.returncode)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, *argv], cwd=cwd, capture_output=True, text=True,
                          env=_env(), timeout=120)
    *err, rss = proc.stderr.rstrip("\n").split("\n")
    proc.stderr = "\n".join(err)
    return proc, int(rss)


@pytest.mark.parametrize("cache", [["--no-cache"], []], ids=["no-cache", "cache"])
def test_a_huge_sparse_file_is_too_large_without_being_read(tmp_path, cache):
    project = make_project(tmp_path, {"plugins/ok.py": UNAWAITED})
    with open(project / "plugins" / "huge.py", "wb") as handle:
        handle.truncate(8 * 1024**3)  # sparse: 8 GB of NUL bytes that take no disk
    proc = run_cli([*cache, "--output-format", "concise", "."], project)
    assert proc.returncode == 1, proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr
    assert "plugins/ok.py:5:5: CAT004" in proc.stdout
    (line,) = [line for line in proc.stdout.splitlines() if "huge.py" in line]
    assert line.startswith("plugins/huge.py:1:1: CAT000 the file is too large to lint: 8,589,934,592 bytes"), line


def test_a_large_file_costs_no_memory_before_it_is_called_too_large(tmp_path):
    size = 300 * 1024**2
    project = make_project(tmp_path, {"plugins/ok.py": UNAWAITED})
    with open(project / "plugins" / "large.py", "wb") as handle:
        handle.truncate(size)
    proc, rss = _child_peak_rss([str(CAT_LINT), "--no-cache", "--output-format", "concise", "."], project)
    assert proc.returncode == 1, proc.stderr
    assert "plugins/large.py:1:1: CAT000 the file is too large to lint" in proc.stdout
    assert rss < size // 2, f"peak RSS {rss:,} bytes for a {size:,}-byte file"


def _bytes_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(CAT_LINT), *args], cwd=cwd, capture_output=True, env=_env(), timeout=120)


def test_a_file_name_that_is_not_utf8_is_linted_and_shown_as_ruff_shows_it(tmp_path):
    project = make_project(tmp_path, {"plugins/ok.py": OTHER})
    (Path(os.fsdecode(bytes(project / "plugins"))) / os.fsdecode(b"\xff\xfe.py")).write_text(UNAWAITED)
    shown = "plugins/\ufffd\ufffd.py"  # each byte that is not UTF-8 as U+FFFD, as Ruff's to_string_lossy
    for args in (["--no-cache"], [], ["-v"]):
        proc = _bytes_cli([*args, "--output-format", "concise", "."], project)
        assert proc.returncode == 1, proc.stderr
        out = proc.stdout.decode("utf-8")  # valid UTF-8
        assert f"{shown}:5:5: CAT004" in out and "plugins/ok.py:5:5: CAT004" in out, out
    assert b"2 files, 2 from the cache" in proc.stderr  # the cache keeps the file under its real name
    full = _bytes_cli(["--no-cache", "."], project)
    assert f"{shown}:5:5: CAT004" in full.stdout.decode("utf-8")
    listed = _bytes_cli(["--show-files", "."], project)
    assert listed.returncode == 0 and f"{shown}\n" in listed.stdout.decode("utf-8"), listed.stderr
    found = json.loads(_bytes_cli(["--no-cache", "--output-format", "json", "."], project).stdout.decode("utf-8"))
    assert sorted(Path(f["filename"]).name for f in found) == ["ok.py", "\ufffd\ufffd.py"]
    sarif = json.loads(_bytes_cli(["--no-cache", "--output-format", "sarif", "."], project).stdout.decode("utf-8"))
    uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"])
    assert uris == ["plugins/%FF%FE.py", "plugins/ok.py"]  # the file's real bytes, percent-encoded
    gitlab = json.loads(_bytes_cli(["--no-cache", "--output-format", "gitlab", "."], project).stdout.decode("utf-8"))
    assert sorted(i["location"]["path"] for i in gitlab) == ["plugins/ok.py", shown]


def test_a_file_name_that_is_not_utf8_is_fixed_in_place(tmp_path):
    project = make_project(tmp_path, {})
    odd = Path(os.fsdecode(bytes(project))) / os.fsdecode(b"\xff.py")
    odd.write_text(UNAWAITED)
    proc = _bytes_cli(["--no-cache", "--fix", "--output-format", "concise", "."], project)
    assert proc.returncode == 0, proc.stderr
    assert 'await store.save("notes", x)' in odd.read_text()


NEWLINE_FORMATS = {
    "concise": "plugins/two\\nlines.py:5:5: CAT004",
    "full": "plugins/two\\nlines.py:5:5: CAT004",
    "junit": "plugins/two\\nlines.py:5:5: CAT004",
    "github": "file=plugins/two%0Alines.py,",  # the runner's own escape: it finds the real file
}


@pytest.mark.parametrize("output_format", NEWLINE_FORMATS)
def test_a_file_name_with_a_newline_stays_on_one_line(tmp_path, output_format):
    project = make_project(tmp_path, {"plugins/two\nlines.py": UNAWAITED, "plugins/tab\tand\x1bescape.py": OTHER})
    proc = run_cli(["--no-cache", "--output-format", output_format, "."], project)
    assert proc.returncode == 1, proc.stderr
    assert NEWLINE_FORMATS[output_format] in proc.stdout, proc.stdout
    assert "\x1b" not in proc.stdout
    lines = proc.stdout.splitlines()
    if output_format in ("concise", "github"):
        assert len([line for line in lines if "CAT004" in line]) == 2, proc.stdout
        assert all(line.startswith(("plugins/", "::error", "Found", "[*]")) for line in lines if line), proc.stdout
    if output_format == "concise":
        assert "plugins/tab\\tand\\x1bescape.py:5:5: CAT004" in proc.stdout


def test_file_names_with_a_newline_in_show_files_and_diff(tmp_path):
    project = make_project(tmp_path, {"plugins/two\nlines.py": UNAWAITED})
    listed = run_cli(["--show-files", "."], project)
    assert listed.stdout.count("\n") == 1 and listed.stdout.rstrip("\n").endswith("plugins/two\\nlines.py")
    diff = run_cli(["--no-cache", "--diff", "."], project)
    assert "--- a/plugins/two\\nlines.py\n+++ b/plugins/two\\nlines.py\n" in diff.stdout, diff.stdout


def test_a_huge_config_py_is_too_large_to_read_sql_from(tmp_path):
    import resource

    project = tmp_path / "cat"
    (project / "plugins").mkdir(parents=True)
    (project / "plugins" / "a.py").write_text(UNAWAITED)
    with open(project / "config.py", "wb") as handle:
        handle.truncate(8 * 1024**3)  # sparse

    def bounded() -> None:  # were it read whole, a MemoryError rather than the machine's memory
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))

    proc = subprocess.run([str(CAT_LINT), "--no-cache", "--output-format", "concise", "plugins"], cwd=project,
                          capture_output=True, text=True, env=_env(), timeout=120, preexec_fn=bounded)
    assert proc.returncode == 1 and "CAT004" in proc.stdout, proc.stderr
    assert "config.py: too large to read `SQL` from it (8,589,934,592 bytes)" in proc.stderr, proc.stderr


def test_a_gitignore_that_is_a_fifo_or_huge_does_not_stop_the_walk(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": UNAWAITED, "plugins/b/c.py": OTHER})
    os.mkfifo(project / "plugins" / ".gitignore")
    with open(project / "plugins" / "b" / ".gitignore", "wb") as handle:
        handle.truncate(8 * 1024**3)  # sparse
    proc = subprocess.run([str(CAT_LINT), "--no-cache", "--output-format", "concise", "."], cwd=project,
                          capture_output=True, text=True, env=_env(), timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "plugins/a.py:5:5: CAT004" in proc.stdout and "plugins/b/c.py:5:5: CAT004" in proc.stdout
