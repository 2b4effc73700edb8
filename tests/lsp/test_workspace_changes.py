"""The workspace index and configuration follow the files: watched-file events, pyproject.toml, TCP."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_support import codes, diagnostics_where, open_doc, start, wait_for


def _changed(client: LanguageClient, path: Path, kind: types.FileChangeType) -> None:
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(changes=[types.FileEvent(uri=path.as_uri(), type=kind)])
    )


async def test_watched_files_and_configuration(client: LanguageClient, project: Path):
    await start(client, project)
    # The server asked to be told about Python files, pyproject.toml and config.py.
    await wait_for(lambda: len(client.registrations) > 0, what="file watcher registration")
    options = client.registrations[0].register_options
    watchers = options["watchers"] if isinstance(options, dict) else options.watchers
    patterns = [w["globPattern"] if isinstance(w, dict) else w.globPattern for w in watchers]
    assert {"**/*.py", "**/pyproject.toml", "**/config.py"} <= set(patterns)

    uri = open_doc(client, project / "plugins" / "demo" / "plugin.py")
    await diagnostics_where(client, uri, lambda d: any('"countr"' in x.message for x in d))

    # A new file on disk saves the key: the index learns it from the watcher.
    saver = project / "plugins" / "demo" / "saver.py"
    saver.write_text('from cat import store\n\nasync def f():\n    await store.save("countr", 0)\n', encoding="utf-8")
    _changed(client, saver, types.FileChangeType.Created)
    await diagnostics_where(client, uri, lambda d: not any('"countr"' in x.message for x in d))

    # ...and forgets it when the file goes.
    saver.unlink()
    _changed(client, saver, types.FileChangeType.Deleted)
    await diagnostics_where(client, uri, lambda d: any('"countr"' in x.message for x in d))

    # The configuration is re-read when pyproject.toml changes.
    pyproject = project / "pyproject.toml"
    pyproject.write_text('[project]\nname = "demo"\n\n[tool.cat-lint]\nignore = ["CAT006"]\n', encoding="utf-8")
    _changed(client, pyproject, types.FileChangeType.Changed)
    after = await diagnostics_where(client, uri, lambda d: "CAT006" not in codes(d) and len(d) > 0)
    assert codes(after) == ["CAT003"]

    # A broken configuration is reported, and linting goes on with the defaults.
    pyproject.write_text('[tool.cat-lint]\nignroe = ["CAT006"]\n', encoding="utf-8")
    _changed(client, pyproject, types.FileChangeType.Changed)
    await diagnostics_where(client, uri, lambda d: "CAT006" in codes(d))
    assert any("ignroe" in m.message for m in client.messages)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _message(payload: dict) -> bytes:
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _read_message(conn: socket.socket) -> dict:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        assert chunk, "connection closed"
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(rest) < length:
        rest += conn.recv(4096)
    return json.loads(rest[:length])


def test_tcp_transport(project: Path):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cat_lsp", "--tcp", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=str(project),
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        with conn:
            conn.sendall(_message({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                   "params": {"processId": None, "rootUri": project.as_uri(), "capabilities": {}}}))
            reply = _read_message(conn)
            assert reply["id"] == 1
            caps = reply["result"]["capabilities"]
            assert caps["completionProvider"]["triggerCharacters"] == ['"', "'", "("]
            assert "source.fixAll.cat-lint" in caps["codeActionProvider"]["codeActionKinds"]
            conn.sendall(_message({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
            while _read_message(conn).get("id") != 2:
                pass
            conn.sendall(_message({"jsonrpc": "2.0", "method": "exit"}))
    finally:
        server.terminate()
        server.wait(10)


def test_bad_tcp_argument_is_a_usage_error():
    result = subprocess.run([sys.executable, "-m", "cat_lsp", "--tcp", "nonsense"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "HOST:PORT" in result.stderr and "Traceback" not in result.stderr


async def test_a_big_workspace_is_indexed_in_worker_processes(client: LanguageClient, project: Path):
    """Enough files for the scan to use worker processes; every file's saved key counts."""
    folder = project / "plugins" / "many"
    folder.mkdir()
    for i in range(80):
        (folder / f"m{i:02d}.py").write_text(
            f'from cat import store\n\nasync def f():\n    await store.save("many_{i:02d}", {i})\n', encoding="utf-8"
        )
    await start(client, project)
    text = 'from cat import store\n\nasync def g():\n    return [await store.load("many_00"), await store.load("many_79"), await store.load("many_80")]\n'
    uri = open_doc(client, project / "plugins" / "reader.py", text)
    diagnostics = await diagnostics_where(client, uri, lambda d: len(d) > 0, timeout=120)
    assert [d.message.split('"')[1] for d in diagnostics if d.code == "CAT006"] == ["many_80"]


async def test_a_file_outside_any_workspace_folder(client: LanguageClient, tmp_path: Path):
    """Single-file mode (no root, no folders): the file's own project, never scanned, still linted."""
    await asyncio.wait_for(client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=None)), 60)
    loose = tmp_path / "loose.py"
    text = "from cat import store\n\nasync def f():\n    return await store.load('alone')\n"
    loose.write_text(text, encoding="utf-8")
    uri = open_doc(client, loose)
    diagnostics = await diagnostics_where(client, uri, lambda d: len(d) > 0)
    assert codes(diagnostics) == ["CAT006"]
