"""Every rule's VALID and INVALID examples, run through the public engine.

VALID examples must produce no finding of the rule; INVALID ones a finding
at the stated position (and with the stated message and fix result when the
example gives them).  CAT006 examples run through ``lint_source``, whose
index holds just that one file.
"""

from __future__ import annotations

import re
import textwrap

import pytest

from cat_lint.engine import lint_source
from cat_lint.fixes import apply_fixes
from cat_lint.rules import ALL_RULES
from cat_lint.settings import BOOTSTRAP_HOOKS, Settings

VALID = [pytest.param(rule, source, id=f"{rule.code}-valid-{i}") for rule in ALL_RULES for i, source in enumerate(rule.VALID)]
INVALID = [pytest.param(rule, example, id=f"{rule.code}-invalid-{i}") for rule in ALL_RULES for i, example in enumerate(rule.INVALID)]


def _findings(rule, source: str, hooks: tuple[str, ...] = (), options: tuple[tuple[str, object], ...] = ()):
    settings = Settings(select=(rule.code,), bootstrap_hooks=BOOTSTRAP_HOOKS + hooks, **dict(options))
    return lint_source(source, "plugin.py", settings)


def test_every_rule_has_examples_and_docs():
    codes = [rule.code for rule in ALL_RULES]
    assert codes == [f"CAT{i:03}" for i in range(11)] + ["CAT100"]  # CAT100: the noqa meta-rule, as Ruff's RUF100
    for rule in ALL_RULES:
        assert rule.VALID and rule.INVALID, rule.code
        for heading in ("## What it does", "## Why is this bad?", "## Example"):
            assert heading in rule.docs, (rule.code, heading)
        assert rule.url is None  # no link until the project has a home (cat_lint.home.HOME)
        assert rule.name and rule.name == rule.name.lower() and " " not in rule.name


def _block(text: str) -> str:
    """A documentation code block as the page shows it, as a file."""
    return textwrap.dedent(text).strip("\n") + "\n"


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_the_example_is_caught_on_the_lines_it_marks(rule):
    """The page's Example triggers its rule, on exactly the lines commented `# CODE`.

    Each Example stands alone in one file (CAT006 and CAT010 included: the
    file holds the saves the rule compares with), so what the page promises
    is what ``lint_source`` on that file reports.
    """
    source = _block(rule.example)
    # A file name of its own: a lint never depends on what the process linted before under that name.
    findings = lint_source(source, f"{rule.code}_example.py", Settings(select=(rule.code,)))
    marked = {n for n, line in enumerate(source.splitlines(), 1) if re.search(rf"# {rule.code}\b", line)}
    assert marked, f"{rule.code}'s Example marks no line with `# {rule.code}`"
    assert {f.span.start_line for f in findings} == marked, findings
    assert {f.code for f in findings} == {rule.code}


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_use_instead_lints_clean(rule):
    """The page's "Use instead:" block, with every rule on: the correction teaches no other mistake."""
    assert rule.use_instead, f"{rule.code} has no use_instead"
    docs = rule.docs
    assert docs.index("## Example") < docs.index("Use instead:") < docs.index("## Fix"), rule.code
    assert lint_source(_block(rule.use_instead), f"{rule.code}_use_instead.py", Settings()) == []


@pytest.mark.parametrize(("rule", "source"), VALID)
def test_valid(rule, source):
    assert _findings(rule, source) == []


@pytest.mark.parametrize(("rule", "example"), INVALID)
def test_invalid(rule, example):
    findings = _findings(rule, example.source, example.bootstrap_hooks, example.settings)
    assert findings, f"{rule.code} found nothing in:\n{example.source}"
    assert all(f.code == rule.code for f in findings)
    assert len(findings) == (example.count or 1), findings
    positions = [(f.span.start_line, f.span.start_col) for f in findings]
    assert (example.line, example.col) in positions, positions
    if example.message is not None:
        at = next(f for f in findings if (f.span.start_line, f.span.start_col) == (example.line, example.col))
        assert at.message == example.message
    if example.fixed is not None:
        fixed, count = apply_fixes(example.source, findings, safe_only=False)
        assert count >= 1
        assert fixed == example.fixed
        compile(fixed, "fixed.py", "exec")


def test_committed_rule_pages_are_in_sync(tmp_path):
    """docs/rules is generated from the rule classes; regenerate with `python -m cat_lint.rules.render docs/rules`."""
    from pathlib import Path

    from cat_lint.rules.render import main, pages

    docs = Path(__file__).resolve().parents[2] / "docs" / "rules"
    for name, text in pages().items():
        assert (docs / name).read_text(encoding="utf-8") == text, f"docs/rules/{name} is out of date"
    assert main([str(docs), "--check"]) == 0
    assert main([str(tmp_path), "--check"]) == 1
    assert main([str(tmp_path)]) == 0 and main([str(tmp_path), "--check"]) == 0


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_cases_of_several_lines_are_written_as_blocks(rule):
    """A case of two lines or more reads like code: a triple-quoted block, not a string of ``\\n`` escapes."""
    import ast
    import inspect

    source = inspect.getsource(type(rule))
    tree = ast.parse(textwrap.dedent(source))
    cases = [node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id in ("VALID", "INVALID") for t in node.targets)]
    escaped = [ast.get_source_segment(textwrap.dedent(source), s) for case in cases for s in ast.walk(case)
               if isinstance(s, ast.Constant) and isinstance(s.value, str) and s.value.count("\n") > 1]
    escaped = [text for text in escaped if not text.startswith(('"""', "'''"))]
    assert escaped == [], f"{rule.code} has cases written with \\n escapes"


def test_only_the_registry_imports_a_rule_module():
    """A rule's module holds the rule: helpers that others need live in modules of their own."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    importers = []
    for path in sorted([*(root / "cat_lint").rglob("*.py"), *(root / "cat_lsp").rglob("*.py")]):
        if path == root / "cat_lint" / "rules" / "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if any(re.match(r"cat_lint\.rules\.cat\d{3}_", name) for name in names):
                importers.append(f"{path.relative_to(root)}:{node.lineno}")
    assert importers == []
