"""Fixing files: fixes applied in rounds until none applies, then the files rewritten or shown.

A fix can reveal another, so each round re-lints the fixed text (both
passes, against the project's key index) before the next.  ``--fix``
rewrites each file atomically in its own encoding and records its new
result in the cache; ``--diff`` only keeps the new text.  The editor's
fix-all runs the same rounds (:func:`fix_source`).  Edits themselves are
applied to text by :mod:`cat_lint.fixes`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cat_lint.cache import content_hash
from cat_lint.findings import Finding
from cat_lint.rewrite import rewrite_source
from cat_lint.settings import Settings
from cat_lint.sources import decode, encode_text

if TYPE_CHECKING:
    from cat_lint.runner import RunResult

#: Re-lint rounds for --fix: a fix can reveal another (rarely more than two).
MAX_FIX_ROUNDS = 10


def fix_source(text: str, key: str, findings: list[Finding], settings: Settings, index,
               unsafe: bool = False) -> tuple[str, int, list[Finding]]:
    """Apply safe fixes (and the unsafe ones too with ``unsafe``), re-linting until nothing more applies.

    Returns the new text, how many fixes were applied, and the findings
    that remain in the new text.
    """
    from cat_lint.engine import check_project, check_source
    from cat_lint.fixes import apply_fixes

    applied = 0
    current = findings
    for _ in range(MAX_FIX_ROUNDS):
        fixable = [f for f in current if f.fix is not None and (f.fix.safe or unsafe)]
        if not fixable:
            break
        new_text, count = apply_fixes(text, fixable, safe_only=not unsafe)
        if count == 0 or new_text == text:
            break
        applied += count
        text = new_text
        result = check_source(text, key, settings)
        index.set_file(key, result.key_uses)
        current = list(check_project([result], settings, index).get(key, []))
    return text, applied, current


def apply_run_fixes(run: RunResult, settings: Settings, index, *, write: bool, unsafe: bool = False) -> RunResult:
    """--fix (``write=True``) or --diff: fix every file with a safe fix.

    Files are rewritten atomically in their own encoding; the run's
    findings become those that remain.
    """
    for key, findings in list(run.findings.items()):
        if not any(f.fix is not None and (f.fix.safe or unsafe) for f in findings):
            continue
        source = run.sources[key]
        if source.text is None:
            decode(source)
        if source.text is None:
            continue
        new_text, applied, remaining = fix_source(source.text, key, findings, settings, index, unsafe)
        if not applied:
            continue
        run.fixed += applied
        run.fixed_files[key] = new_text
        if remaining:
            run.findings[key] = remaining
        else:
            run.findings.pop(key, None)
        if write:
            data = encode_text(source, new_text)
            if data is None:
                continue
            rewrite_source(source.path, data)
            if run.cache is not None:
                from cat_lint.engine import check_source

                run.cache.put(key, content_hash(data), check_source(new_text, key, settings))
    if write and run.cache is not None:
        run.cache.save()
    return run
