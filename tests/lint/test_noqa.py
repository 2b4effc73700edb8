"""Suppression comments: only real comments count, wherever they sit.

``parse_noqa`` finds comments without the tokenizer when it safely can; these
cases pin that it agrees with the tokenizer on strings, docstrings and
continuation lines, and still falls back where the tokenizer fails.
"""

from __future__ import annotations

from cat_lint.engine import lint_source
from cat_lint.noqa import FILE_LINE, parse_noqa
from cat_lint.settings import Settings
from cli_support import make_project, run_cli


def test_noqa_text_in_strings_and_docstrings_is_not_a_comment():
    source = (
        'def f():\n'
        '    """Say # noqa here\n'
        '    and # noqa: CAT001 there."""\n'
        "    a = '# noqa'\n"
        '    b = "it\'s # noqa"\n'
        "    c = '''# cat-lint: noqa'''\n"
        '    d = "escaped \\" # noqa"\n'
        '    e = "line \\\n'
        '# noqa"\n'
        '    return a\n'
    )
    assert parse_noqa(source) == ({}, False)


def test_real_noqa_comments_after_strings_and_on_continuation_lines():
    source = (
        'x = "# not this"  # noqa: CAT001\n'
        'y = call(\n'
        '    "a",  # noqa: CAT004\n'
        '    "b",\n'
        ')  # NOQA\n'
        'z = 1 + \\\n'
        '    2  # noqa: cat002, CAT007\n'
        'doc = """\n'
        '# noqa\n'
        '"""  # noqa: CAT003\n'
    )
    lines, whole = parse_noqa(source)
    assert not whole
    assert lines == {
        1: frozenset({"CAT001"}),
        3: frozenset({"CAT004"}),
        5: frozenset(),
        7: frozenset({"CAT002", "CAT007"}),
        10: frozenset({"CAT003"}),
    }


def test_file_level_forms_only_in_comments():
    assert parse_noqa('"# cat-lint: noqa"\nx = 1\n') == ({}, False)
    assert parse_noqa("x = 1\n# cat-lint: noqa\n") == ({}, True)
    assert parse_noqa("# cat-lint: noqa: CAT001\n") == ({FILE_LINE: frozenset({"CAT001"})}, False)


def test_unterminated_code_falls_back_to_a_per_line_scan():
    # The tokenizer fails on an open bracket at the end; every "#" counts then.
    source = 'x = f("# noqa: CAT001",\n'
    assert parse_noqa(source) == ({1: frozenset({"CAT001"})}, False)
    source = "s = '''\n# noqa\n"
    assert parse_noqa(source) == ({2: frozenset()}, False)


def test_tab_indented_file_agrees_with_the_tokenizer():
    source = 'def f():\n\treturn "# noqa"  # noqa: CAT004\n'
    assert parse_noqa(source) == ({2: frozenset({"CAT004"})}, False)


def test_suppression_on_a_continuation_line_of_a_call():
    source = (
        "from cat import hook, store\n\n"
        "@hook\n"
        "async def before_cat_sends_message(message, cat):\n"
        "    await store.save(\n"
        '        "k", {"a"},  # noqa\n'
        "    )\n"
        "    return message\n"
    )
    unsuppressed = source.replace("  # noqa", "")
    on_line_6 = [f.code for f in lint_source(unsuppressed, "p.py", Settings()) if f.span.start_line == 6]
    assert on_line_6, "the set passed to store.save should be reported on its own line"
    assert [f for f in lint_source(source, "p.py", Settings()) if f.span.start_line == 6] == []


def test_inconsistent_dedent_still_falls_back_like_the_tokenizer():
    # The tokenizer raises IndentationError here, so the per-line scan takes
    # the first "#" of each line, even inside a string (as before).
    source = 'if x:\n        a = 1\n    b = "# noqa: CAT001"\n'
    assert parse_noqa(source) == ({3: frozenset({"CAT001"})}, False)


# --- a file that does not parse: its suppressions are left alone (issue 16) -------------

UNPARSED = (
    "from cat import store\n\n"
    "async def f():\n"
    '    store.save("k", 1)  # noqa: CAT004\n\n'
    "def g(:\n"
    "    pass\n"
)


def test_a_file_with_cat000_gets_no_cat100_and_fix_keeps_its_noqa(tmp_path):
    """The file was not checked, so nothing says its `# noqa` is unused: --fix must not delete it,
    or the finding it hides comes back once the syntax error is corrected."""
    project = make_project(tmp_path, {"a.py": UNPARSED})
    proc = run_cli(["--output-format", "concise"], project)
    assert proc.returncode == 1
    assert [line.split(": ")[1].split()[0] for line in proc.stdout.splitlines() if line.startswith("a.py:")] == ["CAT000"], proc.stdout
    run_cli(["--fix"], project)
    assert (project / "a.py").read_text(encoding="utf-8") == UNPARSED
    (project / "a.py").write_text(UNPARSED.replace("def g(:", "def g():"), encoding="utf-8")
    proc = run_cli(["--output-format", "concise"], project)
    assert (proc.returncode, proc.stdout.strip()) == (0, "All checks passed!"), proc.stdout


def test_a_file_with_cat000_gets_no_cat100_from_the_engine_either():
    codes = [f.code for f in lint_source(UNPARSED, "plugin.py", Settings())]
    assert codes == ["CAT000"]
