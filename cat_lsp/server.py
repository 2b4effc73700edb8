"""The pygls wiring: lifecycle, document sync, and which module answers what.

Everything slow (parsing, the database) runs in two small thread pools so
the event loop keeps reading messages: ``lint`` for the engine's per-file
pass, ``query`` for completion, hover and the database, so that a
completion never queues behind a long lint.  The feature modules hold the
logic; this module only routes requests to them and keeps the per-session
state (projects, open documents, file watchers, the database poll).

Options the client may pass in ``initializationOptions``:

* ``debounce`` (milliseconds, default 150): how long a document must stay
  unchanged before it is linted (push diagnostics);
* ``databasePollInterval`` (seconds, default 1.0): how often the database
  is checked for new keys so that diagnostics follow a running Cat (0
  disables the poll; completion and hover always check); a change is also
  sent to the client as a ``cat/databaseChanged`` notification;
* ``folders``: the editor's ``cat.database``, ``cat.lint.select`` and
  ``cat.lint.ignore`` per workspace folder (see ``editor_settings``), also
  accepted later in ``workspace/didChangeConfiguration``.
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from cat_lsp import __version__
from cat_lsp.diagnostics import DiagnosticsScheduler
from cat_lsp.editor_settings import EditorSettingsTable
from cat_lsp.lint_workers import LintWorkers
from cat_lsp.workspace import Project, Workspace, iter_paths

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_DEBOUNCE_MS = 150
DEFAULT_POLL_SECONDS = 1.0
# Lint waits at most this long for the first scan of a folder (so that CAT006
# does not flash "never written" for keys saved in files not yet indexed).
SCAN_WAIT_SECONDS = 10.0
WATCHED = ("**/*.py", "**/pyproject.toml", "**/config.py")
# Sent to the client when a project's database changed: ``{"uri": <the project folder's URI>}``.
DATABASE_CHANGED = "cat/databaseChanged"


class CatLanguageServer(LanguageServer):
    """The server and its session state."""

    def __init__(self) -> None:
        super().__init__("cat-lsp", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.lint_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cat-lsp-lint")
        self.query_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cat-lsp-query")
        self.workers = LintWorkers(self.lint_pool)
        self.projects = Workspace(self.workers.first_pass)
        self.diagnostics = DiagnosticsScheduler(self, DEFAULT_DEBOUNCE_MS / 1000)
        self.poll_interval = DEFAULT_POLL_SECONDS
        self._scans: dict[Path, asyncio.Future] = {}
        self._poller: asyncio.Task | None = None

    # -- helpers for the feature modules ----------------------------------
    @property
    def encoding(self) -> str:
        try:
            return str(self.workspace.position_encoding or types.PositionEncodingKind.Utf16)
        except Exception:
            return types.PositionEncodingKind.Utf16

    def markdown(self, feature: str) -> bool:
        """Whether the client renders markdown in completion documentation or hovers."""
        text = self.client_capabilities.text_document
        if text is None:
            return False
        if feature == "completion":
            item = text.completion.completion_item if text.completion is not None else None
            formats = item.documentation_format if item is not None else None
        else:
            formats = text.hover.content_format if text.hover is not None else None
        return bool(formats) and types.MarkupKind.Markdown in formats

    def path_of(self, uri: str) -> Path:
        for path in iter_paths([uri]):
            return path
        return Path(uri)

    def text_of(self, uri: str) -> tuple[str, int | None] | None:
        """The buffer and version of an open document (``None`` when not open)."""
        if not self.diagnostics.is_open(uri):
            return None
        doc = self.workspace.get_text_document(uri)
        return doc.source, doc.version

    async def run_lint(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.lint_pool, fn, *args)

    async def run_query(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.query_pool, fn, *args)

    async def lint_document(self, project: Project, path: Path, text: str, version: int | None):
        """Both passes for an editor buffer: the parse in the checker process, the project pass here."""
        key = project.key_for(path)
        settings = project.settings
        result = await self.workers.check(text, key, settings)
        return await self.run_lint(project.accept, path, text, version, result, settings)

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

    def start_scan(self, project: Project) -> asyncio.Future:
        future = asyncio.ensure_future(self._scan(project))
        self._scans[project.folder] = future
        return future

    async def _scan(self, project: Project) -> None:
        try:
            report = await self.run_lint(project.scan)
            log.info("indexed %d files of %s", report.files, project.folder)
            if report.crashes:
                self.report_crashes(project, report.crashes)
        except Exception:
            log.exception("indexing %s failed", project.folder)
        uris = [u for u in self.diagnostics.open_uris() if self.projects.project_for(self.path_of(u)) is project]
        await self.diagnostics.recheck(uris)

    # -- lifecycle ----------------------------------------------------------
    def configure(self, params: types.InitializeParams) -> None:
        options = params.initialization_options if isinstance(params.initialization_options, dict) else {}
        debounce = options.get("debounce")
        if isinstance(debounce, (int, float)) and debounce >= 0:
            self.diagnostics.debounce = debounce / 1000
        poll = options.get("databasePollInterval")
        if isinstance(poll, (int, float)) and poll >= 0:
            self.poll_interval = float(poll)
        editor = EditorSettingsTable.parse(options)
        if editor is not None:
            self.projects.editor_settings = editor
        caps = params.capabilities
        text_caps = caps.text_document
        self.diagnostics.pull = bool(text_caps is not None and text_caps.diagnostic is not None)
        ws_caps = caps.workspace
        self.diagnostics.refresh_supported = bool(
            ws_caps is not None and ws_caps.diagnostics is not None and ws_caps.diagnostics.refresh_support
        )
        folders = list(iter_paths(f.uri for f in params.workspace_folders or []))
        if not folders:
            root = params.root_uri or (Path(params.root_path).as_uri() if params.root_path else None)
            folders = list(iter_paths([root])) if root else []
        for folder in folders:
            self.projects.add_folder(folder)

    async def on_initialized(self) -> None:
        caps = self.client_capabilities.workspace
        watched = caps.did_change_watched_files if caps is not None else None
        if watched is not None and watched.dynamic_registration:
            try:
                await self.client_register_capability_async(
                    types.RegistrationParams(
                        registrations=[
                            types.Registration(
                                id="cat-lsp-watched-files",
                                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                                register_options=types.DidChangeWatchedFilesRegistrationOptions(
                                    watchers=[types.FileSystemWatcher(glob_pattern=g) for g in WATCHED]
                                ),
                            )
                        ]
                    )
                )
            except Exception as exc:
                log.info("client refused file watching: %s", exc)
        for project in self.projects.all():
            if project.config_error:
                self.warn(project.config_error)
            # Read the database's keys now, so the first completion does not wait for them.
            asyncio.ensure_future(self.run_query(project.snapshot))
            if project.folder not in self._scans:  # a document opened meanwhile may have started it
                self.start_scan(project)
        self.workers.warm_up()
        if self.poll_interval > 0 and self._poller is None:
            self._poller = asyncio.ensure_future(self._poll_databases())

    def report_crashes(self, project: Project, crashes: list) -> None:
        """Files the engine raised on while indexing: a bug to report; the rest of the index stands."""
        for crash in crashes:
            log.error("cat-lint crashed on %s: %s\n%s", crash.path, crash.error, crash.details)
        names = ", ".join(crash.path for crash in crashes[:3]) + (" and others" if len(crashes) > 3 else "")
        self.warn(f"cat-lint crashed on {len(crashes)} file(s) of {project.folder.name} while indexing ({names}; "
                  f"{crashes[0].error}); their keys are left out of the index. Please report it.")

    def warn(self, message: str) -> None:
        try:
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=f"cat-lsp: {message}"))
        except Exception:
            log.warning("%s", message)

    async def _poll_databases(self) -> None:
        """Follow a running Cat: when the database's keys change, refresh diagnostics (CAT006)."""
        while True:
            await asyncio.sleep(self.poll_interval)
            for project in self.projects.all():
                try:
                    changed = await self.run_query(project.database_changed)
                except Exception:
                    log.debug("database poll failed", exc_info=True)
                    continue
                if changed:
                    self.notify_database_changed(project)
                    await self.diagnostics.recheck(self.open_uris_of(project))

    def notify_database_changed(self, project: Project) -> None:
        """Tell the client (its key explorer) to list the keys again: it never polls."""
        try:
            self.protocol.notify(DATABASE_CHANGED, {"uri": project.folder.as_uri()})
        except Exception:
            log.debug("could not send %s", DATABASE_CHANGED, exc_info=True)

    async def on_configuration(self, params: types.DidChangeConfigurationParams) -> None:
        """The editor's settings changed: apply them to every project, live."""
        table = EditorSettingsTable.parse(params.settings)
        if table is None:
            return
        self.projects.editor_settings = table
        for project in self.projects.all():
            changed = await self.run_query(project.set_editor_settings, table.for_folder(project.folder))
            if not changed:
                continue
            if project.config_error:
                self.warn(project.config_error)
            log.info("settings of %s changed: re-indexing", project.folder)
            self.notify_database_changed(project)
            if not project.loose:
                self.start_scan(project)
            await self.diagnostics.recheck(self.open_uris_of(project), full=True)

    def open_uris_of(self, project: Project) -> list[str]:
        return [u for u in self.diagnostics.open_uris() if self.projects.project_for(self.path_of(u)) is project]

    def on_shutdown(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
        for project in self.projects.all():
            project.database.close()
        self.workers.close()
        self.lint_pool.shutdown(wait=False, cancel_futures=True)
        self.query_pool.shutdown(wait=False, cancel_futures=True)

    # -- workspace changes ------------------------------------------------
    async def on_watched_files(self, params: types.DidChangeWatchedFilesParams) -> None:
        touched: dict[Project, bool] = {}  # project -> settings changed
        for change in params.changes:
            path = self.path_of(change.uri)
            project = self.projects.project_for(path)
            name = path.name
            if name == "pyproject.toml":
                changed = await self.run_query(project.load_settings)
                if project.config_error:
                    self.warn(project.config_error)
                touched[project] = touched.get(project, False) or changed
            elif name == "config.py" and path.parent == project.root:
                project.database.invalidate()
                touched.setdefault(project, False)
            if path.suffix in (".py", ".pyi"):
                if change.type == types.FileChangeType.Deleted:
                    changed = await self.run_lint(project.file_deleted, path)
                else:
                    changed = await self.run_lint(project.file_changed_on_disk, path)
                if changed:
                    touched.setdefault(project, False)
        for project, settings_changed in touched.items():
            if settings_changed:
                self.start_scan(project)
            await self.diagnostics.recheck(self.open_uris_of(project), full=settings_changed)

    async def on_saved(self, uri: str) -> None:
        """Editors without file watching still tell us when pyproject.toml or config.py is saved."""
        path = self.path_of(uri)
        if path.name in ("pyproject.toml", "config.py"):
            await self.on_watched_files(
                types.DidChangeWatchedFilesParams(changes=[types.FileEvent(uri=uri, type=types.FileChangeType.Changed)])
            )

    def on_folders_changed(self, params: types.DidChangeWorkspaceFoldersParams) -> None:
        for folder in iter_paths(f.uri for f in params.event.removed):
            self.projects.remove_folder(folder)
            self._scans.pop(folder, None)
        for folder in iter_paths(f.uri for f in params.event.added):
            self.start_scan(self.projects.add_folder(folder))


def create_server() -> CatLanguageServer:
    """A server with every feature registered (one per session)."""
    from cat_lsp import code_actions, completion, hover, keys_request, navigation

    server = CatLanguageServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: CatLanguageServer, params: types.InitializeParams) -> None:
        ls.configure(params)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: CatLanguageServer, params: types.InitializedParams) -> None:
        await ls.on_initialized()

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: CatLanguageServer, params: None) -> None:
        ls.on_shutdown()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: CatLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        if not _is_python(doc.uri, doc.language_id):
            return
        ls.projects.project_for(ls.path_of(doc.uri)).open(ls.path_of(doc.uri))
        ls.diagnostics.opened(doc.uri, doc.version)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: CatLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        if ls.diagnostics.is_open(params.text_document.uri):
            ls.diagnostics.changed(params.text_document.uri, params.text_document.version)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: CatLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        await ls.on_saved(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CatLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        if ls.diagnostics.is_open(uri):
            path = ls.path_of(uri)
            ls.projects.project_for(path).close(path)
            ls.diagnostics.closed(uri)

    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(identifier="cat-lint", inter_file_dependencies=True, workspace_diagnostics=False),
    )
    async def pull_diagnostics(ls: CatLanguageServer, params: types.DocumentDiagnosticParams):
        return await ls.diagnostics.pull_report(params)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def watched_files(ls: CatLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
        await ls.on_watched_files(params)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def configuration_changed(ls: CatLanguageServer, params: types.DidChangeConfigurationParams) -> None:
        await ls.on_configuration(params)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def folders_changed(ls: CatLanguageServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        ls.on_folders_changed(params)

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=['"', "'", "("], resolve_provider=True),
    )
    async def complete(ls: CatLanguageServer, params: types.CompletionParams):
        return await completion.complete(ls, params)

    @server.feature(types.COMPLETION_ITEM_RESOLVE)
    async def complete_resolve(ls: CatLanguageServer, item: types.CompletionItem):
        return await completion.resolve(ls, item)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def on_hover(ls: CatLanguageServer, params: types.HoverParams):
        return await hover.hover(ls, params)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(ls: CatLanguageServer, params: types.DefinitionParams):
        return await navigation.definition(ls, params)

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def references(ls: CatLanguageServer, params: types.ReferenceParams):
        return await navigation.references(ls, params)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll, code_actions.FIX_ALL_KIND],
            resolve_provider=False,
        ),
    )
    async def code_action(ls: CatLanguageServer, params: types.CodeActionParams):
        return await code_actions.code_actions(ls, params)

    @server.feature(keys_request.METHOD)
    async def cat_keys(ls: CatLanguageServer, params: Any):
        return await keys_request.list_keys(ls, params)

    @server.feature(keys_request.VALUE_METHOD)
    async def cat_key_value(ls: CatLanguageServer, params: Any):
        return await keys_request.key_value(ls, params)

    @server.feature(keys_request.USERS_METHOD)
    async def cat_user_ids(ls: CatLanguageServer, params: Any):
        return await keys_request.user_ids(ls, params)

    return server


def _is_python(uri: str, language_id: str | None) -> bool:
    if language_id:
        return language_id.lower() in ("python", "py")
    return uri.endswith((".py", ".pyi"))


def configure_logging(verbose: bool, log_file: str | None) -> None:
    """Logs go to stderr (or a file), never stdout: stdout is the protocol channel."""
    handler: logging.Handler = logging.FileHandler(log_file) if log_file else logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO if os.environ.get("CAT_LSP_LOG") else logging.WARNING)
