"""``--output-format github``: GitHub Actions workflow commands, one annotation a finding.

``::error title=cat-lint (CAT004),file=plugins/a.py,line=3,col=5,endLine=3,endColumn=9::plugins/a.py:3:5: CAT004 message``

Values are escaped as the runner expects: ``%``, CR and LF everywhere, and
also ``:`` and ``,`` inside properties.
"""

from __future__ import annotations

from cat_lint.output import Report


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report) -> str:
    out = []
    for f in report.findings:
        path = report.display(f.path, keep="\r\n")  # escaped below as the runner reads them: it finds the file
        props = ",".join([
            f"title={escape_property(f'cat-lint ({f.code})')}",
            f"file={escape_property(path)}",
            f"line={f.span.start_line}",
            f"col={f.span.start_col + 1}",
            f"endLine={f.span.end_line}",
            f"endColumn={f.span.end_col + 1}",
        ])
        message = f"{path}:{f.span.start_line}:{f.span.start_col + 1}: {f.code} {f.message}"
        out.append(f"::error {props}::{escape_data(message)}\n")
    return "".join(out)
