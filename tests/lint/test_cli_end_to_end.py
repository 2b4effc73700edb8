"""``cat-lint`` end to end: the installed console script on temporary projects."""

from __future__ import annotations

import json
import py_compile
import re
import sqlite3
import subprocess
import sys

import pytest

from cli_support import CAT_LINT, make_project, run_cli

UNAWAITED = 'from cat import store\n\n\nasync def remember(x):\n    store.save("notes", x)\n'
CLEAN = 'from cat import store\n\n\nasync def remember(x):\n    await store.save("notes", x)\n'
READ_ONLY = 'from cat import store\n\n\nasync def show():\n    return await store.load("never_saved_anywhere")\n'


def codes(proc) -> list[tuple[str, int, str]]:
    """(path, row, code) from concise output."""
    return [(m[1], int(m[2]), m[3]) for m in re.finditer(r"^(\S+?):(\d+):\d+: (CAT\d{3})", proc.stdout, re.M)]


# --- exit codes ---------------------------------------------------------------

def test_clean_tree_exits_zero(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": CLEAN})
    proc = run_cli([], project)
    assert (proc.returncode, proc.stdout.strip()) == (0, "All checks passed!"), proc.stderr


def test_findings_exit_one_and_exit_zero_flag(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": UNAWAITED})
    proc = run_cli(["--output-format", "concise"], project)
    assert proc.returncode == 1, proc.stderr
    assert codes(proc) == [("plugins/a.py", 5, "CAT004")]
    assert run_cli(["--exit-zero"], project).returncode == 0


def test_default_path_is_the_current_folder_and_paths_are_relative_to_it(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": UNAWAITED})
    proc = run_cli(["--output-format", "concise"], project / "plugins")
    assert codes(proc) == [("a.py", 5, "CAT004")]


def test_missing_path_is_a_usage_error(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": UNAWAITED})
    proc = run_cli(["plugins", "nowhere"], project)
    assert proc.returncode == 2
    assert "nowhere" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize("args, message", [
    (["--output-format", "xml"], "invalid choice: 'xml'"),
    (["--select", "E501"], "invalid rule selector 'E501'"),
    (["--no-such-flag"], "unrecognized arguments"),
])
def test_usage_errors_exit_two(tmp_path, args, message):
    project = make_project(tmp_path, {"plugins/a.py": CLEAN})
    proc = run_cli(args, project)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_configuration_error_exits_two_naming_the_option(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": CLEAN}, config='selct = ["CAT004"]')
    proc = run_cli([], project)
    assert proc.returncode == 2
    assert "unknown option `selct`" in proc.stderr and "pyproject.toml" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_internal_error_is_short_unless_verbose(tmp_path, monkeypatch, capsys):
    from cat_lint import cli, runner

    project = make_project(tmp_path, {"plugins/a.py": CLEAN})
    monkeypatch.chdir(project)

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(runner, "lint_files", explode)
    assert cli.main(["--no-cache"]) == 2
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err and "please report" in err
    assert "Traceback" not in err
    assert cli.main(["--no-cache", "--verbose"]) == 2
    assert "Traceback" in capsys.readouterr().err


# --- output formats on a real run --------------------------------------------

@pytest.fixture
def mixed_project(tmp_path):
    return make_project(tmp_path, {
        "plugins/a.py": UNAWAITED,
        "plugins/b.py": READ_ONLY,
        "plugins/c.py": "def broken(:\n",
    })


EXPECTED = [("plugins/a.py", 5, "CAT004"), ("plugins/b.py", 5, "CAT006"), ("plugins/c.py", 1, "CAT000")]


def test_concise_and_full(mixed_project):
    proc = run_cli(["--output-format", "concise"], mixed_project)
    assert (proc.returncode, codes(proc)) == (1, EXPECTED)
    assert "Found 3 errors." in proc.stdout
    full = run_cli([], mixed_project)
    assert codes(full) == EXPECTED
    assert '5 |     store.save("notes", x)' in full.stdout
    assert re.search(r"^  \|     \^+ CAT004$", full.stdout, re.M)
    assert "= help:" in full.stdout  # the fix title of CAT004


def test_json_parses_back(mixed_project):
    proc = run_cli(["--output-format", "json"], mixed_project)
    data = json.loads(proc.stdout)
    assert [(d["filename"], d["location"]["row"], d["code"]) for d in data] == [
        (str(mixed_project / p), row, code) for p, row, code in EXPECTED]
    unawaited = data[0]
    assert unawaited["location"] == {"row": 5, "column": 5}
    assert unawaited["fix"]["applicability"] == "safe"
    assert "await" in unawaited["fix"]["edits"][0]["content"]
    assert unawaited["url"] is None  # no link until the project has a home (cat_lint.home)


DEAD_HOME = "github.com/cat-devtools"  # where links used to point: no such repository


@pytest.mark.parametrize("output_format", ["full", "concise", "json", "json-lines", "github", "gitlab", "junit", "sarif"])
def test_no_output_links_to_a_home_the_project_does_not_have(mixed_project, output_format):
    proc = run_cli(["--output-format", output_format], mixed_project)
    assert proc.returncode == 1 and proc.stdout, proc.stderr
    assert DEAD_HOME not in proc.stdout
    if output_format == "sarif":
        assert "informationUri" not in json.loads(proc.stdout)["runs"][0]["tool"]["driver"]


def test_rule_pages_and_the_internal_error_say_where_without_a_dead_link(tmp_path, monkeypatch, capsys):
    from cat_lint import cli, runner

    page = run_cli(["rule", "CAT004"], tmp_path)
    assert page.returncode == 0 and "## What it does" in page.stdout
    assert DEAD_HOME not in page.stdout and "Documentation:" not in page.stdout
    assert json.loads(run_cli(["rule", "CAT004", "--output-format", "json"], tmp_path).stdout)["url"] is None
    assert all(r["url"] is None for r in json.loads(run_cli(["rules", "--output-format", "json"], tmp_path).stdout))
    project = make_project(tmp_path, {"plugins/a.py": CLEAN})
    monkeypatch.chdir(project)
    monkeypatch.setattr(runner, "lint_files", lambda *a, **k: 1 / 0)
    assert cli.main(["--no-cache"]) == 2
    err = capsys.readouterr().err
    assert "This is a bug in cat-lint" in err and DEAD_HOME not in err and "http" not in err
    assert "cat-lint --version" in err  # what to put in the report


def test_the_home_is_one_setting_that_every_link_follows(tmp_path, monkeypatch, capsys):
    from cat_lint import cli, home, runner
    from cat_lint.rules import get_rule

    monkeypatch.setattr(home, "HOME", "https://example.org/cat-devtools")
    assert get_rule("CAT004").url == "https://example.org/cat-devtools/blob/main/docs/rules/CAT004.md"
    project = make_project(tmp_path, {"plugins/a.py": UNAWAITED})
    monkeypatch.chdir(project)
    assert cli.main(["--no-cache", "--output-format", "sarif"]) == 1
    driver = json.loads(capsys.readouterr().out)["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == "https://example.org/cat-devtools"
    (rule,) = [r for r in driver["rules"] if r["id"] == "CAT004"]
    assert rule["helpUri"] == "https://example.org/cat-devtools/blob/main/docs/rules/CAT004.md"
    monkeypatch.setattr(runner, "lint_files", lambda *a, **k: 1 / 0)
    assert cli.main(["--no-cache"]) == 2
    assert "please report it at https://example.org/cat-devtools/issues" in capsys.readouterr().err


def test_github_parses_back(mixed_project):
    proc = run_cli(["--output-format", "github"], mixed_project)
    rows = []
    for line in proc.stdout.splitlines():
        m = re.match(r"^::error (?P<props>[^:]+)::(?P<msg>.+)$", line)
        assert m, line
        props = dict(p.split("=", 1) for p in m["props"].split(","))
        rows.append((props["file"], int(props["line"]), props["title"]))
    assert rows == [(p, r, f"cat-lint ({c})") for p, r, c in EXPECTED]


def test_sarif_parses_back_and_matches_the_schema(mixed_project):
    from test_output_formats import validate_sarif

    proc = run_cli(["--output-format", "sarif"], mixed_project)
    document = json.loads(proc.stdout)
    validate_sarif(document)
    run = document["runs"][0]
    results = [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                r["locations"][0]["physicalLocation"]["region"]["startLine"], r["ruleId"])
               for r in run["results"]]
    assert results == EXPECTED
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert {"CAT000", "CAT001", "CAT004", "CAT006", "CAT008"} <= set(rule_ids)
    for rule in run["tool"]["driver"]["rules"]:
        assert rule["shortDescription"]["text"] and "helpUri" not in rule  # omitted rather than dead
        # prose from the rule's "what it does", not its page heading
        assert not rule["fullDescription"]["text"].startswith(("#", rule["id"]))
    # Same tree, same fingerprints (the cache must not change them either).
    again = json.loads(run_cli(["--output-format", "sarif"], mixed_project).stdout)
    assert [r["partialFingerprints"] for r in again["runs"][0]["results"]] == [
        r["partialFingerprints"] for r in run["results"]]


def test_statistics(mixed_project):
    proc = run_cli(["--statistics"], mixed_project)
    lines = [l.split("\t") for l in proc.stdout.splitlines() if "\t" in l]
    assert sorted((l[0].strip(), l[1].strip()) for l in lines) == [("1", "CAT000"), ("1", "CAT004"), ("1", "CAT006")]
    assert proc.returncode == 1
    data = json.loads(run_cli(["--statistics", "--output-format", "json"], mixed_project).stdout)
    assert {d["code"]: (d["count"], d["fixable"]) for d in data} == {
        "CAT000": (1, False), "CAT004": (1, True), "CAT006": (1, False)}


# --- noqa and configuration -----------------------------------------------------

def test_noqa_forms(tmp_path):
    project = make_project(tmp_path, {
        "plugins/bare.py": UNAWAITED.replace('x)\n', 'x)  # noqa\n'),
        "plugins/coded.py": UNAWAITED.replace('x)\n', 'x)  # noqa: CAT004\n'),
        "plugins/other.py": UNAWAITED.replace('x)\n', 'x)  # noqa: CAT001\n'),
        "plugins/file.py": "# cat-lint: noqa\n" + UNAWAITED,
    })
    proc = run_cli(["--output-format", "concise"], project)
    # the CAT001 suppression is unused there, which CAT100 says
    assert codes(proc) == [("plugins/other.py", 5, "CAT004"), ("plugins/other.py", 5, "CAT100")]


def test_select_and_ignore_on_the_command_line_and_in_config(mixed_project):
    assert [c for *_, c in codes(run_cli(["--output-format", "concise", "--select", "CAT004"], mixed_project))] == ["CAT004"]
    assert [c for *_, c in codes(run_cli(["--output-format", "concise", "--ignore", "CAT000,CAT006"], mixed_project))] == ["CAT004"]
    (mixed_project / "pyproject.toml").write_text('[tool.cat-lint]\nignore = ["CAT006"]\n')
    assert [c for *_, c in codes(run_cli(["--output-format", "concise"], mixed_project))] == ["CAT004", "CAT000"]
    # --ignore adds to the configured ignores
    assert [c for *_, c in codes(run_cli(["--output-format", "concise", "--ignore", "CAT000"], mixed_project))] == ["CAT004"]


def test_per_file_ignores(tmp_path):
    project = make_project(tmp_path, {"plugins/old/a.py": UNAWAITED, "plugins/new/a.py": UNAWAITED},
                           config='per-file-ignores = { "plugins/old/*" = ["CAT004"] }')
    assert codes(run_cli(["--output-format", "concise"], project)) == [("plugins/new/a.py", 5, "CAT004")]


def test_per_file_ignores_are_gitignore_patterns_from_the_project_root(tmp_path):
    project = make_project(tmp_path, {
        "plugins/p/legacy_a.py": UNAWAITED, "plugins/p/deep/legacy_b.py": UNAWAITED, "plugins/p/a.py": UNAWAITED,
        "plugins/p/tests/t.py": UNAWAITED, "tests/t.py": UNAWAITED, "vendor/plugins/legacy_c.py": UNAWAITED,
    }, config='per-file-ignores = { "plugins/**/legacy_*.py" = ["CAT004"], "tests/" = ["CAT"] }')
    expected = [("plugins/p/a.py", 5, "CAT004"), ("vendor/plugins/legacy_c.py", 5, "CAT004")]
    assert codes(run_cli(["--output-format", "concise"], project)) == expected
    # Run from a subfolder, the keys (and so the matches) are still taken from the project root.
    assert codes(run_cli(["--output-format", "concise", "."], project / "plugins")) == [("p/a.py", 5, "CAT004")]


def test_excludes_and_gitignore_but_explicit_files_win(tmp_path):
    project = make_project(tmp_path, {
        "plugins/a.py": UNAWAITED, "plugins/legacy/b.py": UNAWAITED, "plugins/tmp_c.py": UNAWAITED,
        ".venv/lib/d.py": UNAWAITED, ".gitignore": "tmp_*.py\n",
    }, config='extend-exclude = ["plugins/legacy/"]')
    (project / ".git").mkdir()
    assert codes(run_cli(["--output-format", "concise"], project)) == [("plugins/a.py", 5, "CAT004")]
    explicit = run_cli(["--output-format", "concise", "plugins/tmp_c.py", "plugins/legacy/b.py"], project)
    assert codes(explicit) == [("plugins/legacy/b.py", 5, "CAT004"), ("plugins/tmp_c.py", 5, "CAT004")]


def test_bootstrap_hooks_from_config(tmp_path):
    source = ("from cat import hook, user\n\n\n@hook\nasync def warm_up(value):\n"
              "    await user.save(\"seen\", True)\n    return value\n")
    project = make_project(tmp_path, {"plugins/a.py": source})
    assert not [c for c in codes(run_cli(["--output-format", "concise"], project)) if c[2] == "CAT001"]
    (project / "pyproject.toml").write_text('[tool.cat-lint]\nbootstrap-hooks = ["warm_up"]\n')
    proc = run_cli(["--output-format", "concise"], project)
    assert ("plugins/a.py", 6, "CAT001") in codes(proc)
    assert "warm_up" in proc.stdout


def test_keys_in_the_configured_database_are_known(tmp_path):
    from cat_lint.project.schema import SQLITE_SCHEMA

    project = make_project(tmp_path, {"plugins/b.py": READ_ONLY}, config='database = "sqlite:///state/core.db"')
    assert codes(run_cli(["--output-format", "concise"], project)) == [("plugins/b.py", 5, "CAT006")]
    (project / "state").mkdir()
    with sqlite3.connect(project / "state" / "core.db") as db:
        for statement in SQLITE_SCHEMA:
            db.execute(statement)
        db.execute("INSERT INTO key_value_db (key, value) VALUES ('never_saved_anywhere', '1')")
    db.close()
    proc = run_cli(["--output-format", "concise"], project)
    assert (proc.returncode, codes(proc)) == (0, []), proc.stdout + proc.stderr


# --- --fix and --diff -----------------------------------------------------------

FIXABLE = (
    "from cat import store, user\n\n\n"
    "async def remember(x):\n"
    "    store.save(\"notes\", x)\n"
    "    await user.save(\"pair\", (1, 2))\n"
    "    await store.save(\"pairs\", {\"a\": (3, 4)})\n"
    "    return await store.load(\"notes\")\n"
)


def test_diff_writes_nothing_and_fix_gives_clean_compilable_code(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": FIXABLE, "plugins/b.py": CLEAN})
    target = project / "plugins" / "a.py"
    diff = run_cli(["--diff"], project)
    assert diff.returncode == 1, diff.stderr
    assert diff.stdout.startswith("--- a/plugins/a.py\n+++ b/plugins/a.py\n")
    assert '+    await store.save("notes", x)' in diff.stdout
    assert target.read_text() == FIXABLE

    fix = run_cli(["--fix", "--output-format", "concise"], project)
    assert fix.returncode == 0, fix.stdout + fix.stderr
    fixed = target.read_text()
    assert fixed != FIXABLE and 'await store.save("notes", x)' in fixed
    assert "(1, 2)" not in fixed and "[1, 2]" in fixed
    py_compile.compile(str(target), doraise=True)
    assert re.search(r"Found \d+ errors? \(\d+ fixed, 0 remaining\)", fix.stdout)
    after = run_cli([], project)
    assert after.returncode == 0, after.stdout
    assert run_cli(["--diff"], project).returncode == 0


def test_fix_reports_what_remains(mixed_project):
    proc = run_cli(["--fix", "--output-format", "concise"], mixed_project)
    assert proc.returncode == 1
    assert [c for *_, c in codes(proc)] == ["CAT006", "CAT000"]
    assert "(1 fixed, 2 remaining)" in proc.stdout


# --- subcommands ------------------------------------------------------------------

def test_rules_and_rule(tmp_path):
    table = run_cli(["rules"], tmp_path)
    assert table.returncode == 0
    listed = re.findall(r"^(CAT\d{3})\s", table.stdout, re.M)
    assert listed == sorted(listed) and {"CAT000", "CAT001", "CAT008"} <= set(listed)
    doc = run_cli(["rule", "CAT004"], tmp_path)
    assert doc.returncode == 0 and doc.stdout.startswith("# ") and "CAT004" in doc.stdout.splitlines()[0]
    # The registry's lookup (get_rule): a code in any case, or the rule's name.
    for alias in ("cat004", "store-call-not-awaited"):
        assert run_cli(["rule", alias], tmp_path).stdout == doc.stdout, alias
    unknown = run_cli(["rule", "CAT999"], tmp_path)
    assert unknown.returncode == 2 and "CAT999" in unknown.stderr and "CAT004" in unknown.stderr
    data = json.loads(run_cli(["rules", "--output-format", "json"], tmp_path).stdout)
    assert {d["code"]: d["fixable"] for d in data}["CAT004"] is True


def test_a_folder_named_rules_is_linted_with_check(tmp_path):
    project = make_project(tmp_path, {"rules/a.py": UNAWAITED})
    listing = run_cli(["rules"], project)
    assert listing.returncode == 0 and "cat-lint check rules" in listing.stderr
    proc = run_cli(["check", "rules", "--output-format", "concise"], project)
    assert codes(proc) == [("rules/a.py", 5, "CAT004")]
    assert codes(run_cli(["./rules", "--output-format", "concise"], project)) == [("rules/a.py", 5, "CAT004")]


def test_python_dash_m(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": UNAWAITED})
    proc = subprocess.run([sys.executable, "-m", "cat_lint", "--output-format", "concise"], cwd=project,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and codes(proc) == [("plugins/a.py", 5, "CAT004")]


@pytest.mark.slow
def test_parallel_run_matches_a_serial_run(tmp_path):
    files = {f"plugins/p{i:02}/main.py": (UNAWAITED if i % 3 else READ_ONLY) for i in range(40)}
    files["plugins/broken.py"] = "x = (\n"
    project = make_project(tmp_path, files)
    parallel = run_cli(["--no-cache", "--jobs", "2", "--output-format", "json"], project)
    serial = run_cli(["--no-cache", "--jobs", "1", "--output-format", "json"], project)
    assert parallel.returncode == serial.returncode == 1
    assert json.loads(parallel.stdout) == json.loads(serial.stdout)
    assert len(json.loads(parallel.stdout)) == 41


def test_undecodable_file_is_a_cat000_finding(tmp_path):
    project = make_project(tmp_path, {})
    (project / "plugins").mkdir()
    (project / "plugins" / "latin.py").write_bytes(b"x = 1\ny = '\xe9'\n")
    (project / "plugins" / "nul.py").write_bytes(b"x = 1\0\n")
    proc = run_cli(["--output-format", "concise"], project)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert ("plugins/latin.py", 2, "CAT000") in codes(proc)
    assert [c for p, _, c in codes(proc) if p == "plugins/nul.py"] == ["CAT000"]


def test_pre_commit_hook_runs_the_console_script_on_the_files_it_is_given(tmp_path):
    import yaml
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    hooks = yaml.safe_load((repo / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "cat-lint")
    assert hook["language"] == "python" and hook["types"] == ["python"]
    assert "cat-lint = \"cat_lint.cli:main\"" in (repo / "pyproject.toml").read_text()
    # pre-commit calls `entry args... file1 file2 ...` from the repository root.
    project = make_project(tmp_path, {"plugins/a.py": UNAWAITED, "plugins/b.py": CLEAN})
    entry = hook["entry"].split()
    assert entry[0] == "cat-lint"
    proc = run_cli([*entry[1:], *hook.get("args", []), "plugins/b.py"], project)
    assert proc.returncode == 0, proc.stdout
    proc = run_cli([*entry[1:], *hook.get("args", []), "plugins/a.py", "plugins/b.py"], project)
    assert proc.returncode == 1 and "plugins/a.py:5:5: CAT004" in proc.stdout


def test_configuration_is_found_from_the_linted_path_and_config_flag_overrides(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": UNAWAITED + READ_ONLY.replace("from cat import store\n", "")},
                           config='ignore = ["CAT006"]')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # Run from another folder: the project's pyproject.toml still applies, paths show relative to the cwd.
    proc = run_cli(["--output-format", "concise", str(project / "plugins")], elsewhere)
    assert [c for *_, c in codes(proc)] == ["CAT004"]
    other = tmp_path / "strict.toml"
    other.write_text('select = ["CAT006"]\n')
    proc = run_cli(["--output-format", "concise", "--config", str(other), "plugins"], project)
    assert [c for *_, c in codes(proc)] == ["CAT006"]
    missing = run_cli(["--config", "nope.toml"], project)
    assert missing.returncode == 2 and "nope.toml" in missing.stderr


def test_quiet_prints_only_findings(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": UNAWAITED, "plugins/b.py": CLEAN})
    proc = run_cli(["--quiet", "--output-format", "concise"], project)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [line for line in proc.stdout.splitlines() if re.match(r"^\S+:\d+:\d+: CAT", line)]
    clean = run_cli(["--quiet", "plugins/b.py"], project)
    assert (clean.returncode, clean.stdout) == (0, "")


def test_database_is_found_from_the_cat_project_below_the_configuration(tmp_path):
    """A repository whose Cat project lives in a subfolder (like ours in examples/)."""
    from cat_lint.project.schema import SQLITE_SCHEMA

    repo = make_project(tmp_path, {"cat_project/plugins/b.py": READ_ONLY,
                                   "cat_project/config.py": 'SQL = "sqlite:///state/core.db"\n'})
    (repo / "cat_project" / "state").mkdir()
    db = sqlite3.connect(repo / "cat_project" / "state" / "core.db")
    with db:
        for statement in SQLITE_SCHEMA:
            db.execute(statement)
        db.execute("INSERT INTO key_value_db (key, value) VALUES ('never_saved_anywhere', '1')")
    db.close()
    proc = run_cli(["-v", "cat_project/plugins"], repo)
    assert proc.returncode == 0, proc.stdout
    assert "state/core.db (from config.py)" in proc.stderr


def test_an_engine_crash_on_one_file_is_reported_and_the_others_are_linted(tmp_path, monkeypatch, capsys):
    from cat_lint import cli, engine

    project = make_project(tmp_path, {"plugins/a.py": UNAWAITED, "plugins/boom.py": CLEAN})
    monkeypatch.chdir(project)
    real = engine.Engine.check

    def flaky(self, source, path, settings):
        if path.endswith("boom.py"):
            raise ValueError("rule bug")
        return real(self, source, path, settings)

    monkeypatch.setattr(engine.Engine, "check", flaky)
    assert cli.main(["--no-cache", "--jobs", "1", "--output-format", "concise"]) == 2
    out, err = capsys.readouterr()
    assert "plugins/a.py:5:5: CAT004" in out
    assert "internal error while linting plugins/boom.py: ValueError: rule bug" in err
    assert "please report" in err and "Traceback" not in err


def test_every_tool_reports_the_distributions_version():
    from importlib.metadata import version

    import cat_lint
    import cat_lsp

    installed = version("cat-devtools")
    assert cat_lint.__version__ == cat_lsp.__version__ == installed
    for tool in ("cat-lint", "cat-lsp"):
        out = subprocess.run([str(CAT_LINT.parent / tool), "--version"], capture_output=True, text=True, timeout=60).stdout
        assert out.split() == [tool, installed]
