"""Where the Cat's database is: resolved once, here, for every tool.

The runtime, ``cat-store``, ``cat-lint`` and ``cat-lsp`` all call
:func:`resolve_database` so that they never disagree about which file (or
server) holds a project's keys.  The order mirrors the real Cat and adds the
two overrides a host needs:

1. ``cat.configure(sql=...)`` (an explicit URL, passed here as ``explicit``);
2. the environment variable ``CAT_SQL``;
3. the constant ``SQL`` in the project's ``config.py``, read with :mod:`ast`
   so that resolving a location never executes a plugin author's code;
4. ``sqlite:///data/core/core.db``.

Relative SQLite paths are relative to the project folder: ``project`` when
given (``cat.configure(project=...)``, ``cat-store --project``), else
``CAT_PROJECT_DIR``, else ``discovered`` (the Cat project a tool found with
:func:`find_cat_project`), else the working directory.

Which folder is the Cat project is decided here too, once, for every tool
(cat-lint, cat-lsp, cat-store): :func:`find_cat_project`.
"""

from __future__ import annotations

import ast
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePath, PureWindowsPath
from typing import Iterable
from urllib.parse import unquote, urlsplit

DEFAULT_SQL = "sqlite:///data/core/core.db"


class DatabaseURLError(ValueError):
    """A database URL that names no backend this project can open."""


@dataclass(frozen=True)
class DatabaseLocation:
    """A resolved database: its URL as given, and where it came from.

    ``path`` is the absolute file of a SQLite database (``None`` for
    PostgreSQL and for SQLite's in-memory database); ``origin`` says which
    of the four sources chose it, for error messages such as
    "no database at data/core/core.db (from config.py)".
    """

    url: str
    scheme: str  # "sqlite" or "postgresql"
    path: Path | None
    origin: str
    project: Path

    @property
    def is_sqlite(self) -> bool:
        return self.scheme == "sqlite"

    @property
    def redacted_url(self) -> str:
        """The URL with any password replaced by ``***``, fit for messages."""
        return _redact(self.url)

    def describe(self) -> str:
        where = str(self.path) if self.path is not None else _redact(self.url)
        return f"{where} (from {self.origin})"


def is_cat_project(folder: Path) -> bool:
    """Whether ``folder`` holds a ``plugins/`` folder or a ``config.py`` file.

    A ``config.py`` alone does not make a folder that lies inside a
    ``plugins/`` folder a project: that is a plugin's own module (plugins
    may well have one), and the project is further up.
    """
    try:
        if (folder / "plugins").is_dir():  # on Windows and macOS this finds Plugins/ too, as the Cat would
            return True
        return (folder / "config.py").is_file() and not inside_plugins_folder(folder)
    except OSError:  # an unreadable folder on the way up holds nothing we can use
        return False


def names_ignore_case(path: PurePath) -> bool:
    """Whether file names compare without case where ``path`` lives: Windows, and macOS.

    Windows by the path's flavour (so that its rules are testable anywhere);
    macOS because its default volumes (APFS, HFS+) ignore case, so that the
    Cat there imports a ``Plugins/`` folder as its ``plugins/``.
    """
    return isinstance(path, PureWindowsPath) or sys.platform == "darwin"


def inside_plugins_folder(folder: PurePath, ignore_case: bool | None = None) -> bool:
    """Whether a folder above ``folder`` is a ``plugins/`` folder (any case where names ignore it)."""
    if ignore_case is None:
        ignore_case = names_ignore_case(folder)
    above = folder.parts[:-1]
    return any(part.lower() == "plugins" for part in above) if ignore_case else "plugins" in above


def _walk_up(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if is_cat_project(folder):
            return folder
    return None


def find_cat_project(
    paths: Iterable[str | os.PathLike[str]] = (),
    cwd: str | os.PathLike[str] | None = None,
) -> Path | None:
    """The Cat project that ``paths`` belong to: the one resolver of every tool.

    It is the nearest folder at or above the paths (their common folder;
    a file counts as its folder) that :func:`is_cat_project`; when the
    paths are in none (or none are given: stdin, ``cat-store``), the nearest
    at or above the working folder ``cwd``.  ``None`` when neither is inside
    a Cat project.  ``--project`` and ``CAT_PROJECT_DIR`` are not looked at
    here: :func:`resolve_database` ranks them above what this finds.
    """
    folders = []
    for given in paths:
        path = Path(given).resolve()
        folders.append(path if path.is_dir() else path.parent)
    if folders:
        found = _walk_up(Path(os.path.commonpath([str(f) for f in folders])))
        if found is not None:
            return found
    return _walk_up(Path(cwd if cwd is not None else os.getcwd()).resolve())


def project_dir(project: str | os.PathLike[str] | None = None) -> Path:
    """The project folder: ``project``, else ``CAT_PROJECT_DIR``, else the cwd."""
    if project is None:
        project = os.environ.get("CAT_PROJECT_DIR") or os.getcwd()
    return Path(project).resolve()


def read_config_sql(project: Path) -> str | None:
    """The string constant ``SQL`` of ``project/config.py``, without running it.

    Only a plain module-level assignment of a string literal counts
    (``SQL = "..."`` or ``SQL: str = "..."``); anything computed is ignored,
    because evaluating it would mean executing the author's code.  The last
    assignment wins, as it would at run time.
    """
    from cat_lint.limits import MAX_SOURCE_BYTES

    config = project / "config.py"
    try:
        if not config.is_file():  # a FIFO or a device would block the read: regular files only
            return None
        with warnings.catch_warnings():
            # `"sqlite:///data\core\core.db"` written on Windows: an invalid escape, so a
            # SyntaxWarning (an error under -W error), though Python keeps the backslash.
            warnings.simplefilter("ignore")
            tree = ast.parse(read_regular(config, MAX_SOURCE_BYTES), filename=str(config))
    except FileTooLarge as exc:
        raise DatabaseURLError(f"{config}: too large to read `SQL` from it ({exc.size:,} bytes)") from None
    except (OSError, SyntaxError, ValueError):
        return None
    except (RecursionError, MemoryError):
        raise DatabaseURLError(f"{config}: nests too deeply to read `SQL` from it") from None
    found: str | None = None
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "SQL" for t in targets):
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found = value.value
    return found


class NotARegularFile(OSError):
    """A path that is a FIFO, a socket or a device: reading it could block forever."""


class FileTooLarge(OSError):
    """A regular file past the reader's limit, found so before reading it."""

    def __init__(self, path: str | os.PathLike[str], size: int, limit: int) -> None:
        super().__init__(f"{os.fsdecode(path)} is larger than {limit:,} bytes")
        self.size, self.limit = size, limit


def read_regular(path: str | os.PathLike[str], limit: int | None = None) -> bytes:
    """The bytes of a regular file; :class:`NotARegularFile` for anything else, without blocking.

    The file is opened non-blocking and checked after opening, so a FIFO
    swapped in between a check and the read cannot hang the caller.  With
    ``limit``, a file of more bytes is :class:`FileTooLarge`: its size is
    checked on the opened file before anything is read, and no more than
    ``limit + 1`` bytes are ever read (a file may grow after the check).
    """
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise NotARegularFile(f"{path} is not a regular file")
        if limit is not None and status.st_size > limit:
            raise FileTooLarge(path, status.st_size, limit)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            if limit is None:
                return handle.read()
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise FileTooLarge(path, max(len(data), os.fstat(fd).st_size), limit)
        return data
    finally:
        os.close(fd)


def resolve_database(
    explicit: str | None = None,
    project: str | os.PathLike[str] | None = None,
    environ: dict[str, str] | None = None,
    *,
    discovered: str | os.PathLike[str] | None = None,
) -> DatabaseLocation:
    """Resolve the database URL by the documented order of precedence.

    ``project`` is a folder the user named, so it beats ``CAT_PROJECT_DIR``;
    ``discovered`` is one a tool guessed, so ``CAT_PROJECT_DIR`` beats it.
    """
    env = os.environ if environ is None else environ
    root = project_dir(project if project is not None else env.get("CAT_PROJECT_DIR") or discovered)
    if explicit:
        url, origin = explicit, "cat.configure(sql=...)"
    elif env.get("CAT_SQL"):
        url, origin = env["CAT_SQL"], "CAT_SQL"
    else:
        from_config = read_config_sql(root)
        if from_config:
            url, origin = from_config, "config.py"
        else:
            url, origin = DEFAULT_SQL, "the default"
    return parse_url(url, root, origin)


def parse_url(url: str, project: Path, origin: str = "the URL") -> DatabaseLocation:
    """Split a SQLAlchemy-style URL into backend and file.

    ``sqlite:///relative/path.db`` is relative to the project folder,
    ``sqlite:////absolute/path.db`` is absolute, ``sqlite://`` and
    ``sqlite:///:memory:`` are in memory.  ``postgresql://``,
    ``postgresql+asyncpg://`` and ``postgres://`` name a server.
    """
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    backend = scheme.split("+", 1)[0]
    if backend == "sqlite":
        rest = url.split(":", 1)[1]
        if not rest.startswith("//"):
            raise DatabaseURLError(f"{origin}: malformed SQLite URL {url!r}; expected sqlite:///path/to/file.db")
        raw = unquote(urlsplit(url).path)
        raw = raw[1:] if raw.startswith("/") else raw  # sqlite:///x -> "x", sqlite:////x -> "/x"
        if raw in ("", ":memory:"):
            return DatabaseLocation(url, "sqlite", None, origin, project)
        # In the project's flavour: on Windows, `data\core\core.db` is relative and `C:\cat\core.db`,
        # `\\server\share\core.db` absolute; joining keeps an absolute path as it is.
        return DatabaseLocation(url, "sqlite", project / raw, origin, project)
    if backend in ("postgresql", "postgres"):
        return DatabaseLocation(url, "postgresql", None, origin, project)
    raise DatabaseURLError(
        f"{origin}: unsupported database URL {_redact(url)!r}; "
        "use sqlite:///path/to/core.db or postgresql://user:pass@host/db"
    )


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy-style URL (``postgresql+asyncpg://``, ``postgres://``) as asyncpg wants it."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.split("+", 1)[0] in ("postgresql", "postgres") else url


def _redact(url: str) -> str:
    """The URL with any password replaced, fit for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url
