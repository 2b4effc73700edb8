"""Linting a set of files: read, look up the cache, check in parallel, then the project pass.

Two passes, because one rule (CAT006, a key read but never written) needs
the whole tree:

1. per file, :meth:`cat_lint.engine.Engine.first_pass`, in worker processes
   (libcst parsing is CPU-bound and holds the GIL); results come from the
   cache when the file's content, the tool and the settings are unchanged;
2. once, :func:`cat_lint.engine.check_project` over every result, with a
   :class:`cat_lint.keys.KeyIndex` of all key uses plus the database's keys;
   this also applies ``select``/``ignore``/per-file-ignores/noqa.

A handful of files is checked in this process: starting workers would cost
more than it saves.  Files are sent to workers in chunks so that the
per-task overhead of the pool stays small next to the parsing itself.

Paths given to the engine are relative to the project root (POSIX
separators), which is what per-file-ignore patterns and SARIF's relative
URIs are written against; files outside the root keep their absolute path.
"""

from __future__ import annotations

import io
import os
import re
import time
import tokenize
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PureWindowsPath
from typing import TYPE_CHECKING, Iterable, Sequence

from cat_lint.cache import Cache, content_hash
from cat_lint.findings import FileResult, Finding, Span
from cat_lint.fixes import LineIndex
from cat_lint.limits import MAX_SOURCE_BYTES
from cat_lint.project.location import FileTooLarge, read_regular
from cat_lint.rewrite import rewrite_source
from cat_lint.settings import Settings

if TYPE_CHECKING:  # the engine (and libcst) is imported only when a file must be checked: a warm run never does
    from concurrent.futures import Executor

    from cat_lint.engine import Crash, Engine

#: Below this many files to check, workers are not worth starting.
SERIAL_BELOW = 16
#: Re-lint rounds for --fix: a fix can reveal another (rarely more than two).
MAX_FIX_ROUNDS = 10


@dataclass
class Source:
    """A file: its key for the engine, content hash, and (once read) bytes, text and encoding.

    A file whose size and modification time are those the cache recorded is
    not read at all (its digest comes from the cache): ``data`` reads it on
    first use, which only output that shows source lines and ``--fix`` need.
    """

    key: str
    path: Path
    raw: bytes | None
    digest: str
    text: str | None = None
    encoding: str = "utf-8"
    decode_error: Finding | None = None
    # Bytes Python tolerates but UTF-8 does not (in comments): their places in ``text``
    # (where they stand as U+FFFD) and the text that keeps them (surrogate escapes).
    undecodable: list[int] = field(default_factory=list)
    raw_text: str = ""

    @property
    def data(self) -> bytes:
        if self.raw is None:
            try:
                self.raw = read_regular(self.path, MAX_SOURCE_BYTES)
            except OSError:
                self.raw = b""
        return self.raw


@dataclass
class RunResult:
    """What a lint run found, with what the output formats and --fix need."""

    root: Path
    sources: dict[str, Source]
    results: dict[str, FileResult]
    findings: dict[str, list[Finding]]
    cache_hits: int = 0
    cache_misses: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # phase -> seconds, for --verbose
    crashes: list["Crash"] = field(default_factory=list)  # files the engine raised on
    fixed: int = 0
    fixed_files: dict[str, str] = field(default_factory=dict)  # key -> new text

    def all_findings(self) -> list[Finding]:
        return [f for key in sorted(self.findings) for f in self.findings[key]]

    def absolute(self, key: str) -> Path:
        path = Path(key)
        return path if path.is_absolute() else self.root / path


def engine_key(path: PurePath, root: PurePath) -> str:
    """``path`` relative to ``root`` with ``/`` separators; absolute when outside it.

    Windows paths (by the paths' own flavour, so testable anywhere) compare
    without case, as Windows does: an editor's ``c:\\users\\a\\proj\\x.py``
    lies inside ``C:\\Users\\a\\proj``.
    """
    text, base = str(path), str(root)
    sep = "\\" if isinstance(path, PureWindowsPath) else "/"
    prefix = base if base.endswith(sep) else base + sep
    head = text[:len(prefix)]
    if head == prefix or (sep == "\\" and head.lower() == prefix.lower()):  # pathlib's relative_to, without its cost
        text = text[len(prefix):]
    return text.replace(sep, "/") if sep != "/" else text


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def decode(source: Source) -> Source:
    """Decode as Python does (PEP 263 cookie, BOM, UTF-8 default).

    A file that cannot be decoded gets one CAT000 finding at the first bad
    byte instead of a parse, like a file that does not parse at all.
    """
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source.data).readline)
        source.encoding = encoding
        source.text = source.data.decode(encoding)
        if source.text.startswith("\ufeff"):
            source.text = source.text[1:]
    except SyntaxError as exc:  # bad or unknown coding cookie, or no UTF-8 in the first two lines
        if "invalid or missing encoding declaration" in str(exc.msg):
            if _tolerated(source):
                return source
            try:
                source.data.decode("utf-8")
            except UnicodeDecodeError as bad:  # at the first byte that is not UTF-8
                _decode_failed(source, bad)
                return source
        source.decode_error = _cat000(source.key, 1, 0, f"cannot decode the file: {exc.msg}")
    except UnicodeDecodeError as exc:
        if not _tolerated(source):
            _decode_failed(source, exc)
    except LookupError as exc:
        _decode_failed(source, exc)
    return source


def _tolerated(source: Source) -> bool:
    """Bytes that are not UTF-8 where Python does not mind them: decode them as placeholders.

    Python checks UTF-8 only outside comments: a latin-1 byte in a comment
    imports fine.  Each such byte stands as U+FFFD in the text the rules
    see, and is put back when a fix is written (:func:`encode_text`).
    """
    if source.encoding not in ("utf-8", "utf-8-sig") or not _python_accepts_bytes(source.data):
        return False
    raw = source.data.decode(source.encoding, errors="surrogateescape")
    if raw.startswith("\ufeff"):
        raw = raw[1:]
    source.undecodable = [i for i, ch in enumerate(raw) if "\udc80" <= ch <= "\udcff"]
    source.raw_text = raw
    source.text = _SURROGATES.sub("\ufffd", raw)
    return True


_SURROGATES = re.compile("[\udc80-\udcff]")


def _python_accepts_bytes(data: bytes) -> bool:
    """Whether Python's tokenizer takes these bytes (a syntax error elsewhere is the engine's to report)."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, "<source>", "exec", flags=0x400, dont_inherit=True)  # PyCF_ONLY_AST
    except SyntaxError as exc:
        message = str(exc.msg)
        return not ("decode" in message or "Non-UTF-8" in message or "unicode error" in message)
    except (ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True


def encode_text(source: Source, text: str) -> bytes | None:
    """``text`` (the source after fixes) as the bytes to write: its encoding, its BOM, its odd bytes.

    ``None`` when bytes that could not be decoded cannot be put back safely.
    """
    if source.undecodable:
        marks = [i for i, ch in enumerate(source.text or "") if ch == "\ufffd"]
        now = [i for i, ch in enumerate(text) if ch == "\ufffd"]
        if len(marks) != len(now):
            return None
        odd = set(source.undecodable)
        chars = list(text)
        for before, after in zip(marks, now):
            if before in odd:
                chars[after] = source.raw_text[before]
        data = "".join(chars).encode(source.encoding, errors="surrogateescape")
    else:
        data = text.encode(source.encoding)
    if source.data.startswith(b"\xef\xbb\xbf") and not data.startswith(b"\xef\xbb\xbf"):
        data = b"\xef\xbb\xbf" + data
    return data


def _decode_failed(source: Source, exc: Exception) -> None:
    start = getattr(exc, "start", 0)
    before = source.data[:start].decode(source.encoding, errors="replace")
    line, col = LineIndex(before).position(len(before))  # rows as Python counts them: a lone CR breaks one
    reason = getattr(exc, "reason", str(exc))
    source.decode_error = _cat000(
        source.key, line, col, f"cannot decode the file as {source.encoding}: {reason}")


def _cat000(path: str, line: int, col: int, message: str) -> Finding:
    return Finding("CAT000", message, path, Span(line, col, line, col + 1))


def check_one(source: Source, settings: Settings, engine: Engine | None = None) -> FileResult | Crash:
    """First pass on one decoded file."""
    from cat_lint.engine import Engine

    if source.decode_error is not None:
        return FileResult(source.key, [source.decode_error])
    assert source.text is not None
    results, crashes = (engine or Engine()).first_pass([(source.key, source.text)], settings)
    return crashes[0] if crashes else results[source.key]


def read_sources(files: Sequence[Path], root: Path, given: dict[Path, bytes] | None = None,
                 cache: Cache | None = None) -> dict[str, Source]:
    """Each file's content hash, and its bytes when they had to be read.

    ``given`` holds contents that do not come from the disk (stdin).  A
    file ``cache`` knows by its size and modification time is not read;
    nor is one past ``MAX_SOURCE_BYTES`` (one CAT000 says it is too large).
    """
    sources: dict[str, Source] = {}
    for path in files:
        key = engine_key(path, root)
        if given is not None and path in given:
            data = given[path]
            sources[key] = Source(key, path, data, content_hash(data))
            continue
        status = None
        if cache is not None:
            try:
                status = os.stat(path)
            except OSError:
                status = None
            digest = cache.digest_by_status(key, status) if status is not None else None
            if digest is not None:
                sources[key] = Source(key, path, None, digest)
                continue
        try:
            data = read_regular(path, MAX_SOURCE_BYTES)
        except OSError as exc:
            source = Source(key, path, b"", "")
            source.decode_error = _cat000(key, 1, 0, _unread(exc))
            sources[key] = source
            continue
        sources[key] = Source(key, path, data, content_hash(data))
        if cache is not None and status is not None:
            cache.note_status(key, status, sources[key].digest)
    return sources


def _unread(exc: OSError) -> str:
    """Why a file could not be read, as its CAT000 says it."""
    if isinstance(exc, FileTooLarge):
        return (f"the file is too large to lint: {exc.size:,} bytes, past cat-lint's limit of "
                f"{exc.limit:,} bytes; nothing in it was checked")
    return f"cannot read the file: {exc.strerror or exc}"


def _batch(files: int, workers: int) -> int:
    """Files per task: several tasks per worker balance uneven files; few enough that
    the pickling and scheduling overhead stays negligible."""
    return max(1, min(64, files // (max(1, workers) * 4)))


def first_pass(sources: dict[str, Source], settings: Settings, cache: Cache,
               jobs: int, crashes: list[Crash] | None = None, *,
               executor: Executor | None = None, engine: Engine | None = None) -> dict[str, FileResult]:
    """Per-file results for every source; files the engine crashed on are left out and listed in ``crashes``.

    Files not in ``cache`` are checked on ``executor`` when given (the
    language server passes its own), else in a process pool of ``jobs``
    workers when there are enough of them, else by ``engine`` (a plain
    one by default) in this process.
    """
    results: dict[str, FileResult] = {}
    crashed: list[Crash] = [] if crashes is None else crashes
    todo: list[Source] = []
    for key, source in sources.items():
        cached = cache.get(key, source.digest) if source.decode_error is None else None
        if cached is not None:
            results[key] = cached
        else:
            todo.append(source)
    for source in todo:
        if source.text is None and source.decode_error is None:
            decode(source)
    parsable = [s for s in todo if s.decode_error is None]
    for source in todo:
        if source.decode_error is not None:
            results[source.key] = FileResult(source.key, [source.decode_error])
    if not parsable:
        return results
    from cat_lint.engine import Engine

    items = [(s.key, s.text) for s in parsable]
    if executor is not None or jobs <= 1 or len(parsable) < SERIAL_BELOW:
        checked, failed = (engine or Engine()).first_pass(items, settings, executor, _batch(len(items), jobs))
    else:
        from concurrent.futures import ProcessPoolExecutor

        workers = min(jobs, len(parsable))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            # The workers are this run's alone: their engines own their processes.
            checked, failed = Engine(owns_process=True).first_pass(items, settings, pool, _batch(len(items), workers))
    results.update(checked)
    crashed.extend(failed)
    for source in todo:
        if source.decode_error is None and source.key in results:
            cache.put(source.key, source.digest, results[source.key])
    return results


def build_index(results: Iterable[FileResult], settings: Settings, db_keys=None):
    from cat_lint.keys import KeyIndex

    index = KeyIndex(db_keys)
    for result in results:
        index.set_file(result.path, result.key_uses)
    return index


def database_keys(settings: Settings, cat_project: Path | None):
    """The database's keys, resolved from the Cat project folder the linted code belongs to.

    ``CAT_PROJECT_DIR`` still wins over that folder, as it does for the runtime.
    """
    from dataclasses import replace

    from cat_lint.keys import load_database_keys

    if cat_project is not None:
        settings = replace(settings, project=str(cat_project))
    return load_database_keys(settings)


def lint_files(files: Sequence[Path], settings: Settings, root: Path, *, use_cache: bool = True,
               jobs: int | None = None, cat_project: Path | None = None,
               context: Sequence[Path] = (), stdin: dict[Path, bytes] | None = None,
               owns_process: bool = False) -> tuple[RunResult, "LazyIndex"]:
    """Both passes over ``files``; returns the run and the key index (built only if --fix asks).

    ``context`` is the rest of the project when only some of its files are
    linted (pre-commit's staged files, an editor's one file): their key
    uses go into the index, so CAT006 knows every key saved anywhere, but
    they are not reported on.  They go through the same per-file cache.
    ``owns_process``: the caller owns this process (the command line), so
    files checked here may pause Python's cyclic collector (``cat_lint.memory``).
    ``stdin`` gives the content of files read from standard input instead
    of the disk.

    When the cache holds the project pass for exactly these file contents,
    settings and database keys, neither pass runs: a warm run of an
    unchanged tree only reads and hashes the files.
    """
    from cat_lint.cache import project_key

    clock = time.perf_counter()
    timings: dict[str, float] = {}
    crashes: list[Crash] = []
    cache = Cache(root, settings, enabled=use_cache)
    sources = read_sources(files, root, stdin, cache)
    linted = set(files)
    others = read_sources([p for p in context if p not in linted], root, cache=cache)
    others = {k: s for k, s in others.items() if k not in sources and s.decode_error is None}
    db_keys = database_keys(settings, cat_project)
    timings["read"] = time.perf_counter() - clock
    key = project_key(settings, [*((k, s.digest) for k, s in sources.items()),
                                 *((f"context:{k}", s.digest) for k, s in others.items())], db_keys)
    findings = cache.get_project(key)
    if findings is not None and not set(findings) - set(sources) and cache.has_all(
            (k, s.digest) for k, s in sources.items() if s.decode_error is None):
        results = _CachedResults(cache, sources)
        context_results: dict[str, FileResult] | None = None
        cache.hits += len(sources)
    else:
        from cat_lint.engine import check_project

        clock = time.perf_counter()
        engine = None
        if owns_process:
            from cat_lint.engine import Engine

            engine = Engine(owns_process=True)
        results = first_pass(sources, settings, cache, jobs or default_jobs(), crashes, engine=engine)
        counted = (cache.hits, cache.misses)  # "N files, M from the cache" counts the files linted, not the context
        context_results = first_pass(others, settings, cache, jobs or default_jobs(), [], engine=engine) if others else {}
        cache.hits, cache.misses = counted
        timings["files"] = time.perf_counter() - clock
        clock = time.perf_counter()
        index = build_index([*context_results.values(), *results.values()], settings, db_keys)
        ordered = [results[k] for k in sources if k in results]
        findings = check_project(ordered, settings, index)
        findings = {k: list(findings.get(k, [])) for k in sources if findings.get(k)}
        if not crashes:
            cache.put_project(key, findings)
        timings["project"] = time.perf_counter() - clock
    clock = time.perf_counter()
    cache.save()
    timings["cache write"] = time.perf_counter() - clock
    run = RunResult(root, sources, results, findings, cache.hits, cache.misses, timings=timings)
    run.crashes = crashes
    run._cache = cache  # type: ignore[attr-defined]

    def full_index():
        nonlocal context_results
        if context_results is None:
            context_results = first_pass(others, settings, cache, 1, [])
        return build_index([*context_results.values(), *run.results.values()], settings, db_keys)

    return run, LazyIndex(full_index)


class _CachedResults(dict):
    """First-pass results straight from the cache, decoded only when asked for (--fix)."""

    def __init__(self, cache: Cache, sources: dict[str, Source]) -> None:
        super().__init__()
        self._cache, self._sources, self._loaded = cache, sources, False

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for key, source in self._sources.items():
                result = self._cache.peek(key, source.digest) if source.decode_error is None else None
                self[key] = result if result is not None else FileResult(
                    key, [source.decode_error] if source.decode_error else [])

    def __getitem__(self, key):
        self._load()
        return super().__getitem__(key)

    def values(self):
        self._load()
        return super().values()

    def items(self):
        self._load()
        return super().items()

    def __contains__(self, key) -> bool:
        return key in self._sources


class LazyIndex:
    """The key index, built on first use: --fix needs it, a plain warm run does not."""

    def __init__(self, build) -> None:
        self._build, self._index = build, None

    def __getattr__(self, name: str):
        if self._index is None:
            self._index = self._build()
        return getattr(self._index, name)


def fix_source(text: str, key: str, findings: list[Finding], settings: Settings, index,
               unsafe: bool = False) -> tuple[str, int, list[Finding]]:
    """Apply safe fixes (and the unsafe ones too with ``unsafe``), re-linting until nothing more applies.

    Returns the new text, how many fixes were applied, and the findings
    that remain in the new text.
    """
    from cat_lint.engine import check_project, check_source
    from cat_lint.fixes import apply_fixes

    applied = 0
    current = findings
    for _ in range(MAX_FIX_ROUNDS):
        fixable = [f for f in current if f.fix is not None and (f.fix.safe or unsafe)]
        if not fixable:
            break
        new_text, count = apply_fixes(text, fixable, safe_only=not unsafe)
        if count == 0 or new_text == text:
            break
        applied += count
        text = new_text
        result = check_source(text, key, settings)
        index.set_file(key, result.key_uses)
        current = list(check_project([result], settings, index).get(key, []))
    return text, applied, current


def apply_run_fixes(run: RunResult, settings: Settings, index, *, write: bool, unsafe: bool = False) -> RunResult:
    """--fix (``write=True``) or --diff: fix every file with a safe fix.

    Files are rewritten atomically in their own encoding; the run's
    findings become those that remain.
    """
    for key, findings in list(run.findings.items()):
        if not any(f.fix is not None and (f.fix.safe or unsafe) for f in findings):
            continue
        source = run.sources[key]
        if source.text is None:
            decode(source)
        if source.text is None:
            continue
        new_text, applied, remaining = fix_source(source.text, key, findings, settings, index, unsafe)
        if not applied:
            continue
        run.fixed += applied
        run.fixed_files[key] = new_text
        if remaining:
            run.findings[key] = remaining
        else:
            run.findings.pop(key, None)
        if write:
            data = encode_text(source, new_text)
            if data is None:
                continue
            rewrite_source(source.path, data)
            cache: Cache | None = getattr(run, "_cache", None)
            if cache is not None:
                from cat_lint.engine import check_source

                cache.put(key, content_hash(data), check_source(new_text, key, settings))
    if write:
        cache = getattr(run, "_cache", None)
        if cache is not None:
            cache.save()
    return run
