"""``--output-format full`` (the default): each finding with its source line and a caret.

::

    plugins/notes.py:7:5: CAT004 [*] `store.save(...)` is never awaited
      |
    7 |     store.save("notes", notes)
      |     ^^^^^^^^^^^^^^^^^^^^^^^^^^ CAT004
      |
      = help: Add `await`
"""

from __future__ import annotations

from cat_lint.output import Report, fixable, summary


def _caret_line(line: str, start: int, end: int) -> tuple[str, str]:
    # Keep tabs so the caret lines up under the same tab stops as the code.
    prefix = "".join("\t" if ch == "\t" else " " for ch in line[:start])
    width = max(1, min(end, len(line)) - start) if start < len(line) else 1
    return prefix, "^" * width


def render(report: Report) -> str:
    out: list[str] = []
    for f in report.findings:
        mark = "[*] " if fixable(f) else ""
        out.append(f"{report.display(f.path)}:{f.span.start_line}:{f.span.start_col + 1}: "
                   f"{f.code} {mark}{f.message}\n")
        line = report.line(f.path, f.span.start_line)
        if line is not None:
            gutter = str(f.span.start_line)
            pad = " " * len(gutter)
            end = f.span.end_col if f.span.end_line == f.span.start_line else len(line)
            prefix, carets = _caret_line(line, f.span.start_col, end)
            out.append(f"{pad} |\n{gutter} | {line}\n{pad} | {prefix}{carets} {f.code}\n{pad} |\n")
            if f.fix is not None:
                kind = "help" if f.fix.safe else "help (unsafe fix)"
                out.append(f"{pad} = {kind}: {f.fix.title}\n")
        elif f.fix is not None:
            out.append(f"  = help: {f.fix.title}\n")
        out.append("\n")
    return "".join(out) + summary(report)
