"""Benchmark: cat-lsp's latency, measured through a real LSP client over stdio.

Not a test (``make bench`` runs it).  It starts ``python -m cat_lsp`` with
pygls' own client and measures, over many requests, p50 and p95 of:

- edit -> diagnostics: a ``didChange`` of a 3,000-line plugin file until
  the ``publishDiagnostics`` of that very version arrives, minus the
  server's debounce (which is a deliberate wait, not work);
- completion inside ``store.load("...`` with 100,000 keys in the project's
  database (a small plugin file, then the 3,000-line one), and while the
  3,000-line file is being linted;

next to the command line's time to lint the same 3,000-line file
(``cat-lint --no-cache``, whole process, and the engine alone in-process),
and against the targets: diagnostics p95 < 150 ms, completion p95 < 20 ms.

The generated file carries ``# noqa`` comments, as real plugins do, so the
suppression pass is part of what is measured.  The bench client's own
cyclic garbage collector is collected, frozen and disabled around each
measured loop: a full collection in the *client* (tens of ms with pygls and
lsprotocol loaded) would otherwise land inside a sample and be reported as
server latency.  The server is measured as it runs, GC and all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "runtime"))
sys.path.insert(0, str(HERE.parent))

from lsprotocol import types  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402

DEBOUNCE_MS = 150

FUNCTION = '''

@hook
async def before_cat_sends_message_{n}(message, cat):
    """Count the turns and remember the last topic ({n})."""
    turns = await user.load("turns_{m}", 0)
    await user.save("turns_{m}", turns + 1)
    settings = await store.load("settings_{m}", {{}})
    if settings.get("enabled", True):
        await store.save("last_topic_{m}", message.get("text", "")[:80])
    return message
'''


def toggle_edit(uri: str, version: int, line: int, col: int, i: int) -> types.DidChangeTextDocumentParams:
    """An edit that flips a key between a Cat-owned one and another, so each version lints differently."""
    new = "xettings_" if i % 2 == 0 else "settings_"
    return types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=line, character=col),
                              end=types.Position(line=line, character=col + len(new))),
            text=new)])


def plugin_source(lines: int) -> str:
    head = ('"""A big generated plugin."""\n\nimport os  # noqa: F401\n'
            'from cat import hook, store, user\n\nLEGACY_KEY = "legacy"  # noqa\n')
    parts = [head]
    n = 0
    while sum(p.count("\n") for p in parts) < lines:
        parts.append(FUNCTION.format(n=n, m=n % 40))
        n += 1
    return "".join(parts)


def make_project(folder: Path, keys: int, lines: int) -> Path:
    from cat import values
    from cat_lint.project.schema import SQLITE_SCHEMA

    (folder / "plugins" / "big").mkdir(parents=True)
    (folder / "pyproject.toml").write_text('[project]\nname = "bench"\n\n[tool.cat-lint]\n', encoding="utf-8")
    (folder / "plugins" / "big" / "plugin.py").write_text(plugin_source(lines), encoding="utf-8")
    (folder / "plugins" / "big" / "small.py").write_text("from cat import store\n", encoding="utf-8")
    db = folder / "data" / "core" / "core.db"
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    for statement in SQLITE_SCHEMA:
        conn.execute(statement)
    conn.executemany(
        "INSERT INTO key_value_db (key, value) VALUES (?, ?)",
        ((f"key_{i:06d}", values.encode({"i": i, "name": f"item {i}"})) for i in range(keys)),
    )
    conn.commit()
    conn.close()
    return folder / "plugins" / "big" / "plugin.py"


@contextlib.contextmanager
def client_gc_off():
    """Keep the bench client's own garbage collections out of the samples."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def row(name: str, samples: list[float], target: float | None) -> str:
    p50, p95 = pct(samples, 0.5) * 1000, pct(samples, 0.95) * 1000
    name = name if len(name) <= 50 else name[:49] + "…"
    verdict = ""
    if target is not None:
        verdict = f"target p95 < {target:.0f} ms: {'met' if p95 < target else 'MISSED'} ({p95 / target:.2f}x the target)"
    return f"{name:<50} n={len(samples):>4}  p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  {verdict}"


async def run(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="cat-lsp-bench-"))
    try:
        big = make_project(work / "proj", args.keys, args.lines)
        project = big.parents[2]
        text = big.read_text(encoding="utf-8")
        print(f"project: {project}  ({text.count(chr(10))} lines in plugin.py with {text.count('# noqa')} noqa comments, "
              f"{args.keys:,} keys in the database)")
        print(f"edit -> diagnostics: {args.edits} didChange edits, each timed from the notification sent to the "
              f"publishDiagnostics of that version, minus the {DEBOUNCE_MS} ms debounce; the client's GC is off "
              "while measuring (the server's is not)")

        # The command line on the same file.
        cli = []
        for _ in range(args.cli_repeat):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "cat_lint", "--no-cache", "--exit-zero", "-q", str(big)],
                           cwd=project, capture_output=True, check=True)
            cli.append(time.perf_counter() - started)
        from cat_lint.config import load_config
        from cat_lint.engine import check_project, check_source
        from cat_lint.keys import KeyIndex, load_database_keys

        settings = load_config(project).settings
        index = KeyIndex(load_database_keys(settings))
        engine = []
        for _ in range(args.cli_repeat):
            started = time.perf_counter()
            result = check_source(text, "plugins/big/plugin.py", settings)
            index.set_file(result.path, result.key_uses)
            check_project([result], settings, index)
            engine.append(time.perf_counter() - started)

        client = LanguageClient("cat-lsp-bench", "1")
        published: dict[int, float] = {}
        arrived = asyncio.Event()

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            if params.uri == big.as_uri() and params.version is not None:
                published[params.version] = time.perf_counter()
                arrived.set()

        @client.feature(types.CLIENT_REGISTER_CAPABILITY)
        def on_register(params: types.RegistrationParams) -> None:
            return None

        await client.start_io(sys.executable, "-m", "cat_lsp")
        await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(
                text_document=types.TextDocumentClientCapabilities(
                    publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True))),
            root_uri=project.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="bench")],
            initialization_options={"debounce": DEBOUNCE_MS, "databasePollInterval": 1.0},
        ))
        client.initialized(types.InitializedParams())
        uri = big.as_uri()
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
        while 1 not in published:
            arrived.clear()
            await asyncio.wait_for(arrived.wait(), 300)

        # Edit -> diagnostics: change one key literal in the middle of the file, back and forth.
        lines = text.split("\n")
        target = next(i for i in range(len(lines) // 2, len(lines)) if 'store.load("settings_' in lines[i])
        col = lines[target].index('"settings_') + 1
        latencies = []
        version = 1
        with client_gc_off():
            for i in range(args.edits):
                version += 1
                sent = time.perf_counter()
                client.text_document_did_change(toggle_edit(uri, version, target, col, i))
                while version not in published:
                    arrived.clear()
                    await asyncio.wait_for(arrived.wait(), 300)
                latencies.append(published[version] - sent - DEBOUNCE_MS / 1000)

        # Completion with 100,000 keys: in a small file, then at the end of the big one.
        small = big.parent / "small.py"
        small_text = 'from cat import store\n\nasync def f():\n    return await store.load("key_0'
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=small.as_uri(), language_id="python", version=1, text=small_text)))
        prefixes = ["", "1", "12", "123", "5", "99", "0", "42"]
        async def complete(doc_uri: str, line: int, base: str, prefix: str) -> float:
            started = time.perf_counter()
            result = await client.text_document_completion_async(types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=doc_uri),
                position=types.Position(line=line, character=len(base) + len(prefix))))
            elapsed = time.perf_counter() - started
            assert result is not None, "completion returned nothing"
            return elapsed

        for _ in range(3):  # warm-up (first imports in the server's threads), not measured
            await complete(small.as_uri(), 3, '    return await store.load("key_0', "")
        small_times = []
        with client_gc_off():
            for i in range(args.completions):
                prefix = prefixes[i % len(prefixes)]
                client.text_document_did_change(types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=small.as_uri(), version=i + 2),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=small_text + prefix)]))
                small_times.append(await complete(small.as_uri(), 3, '    return await store.load("key_0', prefix))

        # Completion while the big file is being linted (the parse runs in a
        # worker process, so the server keeps answering).
        busy_times = []
        small_line = small_text + prefixes[0]
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=small.as_uri(), version=args.completions + 10),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=small_line)]))
        with client_gc_off():
            for i in range(max(3, args.edits // 5)):
                version += 1
                client.text_document_did_change(toggle_edit(uri, version, target, col, i))
                await asyncio.sleep(DEBOUNCE_MS / 1000)
                while version not in published:
                    busy_times.append(await complete(small.as_uri(), 3, '    return await store.load("key_0', ""))
        if len(busy_times) < 2:
            busy_times.extend(busy_times or [0.0])

        # The big file: an unfinished call appended at its end.
        big_times = []
        base = '    return await store.load("key_0'
        big_text = text + "\n\nasync def tail():\n" + base
        version += 1
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=big_text)]))
        last_line = big_text.count("\n")
        with client_gc_off():
            for i in range(args.completions // 2):
                big_times.append(await complete(uri, last_line, base, ""))

        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()

        print()
        print(f"{'command line: cat-lint --no-cache on plugin.py':<50} n={len(cli):>4}  median {statistics.median(cli) * 1000:8.1f} ms (whole process)")
        print(f"{'engine alone (check_source + check_project)':<50} n={len(engine):>4}  median {statistics.median(engine) * 1000:8.1f} ms")
        lines_label, keys_label = f"{args.lines:,} lines", f"{args.keys:,} keys"
        print(row(f"edit -> diagnostics ({lines_label}, - debounce)", latencies, 150))
        print(row(f"completion, {keys_label}, small file", small_times, 20))
        print(row(f"completion, {keys_label}, {lines_label}", big_times, 20))
        print(row(f"completion while {lines_label} lint", busy_times, 20))
        print(f"\ndiagnostics p50 / engine median: {pct(latencies, 0.5) / statistics.median(engine):.2f}x "
              "(an edit re-parses only the statements it touched; the engine's median includes full parses)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=3000)
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=100, help="edit -> diagnostics samples")
    parser.add_argument("--completions", type=int, default=200, help="completion samples")
    parser.add_argument("--cli-repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
