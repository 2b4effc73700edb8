"""One editor session's state, and the small interface the feature modules use.

A :class:`Session` owns everything that lives as long as the connection:
the projects (:class:`cat_lsp.workspace.Workspace`), the open documents and
their diagnostics (:class:`cat_lsp.scheduler.DiagnosticsScheduler`, the one
record of which documents are open), the worker processes, the two thread
pools and every background task.  Feature handlers receive the session, not
the pygls server: they read texts and projects, and run blocking work in the
right pool, through the members below.

Everything slow runs off the event loop so that it keeps reading messages:
the engine's per-file pass in worker processes (:mod:`cat_lsp.lint_workers`),
the project pass and indexing in the ``lint`` threads, completion, hover and
the database in the ``query`` threads, so that a completion never queues
behind a long lint.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Protocol, TypeVar

from cat_lsp.background_tasks import BackgroundTasks
from cat_lsp.client import Client
from cat_lsp.editor_settings import EditorSettingsTable
from cat_lsp.lint_workers import LintWorkers
from cat_lsp.poll_record import PollRecord
from cat_lsp.scheduler import DiagnosticsScheduler
from cat_lsp.uris import to_path
from cat_lsp.workspace import DocumentResult, Project, Workspace

if TYPE_CHECKING:
    from cat_lint.engine import Crash

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_DEBOUNCE_MS = 150
DEFAULT_POLL_SECONDS = 1.0
# Lint waits at most this long for the first scan of a folder (so that CAT006
# does not flash "never written" for keys saved in files not yet indexed).
SCAN_WAIT_SECONDS = 10.0


class FeatureSession(Protocol):
    """All a feature handler (completion, hover, navigation, code actions, ``cat/keys``) may use.

    Texts and lint results of open documents, the projects, the client's
    preferences, and where to run blocking work; nothing that changes the
    session's state.  :class:`Session` is the implementation.
    """

    projects: Workspace

    @property
    def encoding(self) -> str: ...

    @property
    def versioned_edits(self) -> bool: ...

    def markdown(self, feature: str) -> bool: ...

    def path_of(self, uri: str) -> Path: ...

    def uri_of(self, path: Path) -> str: ...

    def text_of(self, uri: str) -> tuple[str, int | None] | None: ...

    def latest(self, uri: str) -> DocumentResult | None: ...

    def current(self, uri: str) -> Awaitable[DocumentResult | None]: ...

    def ready_project(self, path: Path) -> Awaitable[Project]: ...

    def run_lint(self, fn: Callable[..., T], *args: Any) -> Awaitable[T]: ...

    def run_query(self, fn: Callable[..., T], *args: Any) -> Awaitable[T]: ...


class Session:
    """The state of one connection; to feature handlers, a :class:`FeatureSession`."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.tasks = BackgroundTasks()
        self.lint_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cat-lsp-lint")
        self.query_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cat-lsp-query")
        self.workers = LintWorkers(self.lint_pool)
        self.documents = DiagnosticsScheduler(self.client, self.tasks, self, DEFAULT_DEBOUNCE_MS / 1000)
        self.projects = Workspace(self.workers.first_pass, self.documents.is_open_path)
        self._poll_interval = DEFAULT_POLL_SECONDS
        self._scans: dict[Path, asyncio.Task] = {}
        self.polled = PollRecord()  # what the poll last acted on, per folder

    # -- what feature handlers use ------------------------------------------
    @property
    def encoding(self) -> str:
        return self.client.encoding

    @property
    def versioned_edits(self) -> bool:
        return self.client.versioned_edits

    def markdown(self, feature: str) -> bool:
        return self.client.markdown(feature)

    def path_of(self, uri: str) -> Path:
        path = to_path(uri)
        return path if path is not None else Path(uri)

    def uri_of(self, path: Path) -> str:
        """The URI to send for a file: the client's own spelling when it has the file open."""
        return self.documents.uri_of(path)

    def project_of(self, uri: str) -> Project:
        return self.projects.project_for(self.path_of(uri))

    def text_of(self, uri: str) -> tuple[str, int | None] | None:
        """The buffer and version of an open document (``None`` when not open)."""
        if not self.documents.is_open(uri):
            return None
        return self.client.document(uri)

    def latest(self, uri: str) -> DocumentResult | None:
        """The last lint of an open document, if any (it may be of an older version)."""
        return self.documents.latest(uri)

    async def current(self, uri: str) -> DocumentResult | None:
        """The lint of an open document's current version (waits for it)."""
        return await self.documents.current(uri)

    async def run_lint(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.lint_pool, fn, *args)

    async def run_query(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.query_pool, fn, *args)

    async def ready_project(self, path: Path) -> Project:
        """The project of ``path`` once its first scan is done (or took too long)."""
        project = self.projects.project_for(path)
        scan = self._scans.get(project.folder)
        if scan is None and not project.loose and not project.scanned:
            scan = self.start_scan(project)
        if scan is not None and not scan.done():
            try:
                await asyncio.wait_for(asyncio.shield(scan), SCAN_WAIT_SECONDS)
            except asyncio.TimeoutError:
                log.info("still indexing %s; linting meanwhile", project.folder)
            except Exception:
                pass
        return project

    # -- what the lifecycle and workspace notifications change --------------
    @property
    def poll_interval(self) -> float:
        """Seconds between two reads of the databases and the folders (0: no poll)."""
        return self._poll_interval

    def set_poll_interval(self, seconds: float) -> None:
        self._poll_interval = seconds

    def set_debounce(self, seconds: float) -> None:
        self.documents.set_debounce(seconds)

    def use_client_capabilities(self, pull: bool, refresh_supported: bool) -> None:
        """Diagnostics pulled by the client, or pushed; and whether it can be asked to pull again."""
        self.documents.use_client_capabilities(pull, refresh_supported)

    def set_editor_settings(self, table: EditorSettingsTable) -> None:
        """The editor's settings for every folder, as projects added from now on get them."""
        self.projects.editor_settings = table

    def has_scan(self, project: Project) -> bool:
        """Whether indexing the project's folder has started (it may have ended)."""
        return project.folder in self._scans

    def remove_folder(self, folder: Path) -> None:
        """A workspace folder left the session: its project, its scan and what the poll knew of it go."""
        self.projects.remove_folder(folder)
        self._scans.pop(folder, None)
        self.polled.forget(folder)

    # -- linting and indexing ---------------------------------------------
    async def lint_document(self, project: Project, path: Path, text: str, version: int | None) -> DocumentResult:
        """Both passes for an editor buffer: the parse in a worker process, the project pass in a thread."""
        key = project.key_for(path)
        settings = project.settings
        result = await self.workers.check(text, key, settings)
        return await self.run_lint(project.accept, path, text, version, result, settings)

    def start_scan(self, project: Project) -> asyncio.Task:
        task = self.tasks.start(self._scan(project), name=f"scan {project.folder}")
        self._scans[project.folder] = task
        return task

    async def _scan(self, project: Project) -> None:
        try:
            report = await self.run_lint(project.scan)
            log.info("indexed %d files of %s", report.files, project.folder)
            if report.crashes:
                self.report_crashes(project, report.crashes)
        except Exception:
            log.exception("indexing %s failed", project.folder)
        await self.documents.recheck(self.open_uris_of(project))

    def report_crashes(self, project: Project, crashes: list[Crash]) -> None:
        """Files the engine raised on while indexing: a bug to report; the rest of the index stands."""
        for crash in crashes:
            log.error("cat-lint crashed on %s: %s\n%s", crash.path, crash.error, crash.details)
        names = ", ".join(crash.path for crash in crashes[:3]) + (" and others" if len(crashes) > 3 else "")
        self.client.warn(f"cat-lint crashed on {len(crashes)} file(s) of {project.folder.name} while indexing "
                         f"({names}; {crashes[0].error}); their keys are left out of the index. Please report it.")

    def open_uris_of(self, project: Project) -> list[str]:
        return [u for u in self.documents.open_uris() if self.project_of(u) is project]

    def close(self) -> None:
        """The end of the session: stop every task, worker and thread, close every database."""
        self.tasks.cancel_all()
        for project in self.projects.all():
            project.database.close()
        self.workers.close()
        self.lint_pool.shutdown(wait=False, cancel_futures=True)
        self.query_pool.shutdown(wait=False, cancel_futures=True)
