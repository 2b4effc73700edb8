"""CAT007: invalid-key."""

from __future__ import annotations

from cat_lint.rules._base import Invalid, Rule


class InvalidKey(Rule):
    code = "CAT007"
    name = "invalid-key"
    summary = "(being written)"
    what = "(being written)"
    why = "(being written)"
