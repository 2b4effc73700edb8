"""CAT006: unknown-key."""

from __future__ import annotations

from cat_lint.rules._base import Invalid, Rule


class UnknownKey(Rule):
    code = "CAT006"
    name = "unknown-key"
    summary = "(being written)"
    what = "(being written)"
    why = "(being written)"
    project_wide = True

    def check_uses(self, key_uses, index):
        return ()
