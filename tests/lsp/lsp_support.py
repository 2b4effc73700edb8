"""Helpers for the language server's end-to-end tests: starting a session,
opening documents, waiting for diagnostics, writing keys with the real runtime.

They live here rather than in ``conftest.py`` because several test folders
have a ``conftest`` and only one of them can be imported under that name.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable

from lsprotocol import types
from pytest_lsp import LanguageClient

ROOT = Path(__file__).resolve().parents[2]
TEST_LIMIT = 240  # seconds

PLUGIN = '''\
from cat import hook, store, user


@hook
async def before_cat_sends_message(message, cat):
    await store.save("counter", (1, 2))
    total = await store.load("countr")
    prefs = await user.load("prefs")
    return message
'''


def write_keys(project: Path, global_keys: dict[str, Any] | None = None, user_keys: dict[str, dict[str, Any]] | None = None) -> None:
    """Write keys with the real runtime, in its own process, into the project's database."""
    script = textwrap.dedent(
        """
        import asyncio, json, sys
        import cat

        async def main(project, global_keys, user_keys):
            cat.configure(project=project)
            for key, value in global_keys.items():
                await cat.store.save(key, value)
            for user_id, keys in user_keys.items():
                async with cat.request_context(user_id):
                    for key, value in keys.items():
                        await cat.user.save(key, value)
            await cat.close()

        asyncio.run(main(sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])))
        """
    )
    subprocess.run(
        [sys.executable, "-c", script, str(project), json.dumps(global_keys or {}), json.dumps(user_keys or {})],
        check=True,
        cwd=str(project),
        capture_output=True,
        timeout=60,
    )


def push_capabilities() -> types.ClientCapabilities:
    return types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf16]),
        text_document=types.TextDocumentClientCapabilities(
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True),
            completion=types.CompletionClientCapabilities(
                completion_item=types.ClientCompletionItemOptions(documentation_format=[types.MarkupKind.Markdown])
            ),
            hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.Markdown]),
        ),
        workspace=types.WorkspaceClientCapabilities(
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True),
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
        ),
    )


def pull_capabilities() -> types.ClientCapabilities:
    caps = push_capabilities()
    assert caps.text_document is not None
    caps.text_document.diagnostic = types.DiagnosticClientCapabilities(related_document_support=True)
    caps.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)  # type: ignore[union-attr]
    return caps


async def start(client: LanguageClient, folder: Path, caps: types.ClientCapabilities | None = None, **options: Any) -> types.InitializeResult:
    options.setdefault("debounce", 20)
    options.setdefault("databasePollInterval", 0.2)
    params = types.InitializeParams(
        capabilities=caps or push_capabilities(),
        root_uri=folder.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name=folder.name)],
        initialization_options=options,
    )
    # A server that never answers must fail the test, not hang the suite.
    return await asyncio.wait_for(client.initialize_session(params), 60)


def open_doc(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=version, text=path.read_text(encoding="utf-8") if text is None else text
            )
        )
    )
    return uri


def replace_all(client: LanguageClient, uri: str, text: str, version: int) -> None:
    """A full-text change (the server syncs incrementally; a range-less change replaces everything)."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def wait_for(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def diagnostics_where(client: LanguageClient, uri: str, predicate: Callable[[list[types.Diagnostic]], bool], timeout: float = 20.0) -> list[types.Diagnostic]:
    await wait_for(lambda: uri in client.diagnostics and predicate(list(client.diagnostics[uri])), timeout, f"diagnostics of {uri}")
    return list(client.diagnostics[uri])


def codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


def cli_findings(project: Path, file: Path) -> list[dict[str, Any]]:
    """What `cat-lint --output-format json` says about a file (to compare with the server)."""
    out = subprocess.run(
        [sys.executable, "-m", "cat_lint", "--output-format", "json", "--no-cache", str(file)],
        cwd=str(project), capture_output=True, text=True, timeout=120,
    )
    return json.loads(out.stdout)


def position_of(text: str, needle: str, offset: int = 0) -> types.Position:
    """The position (UTF-16 columns) of ``needle``'s first occurrence plus ``offset`` characters."""
    index = text.index(needle) + offset
    before = text[:index]
    line = before.count("\n")
    col_text = before.rsplit("\n", 1)[-1]
    return types.Position(line=line, character=len(col_text.encode("utf-16-le")) // 2)


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits (UTF-16 columns) to a text, as an editor would."""
    lines = text.split("\n")

    def offset(pos: types.Position) -> int:
        start = sum(len(line) + 1 for line in lines[: pos.line])
        line = lines[pos.line] if pos.line < len(lines) else ""
        units = 0
        for i, ch in enumerate(line):
            if units >= pos.character:
                return start + i
            units += 2 if ord(ch) > 0xFFFF else 1
        return start + len(line)

    spans = sorted(((offset(e.range.start), offset(e.range.end), e.new_text) for e in edits), reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def plain(value: Any) -> Any:
    """pygls hands custom results (``cat/keys`` and the like) back as named tuples: plain JSON to compare."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def server_pid() -> int:
    """The pid of the language server this test process started (its one ``-m cat_lsp`` child)."""
    found = [pid for pid in children(os.getpid()) if b"cat_lsp" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    assert len(found) == 1, f"expected one cat_lsp child process, found {found}"
    return found[0]


def children(pid: int) -> list[int]:
    """The direct children of a process, from /proc (Linux)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:  # the thread ended meanwhile
            pass
    return out


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants (the server, its forkserver and its lint workers)."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        try:
            todo += children(current)
        except OSError:  # gone meanwhile
            pass
    return tree


def resident_kib(pids: list[int]) -> int:
    """The summed resident memory (VmRSS) of these processes, in KiB; processes gone meanwhile count 0."""
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total
