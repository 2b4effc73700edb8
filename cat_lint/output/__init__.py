"""Output formats: one module a format, each turning a run's findings into text.

Every format receives the same :class:`Report` and returns the whole text,
so the command line can write it in one go (and tests can parse it back).
Positions are converted here, at the edge: the engine's 0-based code-point
columns become the 1-based rows and columns that every format shows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from cat_lint.filenames import printable
from cat_lint.findings import Finding, python_lines

FORMATS = ("full", "concise", "json", "json-lines", "github", "gitlab", "junit", "sarif")


@dataclass
class Report:
    """The findings of a run plus what the formats need to show them."""

    findings: list[Finding]
    root: Path
    texts: dict[str, str] = field(default_factory=dict)  # engine path -> source text
    fixed: int = 0
    quiet: bool = False
    cwd: Path = field(default_factory=lambda: Path(os.getcwd()))
    show_fix_hint: bool = True
    _repository: Path | None = field(default=None, repr=False)
    _lines: dict[str, list[str]] = field(default_factory=dict, repr=False)  # key -> its lines, split once

    def absolute(self, key: str) -> Path:
        path = Path(key)
        return path if path.is_absolute() else self.root / path

    def display(self, key: str, keep: str = "") -> str:
        """The path as the reader wants it: relative to the working folder when inside it.

        Shown so that it fits one line of UTF-8 text (:func:`cat_lint.filenames.printable`):
        bytes that are not UTF-8 as U+FFFD, control characters other than
        those in ``keep`` as backslash escapes.
        """
        return printable(self._display(key), keep)

    def _display(self, key: str) -> str:
        text = key if os.path.isabs(key) else os.path.join(str(self.root), key)  # strings: a Path per finding adds up
        cwd = str(self.cwd)
        prefix = cwd if cwd.endswith(os.sep) else cwd + os.sep
        if text.startswith(prefix):  # inside: relative_to, without its cost
            text = text[len(prefix):]
            return text.replace(os.sep, "/") if os.sep != "/" else text
        path = Path(text)
        return os.path.relpath(path, self.cwd) if _same_drive(path, self.cwd) else text

    def relative(self, key: str) -> str | None:
        """The path relative to the repository root (SARIF's URIs, fingerprints); ``None`` outside it."""
        path = self.absolute(key)
        try:
            return path.relative_to(self.repository).as_posix()
        except ValueError:
            return None

    @property
    def repository(self) -> Path:
        """The repository root: git's top level above the working folder, else the working folder.

        SARIF consumers (GitHub code scanning) resolve URIs against the
        checkout, so they must not depend on which paths were linted.
        """
        if self._repository is None:
            cwd = self.cwd.resolve()
            self._repository = next((f for f in (cwd, *cwd.parents) if (f / ".git").exists()), cwd)
        return self._repository

    def line(self, key: str, row: int) -> str | None:
        """Source line ``row`` (1-based) without its line ending, if known."""
        lines = self._lines.get(key)
        if lines is None:
            text = self.texts.get(key)
            if text is None:
                return None
            lines = self._lines[key] = python_lines(text)
        if 1 <= row <= len(lines):
            return lines[row - 1]
        return None


def _same_drive(a: Path, b: Path) -> bool:
    return a.drive == b.drive


def rule_info(code: str):
    """The rule class for a code, or ``None`` (e.g. a code no rule module declares)."""
    try:
        from cat_lint.rules import get_rule
    except ImportError:  # pragma: no cover
        return None
    try:
        return get_rule(code)
    except (KeyError, LookupError, ValueError):
        return None


def rule_url(code: str) -> str | None:
    rule = rule_info(code)
    return getattr(rule, "url", None) if rule is not None else None


def rule_name(code: str) -> str:
    rule = rule_info(code)
    return getattr(rule, "name", code) if rule is not None else code


def fixable(finding: Finding) -> bool:
    return finding.fix is not None and finding.fix.safe


def get_formatter(name: str) -> Callable[[Report], str]:
    from importlib import import_module

    if name not in FORMATS:
        raise ValueError(f"unknown output format {name!r} (choose from {', '.join(FORMATS)})")
    return import_module(f"cat_lint.output.{name.replace('-', '_')}").render


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def summary(report: Report) -> str:
    """Ruff's closing lines for the text formats ("Found 3 errors." ...)."""
    if report.quiet:
        return ""
    count = len(report.findings)
    if count == 0 and report.fixed == 0:
        return "All checks passed!\n"
    lines = []
    if report.fixed:
        lines.append(f"Found {plural(count + report.fixed, 'error')} "
                     f"({report.fixed} fixed, {count} remaining).")
    else:
        lines.append(f"Found {plural(count, 'error')}.")
    n_fixable = sum(1 for f in report.findings if fixable(f))
    if n_fixable and report.show_fix_hint:
        lines.append(f"[*] {n_fixable} fixable with the `--fix` option.")
    return "\n".join(lines) + "\n"
