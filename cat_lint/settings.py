"""The linter's settings as the engine sees them (loading lives in ``config``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import PureWindowsPath

import pathspec

BOOTSTRAP_HOOKS = (
    "before_cat_bootstrap",
    "after_cat_bootstrap",
    "after_plugins_reload",
    "after_mad_hatter_refresh",
)


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one lint run.

    ``select``/``ignore`` hold code prefixes as Ruff does (``CAT`` selects
    everything, ``CAT00`` the first ten).  ``database`` is an explicit
    database URL from the configuration, ``None`` to resolve it the way the
    runtime does.  ``project`` is the folder that relative paths (database,
    excludes) are taken from.  ``lost_update_user`` turns CAT009 on for the
    per-user store too (``lost-update-user = true``).
    """

    select: tuple[str, ...] = ("CAT",)
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    force_exclude: bool = False  # apply the excludes to files named explicitly too
    target_version: str = "py311"  # the Python the Cat runs on: cheshire-cat-ai 2.x needs 3.11 or newer
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    bootstrap_hooks: tuple[str, ...] = BOOTSTRAP_HOOKS
    database: str | None = None
    project: str | None = None
    lost_update_user: bool = False  # CAT009 also for `user`, whose races are one user's overlapping requests

    def enabled(self, code: str) -> bool:
        """Whether a rule code is on: the longest matching prefix decides, ignore winning ties."""
        best_select = max((len(p) for p in self.select if code.startswith(p)), default=-1)
        best_ignore = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
        return best_select >= 0 and best_select > best_ignore

    def ignored_by_path(self, path: str, code: str) -> bool:
        """Whether ``per-file-ignores`` silences ``code`` in the file ``path`` (an engine key).

        Patterns are gitignore-style, matched by :mod:`pathspec` exactly as
        ``exclude`` is (one glob dialect for every path option): relative to
        the project root, ``legacy_*.py`` or ``tests/`` match at any depth,
        ``plugins/**/old.py`` is anchored, and a folder's pattern covers the
        files inside it.  As in Ruff, a leading ``!`` negates a pattern: the
        codes are ignored in every file it does *not* match.  A file outside
        the project (an absolute key) is matched by its name alone, as
        ``exclude`` matches it.
        """
        for negated, spec, codes in self._per_file_specs:
            if any(code.startswith(prefix) for prefix in codes) and spec.match_file(_project_relative(path)) != negated:
                return True
        return False

    @cached_property
    def _per_file_specs(self) -> tuple[tuple[bool, pathspec.GitIgnoreSpec, tuple[str, ...]], ...]:
        # Compiled once per Settings object (the settings are frozen; every
        # finding of a run asks), not once per finding.
        return tuple((*compile_per_file_pattern(pattern), codes) for pattern, codes in self.per_file_ignores)


def compile_per_file_pattern(pattern: str) -> tuple[bool, pathspec.GitIgnoreSpec]:
    """(negated, spec) for one ``per-file-ignores`` pattern; ``ValueError`` when it can match nothing.

    The configuration calls it too, so that a pattern that is empty once
    its ``!`` is taken off (which, negated, would silence every file) is an
    error in ``pyproject.toml``, not a surprise.
    """
    pattern = pattern.replace("\\", "/")
    negated = pattern.startswith("!")
    body = pattern[1:] if negated else pattern
    if not body.strip() or body.lstrip().startswith("#"):
        raise ValueError(f"the pattern {pattern!r} names no file")
    try:
        return negated, pathspec.GitIgnoreSpec.from_lines([body])
    except ValueError as exc:  # pathspec's GitWildMatchPatternError is a ValueError
        raise ValueError(f"the pattern {pattern!r} is not a valid gitignore pattern: {exc}") from None


def _project_relative(path: str) -> str:
    """An engine key as the patterns see it: POSIX, relative to the project; its name when outside it."""
    path = path.replace("\\", "/")
    if path.startswith("/") or PureWindowsPath(path).is_absolute():
        return path.rsplit("/", 1)[-1]
    return path
