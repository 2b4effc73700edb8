"""Positions and fixes as editors apply them (issue 9, section 6)."""

from __future__ import annotations

import pytest

from cat_lint.engine import lint_source
from cat_lint.fixes import apply_fixes
from cat_lint.settings import Settings

SOURCE = 'from cat import store\n\n\nasync def f(x):\n    store.save("k", (1, 2))\n'
FIXED = 'from cat import store\n\n\nasync def f(x):\n    await store.save("k", [1, 2])\n'


@pytest.mark.parametrize("first_line", ["from cat import store", "import os; from cat import store"])
def test_a_buffer_starting_with_a_byte_order_mark_gets_the_same_findings_and_fixes(first_line):
    """Editors may keep U+FEFF in the buffer the language server lints: positions are in that text."""
    plain = SOURCE.replace("from cat import store", first_line)
    with_bom = "\ufeff" + plain
    expected = [(f.code, f.span) for f in lint_source(plain, "a.py", Settings())]
    found = lint_source(with_bom, "a.py", Settings())
    assert [(f.code, f.span) for f in found] == expected
    assert [f.code for f in found] == ["CAT004", "CAT003"]
    fixed, count = apply_fixes(with_bom, found, safe_only=False)
    assert (fixed, count) == ("\ufeff" + FIXED.replace("from cat import store", first_line), 2)


def test_a_finding_on_the_first_line_counts_the_byte_order_mark():
    source = '\ufefffrom cat import user; X = user.id\n'
    (finding,) = lint_source(source, "a.py", Settings())
    assert finding.code == "CAT001"
    assert source[finding.span.start_col:finding.span.start_col + 4] == "user"


def test_the_tuple_fix_keeps_a_multi_line_layout():
    source = ('from cat import store\n\n\nasync def f():\n    await store.save("sizes", (\n'
              '        640,  # width\n        480,\n    ))\n')
    found = lint_source(source, "a.py", Settings())
    fixed, _ = apply_fixes(source, found, safe_only=False)
    assert fixed == source.replace('"sizes", (\n', '"sizes", [\n').replace("    ))\n", "    ])\n")


@pytest.mark.parametrize("value, fixed", [
    ("x", "x"),
    ("((1, 2))", "[1, 2]"),
])
def test_the_tuple_fix_through_a_name_and_in_double_parentheses(value, fixed):
    source = f'from cat import store\n\n\nasync def f():\n    x = 1, 2\n    await store.save("k", {value})\n'
    found = [f for f in lint_source(source, "a.py", Settings()) if f.code == "CAT003"]
    assert len(found) == 1
    result, _ = apply_fixes(source, found, safe_only=False)
    if value == "x":
        assert "    x = [1, 2]\n" in result
    else:
        assert f'store.save("k", {fixed})' in result
    compile(result, "fixed.py", "exec")


ODD_BREAKS = ('from cat import store\n# a comment with \u2028 and \x85 and \x1c in it\nNOTE = "text \u2028 more"\n\n\n'
              'async def remember(x):\n    store.save("notes", x)\n')


def test_full_snippet_and_diff_count_lines_as_python_does(tmp_path):
    import re

    from cli_support import make_project, run_cli

    project = make_project(tmp_path, {"a.py": ODD_BREAKS})
    proc = run_cli(["--output-format", "full", "--no-cache"], project)
    assert "a.py:7:5: CAT004" in proc.stdout, proc.stdout
    assert '7 |     store.save("notes", x)' in proc.stdout, proc.stdout
    diff = run_cli(["--diff", "--no-cache"], project)
    assert diff.returncode == 1, diff.stderr
    hunk = re.search(r"^@@ -(\d+),(\d+) \+(\d+),(\d+) @@", diff.stdout, re.M)
    assert hunk is not None, diff.stdout
    start, length = int(hunk[1]), int(hunk[2])
    assert start <= 7 < start + length and start + length - 1 == 7, diff.stdout
    assert '-    store.save("notes", x)\n+    await store.save("notes", x)\n' in diff.stdout


def test_the_language_server_offers_the_cat006_fix_once():
    from cat_lint.keys import KeyIndex
    from cat_lsp.diagnostics import to_diagnostic
    from cat_lsp.positions import EditorPositions

    writer = 'from cat import store\n\n\nasync def put():\n    await store.save("theme", 1)\n'
    reader = 'from cat import store\n\n\nasync def get():\n    return await store.load("them")\n'
    from cat_lint.engine import check_source

    index = KeyIndex()
    index.set_file("w.py", check_source(writer, "w.py", Settings()).key_uses)
    (finding,) = lint_source(reader, "r.py", Settings(), index)
    assert finding.code == "CAT006" and finding.fix is not None
    diagnostic = to_diagnostic(finding, EditorPositions(reader), 1)
    assert [fix["title"] for fix in diagnostic.data["fixes"]] == ['Replace with "theme"']
