"""Input that used to crash or hang the tools (issue 9, section 5): errors about the input instead."""

from __future__ import annotations

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
