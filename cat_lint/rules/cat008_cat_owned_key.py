"""CAT008: cat-owned-key."""

from __future__ import annotations

from cat_lint.rules._base import Invalid, Rule


class CatOwnedKey(Rule):
    code = "CAT008"
    name = "cat-owned-key"
    summary = "(being written)"
    what = "(being written)"
    why = "(being written)"
