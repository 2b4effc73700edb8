"""Settings an editor sends (``cat.database``, ``cat.lint.select``, ``cat.lint.ignore``).

They arrive in ``initializationOptions`` and again in
``workspace/didChangeConfiguration`` (under ``settings.cat``, or flat), one
entry per workspace folder plus the editor's defaults::

    {"folders": [{"uri": null, "database": null, "select": null, "ignore": null},
                 {"uri": "file:///work/proj", "database": "sqlite:///other.db",
                  "select": ["CAT"], "ignore": ["CAT006"]}]}

``null`` means "let the project decide".  A value that is set takes
precedence over ``[tool.cat-lint]``: it replaces that option, validated by
the linter's own ``check_selectors`` and ``parse_url`` and applied to its
:class:`~cat_lint.settings.Settings`, so the server, the command line and
the editor never disagree about what a selector or a URL means.  The
database URL becomes the settings' ``database``, which the server resolves
through ``cat_lint.project.location`` like every other tool.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

from cat_lint.config import ConfigError, check_selectors
from cat_lint.project.location import DatabaseURLError, parse_url
from cat_lint.settings import Settings

from cat_lsp.uris import iter_paths

ORIGIN = "the editor setting cat.database"


@dataclass(frozen=True)
class EditorSettings:
    """One folder's editor settings; ``None`` everywhere means none given."""

    database: str | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None

    def apply(self, settings: Settings, root: Path) -> tuple[Settings, str | None]:
        """``settings`` with these on top, and what was refused (the rest still applies)."""
        changes: dict[str, Any] = {}
        errors: list[str] = []
        for option, value in (("select", self.select), ("ignore", self.ignore)):
            if value is None:
                continue
            try:
                changes[option] = check_selectors(value, option, f"the editor setting cat.lint.{option}")
            except ConfigError as exc:
                errors.append(str(exc))
        if self.database is not None:
            try:
                parse_url(self.database, root, ORIGIN)
                changes["database"] = self.database
            except DatabaseURLError as exc:
                errors.append(str(exc))
        return replace(settings, **changes), "; ".join(errors) or None


def _strings(value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, list):
        return None
    return tuple(item for item in value if isinstance(item, str))


def _one(entry: Mapping[str, Any]) -> EditorSettings:
    database = entry.get("database")
    return EditorSettings(
        database=database.strip() if isinstance(database, str) and database.strip() else None,
        select=_strings(entry.get("select")),
        ignore=_strings(entry.get("ignore")),
    )


class EditorSettingsTable:
    """Every folder's editor settings; a folder without an entry gets the defaults."""

    def __init__(self, by_folder: dict[Path, EditorSettings] | None = None, default: EditorSettings | None = None) -> None:
        self.by_folder = by_folder or {}
        self.default = default or EditorSettings()

    @classmethod
    def parse(cls, options: Any) -> EditorSettingsTable | None:
        """From ``initializationOptions`` or a ``didChangeConfiguration``'s ``settings``.

        ``None`` when they hold no ``folders`` list: an editor that sends
        something else (or nothing) leaves the settings as they were.
        """
        if isinstance(options, Mapping) and isinstance(options.get("cat"), Mapping):
            options = options["cat"]
        folders = options.get("folders") if isinstance(options, Mapping) else None
        if not isinstance(folders, list):
            return None
        table = cls()
        for entry in folders:
            if not isinstance(entry, Mapping):
                continue
            uri = entry.get("uri")
            if isinstance(uri, str) and uri:
                for path in iter_paths([uri]):
                    table.by_folder[path] = _one(entry)
            else:
                table.default = _one(entry)
        return table

    def for_folder(self, folder: Path) -> EditorSettings:
        return self.by_folder.get(folder, self.default)
