"""Reading ``[tool.cat-lint]`` from a project's ``pyproject.toml`` into :class:`Settings`.

The configuration is found the way Ruff finds its own: the nearest
``pyproject.toml`` that has a ``[tool.cat-lint]`` table, looking upward from
the linted paths (so ``cat-lint plugins/`` from anywhere inside the project
and pre-commit's list of files agree).  Its folder becomes the project root:
relative excludes, per-file-ignore patterns, the database location and the
cache folder are all taken from there.

Every mistake in the table is a :class:`ConfigError` naming the file, the
option and what was expected; the command line turns it into exit code 2.
Options that nobody reads are errors too, because a misspelt ``ingore``
silently doing nothing is exactly the kind of bug a linter exists to stop.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable

from cat_lint.settings import BOOTSTRAP_HOOKS, Settings, compile_per_file_pattern

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: A rule selector: ``CAT`` (all), ``CAT0``, ``CAT00`` or a full code ``CAT004``.
SELECTOR = re.compile(r"^CAT\d{0,3}$")

#: Folders that are never linted unless named on the command line.
DEFAULT_EXCLUDE = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".hg",
    ".mypy_cache",
    ".nox",
    ".pytest_cache",
    ".ruff_cache",
    ".cat-lint-cache",
    ".svn",
    ".tox",
    ".venv",
    "venv",
    "__pycache__",
    "__pypackages__",
    "_build",
    "build",
    "dist",
    "node_modules",
    "site-packages",
)

TABLE = "cat-lint"


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and why."""


@dataclass(frozen=True)
class LoadedConfig:
    """Settings plus where they came from (``None``: no configuration file, defaults)."""

    settings: Settings
    source: Path | None
    root: Path


def _string_list(value: Any, option: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: `{option}` must be a list of strings, got {_describe(value)}")
    return tuple(value)


def _describe(value: Any) -> str:
    kind = {str: "a string", bool: "a boolean", int: "an integer", float: "a number",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)
    return f"{kind} ({value!r})" if not isinstance(value, (list, dict)) else kind


def check_selectors(codes: Iterable[str], option: str, where: str) -> tuple[str, ...]:
    """Validate rule selectors; unknown full codes are errors, like Ruff's."""
    known = known_codes()
    out = []
    for code in codes:
        code = code.strip().upper()
        if not code:
            continue
        if not SELECTOR.match(code):
            raise ConfigError(f"{where}: `{option}` has an invalid rule selector {code!r} "
                              "(expected CAT, a prefix such as CAT00, or a code such as CAT004)")
        if not any(k.startswith(code) for k in known):
            raise ConfigError(f"{where}: `{option}` names unknown rule {code!r}; "
                              f"known rules: {', '.join(sorted(known))}")
        out.append(code)
    return tuple(out)


def known_codes() -> tuple[str, ...]:
    """Every rule code, from the rule registry (imported here, late: the rules import the settings)."""
    from cat_lint.rules import ALL_RULES

    return tuple(rule.code for rule in ALL_RULES)


def _parse_table(table: dict[str, Any], where: str, root: Path) -> Settings:
    settings = Settings(project=str(root))
    changes: dict[str, Any] = {}
    for option, value in table.items():
        if option in ("select", "ignore", "extend-select"):
            changes[option.replace("-", "_")] = check_selectors(_string_list(value, option, where), option, where)
        elif option == "target-version":
            if not isinstance(value, str) or value not in TARGET_VERSIONS:
                raise ConfigError(f"{where}: `target-version` must be one of {', '.join(TARGET_VERSIONS)}, "
                                  f"got {_describe(value)}")
            changes["target_version"] = value
        elif option in ("force-exclude", "lost-update-user"):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: `{option}` must be true or false, got {_describe(value)}")
            changes[option.replace("-", "_")] = value
        elif option in ("exclude", "extend-exclude"):
            changes[option.replace("-", "_")] = _string_list(value, option, where)
        elif option == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: `per-file-ignores` must be a table of "
                                  f"glob = [codes], got {_describe(value)}")
            pairs = []
            for pattern, codes in value.items():
                name = f"per-file-ignores.{pattern!r}" if not re.match(r"^\w+$", pattern) else f"per-file-ignores.{pattern}"
                try:
                    compile_per_file_pattern(pattern)
                except ValueError as exc:
                    raise ConfigError(f"{where}: `per-file-ignores`: {exc}") from None
                pairs.append((pattern, check_selectors(_string_list(codes, name, where), name, where)))
            changes["per_file_ignores"] = tuple(pairs)
        elif option == "bootstrap-hooks":
            hooks = _string_list(value, option, where)
            for hook in hooks:
                if not hook.isidentifier():
                    raise ConfigError(f"{where}: `{option}` entry {hook!r} is not a Python identifier")
            # Added to the Cat's own bootstrap hooks, never replacing them:
            # forgetting one would hide the very mistake CAT001 is about.
            changes["bootstrap_hooks"] = BOOTSTRAP_HOOKS + tuple(
                h for h in dict.fromkeys(hooks) if h not in BOOTSTRAP_HOOKS)
        elif option == "database":
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}: `database` must be a non-empty database URL string "
                                  f"such as \"sqlite:///data/core/core.db\", got {_describe(value)}")
            from cat_lint.project.location import DatabaseURLError, parse_url

            try:
                parse_url(value, root, "`database`")
            except DatabaseURLError as exc:
                raise ConfigError(f"{where}: {exc}") from None
            changes["database"] = value
        else:
            allowed = ", ".join(sorted(OPTIONS))
            raise ConfigError(f"{where}: unknown option `{option}` (known options: {allowed})")
    extend = changes.pop("extend_select", ())
    if extend:  # added to the selection, whether configured or the default
        changes["select"] = changes.get("select", settings.select) + extend
    return replace(settings, **changes)


OPTIONS = ("select", "extend-select", "ignore", "exclude", "extend-exclude", "force-exclude",
           "per-file-ignores", "bootstrap-hooks", "database", "target-version", "lost-update-user")
#: The Pythons a Cat can run on (2.x needs 3.11; 3.10 for older installations).
TARGET_VERSIONS = ("py310", "py311", "py312", "py313", "py314")


def read_table(path: Path, *, explicit: bool = False) -> dict[str, Any] | None:
    """The ``[tool.cat-lint]`` table of ``path``, ``None`` if it has none.

    An explicit ``--config`` file that is not a ``pyproject.toml`` may hold
    the options at its top level (a ``cat-lint.toml``).
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read configuration {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    tool = data.get("tool", {})
    if isinstance(tool, dict) and TABLE in tool:
        table = tool[TABLE]
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: `tool.{TABLE}` must be a table")
        return table
    if explicit and path.name != "pyproject.toml":
        return {k: v for k, v in data.items()}
    return None


def find_config(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.cat-lint]`` table at or above ``start``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        try:
            present = candidate.is_file()
        except OSError as exc:  # a folder we may not look into: say which, not a traceback
            raise ConfigError(f"cannot look for a configuration in {folder}: {exc.strerror or exc}") from None
        if present:
            try:
                if read_table(candidate) is not None:
                    return candidate
            except ConfigError:
                # A broken pyproject.toml on the way up is still the one the
                # author meant when it mentions us; report it.
                if f"[tool.{TABLE}" in candidate.read_text(encoding="utf-8", errors="replace"):
                    raise
    return None


def load_config(start: Path, explicit: Path | None = None) -> LoadedConfig:
    """Settings for a run whose paths live under ``start`` (a folder).

    ``explicit`` is ``--config``: it must exist and its folder becomes the
    project root.  Without any configuration the defaults apply and the
    project root is the nearest folder above ``start`` holding a
    ``pyproject.toml`` or ``.git``, else ``start`` itself.
    """
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"configuration file {explicit} does not exist")
        path = explicit.resolve()
        table = read_table(path, explicit=True) or {}
        return LoadedConfig(_parse_table(table, str(path), path.parent), path, path.parent)
    found = find_config(start)
    if found is not None:
        table = read_table(found) or {}
        return LoadedConfig(_parse_table(table, str(found), found.parent), found, found.parent)
    root = project_root(start)
    return LoadedConfig(Settings(project=str(root)), None, root)


def project_root(start: Path) -> Path:
    """The root of a run without configuration file.

    The nearest folder at or above ``start`` holding a ``pyproject.toml``
    or ``.git``; else the Cat project ``start`` belongs to (so that
    ``cat-lint plugins/`` in a bare Cat project names files
    ``plugins/...`` and keeps its cache beside ``plugins/``); else
    ``start``.
    """
    from cat_lint.project.location import find_cat_project

    start = start.resolve()
    for folder in (start, *start.parents):
        try:
            if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
                return folder
        except OSError:
            continue  # a folder we may not look into holds nothing we can use
    return find_cat_project([start], cwd=start) or start


def with_overrides(settings: Settings, select: Iterable[str] | None = None,
                   ignore: Iterable[str] | None = None,
                   extend_select: Iterable[str] | None = None) -> Settings:
    """Apply ``--select``/``--ignore`` the way Ruff does.

    ``--select`` replaces the configured selection; ``--ignore`` is added to
    the configured ignores; ``--extend-select`` adds to the selection.
    """
    changes: dict[str, Any] = {}
    if select is not None:
        changes["select"] = check_selectors(select, "--select", "command line")
    if extend_select:
        changes["select"] = changes.get("select", settings.select) + check_selectors(
            extend_select, "--extend-select", "command line")
    if ignore:
        changes["ignore"] = settings.ignore + check_selectors(ignore, "--ignore", "command line")
    return replace(settings, **changes) if changes else settings
