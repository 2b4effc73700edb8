"""Findings as LSP diagnostics: what the editor is told about each finding.

A diagnostic says exactly what ``cat-lint`` says (code, message, range,
suppression: the same engine call with the same settings), with
``source`` "cat-lint" and a ``codeDescription`` link to the rule's page
(none while the project has no home: ``cat_lint.home``).
Its ``data`` carries the fixes already converted to the editor's
coordinates, so a code action is a lookup, not a second lint.  When each
document is linted and its diagnostics sent is :mod:`cat_lsp.scheduler`'s.
"""

from __future__ import annotations

from typing import Any, Callable

from lsprotocol import types
from lsprotocol.converters import get_converter

from cat_lint.findings import Finding, Fix

from cat_lsp.positions import EditorPositions
from cat_lsp.workspace import DocumentResult

SOURCE = "cat-lint"


def _rule_url(code: str) -> str | None:
    try:
        from cat_lint.rules import get_rule

        rule = get_rule(code)
    except Exception:
        return None
    return getattr(rule, "url", None) if rule is not None else None


def _severity(code: str) -> types.DiagnosticSeverity:
    # CAT000 means the file could not be read or parsed: nothing else was checked.
    return types.DiagnosticSeverity.Error if code == "CAT000" else types.DiagnosticSeverity.Warning


# lsprotocol's own (un)structuring, as pygls uses it for every message: a diagnostic's ``data``
# is free-form JSON, so the edits it carries are converted explicitly, both ways.
CONVERTER = get_converter()


def fix_json(fix: Fix, lines: EditorPositions) -> dict[str, Any]:
    """A fix as JSON in the editor's coordinates: title, safety and LSP ``TextEdit`` objects."""
    return {
        "title": fix.title,
        "safe": fix.safe,
        "edits": [CONVERTER.unstructure(types.TextEdit(range=lines.range(edit.span), new_text=edit.text))
                  for edit in fix.edits],
    }


def edits_from_json(fix: dict[str, Any]) -> list[types.TextEdit]:
    """The edits of a fix that came back in a diagnostic's ``data`` (raises ``ValueError`` if malformed)."""
    try:
        return [CONVERTER.structure(edit, types.TextEdit) for edit in fix["edits"]]
    except Exception as exc:  # cattrs reports a bad shape as an exception group
        raise ValueError(f"not a fix: {exc}") from exc


def _related(finding: Finding, uri_of: Callable[[str], str] | None) -> list[types.DiagnosticRelatedInformation] | None:
    """The other places a finding names (CAT010's other saves), as links.

    Their columns are the engine's code points, sent as they are: the other
    documents' texts are not at hand, and the places are key literals.
    """
    if not finding.related or uri_of is None:
        return None
    out = []
    for path, span, message in finding.related:
        start = types.Position(line=max(0, span.start_line - 1), character=span.start_col)
        end = types.Position(line=max(0, span.end_line - 1), character=span.end_col)
        out.append(types.DiagnosticRelatedInformation(
            location=types.Location(uri=uri_of(path), range=types.Range(start=start, end=end)), message=message))
    return out


def to_diagnostic(finding: Finding, lines: EditorPositions, version: int | None,
                  uri_of: Callable[[str], str] | None = None) -> types.Diagnostic:
    url = _rule_url(finding.code)
    fixes = []
    if finding.fix is not None:
        fixes.append(fix_json(finding.fix, lines))
    fixes.extend(fix_json(s, lines) for s in finding.suggestions if s != finding.fix)  # each offered once
    return types.Diagnostic(
        range=lines.range(finding.span),
        message=finding.message,
        severity=_severity(finding.code),
        code=finding.code,
        code_description=types.CodeDescription(href=url) if url else None,
        source=SOURCE,
        data={"fixes": fixes, "version": version, "line": finding.span.start_line},
        related_information=_related(finding, uri_of),
    )


def to_diagnostics(doc: DocumentResult, encoding: str, uri_of: Callable[[str], str] | None = None) -> list[types.Diagnostic]:
    lines = EditorPositions(doc.text, encoding)
    return [to_diagnostic(f, lines, doc.version, uri_of) for f in doc.findings]
