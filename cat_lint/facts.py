"""One walk over a module that gathers every fact the rules need.

The rules never walk the tree themselves: a single pass records the store
calls, each use of ``user`` with the place it runs in, the functions (hooks,
endpoints, what they call and return), and local assignments.  Then each
rule reads these facts.  One walk for all rules is what keeps the linter
close to the cost of parsing.

The walk is a small hand-written traversal rather than a ``CSTVisitor``:
libcst's visitor rebuilds every node it passes, and visiting whitespace and
punctuation nodes costs more than the parse; this walker follows only
the fields that hold code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Iterator

import libcst as cst

from cat_lint.name_resolution import STORES, VERBS, ImportTable, ScopeResolver, bound_values, import_bindings, target_names

# Calls that take a coroutine and run it: a coroutine passed to them is not lost.
AWAITABLE_CONSUMERS = frozenset({
    "gather", "create_task", "ensure_future", "wait", "wait_for", "shield", "run", "run_until_complete",
    "as_completed", "run_coroutine_threadsafe", "start_soon", "spawn", "add_task", "timeout",
})
HOOK_DECORATORS = frozenset({"cat.hook", "cat.mad_hatter.decorators.hook"})
ENDPOINT_METHODS = {"get": "GET", "post": "POST", "put": "PUT", "patch": "PATCH", "delete": "DELETE", "endpoint": "ANY"}
ENDPOINT_OBJECTS = frozenset({"cat.endpoint", "cat.mad_hatter.decorators.endpoint"})


@dataclass(eq=False)
class EndpointInfo:
    method: str
    path: str | None
    open: bool  # declared without role= (or role=None)
    decorator: cst.Call | None


@dataclass(eq=False)
class FunctionInfo:
    """A ``def`` with what the rules need to know about it."""

    node: cst.FunctionDef
    name: str
    is_async: bool
    parent: FunctionInfo | None
    top_level: bool
    hook_name: str | None = None
    endpoint: EndpointInfo | None = None
    calls: list[tuple[str, cst.Call]] = field(default_factory=list)
    returns: list[cst.BaseExpression] = field(default_factory=list)
    assigns: dict[str, list[cst.BaseExpression | None]] = field(default_factory=dict)
    local_defs: dict[str, FunctionInfo] = field(default_factory=dict)
    awaited_names: set[str] = field(default_factory=set)
    handed_names: set[str] = field(default_factory=set)

    def chain(self):
        info: FunctionInfo | None = self
        while info is not None:
            yield info
            info = info.parent


@dataclass(frozen=True)
class ImportPlace:
    """Code that runs at import time: ``kind`` is module, class, decorator or default."""

    kind: str
    owner: str = ""  # the class or function it belongs to
    detail: str = ""  # the parameter, for defaults

    def short(self) -> str:
        """The place as the start of a call chain."""
        return {
            "module": "the module's top level",
            "class": f"the body of class `{self.owner}`",
            "decorator": f"a decorator of `{self.owner}`",
        }.get(self.kind, f"a default value of `{self.owner}`")

    def describe(self) -> str:
        if self.kind == "module":
            return "at module level, which runs at import time"
        if self.kind == "class":
            return f"in the body of class `{self.owner}`, which runs at import time"
        if self.kind == "decorator":
            return f"in a decorator of `{self.owner}`, evaluated at import time"
        return f"in the default value of parameter `{self.detail}` of `{self.owner}`, evaluated at import time"


@dataclass(eq=False)
class UserRef:
    node: cst.BaseExpression
    func: FunctionInfo | None  # innermost enclosing def (None: module or class level)
    place: ImportPlace | None  # set when the use runs at import time
    deferred: bool  # inside a lambda whose body runs later
    accessed: bool = False  # an attribute of it is read (`user.id`, `user.save`): only that raises


@dataclass(eq=False)
class StoreCall:
    node: cst.Call
    scope: str  # "store" or "user"
    verb: str
    receiver: str  # how the code spells the object, e.g. ``store`` or ``cat.user``
    key: cst.BaseExpression | None
    value: cst.BaseExpression | None  # save's value
    fn: cst.BaseExpression | None  # update's function
    func: FunctionInfo | None
    role: str | None  # "statement", "assign", "awaited" or None (used as a value)
    assigned_names: tuple[str, ...] = ()  # the names an "assign" binds it to (`a = b = call`, `(a := call)`)
    deferred: bool = False


@dataclass(eq=False)
class ModuleFacts:
    module: cst.Module
    source: str
    table: ImportTable
    store_calls: list[StoreCall] = field(default_factory=list)
    user_refs: list[UserRef] = field(default_factory=list)
    functions: list[FunctionInfo] = field(default_factory=list)
    module_functions: dict[str, FunctionInfo] = field(default_factory=dict)
    import_calls: list[tuple[str, cst.Call, ImportPlace]] = field(default_factory=list)
    module_assigns: dict[str, list[cst.BaseExpression | None]] = field(default_factory=dict)
    bound_names: set[str] = field(default_factory=set)
    resolve: Callable[[cst.BaseExpression], str | None] = lambda node: None
    used_scope: bool = False
    # Every statement in document order, and id(node) -> index of the innermost statement
    # holding it: positions are computed statement by statement (see cat_lint.positions).
    units: list[cst.CSTNode] = field(default_factory=list)
    tops: dict[int, int] = field(default_factory=dict)

    def resolve_builtin(self, node: cst.BaseExpression) -> str | None:
        """Qualified name through imports, or ``builtins.x`` for a name the module never binds."""
        if isinstance(node, cst.Name):
            if node.value in self.table.aliases:
                return self.table.aliases[node.value]
            return None if node.value in self.bound_names else f"builtins.{node.value}"
        return self.table.resolve(node)

    def assignments(self, func: FunctionInfo | None) -> dict[str, list[cst.BaseExpression | None]]:
        return func.assigns if func is not None else self.module_assigns


# Node types whose fields never hold code worth walking.
_SKIP = (
    cst.BaseParenthesizableWhitespace, cst.Comma, cst.LeftParen, cst.RightParen, cst.EmptyLine, cst.Newline,
    cst.TrailingWhitespace, cst.Colon, cst.Dot, cst.AssignEqual, cst.Semicolon, cst.BaseBinaryOp, cst.BaseBooleanOp,
    cst.BaseCompOp, cst.BaseUnaryOp, cst.BaseAugOp, cst.LeftSquareBracket, cst.RightSquareBracket,
    cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.ImportStar, cst.Asynchronous, cst.Annotation,
)
_UNITS = frozenset(
    getattr(cst, name)
    for name in (
        "SimpleStatementLine", "SimpleStatementSuite", "FunctionDef", "ClassDef", "If", "For", "While", "With",
        "Try", "TryStar", "Match",
    )
    if hasattr(cst, name)
)
_SKIPPED: dict[type, bool] = {}  # concrete type -> not walked (isinstance on libcst's ABCs is slow)


def _skipped(kind: type) -> bool:
    skip = _SKIPPED.get(kind)
    if skip is None:
        skip = _SKIPPED[kind] = not issubclass(kind, cst.CSTNode) or issubclass(kind, _SKIP)
    return skip

_NOT_CODE = frozenset({"lpar", "rpar", "leading_lines", "lines_after_decorators", "header", "footer", "comma", "semicolon", "newline"})
_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(
            f.name for f in dataclasses.fields(cls) if not f.name.startswith("whitespace") and f.name not in _NOT_CODE
        )
    return names


def code_nodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """``node`` and every node under it that holds code, in document order.

    Follows the same fields as the collector's walk: whitespace, brackets
    and operators are left out, which makes it several times cheaper than
    libcst's ``children`` (which builds every child node list through a
    visitor).  Lambdas, comprehensions and nested functions are included.
    """
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        below: list[cst.CSTNode] = []
        for name in _fields(type(current)):
            value = getattr(current, name)
            kind = type(value)
            if kind is tuple or kind is list:
                below.extend(item for item in value if not _skipped(type(item)))
            elif not _skipped(kind):
                below.append(value)
        stack.extend(reversed(below))


class _NeedScope(Exception):
    """Raised by the fast pass when a ``cat`` name is shadowed: start over with scope analysis."""


class Collector:
    """The single walk: fills a ``ModuleFacts``.

    Without ``resolver`` it runs the fast path (imports by spelling, function
    locals tracked here) and raises ``_NeedScope`` when a ``cat`` name is
    bound somewhere that path cannot follow; ``collect`` then walks again
    with a ``ScopeResolver``.
    """

    def __init__(self, module: cst.Module, source: str, resolver: ScopeResolver | None = None) -> None:
        table = ImportTable(module)
        self.facts = ModuleFacts(module, source, table)
        self.table = table
        self.cat_names = table.cat_names if resolver is None else resolver.cat_names
        self.fast = resolver is None
        self.resolve = table.resolve if resolver is None else resolver.resolve
        self.facts.resolve = self.resolve
        self.facts.used_scope = not self.fast
        self.func: FunctionInfo | None = None
        self.place: ImportPlace | None = ImportPlace("module")
        self.lambda_depth = 0
        self.roles: dict[int, tuple[str, tuple[str, ...] | None]] = {}
        self.consumed: set[int] = set()  # generator expressions iterated where they stand (a call's arguments)
        self.unit = -1  # index in facts.units of the innermost statement being walked
        # Fast path only: the local names of the enclosing functions and lambdas (innermost last),
        # and the uses of cat names to drop if one of those turns out to shadow them.
        self.scopes: list[set[str]] = []
        self.class_body = False
        self.pending: list[tuple[object, str, tuple[set[str], ...]]] = []
        self.tops = self.facts.tops
        self.dispatch = {
            cst.FunctionDef: self._function,
            cst.ClassDef: self._class,
            cst.Lambda: self._lambda,
            cst.Call: self._call,
            cst.Await: self._await,
            cst.Name: self._name,
            cst.Attribute: self._attribute,
            cst.Import: self._import,
            cst.ImportFrom: self._import,
            cst.Assign: self._assign,
            cst.AnnAssign: self._ann_assign,
            cst.AugAssign: self._aug_assign,
            cst.Expr: self._expr,
            cst.Return: self._return,
            cst.Arg: self._arg,
            cst.For: self._for,
            cst.CompFor: self._comp_for,
            cst.WithItem: self._with_item,
            cst.ExceptHandler: self._except,
            cst.NamedExpr: self._named_expr,
            cst.GeneratorExp: self._generator,
            cst.Global: self._global,
            cst.Del: self._del,
            cst.Nonlocal: self._global,
            cst.Param: self._param,
        }
        for name in ("MatchAs", "MatchStar", "MatchMapping"):
            kind = getattr(cst, name, None)
            if kind is not None:
                self.dispatch[kind] = self._match_capture

    # -- traversal --------------------------------------------------------
    def run(self) -> ModuleFacts:
        for stmt in self.facts.module.body:
            self.walk(stmt)
        if self.pending:
            # Now that every function's locals are known, drop what a local shadows.
            shadowed = {id(item) for item, base, chain in self.pending if any(base in scope for scope in chain)}
            if shadowed:
                facts = self.facts
                facts.user_refs = [r for r in facts.user_refs if id(r) not in shadowed]
                facts.store_calls = [c for c in facts.store_calls if id(c) not in shadowed]
        return self.facts

    def walk(self, node: cst.CSTNode) -> None:
        kind = type(node)
        if kind in _UNITS:
            # Statements are numbered in document order; positions are computed per statement.
            units = self.facts.units
            units.append(node)
            if kind is not cst.SimpleStatementSuite:
                saved, self.unit = self.unit, len(units) - 1
                try:
                    self._walk(node)
                finally:
                    self.unit = saved
                return
        self._walk(node)

    def _walk(self, node: cst.CSTNode) -> None:
        self.tops[id(node)] = self.unit
        handler = self.dispatch.get(type(node))
        if handler is not None:
            handler(node)
        else:
            self.children(node)

    def children(self, node: cst.CSTNode) -> None:
        for name in _fields(type(node)):
            value = getattr(node, name)
            kind = type(value)
            if kind is tuple or kind is list:
                for item in value:
                    if not _skipped(type(item)):
                        self.walk(item)
            elif not _skipped(kind):
                self.walk(value)

    # -- bindings -----------------------------------------------------------
    def bind(self, name: str, value: cst.BaseExpression | None = None, simple: bool = True, record: bool = True) -> None:
        """``name`` is bound here (to ``value`` when the form binds it to that expression itself).

        ``record=False`` for what binds no local of the function being walked: a
        comprehension's own variables, and ``global``/``nonlocal`` declarations.
        """
        self.facts.bound_names.add(name)
        if self.fast and name in self.cat_names and not (
                value is not None and id(value) in self.table.alias_values and not self.scopes):
            # (the module-level `ALIAS = user` that makes ALIAS an alias is the table's, not a rebinding)
            # A function's own binding (parameter, local) shadows the import in that function only:
            # the fast path handles it. Anything else (module or class level, comprehension
            # targets, global/nonlocal) is left to libcst's scope analysis.
            if not simple or not self.scopes or self.class_body:
                raise _NeedScope(name)
            self.scopes[-1].add(name)
        if self.lambda_depth or not record:
            return
        assigns = self.facts.assignments(self.func) if self.place is None or self.place.kind == "module" else {}
        assigns.setdefault(name, []).append(value)

    def bind_target(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        """Bind the names of an assignment target, each to its part of ``value`` when the
        shapes match (``a, b = x, y``); walk the parts that are reads (``a.b``, ``a[i]``)."""
        if isinstance(target, cst.Name):
            self.bind(target.value, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            parts = dict(bound_values(target, value))
            for element in target.elements:
                if isinstance(element.value, cst.Name):
                    self.bind(element.value.value, parts.get(element.value.value))
                else:
                    self.bind_target(element.value, None)
        elif isinstance(target, cst.StarredElement):
            self.bind_target(target.value, None)
        else:
            self.walk(target)

    # -- handlers -----------------------------------------------------------
    def _import(self, node: cst.Import | cst.ImportFrom) -> None:
        for bound, qualified, alias in import_bindings(node):
            if id(alias) in self.table.import_nodes:
                self.facts.bound_names.add(bound)
                continue
            if self.fast and (qualified == "cat" or qualified.startswith("cat.")):
                raise _NeedScope(bound)
            self.bind(bound, None)

    def _global(self, node) -> None:
        for item in node.names:
            # A declaration: the name is another scope's, so what the function binds to it is handed on.
            self.bind(item.name.value, None, simple=False, record=False)
            if self.func is not None:
                self.func.handed_names.add(item.name.value)

    def _del(self, node: cst.Del) -> None:
        for name in target_names(node.target):
            self.bind(name, None)
        if not isinstance(node.target, (cst.Name, cst.Tuple, cst.List)):
            self.walk(node.target)

    def _match_capture(self, node) -> None:
        for attr in ("name", "rest"):
            target = getattr(node, attr, None)
            if isinstance(target, cst.Name):
                self.bind(target.value, None)
        for name in _fields(type(node)):
            if name in ("name", "rest"):
                continue
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode) and not isinstance(value, _SKIP):
                self.walk(value)
            elif isinstance(value, (tuple, list)):
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        self.walk(item)

    def _param(self, node: cst.Param) -> None:  # reached for lambdas; defs handle params themselves
        self.bind(node.name.value, None)
        if node.default is not None:
            self.walk(node.default)

    def _give_role(self, value: cst.BaseExpression, role: tuple[str, str | None]) -> None:
        """What happens to a statement's or an assignment's value happens to the calls that make it.

        Both branches of ``a if c else b``, and the elements of a list, set
        or dict comprehension: ``[store.save(k, 1) for k in ks]`` as a
        statement drops every coroutine it creates.
        """
        if isinstance(value, cst.Call):
            self.roles[id(value)] = role
        elif isinstance(value, cst.IfExp):
            self._give_role(value.body, role)
            self._give_role(value.orelse, role)
        elif isinstance(value, (cst.ListComp, cst.SetComp)):
            self._give_role(value.elt, role)
        elif isinstance(value, cst.DictComp):
            self._give_role(value.key, role)
            self._give_role(value.value, role)

    def _assign(self, node: cst.Assign) -> None:
        value = node.value
        # Every target gets the value (`a = b = v`), each name its part of it (`a, b = v, w`).
        held: dict[int, tuple[cst.BaseExpression, list[str]]] = {}
        for target in node.targets:
            for name, part in bound_values(target.target, value):
                if part is not None:
                    held.setdefault(id(part), (part, []))[1].append(name)
        for part, names in held.values():
            self._give_role(part, ("assign", tuple(names)))
        self.walk(value)
        for target in node.targets:
            self.bind_target(target.target, value)

    def _ann_assign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            if isinstance(node.target, cst.Name):
                self._give_role(node.value, ("assign", (node.target.value,)))
            self.walk(node.value)
        if isinstance(node.target, cst.Name):
            self.bind(node.target.value, node.value)
        else:
            self.walk(node.target)

    def _aug_assign(self, node: cst.AugAssign) -> None:
        self.walk(node.value)
        if isinstance(node.target, cst.Name):
            self.bind(node.target.value, None)
        else:
            self.walk(node.target)

    def _for(self, node: cst.For) -> None:
        self.walk(node.iter)
        self.bind_target(node.target, None)
        self.walk(node.body)
        if node.orelse is not None:
            self.walk(node.orelse)

    def _comp_for(self, node: cst.CompFor) -> None:
        self.walk(node.iter)
        for name in target_names(node.target):
            self.bind(name, None, simple=False, record=False)  # the comprehension's own variables
        for condition in node.ifs:
            self.walk(condition.test)
        if node.inner_for_in is not None:
            self.walk(node.inner_for_in)

    def _with_item(self, node: cst.WithItem) -> None:
        self.walk(node.item)
        if node.asname is not None:
            self.bind_target(node.asname.name, None)

    def _except(self, node: cst.ExceptHandler) -> None:
        if node.type is not None:
            self.walk(node.type)
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self.bind(node.name.name.value, None)
        self.walk(node.body)

    def _named_expr(self, node: cst.NamedExpr) -> None:
        """``(name := value)`` binds in the enclosing function, also from inside a comprehension."""
        if isinstance(node.target, cst.Name) and id(node.value) not in self.roles:
            self._give_role(node.value, ("assign", (node.target.value,)))
        self.walk(node.value)
        if isinstance(node.target, cst.Name):
            self.bind(node.target.value, node.value)

    def _generator(self, node: cst.GeneratorExp) -> None:
        """A generator expression runs its first iterable now, and the rest when it is iterated:
        at once when it is a call's argument (``list(...)``, ``gather(*(...))``), else later."""
        if id(node) in self.consumed:
            self.children(node)
            return
        first = node.for_in
        self.walk(first.iter)
        self.lambda_depth += 1
        try:
            for name in target_names(first.target):
                self.bind(name, None, simple=False, record=False)
            for condition in first.ifs:
                self.walk(condition.test)
            if first.inner_for_in is not None:
                self.walk(first.inner_for_in)
            self.walk(node.elt)
        finally:
            self.lambda_depth -= 1

    def _expr(self, node: cst.Expr) -> None:
        self._give_role(node.value, ("statement", None))
        self.walk(node.value)

    def _await(self, node: cst.Await) -> None:
        expr = node.expression
        while isinstance(expr, cst.NamedExpr):  # `await (pending := store.load(k))`
            if isinstance(expr.target, cst.Name) and self.func is not None:
                self.func.awaited_names.add(expr.target.value)
            expr = expr.value
        if isinstance(expr, cst.Call):
            self.roles[id(expr)] = ("awaited", None)
        elif isinstance(expr, cst.Name) and self.func is not None:
            self.func.awaited_names.add(expr.value)
        self.walk(expr)

    def _return(self, node: cst.Return) -> None:
        if node.value is not None:
            if self.func is not None and not self.lambda_depth:
                self.func.returns.append(node.value)
                if isinstance(node.value, cst.Name):
                    self.func.handed_names.add(node.value.value)
            self.walk(node.value)

    def _arg(self, node: cst.Arg) -> None:
        self.walk(node.value)

    def _name(self, node: cst.Name) -> None:
        if node.value in self.cat_names:
            if self.resolve(node) == "cat.user":
                self._user_ref(node)

    def _attribute(self, node: cst.Attribute) -> None:
        base = node.value
        while isinstance(base, cst.Attribute):
            base = base.value
        if isinstance(base, cst.Name) and base.value in self.cat_names:
            value = node.value
            if (isinstance(value, cst.Name) or (isinstance(value, cst.Attribute) and isinstance(value.value, cst.Name))) \
                    and self.resolve(value) == "cat.user":
                self._user_ref(value, accessed=True)  # `user.id`, `cat.user.save`: this raises outside a request
                return
            if isinstance(node.value, cst.Name) and self.resolve(node) == "cat.user":
                self._user_ref(node)
                return
        self.walk(node.value)

    def _visible(self, base: str) -> bool:
        """Whether a cat name is not shadowed by an enclosing function seen so far (decorators only)."""
        return not self.fast or not any(base in scope for scope in self.scopes)

    def _user_ref(self, node: cst.BaseExpression, accessed: bool = False) -> None:
        place = self.place if self.func is None and not self.lambda_depth else None
        ref = UserRef(node, self.func, place, bool(self.lambda_depth), accessed)
        self.facts.user_refs.append(ref)
        if self.fast and self.scopes:
            self.pending.append((ref, _base_name(node), tuple(self.scopes)))

    def _call(self, node: cst.Call) -> None:
        func = node.func
        role = self.roles.pop(id(node), (None, None))
        if isinstance(func, cst.Attribute) and func.attr.value in VERBS:
            qualified = self.resolve(func.value)
            scope = STORES.get(qualified or "")
            if scope is not None:
                self._store_call(node, scope, func.attr.value, func.value, role)
        elif isinstance(func, cst.Name):
            if self.func is not None:
                self.func.calls.append((func.value, node))
            elif not self.lambda_depth and self.place is not None:
                self.facts.import_calls.append((func.value, node, self.place))
        if isinstance(func, cst.Lambda):
            self._lambda(func, called=True)  # `(lambda: user.id)()` in a decorator runs at import time
        else:
            self.walk(func)
        if self.func is not None:
            last = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
            if last in AWAITABLE_CONSUMERS:
                for arg in node.args:
                    if isinstance(arg.value, cst.Name):
                        self.func.handed_names.add(arg.value.value)
        for arg in node.args:
            if type(arg.value) is cst.GeneratorExp:
                self.consumed.add(id(arg.value))
            self.walk(arg.value)

    def _store_call(self, node: cst.Call, scope: str, verb: str, receiver: cst.BaseExpression, role) -> None:
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        keywords = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        key = positional[0] if positional else keywords.get("key")
        second = positional[1] if len(positional) > 1 else None
        value = (second if second is not None else keywords.get("value")) if verb == "save" else None
        fn = (second if second is not None else keywords.get("fn")) if verb == "update" else None
        spelled = _spell(receiver)
        call = StoreCall(node, scope, verb, spelled, key, value, fn, self.func, role[0], role[1] or (), bool(self.lambda_depth))
        self.facts.store_calls.append(call)
        if self.fast and self.scopes:
            self.pending.append((call, _base_name(receiver), tuple(self.scopes)))

    def _lambda(self, node: cst.Lambda, called: bool = False) -> None:
        """A lambda's body runs later, except when it is called where it stands: ``(lambda: ...)()``."""
        params = node.params
        for param in _all_params(params):
            if param.default is not None:
                self.walk(param.default)
        self.lambda_depth += 1
        self.scopes.append(set())
        saved_class, self.class_body = self.class_body, False
        try:
            for param in _all_params(params):
                self.bind(param.name.value, None)
            if called:
                self.lambda_depth -= 1
                try:
                    self.walk(node.body)
                finally:
                    self.lambda_depth += 1
            else:
                self.walk(node.body)
        finally:
            self.lambda_depth -= 1
            self.scopes.pop()
            self.class_body = saved_class

    def _decorator_info(self, info: FunctionInfo, decorator: cst.BaseExpression) -> None:
        call = decorator if isinstance(decorator, cst.Call) else None
        target = call.func if call is not None else decorator
        qualified = self.resolve(target) if self._visible(_base_name(target)) else None
        if qualified is None:
            return
        if qualified in HOOK_DECORATORS:
            name = info.name
            if call is not None:
                for arg in call.args:
                    if arg.keyword is None and isinstance(arg.value, cst.SimpleString):
                        text = arg.value.evaluated_value
                        if isinstance(text, str):
                            name = text
                        break
                    if arg.keyword is not None and arg.keyword.value == "name" and isinstance(arg.value, cst.SimpleString):
                        text = arg.value.evaluated_value
                        if isinstance(text, str):
                            name = text
            info.hook_name = name
            return
        method = None
        if qualified in ENDPOINT_OBJECTS and call is not None:
            method = "ANY"
        elif "." in qualified:
            owner, _, attr = qualified.rpartition(".")
            if owner in ENDPOINT_OBJECTS and attr in ENDPOINT_METHODS and call is not None:
                method = ENDPOINT_METHODS[attr]
        if method is None or call is None:
            return
        path = None
        role_value: cst.BaseExpression | None = None
        has_role = False
        for arg in call.args:
            if arg.keyword is None and path is None and isinstance(arg.value, cst.SimpleString):
                text = arg.value.evaluated_value
                path = text if isinstance(text, str) else None
            elif arg.keyword is not None and arg.keyword.value == "role":
                has_role, role_value = True, arg.value
            elif arg.keyword is not None and arg.keyword.value == "path" and isinstance(arg.value, cst.SimpleString):
                text = arg.value.evaluated_value
                path = text if isinstance(text, str) else None
            elif arg.star:
                has_role = True  # **options may carry a role; give the benefit of the doubt
        is_open = not has_role or (isinstance(role_value, cst.Name) and role_value.value == "None")
        info.endpoint = EndpointInfo(method, path, is_open, call)

    def _function(self, node: cst.FunctionDef) -> None:
        outer_place = self.place
        name = node.name.value
        info = FunctionInfo(node, name, node.asynchronous is not None, self.func, self.func is None and (outer_place is not None and outer_place.kind == "module"))
        # Decorators and defaults run where the def statement runs.
        for decorator in node.decorators:
            if self.func is None and outer_place is not None:
                self.place = ImportPlace("decorator", name)
            self.walk(decorator.decorator)
            self._decorator_info(info, decorator.decorator)
        for param in _all_params(node.params):
            if param.default is not None:
                if self.func is None and outer_place is not None:
                    self.place = ImportPlace("default", name, param.name.value)
                self.walk(param.default)
        self.place = outer_place
        self.bind(name, None)
        if info.top_level:
            self.facts.module_functions[name] = info
        elif self.func is not None:
            self.func.local_defs[name] = info
        self.facts.functions.append(info)
        saved_func, saved_place, saved_lambda, saved_class = self.func, self.place, self.lambda_depth, self.class_body
        self.func, self.place, self.lambda_depth, self.class_body = info, None, 0, False
        self.scopes.append(set())
        try:
            for param in _all_params(node.params):
                self.bind(param.name.value, None)
            self.walk(node.body)
        finally:
            self.func, self.place, self.lambda_depth, self.class_body = saved_func, saved_place, saved_lambda, saved_class
            self.scopes.pop()

    def _class(self, node: cst.ClassDef) -> None:
        outer_place = self.place
        name = node.name.value
        for decorator in node.decorators:
            if self.func is None and outer_place is not None:
                self.place = ImportPlace("decorator", name)
            self.walk(decorator.decorator)
        self.place = outer_place
        for arg in node.bases:
            self._arg(arg)
        for arg in node.keywords:
            self._arg(arg)
        self.bind(name, None)
        if self.func is None and outer_place is not None:
            self.place = ImportPlace("class", name)
        saved_class, self.class_body = self.class_body, True
        try:
            self.walk(node.body)
        finally:
            self.place = outer_place
            self.class_body = saved_class


def _all_params(params: cst.Parameters):
    yield from params.posonly_params
    yield from params.params
    if isinstance(params.star_arg, cst.Param):
        yield params.star_arg
    yield from params.kwonly_params
    if params.star_kwarg is not None:
        yield params.star_kwarg


def _base_name(node: cst.BaseExpression) -> str:
    while isinstance(node, cst.Attribute):
        node = node.value
    return node.value if isinstance(node, cst.Name) else ""


def _spell(node: cst.BaseExpression) -> str:
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
    return ".".join(reversed(parts)) or "store"


def collect(module: cst.Module, source: str) -> ModuleFacts:
    """Gather the facts of one module; fall back to scope analysis when spelling would mislead."""
    try:
        return Collector(module, source).run()
    except _NeedScope:
        table = ImportTable(module)
        return Collector(module, source, ScopeResolver(module, table)).run()
