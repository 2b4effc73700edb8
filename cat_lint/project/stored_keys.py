"""What a key reader gives back, and the protocol both readers follow.

``cat-store``, ``cat-lint`` and ``cat-lsp`` read a project's keys through
:class:`DatabaseReader` without knowing the database behind it: the SQLite
reader (:mod:`cat_lint.project.reader`) and the PostgreSQL one
(:mod:`cat_lint.project.pg_reader`) both implement it, and both build their
answers with the helpers here, so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Literal, Protocol

from cat_lint.project.location import DatabaseLocation

__all__ = [
    "DatabaseReader",
    "DatabaseUnavailable",
    "PREVIEW_CHARS",
    "SCAN_CHARS",
    "StoredKey",
    "global_key",
    "per_user_keys",
    "stored_type",
]

PREVIEW_CHARS = 80
SCAN_CHARS = 200  # how much of each value SQL hands back for typing and previews


class DatabaseUnavailable(Exception):
    """The database cannot be read: missing, corrupt, unreachable, or not supported."""


@dataclass(frozen=True)
class StoredKey:
    """One key as the database holds it.

    For the global store ``users`` is 0 and ``types`` has one entry; for the
    per-user store ``users`` counts distinct users holding the key and
    ``types`` lists every JSON type seen among them.  ``size`` is the length
    of the stored JSON text (the largest, for per-user keys); ``preview`` is
    its beginning, shortened with an ellipsis.
    """

    scope: Literal["global", "user"]
    key: str
    types: tuple[str, ...]
    size: int
    preview: str
    users: int = 0
    type_users: tuple[int, ...] = ()  # per-user keys: how many users hold each of ``types``, in order

    @property
    def type(self) -> str:
        return self.types[0] if len(self.types) == 1 else " | ".join(self.types)


def stored_type(storage: str, head: Any) -> str:
    """The JSON type of a stored value from its storage class (SQLite's, or "text") and its first characters."""
    if storage == "null":
        return "null"
    if storage == "integer":
        return "integer"
    if storage == "real":
        return "number"
    text = head.decode("utf-8", "replace") if isinstance(head, bytes) else str(head)
    first = text.lstrip()[:1]
    return {
        "{": "object",
        "[": "array",
        '"': "string",
        "t": "boolean",
        "f": "boolean",
        "n": "null",
    }.get(first) or ("number" if any(c in text for c in ".eE") or text.strip() in ("NaN", "Infinity", "-Infinity") else "integer")


def global_key(key: str, kind: str, size: int, head: Any) -> StoredKey:
    return StoredKey("global", key, (kind,), size, _preview(head, size))


def per_user_keys(rows: Iterable[tuple[str, str, str, int, Any]]) -> list[StoredKey]:
    """Aggregate ``(key, user_id, type, size, head)`` rows, ordered by key, into one entry per key.

    The preview shows the largest value; ``types`` lists every type seen, in order of appearance.
    """
    grouped: dict[str, dict[str, Any]] = {}
    for key, uid, kind, size, head in rows:
        entry = grouped.setdefault(key, {"users": set(), "types": [], "by_type": {}, "size": 0, "head": head})
        entry["users"].add(uid)
        if kind not in entry["types"]:
            entry["types"].append(kind)
        entry["by_type"].setdefault(kind, set()).add(uid)
        if size >= entry["size"]:
            entry["size"], entry["head"] = size, head
    return [
        StoredKey("user", key, tuple(e["types"]), e["size"], _preview(e["head"], e["size"]), len(e["users"]),
                  tuple(len(e["by_type"][t]) for t in e["types"]))
        for key, e in grouped.items()
    ]


def _preview(head: Any, size: int) -> str:
    if head is None:
        return "null"
    text = head.decode("utf-8", "replace") if isinstance(head, bytes) else str(head)
    text = " ".join(text.split())
    if len(text) > PREVIEW_CHARS or size > len(text):
        return text[: PREVIEW_CHARS - 1] + "…"
    return text


class DatabaseReader(Protocol):
    """A read-only look at the Cat's two tables; every method may raise :class:`DatabaseUnavailable`."""

    location: DatabaseLocation

    def close(self) -> None: ...

    def __enter__(self) -> DatabaseReader: ...

    def __exit__(self, *exc: object) -> None: ...

    def data_version(self) -> int:
        """A number that changes whenever the stored keys may have changed."""
        ...

    def global_keys(self) -> list[StoredKey]: ...

    def user_keys(self, user_id: str | None = None) -> list[StoredKey]:
        """Per-user keys: all of them, aggregated, or those of one user."""
        ...

    def keys(self) -> list[StoredKey]:
        """Every key of both stores, global first."""
        ...

    def user_ids(self, key: str | None = None, limit: int | None = None) -> list[str]:
        """The users holding ``key`` (any key when ``None``), sorted; at most ``limit`` of them."""
        ...

    def get(self, key: str, user_id: str | None = None) -> tuple[bool, Any]:
        """``(True, value)`` when the key is stored, else ``(False, None)``."""
        ...
