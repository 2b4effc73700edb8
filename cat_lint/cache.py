"""The per-project cache of per-file results, so that an unchanged tree re-lints in a blink.

What is cached is the engine's first pass (:func:`cat_lint.engine.check_source`)
for each file: its findings, key uses and noqa comments.  The second,
project-wide pass (unknown keys, suppression) is cheap and always runs, so
a key saved in one file or added to the database is seen at once.

An entry is valid when the file's content hash matches.  A file is not
even read when its size, modification time and inode are those recorded
the last time it was read, as Ruff and git do; a file modified less than
``RACY_NS`` before it was read is read again every time, because another
change within the same tick of the file system's clock would not show
in its modification time (git's "racily clean" entries).  The whole cache
file is named after a fingerprint of the tool (its version and the state of
its own source files, so an editable install never serves results from
older rules) and of the settings, so changing either starts afresh.

The cache lives in ``.cat-lint-cache/`` at the project root, as JSON (never
pickle: a cache folder committed to a repository by mistake must not be a
way to run code in someone's CI).  Writes go to a temporary file renamed
over the old one, so a crash or two runs at once never leave half a file;
a cache that cannot be read is ignored, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, Iterable

from cat_lint.findings import Edit, FileResult, Finding, Fix, KeyUse, Span
from cat_lint.settings import Settings

CACHE_DIR = ".cat-lint-cache"
FORMAT = 3
RESULTS_SUFFIX = ".results.json"
#: A file modified this recently before it was read is not trusted by its status alone.
RACY_NS = 2_000_000_000


def tool_version() -> str:
    from cat_lint import __version__

    return __version__


def _tool_fingerprint() -> str:
    """Version plus a hash of every module of the linter.

    Hashing the package's own few hundred kilobytes costs about a
    millisecond and spares anyone editing a rule (or installing a build with
    an unchanged version number) from a cache that hides the change.
    """
    package = Path(__file__).resolve().parent
    digest = hashlib.blake2b(f"{FORMAT}:{tool_version()}".encode(), digest_size=16)
    for module in sorted(package.rglob("*.py")):
        try:
            digest.update(module.relative_to(package).as_posix().encode() + b"\0" + module.read_bytes())
        except OSError:
            continue
    return digest.hexdigest()


def settings_fingerprint(settings: Settings) -> str:
    """Everything in the settings that can change a file's first-pass result."""
    relevant = {f.name: getattr(settings, f.name) for f in fields(settings)}
    text = json.dumps(relevant, sort_keys=True, default=repr)
    return hashlib.sha256((_tool_fingerprint() + text).encode()).hexdigest()[:24]


def project_key(settings: Settings, digests: Iterable[tuple[str, str]], db_keys: Any) -> str:
    """Identity of a project pass: settings, every file's content, the database's keys."""
    digest = hashlib.sha256(settings_fingerprint(settings).encode())
    for path, file_digest in sorted(digests):
        digest.update(f"{path}\0{file_digest}\n".encode("utf-8", "surrogateescape"))  # a name's real bytes
    if db_keys is not None:
        for scope in ("store", "user"):
            for key in sorted(db_keys.keys(scope)):
                digest.update(f"{scope}\0{key}\0{db_keys.held(key, scope)}\n".encode())
    else:
        digest.update(b"no database")
    return digest.hexdigest()


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# --- FileResult <-> JSON ---------------------------------------------------

def _span(data: list[int]) -> Span:
    return Span(*data)


def _fix_to(fix: Fix) -> dict[str, Any]:
    return {"title": fix.title, "safe": fix.safe,
            "edits": [[list(asdict(e.span).values()), e.text] for e in fix.edits]}


def _fix_from(data: dict[str, Any]) -> Fix:
    return Fix(data["title"], tuple(Edit(_span(s), t) for s, t in data["edits"]), data["safe"])


def result_to_json(result: FileResult) -> dict[str, Any]:
    return {
        "path": result.path,
        "findings": [
            {"code": f.code, "message": f.message, "path": f.path,
             "span": list(asdict(f.span).values()),
             "fix": _fix_to(f.fix) if f.fix else None,
             "suggestions": [_fix_to(s) for s in f.suggestions],
             "related": [[p, list(asdict(s).values()), what] for p, s, what in f.related]}
            for f in result.findings
        ],
        "key_uses": [[u.key, u.scope, u.verb, u.path, list(asdict(u.span).values()), u.json_type,
                      list(asdict(u.value_span).values()) if u.value_span else None] for u in result.key_uses],
        "noqa": [[line, sorted(codes)] for line, codes in result.noqa.items()],
        "file_noqa": result.file_noqa,
        "noqa_comments": [[line, *where] for line, where in result.noqa_comments.items()],
    }


def result_from_json(data: dict[str, Any]) -> FileResult:
    return FileResult(
        path=data["path"],
        findings=[
            Finding(f["code"], f["message"], f["path"], _span(f["span"]),
                    _fix_from(f["fix"]) if f["fix"] else None,
                    tuple(_fix_from(s) for s in f["suggestions"]),
                    tuple((p, _span(s), what) for p, s, what in f.get("related", ())))
            for f in data["findings"]
        ],
        key_uses=[KeyUse(k, s, v, p, _span(span), *typed[:1], *[_span(x) if x else None for x in typed[1:2]])
                  for k, s, v, p, span, *typed in data["key_uses"]],
        noqa={int(line): frozenset(codes) for line, codes in data["noqa"]},
        file_noqa=bool(data["file_noqa"]),
        noqa_comments={int(line): (int(end), int(col), str(text))
                       for line, end, col, text in data.get("noqa_comments", [])},
    )


class Cache:
    """Results by path (relative to the project root) and content hash.

    Two files per fingerprint: ``<fingerprint>.json``, the index (each
    file's content hash and status, and the project pass's findings), which
    a warm run reads, and ``<fingerprint>.results.json``, the per-file
    results, read only when one is needed (a file changed, ``--fix``).
    Each result is stored with its content hash, so the two files can never
    disagree into a wrong answer; a crash between their writes costs at most
    a re-check.
    """

    def __init__(self, root: Path, settings: Settings, *, enabled: bool = True) -> None:
        self.root = root
        self.enabled = enabled
        self.folder = root / CACHE_DIR
        fingerprint = settings_fingerprint(settings)
        self.file = self.folder / f"{fingerprint}.json" if enabled else None
        self.results_file = self.folder / f"{fingerprint}{RESULTS_SUFFIX}" if enabled else None
        self._digests: dict[str, str] = {}  # path -> content hash of its stored result
        self._results: dict[str, Any] | None = None  # path -> [digest, result], read on first need
        self._used: set[str] = set()
        self._fresh: dict[str, tuple[str, dict[str, Any]]] = {}
        self._project: dict[str, Any] | None = None
        self._project_changed = False
        # path -> [size, mtime_ns, inode, digest], for files whose status can be trusted
        self._status: dict[str, list[Any]] = {}
        self._fresh_status: dict[str, list[Any]] = {}
        self.hits = 0
        self.misses = 0
        if enabled:
            self._load()

    def _load(self) -> None:
        assert self.file is not None
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                return
            digests = data["digests"]
            self._digests = {str(k): str(v) for k, v in digests.items()}
            project = data.get("project")
            self._project = project if isinstance(project, dict) else None
            status = data.get("status")
            self._status = status if isinstance(status, dict) else {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self._digests = {}  # missing or corrupt: start afresh, silently

    def _stored(self) -> dict[str, Any]:
        if self._results is None:
            self._results = {}
            if self.results_file is not None:
                try:
                    data = json.loads(self.results_file.read_text(encoding="utf-8"))
                    if isinstance(data, dict):
                        self._results = data
                except (OSError, ValueError):
                    pass
        return self._results

    def _entry(self, key: str, digest: str) -> dict[str, Any] | None:
        if self._digests.get(key) != digest:
            return None
        stored = self._stored().get(key)
        if not isinstance(stored, list) or len(stored) != 2 or stored[0] != digest:
            return None
        return stored[1]

    def digest_by_status(self, key: str, status: os.stat_result) -> str | None:
        """The content hash recorded for a file whose status is unchanged since, else None (read it)."""
        if not self.enabled:
            return None
        known = self._status.get(key)
        if (known is None or len(known) != 4
                or [status.st_size, status.st_mtime_ns, status.st_ino] != known[:3]):
            return None
        self._fresh_status[key] = known
        return known[3] if isinstance(known[3], str) else None

    def note_status(self, key: str, status: os.stat_result, digest: str) -> None:
        """Record a file's status with the hash of the content just read, unless it changed too recently."""
        if self.enabled and status.st_mtime_ns < time.time_ns() - RACY_NS:
            self._fresh_status[key] = [status.st_size, status.st_mtime_ns, status.st_ino, digest]

    def get(self, key: str, digest: str) -> FileResult | None:
        if not self.enabled:
            return None
        result = self.peek(key, digest)
        if result is not None:
            self.hits += 1
            self._used.add(key)
            return result
        self.misses += 1
        return None

    def has_all(self, items: Iterable[tuple[str, str]]) -> bool:
        """Whether every (path, digest) has an entry; marks them as used by this run."""
        if not self.enabled:
            return False
        items = list(items)
        if not all(self._digests.get(k) == d for k, d in items):
            return False
        self._used.update(k for k, _ in items)
        return True

    def peek(self, key: str, digest: str) -> FileResult | None:
        """An entry's result without counting a hit (the run already counted it)."""
        data = self._entry(key, digest)
        if data is None:
            return None
        try:
            return result_from_json(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def put(self, key: str, digest: str, result: FileResult) -> None:
        if self.enabled:
            self._fresh[key] = (digest, result_to_json(result))

    # The project pass (CAT006 and suppression) depends on every file and on
    # the database's keys; its result is kept under one key made of all of
    # them, so an unchanged tree with an unchanged database skips it too.
    def get_project(self, key: str) -> dict[str, list[Finding]] | None:
        if not self.enabled or self._project is None or self._project.get("key") != key:
            return None
        try:
            return {path: result_from_json(data).findings for path, data in self._project["findings"].items()}
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def put_project(self, key: str, findings: dict[str, list[Finding]]) -> None:
        if self.enabled:
            self._project = {"key": key, "findings": {
                path: result_to_json(FileResult(path, list(items))) for path, items in findings.items()}}
            self._project_changed = True

    def save(self) -> None:
        """Write the entries used or made by this run, plus older ones whose file still exists."""
        if not self.enabled or self.file is None or self.results_file is None:
            return
        digests = {k: d for k, d in self._digests.items()
                   if k not in self._fresh and (k in self._used or (self.root / k).exists())}
        digests.update((k, d) for k, (d, _) in self._fresh.items())
        status = {k: v for k, v in self._fresh_status.items() if digests.get(k) == v[3]}
        if not self._fresh and digests == self._digests and status == self._status and not self._project_changed:
            return  # nothing changed: a warm run writes nothing
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            gitignore = self.folder / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# Created by cat-lint automatically.\n*\n", encoding="utf-8")
            # json.dumps's default ASCII output writes a file name's undecodable bytes (lone
            # surrogates, from os.fsdecode) as \udcXX escapes, which read back as the same name.
            if self._fresh or digests.keys() != self._digests.keys():
                results = {k: v for k, v in self._stored().items() if k in digests and k not in self._fresh}
                results.update((k, [d, r]) for k, (d, r) in self._fresh.items())
                write_atomic(self.results_file, json.dumps(results, separators=(",", ":")).encode("utf-8"))
                self._results = results
            payload = json.dumps({"format": FORMAT, "digests": digests, "project": self._project,
                                  "status": status}, separators=(",", ":"))
            write_atomic(self.file, payload.encode("utf-8"))
            self._digests, self._status, self._fresh = digests, status, {}
            self._project_changed = False
            self._prune()
        except OSError:
            pass  # a read-only checkout still lints, just without a cache

    def _prune(self) -> None:
        """Keep the caches of the few most recent settings/tool versions, drop the rest."""
        indexes = sorted((p for p in self.folder.glob("*.json") if not p.name.endswith(RESULTS_SUFFIX)),
                         key=_mtime, reverse=True)
        for stale in indexes[KEEP:]:
            if stale != self.file:
                stale.unlink(missing_ok=True)
                stale.with_name(stale.name[:-len(".json")] + RESULTS_SUFFIX).unlink(missing_ok=True)


KEEP = 8


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` so readers see the old or the new file, never a mix.

    The file keeps its permission bits when it already exists.
    """
    mode = None
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError:
        pass
    import tempfile  # only when something is written: a warm run writes nothing

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
