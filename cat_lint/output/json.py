"""``--output-format json``: a list of findings with Ruff's field names.

Rows and columns are 1-based (columns count code points, as Ruff's do).
``filename`` is absolute, as in Ruff, so the output stands on its own; a
name's bytes that are not UTF-8 are U+FFFD there, as in Ruff.
"""

from __future__ import annotations

import json

from cat_lint.filenames import lossy
from cat_lint.findings import Finding
from cat_lint.output import Report, rule_url


def _location(row: int, col: int) -> dict[str, int]:
    return {"row": row, "column": col + 1}


def finding_to_json(f: Finding, report: Report) -> dict:
    fix = None
    if f.fix is not None:
        fix = {
            "applicability": "safe" if f.fix.safe else "unsafe",
            "message": f.fix.title,
            "edits": [
                {"content": e.text,
                 "location": _location(e.span.start_line, e.span.start_col),
                 "end_location": _location(e.span.end_line, e.span.end_col)}
                for e in f.fix.edits
            ],
        }
    return {
        "cell": None,
        "code": f.code,
        "message": f.message,
        "filename": lossy(str(report.absolute(f.path))),
        "location": _location(f.span.start_line, f.span.start_col),
        "end_location": _location(f.span.end_line, f.span.end_col),
        "fix": fix,
        "url": rule_url(f.code),
        "noqa_row": f.span.start_line,
    }


def render(report: Report) -> str:
    return json.dumps([finding_to_json(f, report) for f in report.findings], indent=2,
                      ensure_ascii=False) + "\n"
