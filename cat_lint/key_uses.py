"""The literal keys of a file's store calls, each with the JSON type the call gives it.

The engine records them per file (``KeyUse``) for the project's key index,
which the index rules read (CAT006, CAT010) and the language server's key
features too.  The type is what the source says plainly: a save's value, a
load's or an update's default (``user.load("todos", [])`` gives a list).
"""

from __future__ import annotations

import libcst as cst

from cat_lint.rules._base import literal_text
from cat_lint.facts import ModuleFacts, StoreCall

# Calls (by qualified name) whose result has a plain JSON type.
_CONSTRUCTORS = {
    "builtins.list": "array", "builtins.tuple": "array", "builtins.sorted": "array", "builtins.dict": "object",
    "builtins.str": "string", "builtins.int": "integer", "builtins.len": "integer", "builtins.float": "number",
    "builtins.bool": "boolean",
}


def json_type(node: cst.BaseExpression | None, facts: ModuleFacts, call: StoreCall, depth: int = 0) -> str | None:
    """The JSON type a value plainly has: literals, simple constructors, comprehensions; else None.

    A local name assigned exactly once, to such a value, counts too.
    """
    if node is None:
        return None
    if isinstance(node, (cst.List, cst.ListComp, cst.Tuple)):
        return "array"
    if isinstance(node, (cst.Dict, cst.DictComp)):
        return "object"
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        if isinstance(node, cst.SimpleString) and "b" in node.prefix.lower():
            return None
        return "string"
    if isinstance(node, cst.Integer):
        return "integer"
    if isinstance(node, cst.Float):
        return "number"
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)) \
            and isinstance(node.expression, (cst.Integer, cst.Float)):
        return json_type(node.expression, facts, call, depth)
    if isinstance(node, cst.Name):
        if node.value in ("True", "False"):
            return "boolean"
        if node.value == "None":
            return "null"
        if depth == 0 and not call.deferred:
            values = facts.assignments(call.func).get(node.value, [])
            if len(values) == 1 and values[0] is not None:
                return json_type(values[0], facts, call, depth + 1)
        return None
    if isinstance(node, cst.Call):
        return _CONSTRUCTORS.get(facts.resolve_builtin(node.func) or "")
    return None


def typed_argument(call: StoreCall) -> cst.BaseExpression | None:
    """The argument that gives the key a type: a save's value, a load's or an update's default."""
    if call.verb == "save":
        return call.value
    if call.verb not in ("load", "update"):
        return None
    position = 1 if call.verb == "load" else 2
    positional = [a.value for a in call.node.args if a.keyword is None and not a.star]
    if len(positional) > position:
        return positional[position]
    return next((a.value for a in call.node.args if a.keyword is not None and a.keyword.value == "default"), None)


def key_uses(facts: ModuleFacts) -> list[tuple[str, str, str, cst.BaseExpression, str | None, cst.BaseExpression | None]]:
    """Each literal key: (key, scope, verb, key node, JSON type the call gives it, the node that gives it)."""
    uses = []
    for call in facts.store_calls:
        if call.key is None:
            continue
        key = literal_text(call.key)
        if key:
            typed = typed_argument(call)
            kind = json_type(typed, facts, call) if typed is not None else None
            uses.append((key, call.scope, call.verb, call.key, kind, typed if kind is not None else None))
    return uses
