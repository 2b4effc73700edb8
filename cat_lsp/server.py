"""The pygls wiring: which handler answers which LSP method.

The handlers live in the feature modules (and :mod:`cat_lsp.session_events`
for the lifecycle and workspace notifications); each takes the
:class:`cat_lsp.session.Session` and the request's parameters.  This module
only registers them, from one table, so that the list of what the server
answers is in one place and no handler sees the pygls server itself.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Callable

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from cat_lsp import __version__
from cat_lsp.client import Client
from cat_lsp.session import Session

log = logging.getLogger(__name__)

Handler = Callable[[Session, Any], Any]


class CatLanguageServer(LanguageServer):
    """The pygls server of one connection; its state is :attr:`session`."""

    def __init__(self) -> None:
        super().__init__("cat-lsp", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.session = Session(Client(self))


def features() -> list[tuple[str, Any, Handler]]:
    """Every LSP method the server answers: ``(method, options or None, handler)``."""
    from cat_lsp import code_actions, completion, hover, keys_request, navigation, session_events as events

    return [
        (types.INITIALIZE, None, events.initialize),
        (types.INITIALIZED, None, events.initialized),
        (types.SHUTDOWN, None, events.shutdown),
        (types.TEXT_DOCUMENT_DID_OPEN, None, events.did_open),
        (types.TEXT_DOCUMENT_DID_CHANGE, None, events.did_change),
        (types.TEXT_DOCUMENT_DID_SAVE, None, events.did_save),
        (types.TEXT_DOCUMENT_DID_CLOSE, None, events.did_close),
        (types.WORKSPACE_DID_CHANGE_WATCHED_FILES, None, events.watched_files),
        (types.WORKSPACE_DID_CHANGE_CONFIGURATION, None, events.configuration_changed),
        (types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS, None, events.folders_changed),
        (types.TEXT_DOCUMENT_DIAGNOSTIC,
         types.DiagnosticOptions(identifier="cat-lint", inter_file_dependencies=True, workspace_diagnostics=False),
         pull_diagnostics),
        (types.TEXT_DOCUMENT_COMPLETION,
         types.CompletionOptions(trigger_characters=['"', "'", "("], resolve_provider=True),
         completion.complete),
        (types.COMPLETION_ITEM_RESOLVE, None, completion.resolve),
        (types.TEXT_DOCUMENT_HOVER, None, hover.hover),
        (types.TEXT_DOCUMENT_DEFINITION, None, navigation.definition),
        (types.TEXT_DOCUMENT_REFERENCES, None, navigation.references),
        (types.TEXT_DOCUMENT_CODE_ACTION,
         types.CodeActionOptions(
             code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll,
                                code_actions.FIX_ALL_KIND],
             resolve_provider=False),
         code_actions.code_actions),
        (keys_request.METHOD, None, keys_request.list_keys),
        (keys_request.VALUE_METHOD, None, keys_request.key_value),
        (keys_request.USERS_METHOD, None, keys_request.user_ids),
    ]


async def pull_diagnostics(session: Session, params: types.DocumentDiagnosticParams) -> types.DocumentDiagnosticReport:
    return await session.documents.pull_report(params)


def _bound(session: Session, handler: Handler) -> Callable[[Any], Any]:
    """``handler`` with the session as first argument, as pygls calls a handler: ``f(params)``."""
    if asyncio.iscoroutinefunction(handler):
        async def call_async(params: Any) -> Any:
            return await handler(session, params)

        return call_async

    def call(params: Any) -> Any:
        return handler(session, params)

    return call


def create_server() -> CatLanguageServer:
    """A server with every feature registered (one per session)."""
    server = CatLanguageServer()
    for method, options, handler in features():
        server.feature(method, options)(_bound(server.session, handler))
    return server


def configure_logging(verbose: bool, log_file: str | None) -> None:
    """Logs go to stderr (or a file), never stdout: stdout is the protocol channel."""
    handler: logging.Handler = logging.FileHandler(log_file) if log_file else logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO if os.environ.get("CAT_LSP_LOG") else logging.WARNING)
