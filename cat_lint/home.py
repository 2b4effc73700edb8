"""Where cat-devtools lives online: one setting of the build, which every link the tools print follows.

``HOME`` is the project's repository, once it has a public one: set it
here in the build that has one, and the rules' pages (a finding's ``url``
in JSON, SARIF's ``helpUri``, the editor's link on a diagnostic, ``cat-lint
rule``), SARIF's ``informationUri`` and where the internal-error message
says to report all point there.  Pages are looked for where the
repository keeps them, ``docs/rules/CODE.md`` on its ``main`` branch
(GitHub's layout).

Until then it is ``None`` and the tools print no link rather than a dead
one: a rule's page ships inside the tool as ``cat-lint rule CODE`` (the
same text as ``docs/rules/``, rendered from the rule's code), and the
internal-error message says what to include in a report instead of where
to file it.
"""

from __future__ import annotations

HOME: str | None = None


def rule_page(code: str) -> str | None:
    """The web page of rule ``code``; ``None`` while the project has no home."""
    return f"{HOME}/blob/main/docs/rules/{code}.md" if HOME else None


def how_to_report() -> str:
    """The end of "This is a bug in cat-lint, ...": where to report it, or what a report needs."""
    if HOME:
        return f"please report it at {HOME}/issues"
    return ("please report it to the cat-devtools maintainers, with this message and "
            "the output of `cat-lint --version`")
