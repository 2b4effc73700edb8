"""The incremental parse gives exactly what a full parse gives.

A document linted before is parsed statement by statement from memoised
chunks (cat_lint.incremental).  These tests compare, over every rule's
examples, the example project, the test files and generated programs: the
assembled module's code (byte for byte) and structure against libcst's
full parse, and the engine's findings and key uses against a first lint
(which parses the whole file).  Then edits: the re-lint after each one
equals a fresh lint of the edited text, and only the edited chunk is
parsed again.
"""

from __future__ import annotations

import ast
import itertools
import warnings
from pathlib import Path

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings

from cat_lint.engine import Engine, check_source
from cat_lint.incremental import _TAB_INDENT, ChunkMemo, _newline_of, chunk_lines, parse_incremental, starts_after_edit
from cat_lint.rules import ALL_RULES
from cat_lint.settings import BOOTSTRAP_HOOKS, Settings

ROOT = Path(__file__).resolve().parents[2]
S = Settings(bootstrap_hooks=BOOTSTRAP_HOOKS)
_fresh = itertools.count()


def _tree(source: str):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # generated code says odd things; Python's warnings are not ours
            return compile(source, "<test>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return None


def _whole_reason(source: str) -> str | None:
    """Why the incremental parse must give up on ``source`` (the documented cases), else None."""
    tree = _tree(source)
    if tree is None:
        return "Python does not parse it"
    if not tree.body:
        return "no statement"
    if "\f" in source or source.startswith("\ufeff") or _newline_of(source) is None or _TAB_INDENT.search(source):
        return "form feed, byte order mark, mixed newlines or tab indentation"
    try:
        full = cst.parse_module(source)
    except Exception:
        return "libcst does not parse it"
    if full.code != source:
        return "libcst's own parse does not give the source back"
    lines = source.splitlines()
    indents = set()
    for stmt in tree.body:
        for block in ("body", "orelse", "finalbody", "handlers", "cases"):
            for inner in getattr(stmt, block, None) or ():
                if inner.lineno != stmt.lineno and inner.lineno <= len(lines):
                    line = lines[inner.lineno - 1]
                    indents.add(line[: len(line) - len(line.lstrip(" "))])
                break
    if len(indents) > 1 or (indents and full.default_indent not in indents):
        return "top-level blocks indented differently"
    return None


def _same_module(source: str, memo: ChunkMemo | None = None) -> cst.Module | None:
    """Assemble ``source``: it must be the full parse exactly, and it must apply unless a documented reason says not."""
    memo = memo if memo is not None else ChunkMemo()
    module = parse_incremental(source, _tree(source), memo)
    if module is None:
        reason = _whole_reason(source)
        assert reason is not None, f"the incremental parse gave up on an ordinary file:\n{source}"
    else:
        full = cst.parse_module(source)
        assert module.code == source
        assert module.deep_equals(full), source
        assert (module.default_indent, module.default_newline, module.has_trailing_newline, module.encoding) == (
            full.default_indent, full.default_newline, full.has_trailing_newline, full.encoding)
    return module


def _outcome(result):
    return (
        [(f.code, f.message, f.span, f.fix, tuple(f.suggestions)) for f in result.findings],
        [(u.key, u.scope, u.verb, u.span) for u in result.key_uses],
        result.noqa,
        result.file_noqa,
    )


def _same_findings(source: str, path: str | None = None) -> None:
    """A first lint (full parse) and a re-lint (incremental) of one path agree, and the re-lint was incremental."""
    path = path or f"incremental_{next(_fresh)}.py"
    engine = Engine(incremental=True)
    first = engine.check(source, path, S)
    assembled = engine.assembled
    again = engine.check(source, path, S)
    assert _outcome(again) == _outcome(first)
    assert _outcome(first) == _outcome(check_source(source, path, S))
    if any(f.code == "CAT000" for f in first.findings):
        return  # a file Python refuses is reported whole, never assembled
    if _whole_reason(source) is None:
        assert engine.assembled > assembled, f"the re-lint was not incremental:\n{source}"


def _examples():
    for rule in ALL_RULES:
        for i, source in enumerate(rule.VALID):
            yield pytest.param(source, id=f"{rule.code}-valid-{i}")
        for i, example in enumerate(rule.INVALID):
            yield pytest.param(example.source, id=f"{rule.code}-invalid-{i}")


def _files():
    for folder in ("examples/plugins", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield pytest.param(path.read_text(encoding="utf-8"), id=str(path.relative_to(ROOT)))


@pytest.mark.parametrize("source", list(_examples()))
def test_rule_examples(source):
    _same_module(source)
    _same_findings(source)


@pytest.mark.parametrize("source", list(_files()))
def test_project_and_test_files(source):
    assert _same_module(source) is not None  # ordinary files take the incremental path
    _same_findings(source)


BOUNDED = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@BOUNDED
@given(hypothesmith.from_grammar())
def test_generated_programs(source):
    _same_module(source)
    _same_findings(source)


@BOUNDED
@given(hypothesmith.from_grammar())
def test_generated_programs_with_the_cats_names(source):
    source = "from cat import store, user, hook\n" + source
    _same_module(source)
    _same_findings(source)


PLUGIN = '''"""A plugin."""

# the Cat's names
from cat import hook, store, user


@hook
async def before_cat_sends_message(message, cat):
    turns = await user.load("turns", 0)
    await user.save("turns", turns + 1)
    # a comment inside, at the block's indentation
    return message
    # trailing, owned by the block

  # half-indented, owned by the next statement

@hook(priority=2)
def agent_prompt_prefix(prefix, cat):
    store.save("prefix", prefix)  # not awaited
    return prefix


def helper():
    return store.load("", None)


x = 1; y = 2
if x: z = 3
# the end
'''


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


EDITS = {
    "insert a line in the middle": lambda t: "".join(_lines(t)[:11] + ['    await user.save("new", 1)\n'] + _lines(t)[11:]),
    "delete a line in the middle": lambda t: "".join(_lines(t)[:9] + _lines(t)[10:]),
    "change a decorator": lambda t: t.replace("@hook(priority=2)", "@hook(priority=3)"),
    "drop a decorator": lambda t: t.replace("@hook(priority=2)\n", ""),
    "add an import": lambda t: t.replace("from cat import hook, store, user\n", "from cat import hook, store, user\nimport json\n"),
    "shadow the import": lambda t: t.replace("x = 1; y = 2", "store = {}; y = 2"),
    "rename the store": lambda t: t.replace("from cat import hook, store, user", "from cat import hook, user\nfrom cat import store as s"),
    "break the syntax": lambda t: t.replace("def helper():", "def helper(:"),
    "open a string": lambda t: t.replace("x = 1; y = 2", 'x = """1; y = 2'),
    "blank lines between": lambda t: t.replace("\n\ndef helper", "\n\n\n\n# about helper\n\ndef helper"),
    "no final newline": lambda t: t.rstrip("\n"),
    "duplicate a function": lambda t: t + "\n\ndef helper():\n    return store.load('', None)\n\n\ndef helper():\n    return store.load('', None)\n",
    "edit the header": lambda t: "# first line\n" + t,
    "edit the footer": lambda t: t + "\n# after the end\n",
    "indent with two spaces": lambda t: t.replace("\n    ", "\n  "),
}


@pytest.mark.parametrize("edit", list(EDITS), ids=list(EDITS))
def test_edits_give_a_fresh_lint(edit):
    path = "edited.py"
    engine = Engine(incremental=True)
    engine.check(PLUGIN, path, S)
    engine.check(PLUGIN, path, S)  # now memoised
    assert engine.assembled == 2
    edited = EDITS[edit](PLUGIN)
    again = engine.check(edited, path, S)
    fresh = check_source(edited, path, S)
    assert _outcome(again) == _outcome(fresh)
    _same_module(edited)
    # Where the chunks start is found from the last lint and the edited region alone, as the whole file says.
    starts = starts_after_edit((PLUGIN, chunk_lines(_tree(PLUGIN))), edited)
    tree = _tree(edited)
    if tree is None:
        assert starts is None
    elif starts is not None:
        assert starts == chunk_lines(tree)


def test_only_the_edited_statement_is_parsed_again():
    memo = ChunkMemo()
    assert _same_module(PLUGIN, memo) is not None
    parsed = memo.parsed
    assert parsed == len(cst.parse_module(PLUGIN).body)  # one chunk per top-level statement
    edited = PLUGIN.replace('store.save("prefix", prefix)', 'store.save("prefix2", prefix)')
    assert _same_module(edited, memo) is not None
    assert memo.parsed == parsed + 1
    edited = EDITS["insert a line in the middle"](edited)
    assert _same_module(edited, memo) is not None
    assert memo.parsed == parsed + 2


def test_identical_statements_are_distinct_nodes():
    source = "from cat import store\n\nstore.save('a', (1,))\n\nstore.save('a', (1,))\n"
    module = _same_module(source)
    assert module is not None and module.body[1] is not module.body[2]
    _same_findings(source)
    result = check_source(source, "twice.py", S)
    assert sorted(u.span.start_line for u in result.key_uses) == [3, 5]


@pytest.mark.parametrize(
    "source",
    [
        "x = 1\f\ny = 2\n",
        "x = 1\r\ny = 2\n",
        "x = 1\ry = 2\n",
        "\ufeffx = 1\n",
        "if x:\n\ty = 2\n",
        "# only a comment\n",
        "",
    ],
    ids=["form feed", "mixed newlines", "old mac newline", "bom", "tab indentation", "no statement", "empty"],
)
def test_unusual_files_are_parsed_whole(source):
    assert parse_incremental(source, _tree(source), ChunkMemo()) is None
    _same_findings(source)


def test_crlf_files_and_odd_indentation():
    source = PLUGIN.replace("\n", "\r\n")
    assert _same_module(source) is not None
    _same_findings(source)
    # The first block sets the file's indentation; a later block indented otherwise is parsed whole.
    mixed = "def f():\n  return 1\n\n\ndef g():\n    return 2\n"
    _same_module(mixed)
    _same_findings(mixed)


def test_a_blank_line_before_a_dedented_comment():
    # libcst loses the blank line of ``def f(): ...\n\n  # c\n`` at the end of a file:
    # chunks inside a file are parsed with a statement after them, as in the file.
    source = "def f():\n    return 1\n\n  # edited\nx = 1\n"
    assert _same_module(source) is not None
    _same_findings(source)


@BOUNDED
@given(hypothesmith.from_grammar(), hypothesmith.from_grammar())
def test_chunk_lines_after_an_edit(before, inserted):
    """Inserting generated code between two statements: the chunk lines found from the edit are the file's."""
    lines = PLUGIN.splitlines(keepends=True)
    for at in (0, 7, 16, len(lines)):
        edited = "".join(lines[:at]) + inserted + ("" if inserted.endswith("\n") or not inserted else "\n") + "".join(lines[at:])
        starts = starts_after_edit((PLUGIN, chunk_lines(_tree(PLUGIN))), edited)
        tree = _tree(edited)
        if starts is not None and tree is not None:
            assert starts == chunk_lines(tree), (at, inserted)
        engine = Engine(incremental=True)
        engine.check(PLUGIN, "edited.py", S)
        again = engine.check(edited, "edited.py", S)
        assert _outcome(again) == _outcome(check_source(edited, "edited.py", S))
