"""``--output-format sarif``: SARIF 2.1.0, as GitHub code scanning accepts it.

One run whose driver lists every rule (id, name, descriptions, help link),
results with relative URIs against ``%SRCROOT%`` (the repository root:
git's top level above the working folder, else the working folder, whatever
paths were linted), and
``partialFingerprints`` that survive unrelated edits: a hash of the rule,
the file, the text of the flagged line (stripped) and which occurrence of
that same triple it is, so moving code down a few lines keeps an alert's
identity while a second identical mistake gets its own.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from collections import Counter

from cat_lint import home
from cat_lint.cache import tool_version
from cat_lint.filenames import uri_path
from cat_lint.output import Report, rule_info

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "catLint/v1"


def _all_rules():
    try:
        from cat_lint.rules import ALL_RULES
    except ImportError:  # pragma: no cover
        return []
    return list(ALL_RULES)


def _first_paragraph(markdown: str) -> str:
    """The first paragraph of prose in a rule's page (headings and emphasis lines skipped)."""
    for block in markdown.strip().split("\n\n"):
        block = block.strip()
        if not block or block.startswith(("#", "*", "```")):
            continue
        return " ".join(line.strip() for line in block.splitlines())
    return ""


def _full_description(rule, summary: str) -> str:
    what = textwrap.dedent(getattr(rule, "what", "") or "").strip()
    if what:
        return " ".join(what.split())
    return _first_paragraph(getattr(rule, "docs", "") or "") or summary


def _rule_descriptor(rule) -> dict:
    summary = getattr(rule, "summary", "") or rule.code
    docs = getattr(rule, "docs", "") or summary
    descriptor = {
        "id": rule.code,
        "name": getattr(rule, "name", rule.code),
        "shortDescription": {"text": summary},
        "fullDescription": {"text": _full_description(rule, summary)},
        "help": {"text": docs, "markdown": docs},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["cat-lint"]},
    }
    url = getattr(rule, "url", None)
    if url:
        descriptor["helpUri"] = url
    return descriptor


def fingerprint(code: str, path: str, line_text: str, occurrence: int) -> str:
    raw = "\0".join([code, path, line_text.strip(), str(occurrence)])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def _artifact(report: Report, key: str) -> dict:
    """A file's location: relative to %SRCROOT% inside the repository, else an absolute file URI.

    Bytes of the name that are not UTF-8 (and control characters) are
    percent-encoded, so the URI names the real file and the document stays UTF-8.
    """
    rel = report.relative(key)
    if rel is not None:
        return {"uri": uri_path(rel), "uriBaseId": "%SRCROOT%"}
    return {"uri": report.absolute(key).as_uri()}


def render(report: Report) -> str:
    rules = _all_rules()
    descriptors = [_rule_descriptor(rule) for rule in rules]
    index = {rule.code: i for i, rule in enumerate(rules)}
    for f in report.findings:  # a code with no rule class (should not happen) still gets a descriptor
        if f.code not in index:
            info = rule_info(f.code)
            index[f.code] = len(descriptors)
            descriptors.append({"id": f.code, "name": getattr(info, "name", f.code),
                                "shortDescription": {"text": f.code}})
    seen: Counter[tuple[str, str, str]] = Counter()
    results = []
    for f in report.findings:
        rel = report.relative(f.path)
        # Inside the repository: relative to %SRCROOT%; outside it, an absolute file URI.
        artifact = _artifact(report, f.path)
        rel = uri_path(rel if rel is not None else report.absolute(f.path).as_posix())
        line_text = report.line(f.path, f.span.start_line) or ""
        triple = (f.code, rel, line_text.strip())
        occurrence = seen[triple]
        seen[triple] += 1
        result = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": "error",
            "message": {"text": f.message},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": dict(artifact),
                    "region": {
                        "startLine": f.span.start_line,
                        "startColumn": f.span.start_col + 1,
                        "endLine": f.span.end_line,
                        "endColumn": f.span.end_col + 1,
                    },
                },
            }],
            "partialFingerprints": {FINGERPRINT_KEY: fingerprint(f.code, rel, line_text, occurrence)},
        }
        if f.related:  # the other places the message names (CAT010)
            result["relatedLocations"] = [{
                "id": number,
                "message": {"text": what},
                "physicalLocation": {
                    "artifactLocation": _artifact(report, path),
                    "region": {"startLine": span.start_line, "startColumn": span.start_col + 1,
                               "endLine": span.end_line, "endColumn": span.end_col + 1},
                },
            } for number, (path, span, what) in enumerate(f.related)]
        if f.fix is not None:
            result["fixes"] = [{
                "description": {"text": f.fix.title},
                "artifactChanges": [{
                    "artifactLocation": dict(artifact),
                    "replacements": [{
                        "deletedRegion": {
                            "startLine": e.span.start_line,
                            "startColumn": e.span.start_col + 1,
                            "endLine": e.span.end_line,
                            "endColumn": e.span.end_col + 1,
                        },
                        "insertedContent": {"text": e.text},
                    } for e in f.fix.edits],
                }],
            }]
        results.append(result)
    root_uri = report.repository.as_uri().rstrip("/") + "/"
    driver = {"name": "cat-lint", "version": tool_version()}
    if home.HOME:  # optional in SARIF: omitted rather than dead
        driver["informationUri"] = home.HOME
    driver["rules"] = descriptors
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": root_uri}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
