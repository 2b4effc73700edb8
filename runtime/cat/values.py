"""JSON in and out of the database, with exact types.

Two promises from the persistence page meet here: "types round-trip" and
"any JSON-serializable value".  :func:`encode` checks a value before the
database is touched and names the exact place of anything that is not JSON
(``value["items"][2] is a set``), so a failed ``save`` writes nothing.

The Cat declares its ``value`` columns ``JSON``, which SQLite gives NUMERIC
affinity: JSON text that looks like a number (``9.0``, ``1e16``,
``1180591620717411303424``) is silently converted to an INTEGER or REAL
and loses its type or its digits.  So a top-level number is bound as a BLOB
holding the same UTF-8 JSON text: affinity never converts a BLOB, and the
Cat's own reader (``json.loads``) accepts bytes.  :func:`decode` reads all
three shapes the column may hold: our text and BLOBs, and the INTEGER/REAL
values the real Cat left behind.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from cat_lint.project.schema import decode_value as decode

__all__ = ["encode", "decode", "dumps", "check_json", "json_type"]

_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_SURROGATE = re.compile("[\ud800-\udfff]")  # only ever inside JSON strings


def check_json(value: Any, where: str = "value") -> None:
    """Raise ``TypeError``/``ValueError`` naming where ``value`` is not JSON.

    Walks the value once; a container met again on the current path is a
    circular reference.  Dict keys may be what :mod:`json` converts (str,
    int, float, bool, None); everything else is refused.
    """
    _check(value, where, set())


# Where a part of the value is: the top-level name, or (parent place, key or
# index).  Written out as ``value["items"][2]`` only when an error names it,
# so a valid value (every save) pays for no string building.
_Place = Any


def _where(place: _Place) -> str:
    steps = []
    while isinstance(place, tuple):
        place, step = place
        steps.append(f"[{step}]" if type(step) is int else f"[{_key_text(step[0])}]")
    return place + "".join(reversed(steps))


def _check(value: Any, place: _Place, active: set[int]) -> None:
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if math.isnan(value):
            raise ValueError(f"{_where(place)} is NaN, which is not JSON")
        if math.isinf(value):
            raise ValueError(f"{_where(place)} is {'-' if value < 0 else ''}Infinity, which is not JSON")
        return
    if isinstance(value, (list, tuple, dict)):
        if id(value) in active:
            raise ValueError(f"{_where(place)} contains itself (a circular reference), which is not JSON")
        active.add(id(value))
        try:
            if isinstance(value, dict) and all(type(key) is str for key in value):
                # str keys only (nearly always): none can be refused or meet another in JSON
                for key, item in value.items():
                    if not (item is None or type(item) in _SCALARS):
                        _check(item, (place, (key,)), active)
            elif isinstance(value, dict):
                seen: dict[str, Any] = {}
                for key, item in value.items():
                    if type(key) is str:
                        text = key
                    else:
                        if key is not None and not isinstance(key, (str, int, float, bool)):
                            raise TypeError(f"{_where(place)} has a key of type {_kind(key)} ({key!r}); JSON keys are strings")
                        if isinstance(key, float) and (math.isnan(key) or math.isinf(key)):
                            raise ValueError(f"{_where(place)} has the key {key!r}, which is not JSON")
                        text = json_key_text(key)
                    if text in seen:
                        raise ValueError(
                            f"{_where(place)} has the keys {seen[text]!r} and {key!r}, which are both {json.dumps(text)} in JSON: "
                            "one of the two entries would be lost"
                        )
                    seen[text] = key
                    if not (item is None or type(item) in _SCALARS):
                        _check(item, (place, (key,)), active)
            else:
                for index, item in enumerate(value):
                    if not (item is None or type(item) in _SCALARS):
                        _check(item, (place, index), active)
        finally:
            active.discard(id(value))
        return
    raise TypeError(f"{_where(place)} is {_article(_kind(value))}, which is not JSON")


_SCALARS = (str, bool, int)  # exact types that are always JSON (subclasses take the full check)


def json_key_text(key: Any) -> str:
    """The string a dict key becomes in JSON, as :mod:`json` converts it (``1`` and ``"1"`` both become ``"1"``)."""
    if isinstance(key, str):
        return key
    return json.dumps(key)  # True -> "true", None -> "null", 1.5 -> "1.5"


def _key_text(key: Any) -> str:
    """A dict key as it would be written in Python source, double-quoted."""
    return json.dumps(key, ensure_ascii=False) if isinstance(key, str) else repr(key)


def _kind(value: Any) -> str:
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _article(name: str) -> str:
    if name in ("bytes", "bytearray"):
        return name
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"


def dumps(value: Any) -> str:
    """The canonical JSON text of a value already known to be JSON.

    Non-ASCII text is written as itself, except lone surrogates (``"\\ud800"``,
    which ``json.loads`` happily produces): no database encoding can hold
    them, so they are written as JSON escapes, which load back exactly, as
    the Cat's own ``json.dumps`` (ASCII-only) writes them.
    """
    text = _ENCODER.encode(value)
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def encode(value: Any) -> str | bytes:
    """Check ``value`` and return what to bind for the ``value`` column.

    Text for everything except a top-level number, which is bytes (see the
    module docstring for why).
    """
    check_json(value)
    text = dumps(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return text.encode("utf-8")
    return text


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value, as shown by the tools."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
