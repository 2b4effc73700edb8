"""The two key readers follow one protocol, and neither imports the other.

``cat-store``, ``cat-lint`` and ``cat-lsp`` hold whatever
:func:`~cat_lint.project.reader.open_reader` returns as a
:class:`~cat_lint.project.stored_keys.DatabaseReader`: each reader must offer
its every member with the same signature.  The import graph of
``cat_lint.project`` is read from the source, so an import on a rarely taken
path (inside a function) counts too.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import cat_lint.project
from cat_lint.project.pg_reader import PostgresKeyReader
from cat_lint.project.reader import KeyReader, open_reader
from cat_lint.project.location import parse_url
from cat_lint.project.stored_keys import DatabaseReader

PROJECT = Path(cat_lint.project.__file__).parent
MEMBERS = sorted(
    name for name, value in vars(DatabaseReader).items() if callable(value) and (not name.startswith("_") or name in ("__enter__", "__exit__"))
)


def test_the_protocol_names_what_the_tools_call():
    assert MEMBERS == ["__enter__", "__exit__", "close", "data_version", "get", "global_keys", "keys", "user_ids", "user_keys"]


@pytest.mark.parametrize("reader", [KeyReader, PostgresKeyReader])
@pytest.mark.parametrize("member", MEMBERS)
def test_each_reader_has_every_member_of_the_protocol(reader, member):
    expected = inspect.signature(getattr(DatabaseReader, member))
    found = inspect.signature(getattr(reader, member))
    assert list(found.parameters) == list(expected.parameters)
    assert [p.default for p in found.parameters.values()] == [p.default for p in expected.parameters.values()]


@pytest.mark.parametrize(("url", "reader"), [("sqlite:///core.db", KeyReader), ("postgresql://u@127.0.0.1/db", PostgresKeyReader)])
def test_open_reader_gives_the_reader_of_the_scheme(tmp_path, url, reader):
    with open_reader(parse_url(url, tmp_path)) as opened:  # lazy: nothing is connected yet
        assert type(opened) is reader


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                return [*path[path.index(target):], target] if target in path else [module, target]
            if target not in state:
                found = visit(target, [*path, target])
                if found:
                    return found
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            found = visit(module, [module])
            if found:
                return found
    return None


def test_no_import_circle_in_the_project_modules():
    modules = {f"cat_lint.project.{path.stem}": path for path in PROJECT.glob("*.py") if path.stem != "__init__"}
    graph = {name: {m for m in _imports(path) if m in modules} for name, path in modules.items()}
    assert "cat_lint.project.pg_reader" in graph["cat_lint.project.reader"]  # open_reader picks it: the checker sees that
    assert _cycle(graph) is None


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
