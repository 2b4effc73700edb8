"""CAT000 for every file the Cat's Python refuses, and for none it accepts (issue 9, section 2)."""

from __future__ import annotations

import sys

import pytest

from cat_lint.engine import Engine, check_source
from cat_lint.refusals import REWORDED
from cat_lint.settings import Settings
from cli_support import make_project, run_cli
from compile_cases import ADDED_IN, FSTRING_312, PEP695, REFUSED

def cat000(source: str, **settings) -> list[tuple[int, int, str]]:
    result = check_source(source, "plugin.py", Settings(**settings))
    return [(f.span.start_line, f.span.start_col, f.message) for f in result.findings if f.code == "CAT000"]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_python_refuses_is_cat000_at_pythons_position(name):
    source = REFUSED[name]
    with pytest.raises(SyntaxError) as refused:
        compile(source, "plugin.py", "exec", dont_inherit=True)
    found = cat000(source)
    assert len(found) == 1, found
    line, col, message = found[0]
    assert line == refused.value.lineno
    # in the newest wording, whatever Python runs the linter (see test_compile_across_pythons)
    assert REWORDED.get(refused.value.msg, refused.value.msg) in message


def test_column_is_in_characters_after_non_ascii_text():
    assert cat000('x = "café"; await f()\n')[0][:2] == (1, 12)


def test_the_command_line_no_longer_passes_a_file_python_refuses(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": REFUSED["await outside async"]})
    proc = run_cli(["--output-format", "concise"], project)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "plugins/a.py:4:5: CAT000 Python refuses to compile the file: 'await' outside" in proc.stdout


def test_an_edited_document_is_judged_like_a_whole_file():
    """The language server's incremental re-lint compiles only the edited region: it must agree."""
    path = "edited_document.py"
    before = "from cat import store\n\n\nasync def f():\n    await store.save('k', 1)\n\n\nx = 1\n"
    assert [f.code for f in check_source(before, path, Settings()).findings] == []
    after = before.replace("async def f", "def f")
    assert [f.code for f in check_source(after, path, Settings()).findings] == ["CAT000"]
    future = "from __future__ import annotations\nx = 1\n"
    check_source(future, "future_doc.py", Settings())
    moved = "x = 1\nfrom __future__ import annotations\n"
    assert [f.code for f in check_source(moved, "future_doc.py", Settings()).findings] == ["CAT000"]


# --- target-version ---------------------------------------------------------------



@pytest.mark.parametrize("source", [PEP695, FSTRING_312])
def test_syntax_newer_than_the_target_is_refused_and_accepted_for_a_newer_target(source):
    assert len(cat000(source)) == 1  # the default target: Python 3.11, the Cat's oldest
    assert cat000(source, target_version="py312") == []
    assert cat000(source, target_version="py313") == []


def test_target_version_is_a_setting(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": PEP695}, config='target-version = "py312"')
    assert run_cli([], project).returncode == 0
    project = make_project(tmp_path, {"plugins/a.py": PEP695})
    assert run_cli([], project).returncode == 1
    bad = make_project(tmp_path, {"plugins/a.py": ""}, config='target-version = "3.12"')
    proc = run_cli([], bad)
    assert proc.returncode == 2 and "`target-version` must be one of py310" in proc.stderr


@pytest.mark.skipif(sys.version_info < (3, 11),
                    reason="on Python 3.10 no target-version is older than the running Python: nothing to check")
def test_a_target_older_than_the_running_python_uses_its_grammar():
    """A target older than the running Python parses with the target's grammar.

    Checked with the newest syntax the running Python knows and the target
    just before it (on 3.11, which CI runs, `except*` and py310), so the
    check runs on every interpreter the tools support but the oldest.
    """
    version = max(v for v in ADDED_IN if v <= sys.version_info[:2])
    source = ADDED_IN[version]
    # A file name per target: see the test below for one file linted under two targets.
    assert check_source(source, "as_added.py", Settings(target_version=f"py3{version[1]}")).findings == []
    (found,) = check_source(source, "as_older.py", Settings(target_version=f"py3{version[1] - 1}")).findings
    assert f"does not parse on Python 3.{version[1] - 1} (target-version)" in found.message, found


def test_one_file_linted_again_under_an_older_target_is_judged_by_that_target():
    source = ADDED_IN[(3, 11)]
    assert check_source(source, "retargeted.py", Settings(target_version="py311")).findings == []
    assert [f.code for f in check_source(source, "retargeted.py", Settings(target_version="py310")).findings] == ["CAT000"]


def test_the_language_servers_engine_judges_an_unchanged_file_again_under_a_new_target():
    """A target-version changed in pyproject.toml while the server runs applies to open documents too."""
    engine = Engine(incremental=True)
    source = ADDED_IN[(3, 11)]
    assert engine.check(source, "retargeted.py", Settings(target_version="py311")).findings == []
    assert [f.code for f in engine.check(source, "retargeted.py", Settings(target_version="py310")).findings] == ["CAT000"]
    assert engine.check(source, "retargeted.py", Settings(target_version="py311")).findings == []


# --- encodings, both ways -------------------------------------------------------

UNAWAITED = b'from cat import store\n\n\nasync def f(x):\n    store.save("notes", x)  # caf\xe9\n'


def test_a_latin1_byte_in_a_comment_is_accepted_as_python_accepts_it(tmp_path):
    project = make_project(tmp_path, {})
    (project / "a.py").write_bytes(b"# caf\xe9, without a coding cookie\nx = 1\n")
    compile((project / "a.py").read_bytes(), "a.py", "exec")  # Python imports it
    proc = run_cli(["--output-format", "concise"], project)
    assert (proc.returncode, proc.stdout.strip()) == (0, "All checks passed!"), proc.stdout


def test_a_latin1_byte_in_a_string_is_refused_as_python_refuses_it(tmp_path):
    project = make_project(tmp_path, {})
    (project / "a.py").write_bytes(b'x = "caf\xe9"\n')
    with pytest.raises(SyntaxError):
        compile((project / "a.py").read_bytes(), "a.py", "exec")
    proc = run_cli(["--output-format", "concise"], project)
    assert proc.returncode == 1 and "a.py:1:9: CAT000" in proc.stdout, proc.stdout


def test_fix_keeps_a_latin1_byte_of_a_comment(tmp_path):
    project = make_project(tmp_path, {})
    (project / "a.py").write_bytes(UNAWAITED)
    proc = run_cli(["--fix"], project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (project / "a.py").read_bytes() == UNAWAITED.replace(b"    store.save", b"    await store.save")


# --- large files (issue 9, section 5) ----------------------------------------------------

def test_a_large_file_is_checked_statement_by_statement_with_exact_positions():
    from cat_lint.engine import LARGE_SOURCE_CHARS

    block = ("\n\nasync def remember_{i}(x):\n    # a comment\n    await store.save('notes_{i}', x)\n"
             "    return {{'n': {i}, 'items': [1, 2, 3]}}\n")
    parts = ["from cat import hook, store, user\n"]
    i = 0
    while sum(map(len, parts)) <= LARGE_SOURCE_CHARS:
        parts.append(block.format(i=i))
        i += 1
    parts.append("\n\n@hook\ndef after_cat_bootstrap(v):\n    store.save('late', (1, 2))\n    return user.id\n")
    source = "".join(parts)
    last = source.count("\n")
    found = [(f.code, f.span.start_line, f.span.start_col)
             for f in check_source(source, "large.py", Settings()).findings]
    assert found == [("CAT004", last - 1, 4), ("CAT003", last - 1, 23), ("CAT001", last, 11)], found


def test_past_the_size_limit_a_file_gets_a_note_not_silence():
    from cat_lint.engine import MAX_SOURCE_CHARS

    found = cat000("x = 1\n" * (MAX_SOURCE_CHARS // 6 + 1))
    assert len(found) == 1 and "too large to lint" in found[0][2] and "5,000,000" in found[0][2]
