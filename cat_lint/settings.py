"""The linter's settings as the engine sees them (loading lives in ``config``)."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    extra: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    def enabled(self, code: str) -> bool:
        """Whether a rule code is on: the longest matching prefix decides, ignore winning ties."""
        best_select = max((len(p) for p in self.select if code.startswith(p)), default=-1)
        best_ignore = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
        return best_select >= 0 and best_select > best_ignore
