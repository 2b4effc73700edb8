"""The workspace as the linter sees it: settings, key index and database, per folder.

Each workspace folder is a :class:`Project`.  Its settings come from
``cat_lint.config`` exactly as the command line loads them (the nearest
``pyproject.toml`` with ``[tool.cat-lint]``), so both agree on codes,
suppressions and on the project root, which names files for per-file
ignores and anchors the database.  Its :class:`cat_lint.keys.KeyIndex`
holds the key uses of every Python file of the folder (from disk, or from
the editor's buffer for open documents) plus the database's keys; it is
what CAT006, completion, hover and navigation consult.

Every method here is blocking and meant to run in a worker thread; one
lock per project keeps the index consistent when several run at once.  The
expensive part of linting (parsing) happens outside the lock.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping

from cat_lint.findings import FileResult, Finding, KeyUse
from cat_lint.keys import DatabaseKeys, KeyIndex
from cat_lint.settings import Settings

from cat_lsp.database import ProjectDatabase, Snapshot
from cat_lsp.editor_settings import ORIGIN, EditorSettings, EditorSettingsTable

if TYPE_CHECKING:
    from cat_lint.api import FirstPassResult, Source
    from cat_lint.cache import Cache
    from cat_lint.engine import Crash

log = logging.getLogger(__name__)


@dataclass
class DocumentResult:
    """The last lint of one document version: raw per-file result and final findings."""

    version: int | None
    text: str
    result: FileResult
    findings: list[Finding]


#: Whether the editor has a file open; the session's documents answer it.
IsOpen = Callable[[Path], bool]
#: :func:`cat_lint.api.first_pass` bound to where it runs (the session's worker processes, or here).
FirstPass = Callable[["Mapping[str, Source]", Settings, "Cache"], "FirstPassResult"]


def first_pass_here(sources: Mapping[str, Source], settings: Settings, cache: Cache) -> FirstPassResult:
    """The command line's first pass in the calling thread (no worker processes)."""
    from cat_lint import api

    return api.first_pass(sources, settings, cache)


@dataclass
class ScanReport:
    """What indexing a folder found: how many files, and those the engine crashed on."""

    files: int = 0
    crashes: list[Crash] = field(default_factory=list)


class Project:
    """One workspace folder (or, for a file outside every folder, that file's project)."""

    def __init__(self, folder: Path, editor: EditorSettings | None = None,
                 first_pass: FirstPass = first_pass_here, is_open: IsOpen = lambda path: False) -> None:
        self.folder = folder
        self.first_pass = first_pass
        self.is_open = is_open  # whether the editor has a file open (its buffer is then the truth)
        self.lock = threading.RLock()
        self.settings = Settings(project=str(folder))
        self.root = folder
        self.config_error: str | None = None
        self.database = ProjectDatabase(cat_project_of(folder, folder))
        self.editor = editor or EditorSettings()  # what the editor's settings say for this folder
        self._db_generation = -1
        self._db_keys: DatabaseKeys | None = None
        self._disk_uses: dict[str, list[KeyUse]] = {}
        self.documents: dict[str, DocumentResult] = {}  # engine key -> last lint of the open buffer
        self.index = KeyIndex()
        self.scanned = False
        self.loose = False  # a file's own project outside every workspace folder: never scanned
        self.load_settings()

    # -- paths ------------------------------------------------------------
    def key_for(self, path: Path) -> str:
        """The path the engine and the command line use for a file (:func:`cat_lint.api.engine_key`)."""
        from cat_lint.api import engine_key

        return engine_key(path, self.root)

    def path_for(self, key: str) -> Path:
        path = Path(key)
        return path if path.is_absolute() else self.root / path

    def contains(self, path: Path) -> bool:
        return path == self.folder or self.folder in path.parents

    # -- configuration ----------------------------------------------------
    def load_settings(self) -> bool:
        """(Re)read ``[tool.cat-lint]``; returns whether the settings changed.

        A broken configuration is reported (``config_error``) and the
        defaults are used meanwhile, so the editor keeps linting.
        """
        from cat_lint.config import ConfigError, load_config

        with self.lock:
            before = (self.settings, self.root)
            try:
                loaded = load_config(self.folder if self.folder.is_dir() else self.folder.parent)
                settings, root, error = loaded.settings, loaded.root, None
            except ConfigError as exc:
                settings, root, error = Settings(project=str(self.folder)), self.folder, str(exc)
            except OSError as exc:  # the folder vanished
                settings, root, error = Settings(project=str(self.folder)), self.folder, str(exc)
            if settings.project is None:
                settings = replace(settings, project=str(root))
            configured_database = settings.database
            settings, refused = self.editor.apply(settings, Path(settings.project or root))
            if refused:
                error = f"{error}; {refused}" if error else refused
            self.settings, self.root, self.config_error = settings, root, error
            changed = (settings, root) != before
            if changed:
                self.database.project = cat_project_of(self.folder, root)
                if self.editor.database is not None and settings.database == self.editor.database:
                    origin = ORIGIN
                else:
                    origin = "[tool.cat-lint] database" if configured_database else None
                self.database.invalidate(settings.database, origin)
                self._db_generation = -1
                # Engine keys are relative to the root: re-key what we hold.
                self._disk_uses = {}
                self.documents = {}
                self.scanned = False
                self._rebuild_index()
            return changed

    def set_editor_settings(self, editor: EditorSettings) -> bool:
        """New editor settings for this folder; returns whether the effective settings changed."""
        with self.lock:
            if editor == self.editor:
                return False
            self.editor = editor
        return self.load_settings()

    # -- database ---------------------------------------------------------
    def snapshot(self, wait: bool = True, force_check: bool = False, retry: bool = False) -> Snapshot:
        """The database's keys now; refreshes the index's copy when they changed.

        ``wait=False``: answer from the previous snapshot rather than wait
        for a re-read another thread is doing (interactive requests);
        ``retry``: read again a database that could not be read (the poll).
        """
        snap = self.database.snapshot(force_check=force_check, wait=wait, retry=retry)
        if snap.generation != self._db_generation:
            with self.lock:
                if snap.generation != self._db_generation:
                    self._db_generation = snap.generation
                    if snap.reason is None:
                        self._db_keys = DatabaseKeys.from_stored(
                            snap.global_keys, snap.user_keys, self.database.describe())
                    else:
                        self._db_keys = None
                    self.index.db_keys = self._db_keys
        return snap

    # -- the key index ----------------------------------------------------
    def _rebuild_index(self) -> None:
        index = KeyIndex(self._db_keys)
        for key, uses in self._disk_uses.items():
            if key not in self.documents:
                index.set_file(key, uses)
        for key, doc in self.documents.items():
            index.set_file(key, doc.result.key_uses)
        self.index = index

    def scan(self) -> ScanReport:
        """Index every Python file of the folder from disk (open buffers win).

        Uses the command line's discovery (gitignore, excludes) and its first
        pass, including its on-disk cache when one exists, so a big
        workspace that ``cat-lint`` already linted is indexed in a moment.
        A file the engine crashes on is left out of the index and listed in
        the report; every other file still counts.
        """
        from cat_lint import api
        from cat_lint.cache import Cache
        from cat_lint.discovery import discover

        with self.lock:
            settings, root = self.settings, self.root
        if not self.folder.is_dir():
            with self.lock:
                self.scanned = True
            return ScanReport()
        try:
            files = discover([self.folder], settings)
        except Exception as exc:  # a folder deleted under us
            log.info("cannot list %s: %s", self.folder, exc)
            files = []
        sources = api.read_files(files, root)
        cache = Cache(root, settings, enabled=True)  # read what cat-lint cached; never written from here
        passed = self.first_pass(sources, settings, cache)
        results = passed.results
        with self.lock:
            if (settings, root) != (self.settings, self.root):
                return ScanReport()  # the configuration changed meanwhile; a new scan follows
            self._disk_uses = {key: list(result.key_uses) for key, result in results.items()}
            self.scanned = True
            self._rebuild_index()
        return ScanReport(len(results), passed.crashes)

    def file_changed_on_disk(self, path: Path) -> bool:
        """Re-index a file the editor does not have open; returns whether its key uses changed.

        The same first pass as a scan's, so a file the engine crashes on
        counts as having no key uses, as in a scan.
        """
        from cat_lint import api
        from cat_lint.cache import Cache

        key = self.key_for(path)
        with self.lock:
            if self.is_open(path):
                return False  # the buffer is the truth while open
        if not path.is_file():
            return self.file_deleted(path)
        settings = self.settings
        passed = self.first_pass(api.read_files([path], self.root), settings, Cache(self.root, settings, enabled=False))
        for crash in passed.crashes:
            log.error("cat-lint crashed on %s: %s\n%s", crash.path, crash.error, crash.details)
        result = passed.results.get(key)
        uses: list[KeyUse] = list(result.key_uses) if result is not None else []
        with self.lock:
            before = self._disk_uses.get(key)
            self._disk_uses[key] = uses
            if key not in self.documents:
                self.index.set_file(key, uses)
            return before != uses

    def file_deleted(self, path: Path) -> bool:
        key = self.key_for(path)
        with self.lock:
            existed = self._disk_uses.pop(key, None) is not None
            if key not in self.documents:
                self.index.remove_file(key)
            return existed

    # -- documents --------------------------------------------------------
    def accept(self, path: Path, text: str, version: int | None, result: FileResult, settings: Settings) -> DocumentResult:
        """The project pass for a per-file result computed elsewhere (a worker process); cheap.

        The index takes the result only if it is the newest for an open
        document under the current settings: a slow run finishing after a
        newer one, or after the document closed, must not win.
        """
        from cat_lint.engine import check_project

        self.snapshot()
        key = self.key_for(path)
        with self.lock:
            existing = self.documents.get(key)
            stale = existing is not None and None not in (version, existing.version) and version < existing.version
            if self.is_open(path) and not stale and settings == self.settings and result.path == key:
                self.index.set_file(key, result.key_uses)
                findings = list(check_project([result], settings, self.index).get(key, []))
                doc = DocumentResult(version, text, result, findings)
                self.documents[key] = doc
                return doc
            # Closed, superseded or re-configured meanwhile: nobody will show
            # this result; answer it without touching the index.
            findings = list(check_project([result], settings, self.index).get(result.path, []))
            return DocumentResult(version, text, result, findings)

    def fix_all(self, path: Path, doc: DocumentResult) -> tuple[str, int]:
        """Every safe fix, re-linting between rounds exactly as ``cat-lint --fix`` does."""
        from cat_lint.fixing import fix_source

        key = self.key_for(path)
        with self.lock:
            new_text, applied, _remaining = fix_source(doc.text, key, list(doc.findings), self.settings, self.index)
            # fix_source indexed the fixed text; until the editor applies the
            # edit, the buffer (and so the index) still holds the old one.
            if self.is_open(path):
                self.index.set_file(key, doc.result.key_uses)
        return new_text, applied

    def recheck(self, path: Path) -> DocumentResult | None:
        """Only the project pass again for an open document (the index or database changed): no parsing."""
        from cat_lint.engine import check_project

        key = self.key_for(path)
        with self.lock:
            doc = self.documents.get(key)
            if doc is None:
                return None
            findings = list(check_project([doc.result], self.settings, self.index).get(key, []))
            if findings == doc.findings:
                return None
            doc = DocumentResult(doc.version, doc.text, doc.result, findings)
            self.documents[key] = doc
            return doc

    def close(self, path: Path) -> None:
        """The editor closed the buffer: the file on disk is the truth again."""
        key = self.key_for(path)
        with self.lock:
            self.documents.pop(key, None)
            uses = self._disk_uses.get(key)
            if uses is None:
                self.index.remove_file(key)
            else:
                self.index.set_file(key, uses)

    def written_keys(self, scope: str) -> set[str]:
        with self.lock:
            return self.index.written_keys(scope)

    def uses_by_key(self, scope: str) -> dict[str, list[KeyUse]]:
        """Every key use of one scope in the workspace, by key (one pass, for the key listing)."""
        with self.lock:
            files = [uses for key, uses in self._disk_uses.items() if key not in self.documents]
            files += [doc.result.key_uses for doc in self.documents.values()]
        out: dict[str, list[KeyUse]] = {}
        for uses in files:
            for use in uses:
                if use.scope == scope:
                    out.setdefault(use.key, []).append(use)
        for uses in out.values():
            uses.sort(key=lambda u: (u.path, u.span))
        return out

    def uses(self, key: str, scope: str) -> list[KeyUse]:
        with self.lock:
            return sorted(self.index.uses(key, scope), key=lambda u: (u.path, u.span))


class Workspace:
    """Every project of the session, found by the file they contain."""

    def __init__(self, first_pass: FirstPass = first_pass_here, is_open: IsOpen = lambda path: False) -> None:
        self.first_pass = first_pass
        self.is_open = is_open
        self.projects: dict[Path, Project] = {}
        self._lock = threading.Lock()
        self.editor_settings = EditorSettingsTable()

    def add_folder(self, folder: Path) -> Project:
        with self._lock:
            project = self.projects.get(folder)
            if project is None:
                project = self.projects[folder] = Project(
                    folder, self.editor_settings.for_folder(folder), self.first_pass, self.is_open)
            return project

    def remove_folder(self, folder: Path) -> Project | None:
        with self._lock:
            project = self.projects.pop(folder, None)
        if project is not None:
            project.database.close()
        return project

    def project_for(self, path: Path) -> Project:
        """The deepest folder containing ``path``; a file outside every folder gets its own project."""
        best: Project | None = None
        with self._lock:
            for folder, project in self.projects.items():
                if project.contains(path) and (best is None or len(folder.parts) > len(best.folder.parts)):
                    best = project
        if best is not None:
            return best
        root = _loose_root(path)
        with self._lock:
            known = root in self.projects
        project = self.add_folder(root)
        if not known:
            project.loose = True
        return project

    def all(self) -> list[Project]:
        with self._lock:
            return list(self.projects.values())


def cat_project_of(folder: Path, root: Path) -> Path:
    """The Cat project of a workspace folder, found as cat-lint and cat-store find it; else ``root``."""
    from cat_lint.project.location import find_cat_project

    try:
        return find_cat_project([folder], cwd=folder) or root
    except OSError:
        return root


def _loose_root(path: Path) -> Path:
    """For a file outside the workspace: its configuration's project, as the command line would pick."""
    from cat_lint.config import project_root

    try:
        return project_root(path.parent)
    except OSError:
        return path.parent
