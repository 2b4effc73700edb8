"""When each open document is linted, and when its diagnostics are sent.

* push (``textDocument/publishDiagnostics``) for clients that cannot pull:
  each change restarts a per-document debounce timer; when it fires the
  current text and version are linted (the parse in the session's worker
  process, the project pass in a ``lint`` thread), and the result is
  published only if the document still has that version, so a slow run
  never overwrites a newer one;
* pull (``textDocument/diagnostic``) when the client supports it: the
  client asks when it wants; a request lints the current version (or
  reuses the result for that version) and answers "unchanged" when the
  findings did not change since the client's last result id;
* closing a document cancels its pending run and clears its diagnostics.

The scheduler sees the session only as :class:`DocumentProjects` (where a
document's project is and how to lint in it), beside the client and the
background tasks, so it can be read without the rest of the session.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Protocol, TypeVar

from lsprotocol import types

from cat_lsp.background_tasks import BackgroundTasks
from cat_lsp.client import Client
from cat_lsp.diagnostics import to_diagnostics
from cat_lsp.uris import from_path
from cat_lsp.workspace import DocumentResult, Project

log = logging.getLogger(__name__)

T = TypeVar("T")


class DocumentProjects(Protocol):
    """What the scheduler asks of the session: a document's project, and linting in it."""

    def project_of(self, uri: str) -> Project: ...

    def ready_project(self, path: Path) -> Awaitable[Project]: ...

    def lint_document(self, project: Project, path: Path, text: str, version: int | None) -> Awaitable[DocumentResult]: ...

    def run_lint(self, fn: Callable[..., T], *args: Any) -> Awaitable[T]: ...


@dataclass
class _DocState:
    path: Path
    version: int | None = None
    changed_at: float = 0.0  # loop time of the last change
    timer: asyncio.Task | None = None
    latest: DocumentResult | None = None
    running: dict[Any, asyncio.Future] = field(default_factory=dict)  # version -> lint in flight
    result_id: int = 0
    published: list[types.Diagnostic] | None = None
    too_large: bool = False  # past the engine's size limit (said once in the client's log)


class DiagnosticsScheduler:
    """The open documents: per-document debounce, stale-result protection, push or pull.

    This is the one record of which documents the server lints: pygls keeps
    their texts, and a project asks here (:meth:`is_open_path`) whether a
    file's buffer or its content on disk is the truth.
    """

    def __init__(self, client: Client, tasks: BackgroundTasks, projects: DocumentProjects, debounce: float) -> None:
        self.client = client
        self.tasks = tasks
        self.projects = projects
        self.debounce = debounce
        self.pull = False  # decided at initialisation from the client's capabilities
        self.refresh_supported = False
        self._docs: dict[str, _DocState] = {}
        # The same documents by path (to the client's URI of each), for the projects' worker threads.
        self._open_paths: dict[Path, str] = {}
        self._counter = 0

    # -- what the client chose --------------------------------------------
    def set_debounce(self, seconds: float) -> None:
        """How long a document must stay unchanged before it is linted."""
        self.debounce = seconds

    def use_client_capabilities(self, pull: bool, refresh_supported: bool) -> None:
        """Whether the client pulls diagnostics, and whether it can be asked to pull again."""
        self.pull = pull
        self.refresh_supported = refresh_supported

    # -- events -----------------------------------------------------------
    def opened(self, uri: str, path: Path, version: int | None) -> None:
        state = self._docs.setdefault(uri, _DocState(path))
        self._open_paths[path] = uri
        state.version = version
        if not self.pull:
            self._restart_timer(uri, state, 0.0)

    def changed(self, uri: str, version: int | None) -> None:
        state = self._docs.get(uri)
        if state is None:  # not a document we lint
            return
        state.version = version
        state.changed_at = asyncio.get_running_loop().time()
        if not self.pull:
            self._restart_timer(uri, state, self.debounce)

    def closed(self, uri: str) -> bool:
        """Forget a document; returns whether it was open (the caller then gives its project the disk's version)."""
        state = self._docs.pop(uri, None)
        if state is None:
            return False
        others = [other for other, left in self._docs.items() if left.path == state.path]
        if others:
            self._open_paths[state.path] = others[0]
        else:
            self._open_paths.pop(state.path, None)
        if state.timer is not None:
            state.timer.cancel()
        if state.latest is not None and written_signature(state.latest):
            self._recheck_others(uri)  # the file on disk replaces the buffer in the index
        if not self.pull:
            self.client.publish(uri, [])
        return True

    def is_open(self, uri: str) -> bool:
        return uri in self._docs

    def is_open_path(self, path: Path) -> bool:
        """Whether the editor has this file open (called from worker threads)."""
        return path in self._open_paths

    def uri_of(self, path: Path) -> str:
        """The URI to send for a file: the client's own spelling when it has the file open."""
        return self._open_paths.get(path) or from_path(path)

    def open_uris(self) -> list[str]:
        return list(self._docs)

    def latest(self, uri: str) -> DocumentResult | None:
        state = self._docs.get(uri)
        return state.latest if state is not None else None

    # -- linting ----------------------------------------------------------
    def _restart_timer(self, uri: str, state: _DocState, delay: float) -> None:
        if state.timer is not None:
            state.timer.cancel()
        state.timer = self.tasks.start(self._after(uri, delay), name=f"lint {uri}")

    async def _after(self, uri: str, delay: float) -> None:
        try:
            if delay > 0:
                await asyncio.sleep(delay)
            doc = await self.current(uri)
            if doc is not None:
                self._publish(uri, doc)
        except asyncio.CancelledError:
            pass
        except Exception:  # never let one document's failure stop the server
            log.exception("linting %s failed", uri)

    async def current(self, uri: str) -> DocumentResult | None:
        """The lint of the document's current version: reused, joined while running, or started.

        Returns ``None`` when the document closed or changed meanwhile (the
        newer version has its own run coming).
        """
        state = self._docs.get(uri)
        if state is None:
            return None
        text, version = self.client.document(uri)
        if state.latest is not None and state.latest.version == version and version is not None:
            return state.latest
        future = state.running.get(version)
        if future is None:
            self._note_size(state, text)
            project = await self.projects.ready_project(state.path)
            future = self.tasks.start(
                self.projects.lint_document(project, state.path, text, version), name=f"lint {uri} v{version}")
            state.running[version] = future
            future.add_done_callback(lambda _f, s=state, v=version: s.running.pop(v, None))
        doc = await asyncio.shield(future)
        live = self._docs.get(uri)
        if live is not state or self.client.document(uri)[1] != version:
            return None
        if state.latest is None or state.latest.version is None or version is None or version >= state.latest.version:
            before = state.latest
            state.latest = doc
            self._counter += 1
            state.result_id = self._counter
            if before is None or written_signature(before) != written_signature(doc):
                # Keys this document saves changed: CAT006 in the other open documents may change too.
                self._recheck_others(uri)
        return doc

    def _note_size(self, state: _DocState, text: str) -> None:
        """Say once that a document is too large to check (its diagnostic says it too, at line 1).

        Once per document while it stays too large, not at every edit; a
        document cut down below the limit and grown past it again is said again.
        """
        from cat_lint.engine import MAX_SOURCE_CHARS

        too_large = len(text) > MAX_SOURCE_CHARS
        if too_large and not state.too_large:
            self.client.log(f"{state.path} is too large to check: {len(text):,} characters, past "
                                    f"cat-lint's limit of {MAX_SOURCE_CHARS:,}; nothing in it is checked (its one diagnostic says so)")
        state.too_large = too_large

    def _recheck_others(self, uri: str) -> None:
        project = self.projects.project_of(uri)
        others = [u for u in self._docs if u != uri and self.projects.project_of(u) is project]
        if others:
            self.tasks.start(self.recheck(others), name=f"re-check the documents beside {uri}")

    def _uri_of(self, uri: str) -> Callable[[str], str]:
        """Paths in findings (relative to the document's project) as URIs."""
        project = self.projects.project_of(uri)
        return lambda path: self.uri_of(project.path_for(path))

    def _publish(self, uri: str, doc: DocumentResult) -> None:
        if self.pull or uri not in self._docs:
            return
        diagnostics = to_diagnostics(doc, self.client.encoding, self._uri_of(uri))
        state = self._docs[uri]
        if state.published == diagnostics:
            return
        state.published = diagnostics
        self.client.publish(uri, diagnostics, doc.version)

    async def pull_report(self, params: types.DocumentDiagnosticParams) -> types.DocumentDiagnosticReport:
        uri = params.text_document.uri
        if uri not in self._docs:
            # A document the client did not open (or already closed): nothing to say.
            return types.RelatedFullDocumentDiagnosticReport(items=[], result_id="closed")
        state = self._docs[uri]
        # The same debounce as for pushed diagnostics: a client that pulls on
        # every keystroke gets the result for the text once it settles,
        # instead of a queue of lints of versions nobody will see.
        while True:
            wait = state.changed_at + self.debounce - asyncio.get_running_loop().time()
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        doc = None
        for _ in range(5):  # the document may change while we lint; lint the newest
            doc = await self.current(uri)
            if doc is not None:
                break
            if uri not in self._docs:
                return types.RelatedFullDocumentDiagnosticReport(items=[], result_id="closed")
        state = self._docs.get(uri)
        if doc is None or state is None:
            return types.RelatedFullDocumentDiagnosticReport(items=[], result_id="closed")
        result_id = f"{doc.version}:{state.result_id}"
        if params.previous_result_id == result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        return types.RelatedFullDocumentDiagnosticReport(
            items=to_diagnostics(doc, self.client.encoding, self._uri_of(uri)), result_id=result_id)

    # -- project-wide changes --------------------------------------------
    async def recheck(self, uris: list[str], full: bool = False) -> None:
        """Refresh documents after the index, database or settings changed.

        ``full`` re-lints (settings changed); otherwise only the cheap
        project pass runs again on each document's last result.
        """
        changed = False
        for uri in uris:
            state = self._docs.get(uri)
            if state is None:
                continue
            if full:
                state.latest = None
                if self.pull:
                    changed = True
                else:
                    self._restart_timer(uri, state, 0.0)
                continue
            project = self.projects.project_of(uri)
            doc = await self.projects.run_lint(project.recheck, state.path)
            if doc is None or self._docs.get(uri) is not state:
                continue
            if state.latest is not None and doc.version == state.latest.version:
                state.latest = doc
                self._counter += 1
                state.result_id = self._counter
                changed = True
                self._publish(uri, doc)
        if changed and self.pull and self.refresh_supported:
            self.client.refresh_diagnostics()


def written_signature(doc: DocumentResult) -> frozenset[tuple[str, str, str | None]]:
    """The keys a document writes, with the JSON type it gives them: CAT006 and CAT010 elsewhere depend on both."""
    return frozenset((u.scope, u.key, u.json_type) for u in doc.result.key_uses if u.writes)
