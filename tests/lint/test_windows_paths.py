"""Where the Cat project and its database are, by Windows rules (``PureWindowsPath``), on any OS.

``config.py`` files written on Windows name their database with
backslashes; Windows (and macOS) file names ignore case, so the Cat there
takes a ``Plugins/`` folder as its ``plugins/``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from cat_lint.project.location import inside_plugins_folder, parse_url, read_config_sql

from cli_support import run_cli

W = PureWindowsPath


@pytest.mark.parametrize("config, expected", [
    ('SQL = "sqlite:///data\\\\core\\\\core.db"\n', r"C:\cat\proj\data\core\core.db"),
    ('SQL = r"sqlite:///data\\core\\core.db"\n', r"C:\cat\proj\data\core\core.db"),
    ('SQL = "sqlite:///data/core/core.db"\n', r"C:\cat\proj\data\core\core.db"),
    ('SQL = "sqlite:///C:\\\\cat\\\\data\\\\core.db"\n', r"C:\cat\data\core.db"),
    ('SQL = "sqlite:///D:/backup/core.db"\n', r"D:\backup\core.db"),
    ('SQL = "sqlite:///\\\\\\\\server\\\\share\\\\core.db"\n', r"\\server\share\core.db"),
    ('SQL = "sqlite:///\\\\db\\\\core.db"\n', r"C:\db\core.db"),  # rooted, on the project's drive
])
def test_a_config_py_database_path_by_windows_rules(tmp_path: Path, config: str, expected: str):
    (tmp_path / "config.py").write_text(config, encoding="utf-8")
    url = read_config_sql(tmp_path)
    location = parse_url(url, W(r"C:\cat\proj"), "config.py")
    assert str(location.path) == expected
    assert location.path.is_absolute()


def test_the_same_urls_by_posix_rules():
    project = PurePosixPath("/srv/cat")
    assert parse_url("sqlite:///data/core/core.db", project).path == project / "data/core/core.db"
    assert parse_url("sqlite:////var/cat/core.db", project).path == PurePosixPath("/var/cat/core.db")
    # A backslash is a character of a POSIX file name: the file SQLite would open there.
    assert parse_url("sqlite:///data\\core.db", project).path == project / "data\\core.db"


def test_a_config_py_with_backslashes_is_read_under_any_warning_filter(tmp_path: Path):
    """``"sqlite:///db\\cat.db"`` holds an invalid escape: Python keeps the backslash, and so must we, silently."""
    project = tmp_path / "proj"
    (project / "plugins").mkdir(parents=True)
    (project / "config.py").write_text('SQL = "sqlite:///db\\cat.db"\n', encoding="utf-8")
    for warnings in ("error", "default"):
        proc = run_cli(["--show-settings"], project, env={"PYTHONWARNINGS": warnings})
        assert proc.returncode == 0, proc.stderr
        assert f"database: {project / 'db'}\\cat.db (from config.py)" in proc.stdout, (warnings, proc.stdout)
        assert "escape" not in proc.stderr, (warnings, proc.stderr)
    # What the Cat itself would get from its config.py: the same string.
    value = subprocess.run([sys.executable, "-W", "ignore", "-c", "import config; print(config.SQL)"], cwd=project,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert value == "sqlite:///db\\cat.db"


@pytest.mark.parametrize("folder, windows, macos, linux", [
    (r"C:\cat\plugins\weather", True, True, True),
    (r"C:\cat\Plugins\weather", True, True, False),
    (r"C:\cat\PLUGINS\weather\sub", True, True, False),
    (r"C:\cat\plugins", False, False, False),  # the plugins folder itself is not inside one
    (r"C:\cat\my_plugins\weather", False, False, False),
])
def test_a_config_py_inside_a_plugins_folder_of_any_case(folder: str, windows: bool, macos: bool, linux: bool):
    """A plugin's own ``config.py`` is no project marker; ``Plugins/`` is the plugins folder where names ignore case."""
    assert inside_plugins_folder(W(folder)) is windows  # Windows by the path's flavour
    posix = PurePosixPath(W(folder).as_posix().replace("C:", ""))
    assert inside_plugins_folder(posix, ignore_case=True) is macos
    assert inside_plugins_folder(posix, ignore_case=False) is linux
