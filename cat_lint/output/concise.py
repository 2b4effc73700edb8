"""``--output-format concise``: one line a finding, ``path:row:col: CODE [*] message``."""

from __future__ import annotations

from cat_lint.output import Report, fixable, summary


def render(report: Report) -> str:
    out = []
    for f in report.findings:
        mark = "[*] " if fixable(f) else ""
        out.append(f"{report.display(f.path)}:{f.span.start_line}:{f.span.start_col + 1}: "
                   f"{f.code} {mark}{f.message}\n")
    tail = summary(report)
    return "".join(out) + tail
