"""The one part of libcst's private API cat-lint still uses, checked against its public equivalent.

``cat_lint.positions`` replays libcst's code generation with its own
``CodegenState`` to find the ranges of the few nodes a file's findings need:
libcst's public ``PositionProvider`` computes a range for every node of the
file, several times the cost of the parse.  libcst has no public way to ask
for some nodes only, so this subclass is unavoidable; ``pyproject.toml``
bounds libcst below the next minor release, and these tests fail, naming
what changed, when a libcst release moves what the subclass relies on.
``test_newest_libcst_release`` (tests/install) runs them on the newest
release on PyPI too, so a new release is tried before the bound is raised.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from cat_lint.positions import Positions

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ("add_token", "add_indent_tokens", "pop_trailing_newline", "before_codegen", "after_codegen",
         "record_syntactic_position")


def test_codegen_state_still_has_what_positions_overrides():
    from libcst._nodes.internal import CodegenState  # the private API this file is about

    state = CodegenState(default_indent="    ", default_newline="\n")
    missing = [name for name in HOOKS if not callable(getattr(state, name, None))]
    missing += [name for name in ("tokens", "indent_tokens") if not isinstance(getattr(state, name, None), list)]
    assert not missing, (
        f"libcst {version('libcst')} changed CodegenState, which cat_lint.positions subclasses: "
        f"{', '.join(missing)} no longer there; keep libcst's upper bound until positions.py is updated")
    signature = inspect.signature(CodegenState.record_syntactic_position)
    assert {"node", "start_node", "end_node"} <= set(signature.parameters), (
        f"libcst {version('libcst')} changed CodegenState.record_syntactic_position{signature}")


def _sources():
    for path in sorted((ROOT / "examples" / "plugins").rglob("*.py")):
        yield pytest.param(path.read_text(encoding="utf-8"), id=str(path.relative_to(ROOT)))
    yield pytest.param('x = (  # c\n    (1, 2),\n)\nif x:\n\tpass\nprint(f"{x!r:>{10}}", *x)\n', id="brackets, tabs and f-strings")


@pytest.mark.parametrize("source", list(_sources()))
def test_positions_agree_with_libcsts_public_position_provider(source):
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    expected = wrapper.resolve(PositionProvider)
    nodes = [n for n in expected if isinstance(n, (cst.Name, cst.Call, cst.SimpleString, cst.Attribute,
                                                   cst.Tuple, cst.Await, cst.FormattedString))]
    assert nodes
    positions = Positions(module, source, nodes)
    for node in nodes:
        want = expected[node]
        got = positions.span(node)
        assert (got.start_line, got.start_col, got.end_line, got.end_col) == (
            want.start.line, want.start.column, want.end.line, want.end.column), (
            f"libcst {version('libcst')}: cat_lint.positions and PositionProvider disagree on "
            f"{type(node).__name__} at {want.start.line}:{want.start.column}")
