"""The rule registry: one module per rule, ordered by code.

``ALL_RULES`` holds one instance of each rule; ``get_rule`` finds one by code
or by name.  CAT000 is raised by the engine itself (a file that does not
parse reaches no rule), and CAT006 and CAT010 are project-wide: they run in
``check_project`` over the key index rather than per file.
"""

from __future__ import annotations

from cat_lint.rules._base import Invalid, Report, Rule, RuleContext
from cat_lint.rules.cat000_syntax_error import SyntaxErrorRule
from cat_lint.rules.cat001_user_without_request import UserWithoutRequest
from cat_lint.rules.cat002_non_json_value import NonJsonValue
from cat_lint.rules.cat003_lossy_value import LossyValue
from cat_lint.rules.cat004_not_awaited import NotAwaited
from cat_lint.rules.cat005_user_in_open_endpoint import UserInOpenEndpoint
from cat_lint.rules.cat006_unknown_key import UnknownKey
from cat_lint.rules.cat007_invalid_key import InvalidKey
from cat_lint.rules.cat008_cat_owned_key import CatOwnedKey
from cat_lint.rules.cat009_lost_update import LostUpdate
from cat_lint.rules.cat010_key_type_drift import KeyTypeDrift
from cat_lint.rules.cat100_unused_noqa import UnusedNoqa

ALL_RULES: tuple[Rule, ...] = (
    SyntaxErrorRule(),
    UserWithoutRequest(),
    NonJsonValue(),
    LossyValue(),
    NotAwaited(),
    UserInOpenEndpoint(),
    UnknownKey(),
    InvalidKey(),
    CatOwnedKey(),
    LostUpdate(),
    KeyTypeDrift(),
    UnusedNoqa(),
)

_BY_KEY = {rule.code: rule for rule in ALL_RULES} | {rule.name: rule for rule in ALL_RULES}

# Rules the engine runs per file (CAT000 is the parse itself; CAT006 and CAT010 need the whole project).
FILE_RULES: tuple[Rule, ...] = tuple(r for r in ALL_RULES if r.code != "CAT000" and not r.project_wide)


def get_rule(code: str) -> Rule | None:
    """A rule by code (``CAT001``, any case) or by name (``user-without-request``)."""
    return _BY_KEY.get(code.upper()) or _BY_KEY.get(code.lower())


__all__ = ["ALL_RULES", "FILE_RULES", "Invalid", "Report", "Rule", "RuleContext", "get_rule"]
