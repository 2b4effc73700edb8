"""What ``--fix`` and ``--add-noqa`` write, and what every format prints, for the files and keys users really have.

Found by trying the wave's build as a user would: a symlinked plugin file,
a hard-linked one, one owned by the author while cat-lint runs as root (a
container over a bind mount), and a key literal with a lone-surrogate
escape, which no UTF-8 output can hold as it is.
"""

from __future__ import annotations

import json
import os

import pytest

from cli_support import make_project, run_cli

ALL_FORMATS = ["concise", "full", "json", "sarif", "github", "gitlab", "junit", "json-lines"]
UNAWAITED = 'from cat import store\n\nasync def f():\n    store.save("k", 1)\n'
LONE_SURROGATE_KEY = 'from cat import store\n\nasync def f():\n    await store.load("x\\ud800y")\n'


@pytest.mark.parametrize("output_format", ALL_FORMATS)
def test_a_key_with_a_lone_surrogate_escape_is_reported_as_the_source_spells_it(tmp_path, output_format):
    """Before: "internal error: UnicodeEncodeError ... surrogates not allowed" in every format but junit."""
    project = make_project(tmp_path, {"plugins/p/main.py": LONE_SURROGATE_KEY})
    proc = run_cli(["--no-cache", "--output-format", output_format, "plugins"], project)
    assert "internal error" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "CAT006" in proc.stdout
    if output_format in ("concise", "full"):
        assert "x\\ud800y" in proc.stdout
    if output_format in ("json", "sarif", "gitlab"):
        json.loads(proc.stdout)


@pytest.mark.parametrize(("option", "written"), [("--fix", "await store.save"), ("--add-noqa", "# noqa: CAT004")])
def test_a_rewrite_through_a_symlink_changes_the_target_and_keeps_the_link(tmp_path, option, written):
    """Before: the link was replaced by a regular file, and the file it named was left as it was."""
    project = make_project(tmp_path, {"shared/real.py": UNAWAITED, "plugins/p/.keep": ""})
    link = project / "plugins" / "p" / "link.py"
    link.symlink_to(os.path.join("..", "..", "shared", "real.py"))
    proc = run_cli(["--no-cache", option, "plugins"], project)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert link.is_symlink()
    assert written in (project / "shared" / "real.py").read_text(encoding="utf-8")


def test_fix_keeps_a_hard_linked_file_linked(tmp_path):
    """Before: the fixed file got a new inode, and its other name kept the old text."""
    project = make_project(tmp_path, {"plugins/p/a.py": UNAWAITED})
    other = project / "a_other_name.py.txt"
    os.link(project / "plugins" / "p" / "a.py", other)
    proc = run_cli(["--no-cache", "--fix", "plugins"], project)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert "await store.save" in other.read_text(encoding="utf-8")
    assert os.path.samefile(other, project / "plugins" / "p" / "a.py")


def test_fix_keeps_the_files_owner_and_mode(tmp_path):
    """Before, as root: a file of the author's (uid 65534 here) came back owned by root.

    Run by a user who may not give files away, the file stays its own, as before.
    """
    project = make_project(tmp_path, {"plugins/p/a.py": UNAWAITED})
    plugin = project / "plugins" / "p" / "a.py"
    owner = (65534, 65534) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    os.chown(plugin, *owner)
    plugin.chmod(0o640)
    proc = run_cli(["--no-cache", "--fix", "plugins"], project)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    status = plugin.stat()
    assert "await store.save" in plugin.read_text(encoding="utf-8")
    assert (status.st_uid, status.st_gid) == owner
    assert status.st_mode & 0o777 == 0o640

