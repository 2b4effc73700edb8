"""No module of the tools or the runtime imports itself back, through any path.

An import circle works only while every module in it happens to be read in
the right order, and it makes a module impossible to understand without its
importers.  This reads every module's imports with ``ast`` (no module is
executed) and looks for circles in the graph they make.

Every import counts: at module level, under ``if TYPE_CHECKING:`` (a circle
the type checker sees is one the reader sees too), and inside functions (a
lazy import postpones the circle to call time but does not remove it from
the design).  ``from package import name`` is an edge to the submodule
``package.name`` when there is one, else to the package: a package's
``__init__`` that re-exports its submodules is not a circle.

The circles known today, whose fix belongs to work still to come, are listed
in :data:`KNOWN_CYCLES`.  The list only shrinks: a circle not in it fails,
and so does a listed circle that no longer exists (delete it from the list).
"""

from __future__ import annotations

import ast
from pathlib import Path

from environments import ROOT

#: The packages checked: the import name of each and where its source lives.
PACKAGES = {"cat_lint": ROOT / "cat_lint", "cat_lsp": ROOT / "cat_lsp", "cat": ROOT / "runtime" / "cat"}

#: Circles that exist today, each as the path of one turn round it (starting at its first module
#: in alphabetical order).  To be fixed, then deleted from here; never added to.
KNOWN_CYCLES = {
    # CAT100 reads the table of every rule, in which it stands (issue 19, "The linter's core").
    "cat_lint.rules -> cat_lint.rules.cat100_unused_noqa -> cat_lint.rules",
}


def module_files(packages: dict[str, Path]) -> dict[str, Path]:
    """Every module of ``packages`` by its dotted name (a package by its own name, for its ``__init__``)."""
    modules = {}
    for name, folder in packages.items():
        for path in sorted(folder.rglob("*.py")):
            parts = [name, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imported(module: str, is_package: bool, tree: ast.AST, known: set[str] | dict[str, Path]) -> set[str]:
    """The modules among ``known`` that ``module`` imports anywhere in ``tree``."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[:len(module.split(".")) - node.level + (1 if is_package else 0)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            submodules = {f"{source}.{alias.name}" for alias in node.names} & set(known)
            found.update(submodules)
            if len(submodules) < len(node.names) and source in known:
                found.add(source)
    found.discard(module)
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    return {
        name: imported(name, path.name == "__init__.py", ast.parse(path.read_bytes(), str(path)), modules)
        for name, path in modules.items()
    }


def cycles(graph: dict[str, set[str]]) -> set[str]:
    """Every elementary circle of ``graph``, as ``a -> b -> a``, each once (from its smallest module)."""
    found = set()

    def walk(start: str, node: str, path: list[str]) -> None:
        for target in sorted(graph.get(node, ())):
            if target == start:
                found.add(" -> ".join([*path, start]))
            elif target > start and target not in path:
                walk(start, target, [*path, target])

    for start in sorted(graph):
        walk(start, start, [start])
    return found


def test_no_import_cycles_but_the_known_ones():
    modules = module_files(PACKAGES)
    assert len(modules) > 80
    found = cycles(import_graph(modules))
    assert sorted(found - KNOWN_CYCLES) == [], "new import circles"
    assert sorted(KNOWN_CYCLES - found) == [], "fixed import circles: delete them from KNOWN_CYCLES"


def test_the_checker_sees_every_kind_of_import(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from pkg import a, b\n")  # re-exports: not a circle
    (package / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import x\n")
    (package / "b.py").write_text("def f():\n    from . import a\n")
    (package / "c.py").write_text("import pkg.d\n")
    (package / "d.py").write_text("from pkg import e\n")
    (package / "e.py").write_text("from .c import y\n")
    found = cycles(import_graph(module_files({"pkg": package})))
    assert found == {"pkg.a -> pkg.b -> pkg.a", "pkg.c -> pkg.d -> pkg.e -> pkg.c"}
