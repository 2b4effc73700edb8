"""The tools' source never imports a package named ``cat``.

The environment tests (``test_beside_the_cat.py``) prove it for the paths
they run; this reads every module of the tools, so an import on a path no
test takes (an error branch, a rarely used option) is caught too, in
milliseconds.
"""

from __future__ import annotations

import ast

from environments import ROOT

TOOLS = ("cat_lint", "cat_lsp")


def imported_modules(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_no_module_of_the_tools_imports_cat():
    files = [path for package in TOOLS for path in sorted((ROOT / package).rglob("*.py"))]
    assert len(files) > 50
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in imported_modules(ast.parse(path.read_bytes())) if m == "cat" or m.startswith("cat."))
        for path in files
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_checker_sees_imports_of_cat():
    tree = ast.parse("import cat\nfrom cat.database import x\nfrom cat import store\nfrom . import cat\nimport cat_lint\n")
    assert {m for m in imported_modules(tree) if m == "cat" or m.startswith("cat.")} == {"cat", "cat.database"}
