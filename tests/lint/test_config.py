"""Loading ``[tool.cat-lint]``: options, validation errors, where the configuration is found."""

from __future__ import annotations

from pathlib import Path

import pytest

from cat_lint.config import ConfigError, load_config, with_overrides
from cat_lint.discovery import DiscoveryError, discover
from cat_lint.settings import BOOTSTRAP_HOOKS


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_every_option_is_read(tmp_path):
    write(tmp_path / "pyproject.toml", """
[tool.cat-lint]
select = ["CAT00"]
ignore = ["CAT004"]
exclude = ["legacy"]
extend-exclude = ["generated/"]
per-file-ignores = { "plugins/old/*.py" = ["CAT001", "CAT005"] }
bootstrap-hooks = ["warm_up"]
database = "sqlite:///var/cat.db"
lost-update-user = true
""")
    loaded = load_config(tmp_path)
    s = loaded.settings
    assert loaded.source == tmp_path / "pyproject.toml"
    assert loaded.root == tmp_path
    assert s.select == ("CAT00",)
    assert s.ignore == ("CAT004",)
    assert s.exclude == ("legacy",)
    assert s.extend_exclude == ("generated/",)
    assert s.per_file_ignores == (("plugins/old/*.py", ("CAT001", "CAT005")),)
    # Configured hooks are added to the Cat's own, never replacing them.
    assert s.bootstrap_hooks == BOOTSTRAP_HOOKS + ("warm_up",)
    assert s.database == "sqlite:///var/cat.db"
    assert s.lost_update_user is True
    assert s.project == str(tmp_path)


def test_nearest_pyproject_with_our_table_wins(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.cat-lint]\nignore = ["CAT006"]\n')
    # A nested pyproject.toml without our table is not a configuration.
    write(tmp_path / "plugins" / "pyproject.toml", '[project]\nname = "x"\n')
    (tmp_path / "plugins" / "a").mkdir()
    loaded = load_config(tmp_path / "plugins" / "a")
    assert loaded.source == tmp_path / "pyproject.toml"
    assert loaded.settings.ignore == ("CAT006",)


def test_no_configuration_gives_defaults_rooted_at_the_project(tmp_path):
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    (tmp_path / "plugins").mkdir()
    loaded = load_config(tmp_path / "plugins")
    assert loaded.source is None
    assert loaded.root == tmp_path
    assert loaded.settings.select == ("CAT",)
    assert loaded.settings.lost_update_user is False


@pytest.mark.parametrize("body, expected", [
    ('ingore = ["CAT001"]', "unknown option `ingore`"),
    ('select = "CAT001"', "`select` must be a list of strings"),
    ('ignore = [1]', "`ignore` must be a list of strings"),
    ('select = ["E501"]', "invalid rule selector 'E501'"),
    ('per-file-ignores = ["x"]', "`per-file-ignores` must be a table"),
    ('per-file-ignores = { "a.py" = "CAT001" }', "must be a list of strings"),
    # Negated, an empty pattern would silence the codes in every file.
    ('per-file-ignores = { "!" = ["CAT001"] }', "`per-file-ignores`: the pattern '!' names no file"),
    ('per-file-ignores = { "" = ["CAT001"] }', "`per-file-ignores`: the pattern '' names no file"),
    ('bootstrap-hooks = ["not a name"]', "is not a Python identifier"),
    ('database = 3', "`database` must be a non-empty database URL"),
    ('lost-update-user = "yes"', "`lost-update-user` must be true or false"),
    ('database = "mysql://x/y"', "unsupported database URL"),
])
def test_mistakes_are_named(tmp_path, body, expected):
    write(tmp_path / "pyproject.toml", f"[tool.cat-lint]\n{body}\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert expected in str(info.value)
    assert str(tmp_path / "pyproject.toml") in str(info.value)


def test_invalid_toml_is_reported_with_the_file(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.cat-lint]\nselect = [\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(tmp_path)


def test_unknown_full_code_is_an_error(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.cat-lint]\nignore = ["CAT999"]\n')
    with pytest.raises(ConfigError, match="unknown rule 'CAT999'"):
        load_config(tmp_path)


def test_explicit_config_file_may_hold_options_at_top_level(tmp_path):
    cfg = write(tmp_path / "conf" / "cat-lint.toml", 'ignore = ["CAT004"]\n')
    loaded = load_config(tmp_path, cfg)
    assert loaded.settings.ignore == ("CAT004",)
    assert loaded.root == tmp_path / "conf"
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path, tmp_path / "missing.toml")


def test_command_line_select_replaces_and_ignore_adds(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.cat-lint]\nselect = ["CAT00"]\nignore = ["CAT001"]\n')
    s = load_config(tmp_path).settings
    s2 = with_overrides(s, select=["cat004"], ignore=["CAT006"])
    assert s2.select == ("CAT004",)
    assert s2.ignore == ("CAT001", "CAT006")
    assert s2.enabled("CAT004") and not s2.enabled("CAT006")
    with pytest.raises(ConfigError, match="--select"):
        with_overrides(s, select=["X1"])


# --- per-file-ignores ---------------------------------------------------------

UNAWAITED = 'from cat import store\n\nasync def remember(x):\n    store.save("notes", x)\n'


@pytest.mark.parametrize(("pattern", "silenced", "reported"), [
    # Anchored at the project root (it has a slash in the middle); ** crosses folders, * does not.
    ("plugins/**/legacy_*.py",
     ["plugins/legacy_a.py", "plugins/p/legacy_a.py", "plugins/p/q/legacy_a.py"],
     ["plugins/p/a.py", "vendor/plugins/p/legacy_a.py", "legacy_a.py"]),
    ("plugins/*/old.py", ["plugins/p/old.py"], ["plugins/p/q/old.py", "old.py"]),
    # A folder pattern covers every file beneath a folder of that name, at any depth.
    ("tests/", ["tests/a.py", "tests/unit/a.py", "plugins/p/tests/t.py"], ["tests.py", "mytests/a.py", "plugins/p/a.py"]),
    # No slash: matched against the name, at any depth.
    ("*.py", ["a.py", "plugins/p/a.py"], ["plugins/p/a.pyi"]),
    ("legacy_*.py", ["legacy_a.py", "plugins/p/legacy_a.py"], ["plugins/legacy/a.py"]),
    # A leading slash anchors a name to the root.
    ("/setup.py", ["setup.py"], ["plugins/p/setup.py"]),
    # A folder's files are covered through the folder, as in .gitignore.
    ("plugins/old/*", ["plugins/old/a.py", "plugins/old/sub/a.py"], ["plugins/new/a.py"]),
    # Ruff's negation: the codes are ignored everywhere except where the pattern matches.
    ("!plugins/**", ["tests/a.py", "a.py"], ["plugins/p/a.py"]),
])
def test_per_file_ignores_match_like_gitignore(pattern, silenced, reported):
    """The patterns are gitignore's, as ``exclude``'s are: one glob dialect for every path option."""
    from cat_lint.engine import lint_source
    from cat_lint.settings import Settings

    settings = Settings(per_file_ignores=((pattern, ("CAT004",)),))
    for path in silenced:
        assert lint_source(UNAWAITED, path, settings) == [], (pattern, path)
    for path in reported:
        assert [f.code for f in lint_source(UNAWAITED, path, settings)] == ["CAT004"], (pattern, path)


def test_per_file_ignores_only_silence_their_codes_and_outside_files_match_by_name():
    from cat_lint.engine import lint_source
    from cat_lint.settings import Settings

    settings = Settings(per_file_ignores=(("tests/", ("CAT00",)), ("legacy_*.py", ("CAT001",))))
    assert lint_source(UNAWAITED, "tests/a.py", settings) == []
    assert [f.code for f in lint_source(UNAWAITED, "plugins/legacy_a.py", settings)] == ["CAT004"]
    # A file outside the project has an absolute key: only its name is matched, never its folders.
    assert [f.code for f in lint_source(UNAWAITED, "/home/me/tests/a.py", settings)] == ["CAT004"]
    assert lint_source(UNAWAITED, "/home/me/tests/a.py", Settings(per_file_ignores=(("a.py", ("CAT004",)),))) == []


# --- discovery --------------------------------------------------------------

def tree(root: Path, names: list[str]) -> None:
    for name in names:
        write(root / name, "x = 1\n")


def rel(files, root):
    return sorted(p.relative_to(root).as_posix() for p in files)


def test_discovery_skips_default_excludes_and_gitignored(tmp_path):
    (tmp_path / ".git").mkdir()
    write(tmp_path / ".gitignore", "ignored_dir/\n*_gen.py\n!keep_gen.py\n")
    write(tmp_path / "plugins" / ".gitignore", "local.py\n")
    tree(tmp_path, [
        "plugins/a.py", "plugins/sub/b.py", "plugins/local.py", "plugins/x_gen.py", "plugins/keep_gen.py",
        ".venv/lib/c.py", "node_modules/d.py", "plugins/__pycache__/e.py", "ignored_dir/f.py",
        "plugins/notes.txt",
    ])
    settings = load_config(tmp_path).settings
    assert rel(discover([tmp_path], settings), tmp_path) == [
        "plugins/a.py", "plugins/keep_gen.py", "plugins/sub/b.py"]
    # Linting only a subfolder still honours the .gitignore files above it.
    assert rel(discover([tmp_path / "plugins"], settings), tmp_path) == [
        "plugins/a.py", "plugins/keep_gen.py", "plugins/sub/b.py"]


def test_configured_excludes(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.cat-lint]\nextend-exclude = ["plugins/legacy/", "*_old.py"]\n')
    tree(tmp_path, ["plugins/a.py", "plugins/legacy/b.py", "plugins/c_old.py", ".venv/x.py"])
    settings = load_config(tmp_path).settings
    assert rel(discover([tmp_path], settings), tmp_path) == ["plugins/a.py"]
    # `exclude` replaces the defaults: .venv is linted again.
    write(tmp_path / "pyproject.toml", '[tool.cat-lint]\nexclude = ["plugins/legacy/"]\n')
    settings = load_config(tmp_path).settings
    assert rel(discover([tmp_path], settings), tmp_path) == [".venv/x.py", "plugins/a.py", "plugins/c_old.py"]


def test_explicit_files_are_always_linted_and_missing_paths_fail(tmp_path):
    (tmp_path / ".git").mkdir()
    write(tmp_path / ".gitignore", "secret.py\n")
    tree(tmp_path, ["secret.py", ".venv/tool.py"])
    settings = load_config(tmp_path).settings
    assert rel(discover([tmp_path / "secret.py", tmp_path / ".venv" / "tool.py"], settings), tmp_path) == [
        ".venv/tool.py", "secret.py"]
    with pytest.raises(DiscoveryError, match="no-such"):
        discover([tmp_path / "no-such"], settings)


def test_a_folder_named_explicitly_is_linted_even_when_ignored(tmp_path):
    (tmp_path / ".git").mkdir()
    write(tmp_path / ".gitignore", "scratch/\n*.tmp.py\n")
    tree(tmp_path, ["scratch/a.py", "scratch/b.tmp.py", "scratch/.venv/c.py", "build/d.py"])
    settings = load_config(tmp_path).settings
    assert rel(discover([tmp_path], settings), tmp_path) == []
    # Named on the command line, the folder is walked; what is inside is still filtered.
    assert rel(discover([tmp_path / "scratch"], settings), tmp_path) == ["scratch/a.py"]
    assert rel(discover([tmp_path / "build"], settings), tmp_path) == ["build/d.py"]


def test_cat_project_folder_is_the_nearest_one_above_the_code(tmp_path):
    from cat_lint.project.location import find_cat_project

    write(tmp_path / "pyproject.toml", "[tool.cat-lint]\n")
    write(tmp_path / "examples" / "config.py", 'SQL = "sqlite:///x.db"\n')
    tree(tmp_path, ["examples/plugins/a/a.py", "tools/t.py", "bare/plugins/p/p.py"])
    write(tmp_path / "examples" / "plugins" / "a" / "config.py", "X = 1\n")  # a plugin's own module
    assert find_cat_project([tmp_path / "examples" / "plugins" / "a"], cwd=tmp_path) == tmp_path / "examples"
    assert find_cat_project([tmp_path / "examples/plugins/a/a.py"], cwd=tmp_path) == tmp_path / "examples"
    # a project with only plugins/ (no config.py, no pyproject.toml), linted as `plugins/`
    assert find_cat_project([tmp_path / "bare" / "plugins"], cwd=tmp_path) == tmp_path / "bare"
    # code outside every Cat project: the working folder's project, else none
    assert find_cat_project([tmp_path / "tools"], cwd=tmp_path / "bare" / "plugins") == tmp_path / "bare"
    assert find_cat_project([tmp_path / "tools"], cwd=tmp_path) is None
    assert find_cat_project([], cwd=tmp_path / "examples" / "plugins") == tmp_path / "examples"
