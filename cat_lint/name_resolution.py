"""What a name refers to: ``cat.store``, ``cat.user``, ``cat.hook``, ``datetime.datetime``...

Two resolvers give the same answers:

* ``ImportTable`` (the fast path) reads the module's top-level imports and
  resolves by spelling.  The collector makes it exact while it walks: a
  function's own bindings of a ``cat`` name (a parameter ``user``, a local
  ``store = {}``) hide the import inside that function and the functions
  nested in it, as Python's scoping does.
* ``ScopeResolver`` uses libcst's ``ScopeProvider`` and qualified names.  The
  collector switches to it for the files where spelling and function locals
  are not enough: a ``cat`` name rebound at module or class level, used as a
  comprehension variable, declared ``global``/``nonlocal``, or imported
  inside a function.

Resolving every file through scope analysis would cost about five times the
parse, so the slow path is kept for the files that need it.  Also here: the
names each binding form binds (assignments, imports, ``match`` captures),
which both resolvers and the rules read.
"""

from __future__ import annotations

from typing import Iterable

import libcst as cst

STORE = "cat.store"
USER = "cat.user"
STORES = {STORE: "store", USER: "user"}
VERBS = ("save", "load", "exists", "delete", "update")
STAR_NAMES = ("store", "user", "hook", "endpoint")  # what ``from cat import *`` brings that the rules care about


def dotted(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a chain of attributes over a name, else None."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def _module_name(node: cst.BaseExpression) -> str | None:
    return dotted(node) if node is not None else None


def import_bindings(node: cst.Import | cst.ImportFrom) -> list[tuple[str, str, cst.ImportAlias]]:
    """``(bound name, qualified name, alias node)`` for each name an import statement binds."""
    out: list[tuple[str, str, cst.ImportAlias]] = []
    if isinstance(node, cst.Import):
        for alias in node.names:
            full = _module_name(alias.name)
            if full is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                out.append((alias.asname.name.value, full, alias))
            else:
                out.append((full.split(".")[0], full.split(".")[0], alias))
        return out
    if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
        return out
    module = _module_name(node.module)
    if module is None:
        return out
    for alias in node.names:
        name = _module_name(alias.name)
        if name is None:
            continue
        bound = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else name
        out.append((bound, f"{module}.{name}", alias))
    return out


_BLOCK_STATEMENTS = tuple(getattr(cst, name) for name in ("If", "Try", "TryStar", "With") if hasattr(cst, name))


def _blocks(stmt: cst.CSTNode) -> Iterable[cst.BaseSuite]:
    """The suites of an if/try/with statement, elif and except branches included."""
    yield stmt.body
    for handler in getattr(stmt, "handlers", ()):
        yield handler.body
    orelse = getattr(stmt, "orelse", None)
    if isinstance(orelse, cst.If):
        yield from _blocks(orelse)
    elif orelse is not None:
        yield orelse.body
    final = getattr(stmt, "finalbody", None)
    if final is not None:
        yield final.body


def _catches_import_error(handler: cst.ExceptHandler) -> bool:
    kinds = [e.value for e in handler.type.elements] if isinstance(handler.type, cst.Tuple) else [handler.type]
    for node in kinds:
        if isinstance(node, cst.Name) and node.value in ("ImportError", "ModuleNotFoundError"):
            return True
    return False


def _top_level_bindings(stmt: cst.CSTNode) -> Iterable[str]:
    """Names a top-level statement binds in the module, roughly (enough to tell "bound once")."""
    if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
        yield stmt.name.value
        return
    if isinstance(stmt, cst.SimpleStatementLine):
        for small in stmt.body:
            if isinstance(small, cst.Assign):
                for target in small.targets:
                    yield from target_names(target.target)
            elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
                yield from target_names(small.target)
            elif isinstance(small, (cst.Import, cst.ImportFrom)):
                for bound, _q, _a in import_bindings(small):
                    yield bound
            for name, _value in _walrus_bindings(small):
                yield name
        return
    # compound statements (if, for, with, try, match...): every name they may bind counts twice,
    # but for the walrus of an `if`'s test, which always runs
    once = {id(named.target) for named in _nodes_of(stmt.test, (cst.NamedExpr,))} if isinstance(stmt, cst.If) else set()
    for node in _nodes_of(stmt, (cst.Name,)):
        yield node.value
        if id(node) not in once:
            yield node.value


def _walrus_bindings(node: cst.CSTNode) -> list[tuple[str, cst.BaseExpression]]:
    """``(name, value)`` of each ``(name := value)`` in ``node`` that binds in its scope (none inside a lambda)."""
    pairs = []
    for named in _nodes_of(node, (cst.NamedExpr,), skip=(cst.Lambda, cst.FunctionDef, cst.ClassDef)):
        if isinstance(named.target, cst.Name):
            pairs.append((named.target.value, named.value))
    return pairs


def target_names(target: cst.BaseExpression) -> Iterable[str]:
    """The names an assignment target binds: ``a``, ``a, (b, *c)``, ``[a, b]``."""
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from target_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from target_names(target.value)


def bound_values(target: cst.BaseExpression, value: cst.BaseExpression | None) -> list[tuple[str, cst.BaseExpression | None]]:
    """``(name, the expression it is bound to)`` for each name an assignment target binds.

    ``a = v`` gives ``v`` to ``a``; ``a, b = v, w`` gives each name its element
    when both sides are plain tuples or lists of one length; a starred
    target, or any other shape, binds the name to something unknown (``None``).
    """
    if isinstance(target, cst.Name):
        return [(target.value, value)]
    if isinstance(target, (cst.Tuple, cst.List)):
        elements = target.elements
        parts: list[cst.BaseExpression | None] = [None] * len(elements)
        if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(elements) \
                and not any(isinstance(e, cst.StarredElement) for e in (*elements, *value.elements)):
            parts = [e.value for e in value.elements]
        return [pair for element, part in zip(elements, parts) for pair in bound_values(element.value, part)]
    if isinstance(target, cst.StarredElement):
        return [(name, None) for name in target_names(target.value)]
    return []


def pattern_captures(pattern: cst.CSTNode) -> tuple[str, ...]:
    """The names a match-statement pattern captures (``case [x, *rest]``, ``case {"k": v, **more}``, ``case str() as s``)."""
    kinds = tuple(getattr(cst, n) for n in ("MatchAs", "MatchStar", "MatchMapping") if hasattr(cst, n))
    names = []
    for node in _nodes_of(pattern, kinds):
        for attr in ("name", "rest"):
            target = getattr(node, attr, None)
            if isinstance(target, cst.Name):
                names.append(target.value)
    return tuple(names)


def _top_level_imports(body: Iterable[cst.CSTNode]) -> Iterable[cst.Import | cst.ImportFrom]:
    """Imports run at import time: the module body and the blocks of its if/try/with statements."""
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    yield small
        elif isinstance(stmt, _BLOCK_STATEMENTS):
            for suite in _blocks(stmt):
                if isinstance(suite, cst.IndentedBlock):
                    yield from _top_level_imports(suite.body)
                elif isinstance(suite, cst.SimpleStatementSuite):
                    yield from (small for small in suite.body if isinstance(small, (cst.Import, cst.ImportFrom)))


class ImportTable:
    """Top-level imports of a module: bound name -> qualified name."""

    def __init__(self, module: cst.Module) -> None:
        self.aliases: dict[str, str] = {}
        self.import_nodes: set[int] = set()  # ids of the ImportAlias nodes read here
        self.star_names: set[str] = set()
        for stmt in _top_level_imports(module.body):
            if isinstance(stmt, cst.ImportFrom) and isinstance(stmt.names, cst.ImportStar) and not stmt.relative:
                if stmt.module is not None and _module_name(stmt.module) == "cat":
                    # The front door's public names; a later import or assignment overrides them.
                    for name in STAR_NAMES:
                        self.aliases.setdefault(name, f"cat.{name}")
                        self.star_names.add(name)
                continue
            for bound, qualified, alias in import_bindings(stmt):
                self.aliases[bound] = qualified
                self.import_nodes.add(id(alias))
        # `ALIAS = user` at module level, ALIAS bound nowhere else at module level: ALIAS is `user`
        # wherever it is read (the assignment itself does not raise; `ALIAS.id` in a hook does).
        self.value_aliases: dict[str, str] = {}
        self.alias_values: set[int] = set()  # ids of those assignments' values
        self._find_value_aliases(module)
        # The optional import: `try: from cat import user` / `except ImportError: user = None`.
        # The fallback runs only where the Cat is absent, so the name is the Cat's `user`.
        self.fallbacks: set[str] = set()
        self.alias_values |= self._find_fallbacks(module)
        # Names whose meaning matters to the rules: the ones bound to the cat package.
        self.cat_names = {name for name, q in self.aliases.items() if q == "cat" or q.startswith("cat.")}

    def _find_fallbacks(self, module: cst.Module) -> set[int]:
        values: set[int] = set()
        for stmt in module.body:
            if not isinstance(stmt, cst.Try):
                continue
            imported = {bound for block in (stmt.body,) for line in block.body
                        if isinstance(line, cst.SimpleStatementLine)
                        for small in line.body if isinstance(small, (cst.Import, cst.ImportFrom))
                        for bound, qualified, _a in import_bindings(small)
                        if qualified == "cat" or qualified.startswith("cat.")}
            for handler in stmt.handlers:
                if not imported or not _catches_import_error(handler):
                    continue
                for line in handler.body.body:
                    if not isinstance(line, cst.SimpleStatementLine):
                        continue
                    for small in line.body:
                        if isinstance(small, cst.Assign) and len(small.targets) == 1 \
                                and isinstance(small.targets[0].target, cst.Name) \
                                and small.targets[0].target.value in imported:
                            self.fallbacks.add(small.targets[0].target.value)
                            values.add(id(small.value))
        return values

    def _find_value_aliases(self, module: cst.Module) -> None:
        counts: dict[str, int] = {}
        candidates: dict[str, cst.BaseExpression] = {}
        for stmt in module.body:
            for bound in _top_level_bindings(stmt):
                counts[bound] = counts.get(bound, 0) + 1
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign):  # `A = user`, `A = B = user`, `A, B = user, x`
                        for target in small.targets:
                            for name, value in bound_values(target.target, small.value):
                                if value is not None:
                                    candidates[name] = value
                    elif isinstance(small, cst.AnnAssign) and small.value is not None \
                            and isinstance(small.target, cst.Name):
                        candidates[small.target.value] = small.value
                    candidates.update(_walrus_bindings(small))
            elif isinstance(stmt, cst.If):
                candidates.update(_walrus_bindings(stmt.test))
        for name, value in candidates.items():
            if counts.get(name) == 1 and name not in self.aliases and self.resolve(value) == "cat.user":
                self.value_aliases[name] = "cat.user"
                self.alias_values.add(id(value))
        self.aliases.update(self.value_aliases)

    def resolve(self, node: cst.BaseExpression) -> str | None:
        if isinstance(node, cst.Name):
            return self.aliases.get(node.value)
        if isinstance(node, cst.Attribute):
            base = self.resolve(node.value)
            return f"{base}.{node.attr.value}" if base is not None else None
        return None


class ScopeResolver:
    """Resolution through libcst's scope analysis, for files where spelling is not enough."""

    def __init__(self, module: cst.Module, table: ImportTable) -> None:
        from libcst.metadata import MetadataWrapper, QualifiedNameSource, ScopeProvider

        self._import = QualifiedNameSource.IMPORT
        # The module was parsed for this run only, so skipping the deep copy keeps node identity.
        self._scopes = MetadataWrapper(module, unsafe_skip_copy=True).resolve(ScopeProvider)
        self._table = table
        # Names some import of the cat package binds, in any scope: only these need resolving.
        self.cat_names = set(table.cat_names) | set(table.star_names)
        for scope in set(self._scopes.values()):
            if scope is None:
                continue
            for assignment in scope.assignments:
                node = getattr(assignment, "node", None)
                if isinstance(node, (cst.Import, cst.ImportFrom)):
                    for bound, qualified, _alias in import_bindings(node):
                        if qualified == "cat" or qualified.startswith("cat."):
                            self.cat_names.add(bound)

        # libcst's scope analysis does not see the names that match-statement
        # patterns capture (`case [*user]:`, `case {"k": user}`, `case str() as user`):
        # they are collected here, per scope, and hide the import as any binding would.
        self._captured: dict[object, set[str]] = {}
        kinds = tuple(getattr(cst, n) for n in ("MatchAs", "MatchStar", "MatchMapping") if hasattr(cst, n))
        if kinds:
            for capture in _nodes_of(module, kinds):
                for attr in ("name", "rest"):
                    target = getattr(capture, attr, None)
                    if isinstance(target, cst.Name) and target.value in self.cat_names:
                        self._captured.setdefault(self._scopes.get(capture), set()).add(target.value)
        # Nor that `(name := v)` inside a comprehension binds in the scope around it (PEP 572).
        from libcst.metadata import ComprehensionScope

        for named in _nodes_of(module, (cst.NamedExpr,)):
            target = named.target
            scope = self._scopes.get(named)
            if isinstance(target, cst.Name) and target.value in self.cat_names and isinstance(scope, ComprehensionScope):
                while isinstance(scope, ComprehensionScope):
                    scope = scope.parent
                self._captured.setdefault(scope, set()).add(target.value)

    def _captured_in_scope(self, node: cst.BaseExpression, scope) -> bool:
        """Whether the name under ``node`` is a pattern capture of the scope that resolves it."""
        base = node
        while isinstance(base, cst.Attribute):
            base = base.value
        if not isinstance(base, cst.Name):
            return False
        from libcst.metadata import ClassScope

        current, first = scope, True
        while current is not None:
            if not (isinstance(current, ClassScope) and not first):  # methods do not see class names
                if base.value in self._captured.get(current, ()):
                    return True
                if current.assignments[base.value]:
                    return False  # bound here another way: the scope analysis decides
            parent = getattr(current, "parent", None)
            current, first = (None if parent is current else parent), False
        return False

    def resolve(self, node: cst.BaseExpression) -> str | None:
        scope = self._scopes.get(node)
        if scope is None:
            return None
        if self._captured and self._captured_in_scope(node, scope):
            return None
        try:
            names = scope.get_qualified_names_for(node)
        except Exception:  # libcst cannot name every expression; those are not ours
            return None
        if not names:
            # Bound nowhere: a builtin, or a name that ``from cat import *`` brings in.
            base = node
            while isinstance(base, cst.Attribute):
                base = base.value
            if isinstance(base, cst.Name) and base.value in self._table.star_names:
                return self._table.resolve(node)
            return None
        if len(names) != 1:
            imports = [n for n in names if n.source is self._import]
            base = node
            while isinstance(base, cst.Attribute):
                base = base.value
            if len(imports) == 1 and isinstance(base, cst.Name) and base.value in self._table.fallbacks \
                    and all(n.name.split(".")[0] == base.value for n in names if n.source is not self._import):
                return imports[0].name  # the optional import's fallback (`except ImportError: user = None`)
            return None  # bound several ways (an import and a local): not provably the Cat's
        (only,) = names
        if only.source is not self._import:
            return self._table.value_aliases.get(only.name)  # `ALIAS = user` at module level
        return only.name


def _nodes_of(module: cst.CSTNode, kinds: tuple[type, ...], skip: tuple[type, ...] = ()) -> list[cst.CSTNode]:
    """Every node of the given types, in document order (not looking inside ``skip`` nodes)."""
    found: list[cst.CSTNode] = []

    class _Finder(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, kinds):
                found.append(node)
            return not (skip and isinstance(node, skip))

    module.visit(_Finder())
    return found
