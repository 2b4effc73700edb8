"""The rule registry: one module per rule, ordered by code.

``ALL_RULES`` holds one instance of each rule; ``get_rule`` finds one by code
or by name.  The engine runs the rules by kind (``cat_lint.rules._base``):
``FILE_RULES`` on each file, ``INDEX_RULES`` and ``NOQA_RULES`` in
``check_project``; ``PARSE_RULE`` is the rule whose findings the parse
itself reports.  Adding a rule is one module and its line in ``ALL_RULES``.
"""

from __future__ import annotations

from cat_lint.rules._base import FileRule, IndexRule, Invalid, NoqaRule, ParseRule, Report, Rule, RuleContext
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

_BY_CODE = {rule.code: rule for rule in ALL_RULES}
_BY_KEY = _BY_CODE | {rule.name: rule for rule in ALL_RULES}

# The rules of each kind, in the order of their codes.
(PARSE_RULE,) = (r for r in ALL_RULES if isinstance(r, ParseRule))
FILE_RULES: tuple[FileRule, ...] = tuple(r for r in ALL_RULES if isinstance(r, FileRule))
INDEX_RULES: tuple[IndexRule, ...] = tuple(r for r in ALL_RULES if isinstance(r, IndexRule))
NOQA_RULES: tuple[NoqaRule, ...] = tuple(r for r in ALL_RULES if isinstance(r, NoqaRule))


def get_rule(code: str) -> Rule | None:
    """A rule by code (``CAT001``, any case) or by name (``user-without-request``)."""
    return _BY_KEY.get(code.upper()) or _BY_KEY.get(code.lower())


def rule_of(finding_code: str) -> Rule | None:
    """The rule that reports findings of ``finding_code`` (exactly as findings spell it)."""
    return _BY_CODE.get(finding_code)


__all__ = ["ALL_RULES", "FILE_RULES", "INDEX_RULES", "NOQA_RULES", "PARSE_RULE", "Invalid", "Report", "Rule",
           "RuleContext", "get_rule", "rule_of"]
