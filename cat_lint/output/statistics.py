"""``--statistics``: how many findings of each code, most frequent first (Ruff's layout)."""

from __future__ import annotations

import json
from collections import Counter

from cat_lint.output import Report, fixable, rule_name


def rows(report: Report) -> list[dict]:
    counts = Counter(f.code for f in report.findings)
    can_fix = {f.code for f in report.findings if fixable(f)}
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"code": code, "name": rule_name(code), "count": count, "fixable": code in can_fix}
            for code, count in ordered]


def render(report: Report, output_format: str) -> str:
    table = rows(report)
    if output_format == "json":
        return json.dumps(table, indent=2) + "\n"
    if not table:
        return "" if report.quiet else "All checks passed!\n"
    width = max(len(str(r["count"])) for r in table)
    code_width = max(len(r["code"]) for r in table)
    any_fixable = any(r["fixable"] for r in table)
    lines = []
    for r in table:
        mark = ("[*] " if r["fixable"] else "    ") if any_fixable else ""
        lines.append(f"{r['count']:>{width}}\t{r['code']:<{code_width}}\t{mark}{r['name']}")
    out = "\n".join(lines) + "\n"
    if any_fixable and not report.quiet:
        out += "[*] fixable with `cat-lint --fix`\n"
    return out
