"""The session's lifecycle and workspace notifications: what each one changes.

Options the client may pass in ``initializationOptions``:

* ``debounce`` (milliseconds, default 150): how long a document must stay
  unchanged before it is linted (push diagnostics);
* ``databasePollInterval`` (seconds, default 1.0): how often the database
  is checked for new keys so that diagnostics follow a running Cat (0
  disables the poll; completion and hover always check); a change is also
  sent to the client as a ``cat/databaseChanged`` notification.  The same
  poll notices a workspace folder that disappears or comes back
  (``poll_record``);
* ``folders``: the editor's ``cat.database``, ``cat.lint.select`` and
  ``cat.lint.ignore`` per workspace folder (see ``editor_settings``), also
  accepted later in ``workspace/didChangeConfiguration``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from pathlib import Path

from lsprotocol import types

from cat_lsp.editor_settings import EditorSettingsTable
from cat_lsp.session import Session
from cat_lsp.uris import from_path, iter_paths
from cat_lsp.workspace import Project

log = logging.getLogger(__name__)

WATCHED = ("**/*.py", "**/pyproject.toml", "**/config.py")
# Sent to the client when a project's database changed: ``{"uri": <the project folder's URI>}``.
DATABASE_CHANGED = "cat/databaseChanged"


# -- lifecycle --------------------------------------------------------------
def initialize(session: Session, params: types.InitializeParams) -> None:
    options = params.initialization_options if isinstance(params.initialization_options, dict) else {}
    debounce = options.get("debounce")
    if isinstance(debounce, (int, float)) and debounce >= 0:
        session.set_debounce(debounce / 1000)
    poll = options.get("databasePollInterval")
    if isinstance(poll, (int, float)) and poll >= 0:
        session.set_poll_interval(float(poll))
    editor = EditorSettingsTable.parse(options)
    if editor is not None:
        session.set_editor_settings(editor)
    caps = params.capabilities
    text_caps = caps.text_document
    ws_caps = caps.workspace
    session.use_client_capabilities(
        pull=bool(text_caps is not None and text_caps.diagnostic is not None),
        refresh_supported=bool(ws_caps is not None and ws_caps.diagnostics is not None
                               and ws_caps.diagnostics.refresh_support),
    )
    folders = list(iter_paths(f.uri for f in params.workspace_folders or []))
    if not folders:
        root = params.root_uri or (from_path(Path(params.root_path)) if params.root_path else None)
        folders = list(iter_paths([root])) if root else []
    for folder in folders:
        session.projects.add_folder(folder)


async def initialized(session: Session, params: types.InitializedParams) -> None:
    await session.client.watch_files("cat-lsp-watched-files", WATCHED)
    for project in session.projects.all():
        if project.config_error:
            session.client.warn(project.config_error)
        # Read the database's keys now, so the first completion does not wait for them.
        session.tasks.start(check_database(session, project), name=f"first read of {project.folder}'s database")
        if not session.has_scan(project):  # a document opened meanwhile may have started it
            session.start_scan(project)
    session.workers.warm_up()
    if session.poll_interval > 0:
        session.tasks.start(_poll(session), name="database and folder poll")


def shutdown(session: Session, params: None) -> None:
    session.close()


async def _poll(session: Session) -> None:
    """Follow a running Cat (when the database's keys change, refresh diagnostics: CAT006) and the folders."""
    while True:
        await asyncio.sleep(session.poll_interval)
        for project in session.projects.all():
            if not project.loose:
                await check_folder(session, project)
            await check_database(session, project)


async def check_folder(session: Session, project: Project) -> None:
    """Say once that a workspace folder went away; when it is back, read the project again."""
    present = await session.run_query(project.folder.is_dir)  # a stat on a hung network mount must not stop the loop
    news = session.polled.folder_news(project.folder, present)
    if news is None:
        return
    session.client.log(news)
    if present:
        settings_changed = await session.run_query(project.load_settings)
        project.database.invalidate()
        session.start_scan(project)
        if settings_changed:
            await session.documents.recheck(session.open_uris_of(project), full=True)


async def check_database(session: Session, project: Project) -> None:
    """Read the project's database if it changed; act on what the poll had not seen yet (once)."""
    try:
        snapshot = await session.run_query(functools.partial(project.snapshot, retry=True))
    except Exception:
        log.debug("database poll failed", exc_info=True)
        return
    news = session.polled.database_news(project.folder, snapshot, project.database.describe())
    if news.message is not None and not project.loose:  # a file opened outside the workspace: not worth a line
        session.client.log(news.message)
    if news.changed:
        _database_changed(session, project)
        await session.documents.recheck(session.open_uris_of(project))


def _database_changed(session: Session, project: Project) -> None:
    """Tell the client (its key explorer) to list the keys again: it never polls."""
    session.client.notify(DATABASE_CHANGED, {"uri": from_path(project.folder)})


# -- documents --------------------------------------------------------------
def did_open(session: Session, params: types.DidOpenTextDocumentParams) -> None:
    doc = params.text_document
    if _is_python(doc.uri, doc.language_id):
        session.documents.opened(doc.uri, session.path_of(doc.uri), doc.version)


def did_change(session: Session, params: types.DidChangeTextDocumentParams) -> None:
    session.documents.changed(params.text_document.uri, params.text_document.version)


async def did_save(session: Session, params: types.DidSaveTextDocumentParams) -> None:
    """Editors without file watching still tell us when pyproject.toml or config.py is saved."""
    uri = params.text_document.uri
    if session.path_of(uri).name in ("pyproject.toml", "config.py"):
        await watched_files(session, types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=uri, type=types.FileChangeType.Changed)]))


def did_close(session: Session, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    path = session.path_of(uri)
    if session.documents.closed(uri):
        session.projects.project_for(path).close(path)


def _is_python(uri: str, language_id: str | None) -> bool:
    if language_id:
        return language_id.lower() in ("python", "py")
    return uri.endswith((".py", ".pyi"))


# -- the workspace ----------------------------------------------------------
async def configuration_changed(session: Session, params: types.DidChangeConfigurationParams) -> None:
    """The editor's settings changed: apply them to every project, live."""
    table = EditorSettingsTable.parse(params.settings)
    if table is None:
        return
    session.set_editor_settings(table)
    for project in session.projects.all():
        changed = await session.run_query(project.set_editor_settings, table.for_folder(project.folder))
        if not changed:
            continue
        if project.config_error:
            session.client.warn(project.config_error)
        log.info("settings of %s changed: re-indexing", project.folder)
        _database_changed(session, project)
        if not project.loose:
            session.start_scan(project)
        await session.documents.recheck(session.open_uris_of(project), full=True)


async def watched_files(session: Session, params: types.DidChangeWatchedFilesParams) -> None:
    touched: dict[Project, bool] = {}  # project -> settings changed
    for change in params.changes:
        path = session.path_of(change.uri)
        project = session.projects.project_for(path)
        name = path.name
        if name == "pyproject.toml":
            changed = await session.run_query(project.load_settings)
            if project.config_error:
                session.client.warn(project.config_error)
            touched[project] = touched.get(project, False) or changed
        elif name == "config.py" and path.parent == project.root:
            project.database.invalidate()
            touched.setdefault(project, False)
        if path.suffix in (".py", ".pyi"):
            if change.type == types.FileChangeType.Deleted:
                changed = await session.run_lint(project.file_deleted, path)
            else:
                changed = await session.run_lint(project.file_changed_on_disk, path)
            if changed:
                touched.setdefault(project, False)
    for project, settings_changed in touched.items():
        if settings_changed:
            session.start_scan(project)
        await session.documents.recheck(session.open_uris_of(project), full=settings_changed)


def folders_changed(session: Session, params: types.DidChangeWorkspaceFoldersParams) -> None:
    for folder in iter_paths(f.uri for f in params.event.removed):
        session.remove_folder(folder)
    for folder in iter_paths(f.uri for f in params.event.added):
        session.start_scan(session.projects.add_folder(folder))
