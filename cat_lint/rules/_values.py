"""What can be seen of a value in the source: the shared analysis of CAT002 and CAT003.

``inspect_value`` walks a value expression (the value passed to ``save``, or
what an ``update`` function returns) through list, tuple and dict literals,
and through a local name assigned exactly once, and yields each part that is
not JSON (CAT002) or will not load back as saved (CAT003), with the path to
it as the runtime's error names it: ``value["items"][2]``.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from typing import Iterator

import libcst as cst

from cat_lint.facts import FunctionInfo, ModuleFacts, StoreCall
from cat_lint.rules._base import literal_text

# Calls (by qualified name) whose result is not JSON, and what it is.
_NOT_JSON_CALLS = {
    "builtins.set": "a set",
    "builtins.frozenset": "a frozenset",
    "builtins.bytes": "bytes",
    "builtins.bytearray": "a bytearray",
    "builtins.memoryview": "a memoryview",
    "builtins.complex": "a complex number",
    "builtins.object": "an object",
    "builtins.range": "a range",
}
_NOT_JSON_TYPES = {
    "datetime.datetime": "a datetime",
    "datetime.date": "a date",
    "datetime.time": "a time",
    "datetime.timedelta": "a timedelta",
    "decimal.Decimal": "a Decimal",
    "uuid.UUID": "a UUID",
    "pathlib.Path": "a Path",
    "pathlib.PurePath": "a Path",
    "pathlib.PosixPath": "a Path",
    "pathlib.WindowsPath": "a Path",
    "pathlib.PurePosixPath": "a Path",
    "pathlib.PureWindowsPath": "a Path",
    "fractions.Fraction": "a Fraction",
}
_FACTORIES = {
    "datetime.datetime": {"now", "utcnow", "today", "fromtimestamp", "utcfromtimestamp", "fromisoformat", "strptime", "combine", "fromordinal"},
    "datetime.date": {"today", "fromtimestamp", "fromisoformat", "fromordinal"},
    "datetime.time": {"fromisoformat"},
    "pathlib.Path": {"cwd", "home"},
}
_UUID_FACTORIES = {"uuid.uuid1", "uuid.uuid3", "uuid.uuid4", "uuid.uuid5"}
_NAN = {"nan": "NaN", "+nan": "NaN", "-nan": "NaN", "inf": "infinite", "+inf": "infinite", "-inf": "infinite",
        "infinity": "infinite", "+infinity": "infinite", "-infinity": "infinite"}
_MATH = {"math.nan": "NaN", "math.inf": "infinite", "numpy.nan": "NaN", "numpy.inf": "infinite", "cmath.nan": "NaN", "cmath.inf": "infinite"}


@dataclass(frozen=True)
class Problem:
    node: cst.BaseExpression
    where: str
    kind: str  # "not-json" or "lossy"
    what: str  # "is a set", "is a tuple", "has the non-string key 1"
    through: str | None = None  # the local name the value was reached through


def _key_path(key: cst.BaseExpression) -> str | None:
    text = literal_text(key)
    if text is not None:
        return json.dumps(text, ensure_ascii=False)
    if isinstance(key, (cst.Integer, cst.Float)):
        return key.value
    if isinstance(key, cst.Name) and key.value in ("True", "False", "None"):
        return key.value
    return None


def _non_string_key(key: cst.BaseExpression) -> str | None:
    """The key's source text when it is a literal that is not a string (it loads back as a string)."""
    if isinstance(key, (cst.Integer, cst.Float)):
        return key.value
    if isinstance(key, cst.UnaryOperation) and isinstance(key.expression, (cst.Integer, cst.Float)) and isinstance(key.operator, cst.Minus):
        return "-" + key.expression.value
    if isinstance(key, cst.Name) and key.value in ("True", "False", "None"):
        return key.value
    return None


def _json_key(key: cst.BaseExpression) -> str | None:
    """The string a literal dict key becomes in JSON (``1`` and ``"1"`` both ``"1"``), or ``None`` when not literal."""
    text = literal_text(key)
    if text is not None:
        return text
    source = _non_string_key(key)
    if source is None:
        return None
    try:
        return json.dumps(ast.literal_eval(source))
    except (ValueError, SyntaxError):
        return None


def _call_problem(node: cst.Call, facts: ModuleFacts) -> str | None:
    func = node.func
    qualified = facts.resolve_builtin(func) if isinstance(func, cst.Name) else facts.table.resolve(func)
    if qualified is None:
        return None
    if qualified in _NOT_JSON_CALLS:
        return _NOT_JSON_CALLS[qualified]
    if qualified in _NOT_JSON_TYPES:
        return _NOT_JSON_TYPES[qualified]
    if qualified in _UUID_FACTORIES:
        return "a UUID"
    owner, _, attr = qualified.rpartition(".")
    if owner in _FACTORIES and attr in _FACTORIES[owner]:
        return _NOT_JSON_TYPES.get(owner)
    if qualified == "builtins.float" and len(node.args) == 1:
        text = literal_text(node.args[0].value)
        if text is not None and text.strip().lower() in _NAN:
            kind = _NAN[text.strip().lower()]
            return "NaN" if kind == "NaN" else ("-Infinity" if text.strip().startswith("-") else "Infinity")
    return None


#: Deeper than Python's parser lets brackets nest (200), so every value it accepts is inspected whole.
MAX_DEPTH = 250


def _infinite(node: cst.BaseExpression, facts: ModuleFacts) -> bool:
    """``math.inf`` and friends, or a float literal too large to be finite (``1e999``)."""
    if isinstance(node, cst.Float):
        try:
            return float(node.value.replace("_", "")) == float("inf")
        except ValueError:
            return False
    return isinstance(node, cst.Attribute) and _MATH.get(facts.table.resolve(node) or "") == "infinite"


def _what(description: str) -> str:
    return f"is {description}"


def inspect_value(
    node: cst.BaseExpression,
    where: str,
    facts: ModuleFacts,
    func: FunctionInfo | None,
    through: str | None = None,
    depth: int = 0,
) -> Iterator[Problem]:
    if depth > MAX_DEPTH:
        return
    if isinstance(node, (cst.Set, cst.SetComp)):
        yield Problem(node, where, "not-json", "is a set", through)
    elif isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        prefix = node.prefix if isinstance(node, cst.SimpleString) else ""
        if isinstance(node, cst.ConcatenatedString):
            left = node.left
            prefix = left.prefix if isinstance(left, cst.SimpleString) else ""
        if "b" in prefix.lower():
            yield Problem(node, where, "not-json", "is bytes", through)
    elif isinstance(node, cst.Float) and _infinite(node, facts):
        yield Problem(node, where, "not-json", "is Infinity", through)
    elif isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)) \
            and _infinite(node.expression, facts):
        sign = "-" if isinstance(node.operator, cst.Minus) else ""
        yield Problem(node, where, "not-json", f"is {sign}Infinity", through)
    elif isinstance(node, cst.Imaginary):
        yield Problem(node, where, "not-json", "is a complex number", through)
    elif isinstance(node, cst.Lambda):
        yield Problem(node, where, "not-json", "is a function", through)
    elif isinstance(node, cst.GeneratorExp):
        yield Problem(node, where, "not-json", "is a generator", through)
    elif isinstance(node, cst.Call):
        problem = _call_problem(node, facts)
        if problem is not None:
            yield Problem(node, where, "not-json", _what(problem), through)
        elif isinstance(node.func, cst.Name) and facts.resolve_builtin(node.func) == "builtins.tuple":
            yield Problem(node, where, "lossy", "is a tuple", through)
    elif isinstance(node, cst.Attribute):
        qualified = facts.table.resolve(node)
        if qualified in _MATH:
            kind = _MATH[qualified]
            yield Problem(node, where, "not-json", "is NaN" if kind == "NaN" else "is Infinity", through)
    elif isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Add, cst.Subtract)):
        if isinstance(node.right, cst.Imaginary) or isinstance(node.left, cst.Imaginary):
            yield Problem(node, where, "not-json", "is a complex number", through)
    elif isinstance(node, (cst.List, cst.Tuple)):
        if isinstance(node, cst.Tuple):
            yield Problem(node, where, "lossy", "is a tuple", through)
        for index, element in enumerate(node.elements):
            if isinstance(element, cst.StarredElement):
                break  # later indexes are unknown
            yield from inspect_value(element.value, f"{where}[{index}]", facts, func, through, depth + 1)
    elif isinstance(node, cst.Dict):
        seen: dict[str, str] = {}  # JSON text of each literal key -> its source
        colliding: set[str] = set()
        for element in node.elements:
            json_key = _json_key(element.key) if isinstance(element, cst.DictElement) else None
            if json_key is not None:
                source = facts.module.code_for_node(element.key)
                if json_key in seen and seen[json_key] != source:
                    colliding.add(json_key)
                    yield Problem(
                        element.key, where, "lossy",
                        f"has the keys {seen[json_key]} and {source}, which are both {json.dumps(json_key, ensure_ascii=False)} in JSON",
                        through,
                    )
                seen.setdefault(json_key, source)
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                continue
            # a key that collides was reported above, as the graver problem
            bad_key = None if _json_key(element.key) in colliding else _non_string_key(element.key)
            if isinstance(element.key, (cst.Tuple, cst.Set)) or (isinstance(element.key, cst.SimpleString) and "b" in element.key.prefix.lower()):
                kind = "a tuple" if isinstance(element.key, cst.Tuple) else "a set" if isinstance(element.key, cst.Set) else "bytes"
                yield Problem(element.key, where, "not-json", f"has a key that is {kind}", through)
            elif bad_key is not None:
                yield Problem(element.key, where, "lossy", f"has the non-string key {bad_key}", through)
            path = _key_path(element.key)
            if path is not None:
                yield from inspect_value(element.value, f"{where}[{path}]", facts, func, through, depth + 1)
    elif isinstance(node, cst.Name) and through is None:
        assigned = facts.assignments(func).get(node.value)
        if assigned is not None and len(assigned) == 1 and assigned[0] is not None:
            yield from inspect_value(assigned[0], where, facts, func, node.value, depth + 1)


def _update_function(call: StoreCall, facts: ModuleFacts) -> tuple[str, list[cst.BaseExpression], FunctionInfo | None] | None:
    fn = call.fn
    if isinstance(fn, cst.Lambda):
        return "lambda", [fn.body], call.func
    if isinstance(fn, cst.Name):
        target = None
        for outer in call.func.chain() if call.func is not None else ():
            target = outer.local_defs.get(fn.value)
            if target is not None:
                break
        if target is None:
            target = facts.module_functions.get(fn.value)
        if target is not None:
            return f"`{target.name}`", list(target.returns), target
    return None


def value_problems(facts: ModuleFacts) -> Iterator[tuple[StoreCall, str, Problem]]:
    """Each problem of each saved or update-returned value, with the call and how to name its origin."""
    for call in facts.store_calls:
        if call.verb == "save" and call.value is not None:
            for problem in inspect_value(call.value, "value", facts, call.func):
                yield call, "saved", problem
        elif call.verb == "update" and call.fn is not None:
            found = _update_function(call, facts)
            if found is None:
                continue
            name, returns, func = found
            for value in returns:
                for problem in inspect_value(value, "value", facts, func):
                    how = "returned by the update lambda" if name == "lambda" else f"returned by the update function {name}"
                    yield call, how, problem


def origin(how: str) -> str:
    """How a message names where a problem value comes from (``value_problems``' ``how``): nothing for a saved value."""
    return "" if how == "saved" else f" ({how})"
