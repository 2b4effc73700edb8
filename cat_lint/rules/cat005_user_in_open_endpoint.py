"""CAT005: user-in-open-endpoint."""

from __future__ import annotations

from cat_lint.rules._base import Invalid, Rule


class UserInOpenEndpoint(Rule):
    code = "CAT005"
    name = "user-in-open-endpoint"
    summary = "(being written)"
    what = "(being written)"
    why = "(being written)"
