"""CAT001: user-without-request."""

from __future__ import annotations

from cat_lint.rules._base import Invalid, Rule


class UserWithoutRequest(Rule):
    code = "CAT001"
    name = "user-without-request"
    summary = "(being written)"
    what = "(being written)"
    why = "(being written)"
