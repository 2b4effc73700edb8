"""A Fixit 2 rule comparable to cat-lint's CAT004, for ``bench/lint.py`` only.

It flags a ``store.save(...)``/``user.save(...)`` call (resolved through
imports with libcst's qualified names, as cat-lint does) used as a bare
statement, i.e. never awaited.  One rule, so Fixit does strictly less work
than cat-lint's full rule set: the comparison favours Fixit.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import QualifiedNameProvider

from fixit import Invalid, LintRule, Valid

VERBS = {"save", "load", "exists", "delete", "update"}
TARGETS = {f"cat.{scope}.{verb}" for scope in ("store", "user") for verb in VERBS}


class UnawaitedStoreCall(LintRule):
    """A store call that is never awaited does nothing."""

    METADATA_DEPENDENCIES = (QualifiedNameProvider,)
    MESSAGE = "store call is never awaited: the write silently does not happen"

    VALID = [Valid("from cat import store\nasync def f():\n    await store.save('k', 1)\n")]
    INVALID = [Invalid("from cat import store\nasync def f():\n    store.save('k', 1)\n")]

    def visit_Expr(self, node: cst.Expr) -> None:
        call = node.value
        if not isinstance(call, cst.Call):
            return
        names = self.get_metadata(QualifiedNameProvider, call.func, set())
        if any(q.name in TARGETS for q in names):
            self.report(node)
