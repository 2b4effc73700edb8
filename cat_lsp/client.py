"""The editor as the session sees it: what it can do, its documents' texts, and what we send it.

pygls stays behind this class: the session and the feature modules never
touch the pygls server object, only these few calls.  pygls keeps the text
and version of every document the editor opened (it applies the incremental
changes); which of them the server lints is recorded once, by
:class:`cat_lsp.scheduler.DiagnosticsScheduler`.
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

log = logging.getLogger(__name__)


class Client:
    """One editor connection."""

    def __init__(self, server: LanguageServer) -> None:
        self._server = server

    # -- what the editor can do -------------------------------------------
    @property
    def capabilities(self) -> types.ClientCapabilities:
        return self._server.client_capabilities

    @property
    def encoding(self) -> types.PositionEncodingKind:
        """The position encoding agreed at initialisation (UTF-16 unless the client offered better)."""
        try:
            agreed = self._server.workspace.position_encoding
        except RuntimeError:  # before initialisation there is no workspace
            agreed = None
        return types.PositionEncodingKind(agreed) if agreed else types.PositionEncodingKind.Utf16

    def markdown(self, feature: str) -> bool:
        """Whether the client renders markdown in completion documentation or hovers."""
        text = self.capabilities.text_document
        if text is None:
            return False
        if feature == "completion":
            item = text.completion.completion_item if text.completion is not None else None
            formats = item.documentation_format if item is not None else None
        else:
            formats = text.hover.content_format if text.hover is not None else None
        return bool(formats) and types.MarkupKind.Markdown in formats

    @property
    def versioned_edits(self) -> bool:
        """Whether the client takes edits that name the document version they were made for."""
        caps = self.capabilities.workspace
        return bool(caps and caps.workspace_edit and caps.workspace_edit.document_changes)

    # -- its documents ----------------------------------------------------
    def document(self, uri: str) -> tuple[str, int | None]:
        """The current text and version of a document the editor opened."""
        doc = self._server.workspace.get_text_document(uri)
        return doc.source, doc.version

    # -- what we send -----------------------------------------------------
    def publish(self, uri: str, diagnostics: list[types.Diagnostic], version: int | None = None) -> None:
        self._server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version))

    def refresh_diagnostics(self) -> None:
        """Ask a pulling client to pull again (the index or the database changed)."""
        try:
            self._server.workspace_diagnostic_refresh(None)
        except Exception:
            log.debug("diagnostic refresh failed", exc_info=True)

    def notify(self, method: str, params: Any) -> None:
        try:
            self._server.protocol.notify(method, params)
        except Exception:
            log.debug("could not send %s", method, exc_info=True)

    def log(self, message: str) -> None:
        """A line for the editor's log of this server (its output panel), not a popup; our log keeps it too."""
        log.info("%s", message)
        try:
            self._server.window_log_message(types.LogMessageParams(type=types.MessageType.Info, message=message))
        except Exception:
            pass

    def warn(self, message: str) -> None:
        """A message the user sees (and the log keeps)."""
        log.warning("%s", message)
        try:
            self._server.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=f"cat-lsp: {message}"))
        except Exception:
            pass

    async def watch_files(self, registration_id: str, globs: tuple[str, ...]) -> None:
        """Ask the client to tell us about changes to these files (when it supports registering)."""
        caps = self.capabilities.workspace
        watched = caps.did_change_watched_files if caps is not None else None
        if watched is None or not watched.dynamic_registration:
            return
        try:
            await self._server.client_register_capability_async(
                types.RegistrationParams(registrations=[types.Registration(
                    id=registration_id,
                    method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                    register_options=types.DidChangeWatchedFilesRegistrationOptions(
                        watchers=[types.FileSystemWatcher(glob_pattern=g) for g in globs]),
                )])
            )
        except Exception as exc:
            log.info("client refused file watching: %s", exc)
