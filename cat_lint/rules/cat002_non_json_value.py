"""CAT002: non-json-value."""

from __future__ import annotations

from cat_lint.rules._base import Invalid, Rule


class NonJsonValue(Rule):
    code = "CAT002"
    name = "non-json-value"
    summary = "(being written)"
    what = "(being written)"
    why = "(being written)"
