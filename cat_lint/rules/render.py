"""Render the rules' documentation pages from the code: ``python -m cat_lint.rules.render docs/rules``.

The pages are committed so that they read in the repository (each rule's
``url`` points there once the project has a home: ``cat_lint.home``); a
test renders them again and fails when they drift, so the code stays the
one source.  ``--check`` reports drift without writing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cat_lint.rules import ALL_RULES


def pages() -> dict[str, str]:
    """File name -> content for every page, the index included."""
    out = {f"{rule.code}.md": rule.docs for rule in ALL_RULES}
    lines = [
        "# cat-lint rules",
        "",
        "Generated from `cat_lint/rules/` by `python -m cat_lint.rules.render docs/rules`; do not edit by hand.",
        "",
        "| Code | Name | Summary | Fix |",
        "|---|---|---|---|",
    ]
    for rule in ALL_RULES:
        fix = {"always": "yes", "sometimes": "sometimes"}.get(rule.fixable, "")
        lines.append(f"| [{rule.code}]({rule.code}.md) | `{rule.name}` | {rule.summary} | {fix} |")
    out["README.md"] = "\n".join(lines) + "\n"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cat_lint.rules.render", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where the pages go, e.g. docs/rules")
    parser.add_argument("--check", action="store_true", help="exit 1 if a page is missing or differs; write nothing")
    args = parser.parse_args(argv)
    stale = []
    for name, text in pages().items():
        path = args.folder / name
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        stale.append(name)
        if not args.check:
            args.folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        sys.stderr.write(f"out of date in {args.folder}: {', '.join(stale)}; run python -m cat_lint.rules.render {args.folder}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
