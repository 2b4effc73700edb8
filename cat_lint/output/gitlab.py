"""``--output-format gitlab``: a GitLab Code Quality report.

A JSON array of issues, each with ``description``, ``check_name``,
``fingerprint``, ``severity`` and ``location`` (``path`` relative to the
repository root, ``lines.begin``), as GitLab's Code Quality widget reads
it (``artifacts: reports: codequality: gl-code-quality-report.json``).
Fingerprints are SARIF's: stable when unrelated lines move, distinct for a
second identical mistake.
"""

from __future__ import annotations

import json
from collections import Counter

from cat_lint.filenames import lossy
from cat_lint.output import Report
from cat_lint.output.sarif import fingerprint

#: Every rule finds code that fails or loses data at run time.
SEVERITY = {"CAT000": "blocker"}


def render(report: Report) -> str:
    seen: Counter[tuple[str, str, str]] = Counter()
    issues = []
    for f in report.findings:
        path = lossy(report.relative(f.path) or report.absolute(f.path).as_posix())
        line_text = report.line(f.path, f.span.start_line) or ""
        triple = (f.code, path, line_text.strip())
        occurrence = seen[triple]
        seen[triple] += 1
        issues.append({
            "type": "issue",
            "check_name": f.code,
            "description": f"{f.code} {f.message}",
            "categories": ["Bug Risk"],
            "severity": SEVERITY.get(f.code, "major"),
            "fingerprint": fingerprint(f.code, path, line_text, occurrence),
            "location": {
                "path": path,
                "lines": {"begin": f.span.start_line, "end": f.span.end_line},
                "positions": {
                    "begin": {"line": f.span.start_line, "column": f.span.start_col + 1},
                    "end": {"line": f.span.end_line, "column": f.span.end_col + 1},
                },
            },
        })
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
