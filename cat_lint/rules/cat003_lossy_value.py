"""CAT003: lossy-value."""

from __future__ import annotations

from cat_lint.rules._base import Invalid, Rule


class LossyValue(Rule):
    code = "CAT003"
    name = "lossy-value"
    summary = "(being written)"
    what = "(being written)"
    why = "(being written)"
