"""Which files a run lints.

Folders are walked for ``.py`` files, skipping what git ignores (every
``.gitignore`` from the repository root down, with git's own matching rules
through :mod:`pathspec`) and the excludes: the defaults (``.venv``,
``node_modules``, ``.git``, ``__pycache__``...) unless the configuration
replaces them with ``exclude``, plus ``extend-exclude``.  Exclude patterns
are gitignore-style patterns relative to the project root, so ``build``
skips every folder of that name and ``plugins/legacy/`` just that one.

A file named on the command line is linted even when excluded or ignored,
because the author asked for it by name, unless ``force-exclude`` (the
setting or ``--force-exclude``, which the pre-commit hook passes) says the
excludes apply to named paths too.  A path
that does not exist is a usage error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import pathspec

from cat_lint.config import DEFAULT_EXCLUDE
from cat_lint.filenames import printable
from cat_lint.limits import MAX_SOURCE_BYTES
from cat_lint.project.location import read_regular
from cat_lint.settings import Settings


class DiscoveryError(Exception):
    """A path given on the command line cannot be linted."""


def _gitignore_spec(folder: Path) -> pathspec.GitIgnoreSpec | None:
    ignore_file = folder / ".gitignore"
    try:  # a regular file within the size limit: a FIFO would block the walk, 8 GB would fill the memory
        lines = read_regular(ignore_file, MAX_SOURCE_BYTES).decode("utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None


def _git_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


@dataclass
class _Ignores:
    """The gitignore files in force for one folder (nearest last) and the excludes.

    Each spec is paired with the folder its patterns are matched from: the
    folder of its ``.gitignore`` (the project root for the excludes), or
    the folder named on the command line when that folder is itself
    ignored by the spec, so that naming an ignored folder lints it instead
    of finding nothing.
    """

    excludes: tuple[str, pathspec.GitIgnoreSpec | None]
    excluded_names: frozenset[str]
    gitignores: list[tuple[str, pathspec.GitIgnoreSpec]] = field(default_factory=list)

    def child(self, folder: str) -> "_Ignores":
        spec = _gitignore_spec(Path(folder))
        if spec is None:
            return self
        return _Ignores(self.excludes, self.excluded_names, [*self.gitignores, (folder, spec)])

    def ignored(self, path: str, name: str, is_dir: bool) -> bool:
        # Plain names (the defaults: .venv, node_modules...) need no pattern
        # matching; walking thousands of files stays a matter of milliseconds.
        if name in self.excluded_names:
            return True
        suffix = "/" if is_dir else ""
        base, excludes = self.excludes
        if excludes is not None and excludes.match_file(_relative(path, base) + suffix):
            return True
        # Later (deeper) .gitignore files may re-include what an earlier one
        # excluded; git applies them nearest-last, so the last verdict wins.
        verdict = False
        for base, spec in self.gitignores:
            result = spec.check_file(_relative(path, base) + suffix)
            if result.include is not None:
                verdict = bool(result.include)
        return verdict


def _relative(path: str, base: str) -> str:
    if path.startswith(base + os.sep):
        rel = path[len(base) + 1:]
        return rel.replace(os.sep, "/") if os.sep != "/" else rel
    return os.path.basename(path)


def _rebase(base: Path, spec: pathspec.GitIgnoreSpec, folder: Path) -> str:
    """``base``, or ``folder`` when ``folder`` (given explicitly) is ignored by ``spec`` itself."""
    if folder != base and spec.match_file(_relative(str(folder), str(base)) + "/"):
        return str(folder)
    return str(base)


_GLOB = set("*?[]!/\\")


def _initial_ignores(folder: Path, settings: Settings) -> _Ignores:
    project = Path(settings.project or os.getcwd()).resolve()
    patterns = list(settings.exclude or DEFAULT_EXCLUDE) + list(settings.extend_exclude)
    names = frozenset(p for p in patterns if p and not (_GLOB & set(p)) and not p.startswith("#"))
    if folder.name in names:
        names = frozenset()  # the folder was named on purpose: match its contents with patterns only
        rest = patterns
    else:
        rest = [p for p in patterns if p not in names]
    excludes = pathspec.GitIgnoreSpec.from_lines(rest) if rest else None
    exclude_base = _rebase(project, excludes, folder) if excludes is not None else str(project)
    ignores = _Ignores((exclude_base, excludes), names)
    root = _git_root(folder)
    if root is None:
        # Outside a git repository .gitignore files still mean what they say
        # from the project root down (a fresh checkout before `git init`).
        root = project if folder == project or project in folder.parents else folder
    chain = [folder, *folder.parents]
    ancestors = chain[: chain.index(root) + 1] if root in chain else [folder]
    for ancestor in reversed(ancestors):
        spec = _gitignore_spec(ancestor)
        if spec is not None:
            ignores.gitignores.append((_rebase(ancestor, spec, folder), spec))
    return ignores


def _walk(folder: str, ignores: _Ignores, out: list[Path], problems: list[str] | None = None,
          skip: frozenset[str] = frozenset()) -> None:
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        if problems is not None:  # said, as Ruff says it: a folder silently skipped hides its files
            problems.append(f"cannot read folder {printable(folder)}: {exc.strerror or exc}; its files are not linted")
        return
    for entry in entries:
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if ignores.ignored(entry.path, entry.name, is_dir):
            continue
        if is_dir:
            if entry.path not in skip:
                _walk(entry.path, ignores.child(entry.path), out, problems, skip)
        elif entry.name.endswith((".py", ".pyi")):
            try:
                is_file = entry.is_file()
            except OSError as exc:  # a symlink loop (a.py -> b.py -> a.py): named, and the walk goes on
                if problems is not None:
                    problems.append(f"skipping {printable(entry.path)}: {exc.strerror or exc}")
                continue
            if is_file:
                out.append(Path(entry.path))
            elif problems is not None:  # a FIFO, a device, a dangling link: named, as on the command line
                problems.append(f"skipping {printable(entry.path)}: {_not_regular(entry.path)}")


def _not_regular(path: str | os.PathLike[str]) -> str:
    """Why ``path`` is not read: the error of its status, or what it is instead of a regular file."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc.strerror or str(exc)
    return "not a regular file"


def excluded(path: Path, settings: Settings) -> bool:
    """Whether the excludes (``exclude`` or the defaults, plus ``extend-exclude``) cover ``path``.

    ``path`` is matched, as are the folders between the project root and
    it (``.venv/lib/x.py`` is excluded by ``.venv``); a path outside the
    project is matched by its name and its folders' names only.
    """
    project = Path(settings.project or os.getcwd()).resolve()
    patterns = list(settings.exclude or DEFAULT_EXCLUDE) + list(settings.extend_exclude)
    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    try:
        parts = path.resolve().relative_to(project).parts
    except ValueError:
        parts = (path.name,)
    for depth in range(1, len(parts) + 1):
        rel = "/".join(parts[:depth])
        if spec.match_file(rel + ("/" if depth < len(parts) or path.is_dir() else "")):
            return True
    return False


def discover(paths: Sequence[str | os.PathLike[str]], settings: Settings,
             problems: list[str] | None = None, skip: Iterable[Path] = ()) -> list[Path]:
    """Absolute paths of the files to lint, sorted and without duplicates.

    With ``force-exclude`` the excludes apply to the paths given too (as
    Ruff's ``--force-exclude``): pre-commit names every staged file, and
    an excluded one must stay excluded.  Only regular files are read: a
    FIFO named on the command line is skipped, and it, every folder that
    cannot be read and every file whose status cannot be read (a symlink
    loop) are added to ``problems`` (warnings to show).
    Folders in ``skip`` are not walked (they were, by an earlier call).
    """
    found: list[Path] = []
    skipped = frozenset(str(folder) for folder in skip)
    missing = [str(p) for p in paths if not os.path.lexists(p)]
    if missing:
        raise DiscoveryError("no such file or directory: " + ", ".join(missing))
    for given in paths:
        if not os.path.exists(given):  # a dangling symlink or a symlink loop: named, and the rest is linted
            if problems is not None:
                problems.append(f"skipping {printable(os.fspath(given))}: {_not_regular(given)}")
            continue
        path = Path(given).resolve()
        if settings.force_exclude and excluded(path, settings):
            continue
        if path.is_dir():
            _walk(str(path), _initial_ignores(path, settings), found, problems, skipped)
        elif path.is_file():
            found.append(path)
        elif problems is not None:  # a FIFO, a socket, a device: reading it could block forever
            problems.append(f"skipping {printable(os.fspath(given))}: not a regular file")
    return sorted(dict.fromkeys(found))


def common_folder(paths: Iterable[str | os.PathLike[str]]) -> Path:
    """The deepest folder holding every given path (where configuration is looked for)."""
    folders = []
    for given in paths:
        path = Path(os.path.realpath(given))  # never raises: a symlink loop is named later, by discover()
        folders.append(path if path.is_dir() else path.parent)
    if not folders:
        return Path.cwd()
    return Path(os.path.commonpath([str(f) for f in folders]))
