"""CAT004: store-call-not-awaited."""

from __future__ import annotations

from cat_lint.rules._base import Invalid, Rule


class NotAwaited(Rule):
    code = "CAT004"
    name = "store-call-not-awaited"
    summary = "(being written)"
    what = "(being written)"
    why = "(being written)"
