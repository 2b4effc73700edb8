"""Large files are parsed without the statements that cannot matter: the findings must not change.

Past a size threshold the engine hands libcst only the top-level
statements that can change a finding (``cat_lint.relevance``) and maps
the lines back.  These tests lint the same sources both ways, forcing the
reduction on files of any size, and compare everything a lint gives:
findings, messages, spans, fixes, suggestions, related places, key uses.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings

from cat_lint.engine import Engine
from cat_lint.relevance import reduce_source
from cat_lint.rules import ALL_RULES
from cat_lint.settings import BOOTSTRAP_HOOKS, Settings

ROOT = Path(__file__).resolve().parents[2]
S = Settings(bootstrap_hooks=BOOTSTRAP_HOOKS, lost_update_user=True)


def _same(source: str, path: str = "plugins/p.py") -> None:
    reduced = Engine(reduce_from=0).check(source, path, S)
    whole = Engine(reduce_from=None).check(source, path, S)
    assert reduced.findings == whole.findings, source
    assert reduced.key_uses == whole.key_uses, source
    assert (reduced.noqa, reduced.file_noqa, reduced.noqa_comments) == (whole.noqa, whole.file_noqa, whole.noqa_comments)


def _sources():
    for rule in ALL_RULES:
        for i, source in enumerate(rule.VALID):
            yield pytest.param(source, id=f"{rule.code}-valid-{i}")
        for i, example in enumerate(rule.INVALID):
            yield pytest.param(example.source, id=f"{rule.code}-invalid-{i}")
    for folder in ("examples/plugins", "tests/lint", "tests/runtime"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield pytest.param(path.read_text(encoding="utf-8"), id=str(path.relative_to(ROOT)))


@pytest.mark.parametrize("source", list(_sources()))
def test_rule_examples_and_real_files(source):
    _same(source)


CHAIN = '''from cat import hook, user

import json

CONSTANT = {"a": (1, 2)}


def unrelated(x):
    return x * 2


@hook
def after_cat_bootstrap(value):
    step_one()
    return value


def step_one():
    return step_two()


def step_two():  # neither names the Cat: both are reached from the hook
    return user.id


class Model:
    size = 3


def saves_constant():
    from cat import store
    return store.save("k", CONSTANT)


def awaits_later():
    global PENDING
    PENDING = None


PENDING = store_alias = None
x = 1; y = unrelated(x)
if x:
    pass
elif y:
  z = 2
'''


@pytest.mark.parametrize("variant", ["as is", "crlf", "no final newline", "two-space blocks first", "alias of store"])
def test_what_links_statements(variant):
    source = {
        "as is": CHAIN,
        "crlf": CHAIN.replace("\n", "\r\n"),
        "no final newline": CHAIN.rstrip("\n"),
        "two-space blocks first": "if True:\n  pass\n" + CHAIN,
        "alias of store": CHAIN.replace("PENDING = store_alias = None", "from cat import store as kept\nTODO = kept.save('t', {1})"),
    }[variant]
    _same(source)
    reduced = reduce_source(source, compile(source, "x", "exec", 0x400))
    if variant == "two-space blocks first":
        # Left out, that block would no longer give libcst its default indentation: nothing is left out.
        assert reduced is None
    else:
        assert reduced is not None


def test_only_what_can_matter_is_kept():
    tree = compile(CHAIN, "x", "exec", 0x400)
    reduced = reduce_source(CHAIN, tree)
    assert reduced is not None
    assert "class Model" not in reduced.text and "def unrelated" not in reduced.text
    assert "def step_two" in reduced.text and "CONSTANT = " in reduced.text
    # Lines come back as the file's.
    result = Engine(reduce_from=0).check(CHAIN, "p.py", S)
    lines = CHAIN.splitlines()
    for finding in result.findings:
        assert lines[finding.span.start_line - 1][finding.span.start_col:].startswith(("user", "store", "CONSTANT")), finding


BOUNDED = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@BOUNDED
@given(hypothesmith.from_grammar(), hypothesmith.from_grammar())
def test_generated_programs_between_the_cats_statements(first, second):
    source = CHAIN + "\n" + first + ("\n" if first and not first.endswith("\n") else "") + "\n" + second
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # generated code says odd things; Python's warnings are not ours
            compile(source, "x", "exec", 0x400)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    _same(source)


def test_a_star_import_is_always_kept():
    source = "from helpers import *\n\n\ndef unrelated():\n    return 1\n\n\nasync def f():\n    store.save('k', 1)\n"
    reduced = reduce_source(source, compile(source, "x", "exec", 0x400))
    assert reduced is not None and "import *" in reduced.text and "unrelated" not in reduced.text
    _same(source)
