"""The project-wide key index: which keys the code writes and reads, and which the database holds.

CAT006 (a key read but never written) needs the whole tree, so the engine
collects ``KeyUse`` records per file and the callers (the command line for a
run, the language server for a workspace) keep them here, file by file, next
to the keys found in the project's database.  Scopes follow ``KeyUse``:
``"store"`` is the global store, ``"user"`` the per-user one.
"""

from __future__ import annotations

from collections.abc import Mapping

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from cat_lint.findings import KeyUse

# Keys the Cat keeps in the global store for itself (see cat-reference.md).
CAT_OWNED_KEYS = frozenset({"active_plugins", "installation_info"})
CAT_OWNED_PREFIXES = ("settings_",)
_SUGGEST_CUTOFF = 0.75
_MIN_LENGTH_RATIO = _SUGGEST_CUTOFF / (2 - _SUGGEST_CUTOFF)  # 0.6: shorter candidates cannot reach the cutoff


def is_cat_owned(key: str) -> bool:
    return key in CAT_OWNED_KEYS or key.startswith(CAT_OWNED_PREFIXES)


@dataclass(frozen=True)
class DatabaseKeys:
    """The keys present in a project's database when the run started."""

    store: frozenset[str] = frozenset()
    user: frozenset[str] = frozenset()
    location: str = ""
    # (scope, key) -> (users holding the key, ((JSON type, users holding that type), ...));
    # for a global key the users are 1.  Filled by ``from_stored``; CAT010 and hover read it.
    types: dict[tuple[str, str], tuple[int, tuple[tuple[str, int], ...]]] = field(
        default_factory=dict, compare=False, repr=False)
    # Derived, per instance: the keys bucketed by length, and answers already given.
    _buckets: dict[str, dict[int, list[str]]] = field(default_factory=dict, compare=False, repr=False)
    _closest: dict[tuple[str, str], str | None] = field(default_factory=dict, compare=False, repr=False)

    def keys(self, scope: str) -> frozenset[str]:
        return self.store if scope == "store" else self.user

    @classmethod
    def from_stored(cls, global_keys: Iterable, user_keys: Iterable, location: str = "") -> DatabaseKeys:
        """From the reader's ``StoredKey`` lists (or mappings of key to ``StoredKey``)."""
        global_keys = list(global_keys.values() if isinstance(global_keys, Mapping) else global_keys)
        user_keys = list(user_keys.values() if isinstance(user_keys, Mapping) else user_keys)
        types = {("store", k.key): (1, tuple((t, 1) for t in k.types)) for k in global_keys}
        for k in user_keys:
            counts = k.type_users if len(k.type_users) == len(k.types) else (k.users,) * len(k.types)
            types[("user", k.key)] = (k.users, tuple(zip(k.types, counts)))
        return cls(frozenset(k.key for k in global_keys), frozenset(k.key for k in user_keys), location, types)

    def held(self, key: str, scope: str) -> tuple[int, tuple[tuple[str, int], ...]] | None:
        """How many users hold ``key`` and which JSON types, with how many users each; None if unknown."""
        return self.types.get((scope, key))

    def closest(self, key: str, scope: str) -> str | None:
        """The database key closest to ``key`` (difflib, cutoff 0.75), remembered.

        A database can hold 100,000 keys, and comparing a key with all of
        them takes a second or two; the keys never change for one instance,
        so each unknown key is searched once.  Only lengths that can reach
        the cutoff are searched (see :func:`closest_match`).
        """
        memo = (scope, key)
        if memo not in self._closest:
            buckets = self._buckets.get(scope)
            if buckets is None:
                buckets = self._buckets[scope] = _by_length(self.keys(scope))
            self._closest[memo] = closest_match(key, buckets)
        return self._closest[memo]


def _by_length(names: Iterable[str]) -> dict[int, list[str]]:
    buckets: dict[int, list[str]] = defaultdict(list)
    for name in sorted(names):
        buckets[len(name)].append(name)
    return dict(buckets)


def closest_match(key: str, buckets: dict[int, list[str]]) -> str | None:
    """The best "did you mean" candidate among names bucketed by length.

    difflib's ratio is ``2 * matches / (len(a) + len(b))``, so a candidate can
    reach the cutoff only if its length is within [0.6, 1/0.6] times the key's.
    """
    low, high = int(len(key) * _MIN_LENGTH_RATIO), int(len(key) / _MIN_LENGTH_RATIO) + 1
    candidates = [c for n in range(low, high + 1) for c in buckets.get(n, ()) if c != key]
    import difflib  # only when a key is unknown

    close = difflib.get_close_matches(key, candidates, n=1, cutoff=_SUGGEST_CUTOFF)
    return close[0] if close else None


def load_database_keys(settings) -> DatabaseKeys | None:
    """The keys of the project's database, read-only; ``None`` when there is no readable database.

    Resolved exactly as the runtime resolves it (``settings.database`` wins,
    then ``CAT_SQL``, then the project's ``config.py``, then the default).
    A missing or unreadable database is not an error for a linter: CAT006
    then relies on the code alone.
    """
    from cat_lint.project.location import resolve_database

    try:
        # The linter found its project from the linted paths: CAT_PROJECT_DIR still wins over it.
        location = resolve_database(settings.database, discovered=settings.project)
    except (ValueError, OSError):
        return None
    if location.is_sqlite and location.path is not None and not location.path.is_file():
        return None  # no database yet (a fresh checkout, CI): nothing to open, nothing to import for it
    import sqlite3

    from cat_lint.project.reader import DatabaseUnavailable, open_reader

    try:
        with open_reader(location) as reader:
            return DatabaseKeys.from_stored(reader.global_keys(), reader.user_keys(), location.describe())
    except (DatabaseUnavailable, ValueError, OSError, sqlite3.Error):
        return None  # the linter still runs, on the code alone


class KeyIndex:
    """Key uses of every file, plus the database's keys."""

    def __init__(self, db_keys: DatabaseKeys | None = None) -> None:
        self.db_keys = db_keys
        self._files: dict[str, list[KeyUse]] = {}
        self._written: dict[str, dict[str, int]] | None = None
        self._typed: dict[tuple[str, str], list[KeyUse]] | None = None
        self._memos: dict[str, dict] = {}

    # -- maintenance ----------------------------------------------------
    def set_file(self, path: str, key_uses: Iterable[KeyUse]) -> None:
        self._files[path] = list(key_uses)
        self._written = self._typed = None
        self._memos = {}

    def remove_file(self, path: str) -> None:
        if self._files.pop(path, None) is not None:
            self._written = self._typed = None
            self._memos = {}

    def files(self) -> list[str]:
        return sorted(self._files)

    # -- queries --------------------------------------------------------
    def _all(self) -> Iterable[KeyUse]:
        for uses in self._files.values():
            yield from uses

    def uses(self, key: str, scope: str | None = None) -> list[KeyUse]:
        return [u for u in self._all() if u.key == key and (scope is None or u.scope == scope)]

    def writes(self, key: str, scope: str) -> list[KeyUse]:
        return [u for u in self.uses(key, scope) if u.writes]

    def reads(self, key: str, scope: str) -> list[KeyUse]:
        return [u for u in self.uses(key, scope) if not u.writes]

    def _written_counts(self) -> dict[str, dict[str, int]]:
        if self._written is None:
            written: dict[str, dict[str, int]] = {"store": {}, "user": {}}
            for use in self._all():
                if use.writes:
                    bucket = written.setdefault(use.scope, {})
                    bucket[use.key] = bucket.get(use.key, 0) + 1
            self._written = written
        return self._written

    def typed_uses(self, key: str, scope: str) -> list[KeyUse]:
        """The uses of ``key`` whose JSON type the code states (see ``KeyUse.json_type``), in path order."""
        if self._typed is None:
            typed: dict[tuple[str, str], list[KeyUse]] = {}
            for path in sorted(self._files):
                for use in self._files[path]:
                    if use.json_type is not None:
                        typed.setdefault((use.scope, use.key), []).append(use)
            self._typed = typed
        return self._typed.get((scope, key), [])

    def memo(self, owner: str) -> dict:
        """A dict where ``owner`` (a rule's code) keeps what it derives from the key uses, per key say.

        It is emptied whenever a file's uses change, so it always answers for
        the index as it is; a rule that checks every use of a key against
        the others derives what they have in common once, not once per use.
        """
        found = self._memos.get(owner)
        if found is None:
            found = self._memos[owner] = {}
        return found

    def written_keys(self, scope: str) -> set[str]:
        return set(self._written_counts().get(scope, {}))

    def is_known(self, key: str, scope: str) -> bool:
        if key in self._written_counts().get(scope, {}):
            return True
        if scope == "store" and is_cat_owned(key):
            return True
        return self.db_keys is not None and key in self.db_keys.keys(scope)

    def suggest(self, key: str, scope: str) -> str | None:
        """The closest saved key (in code or in the database), for "did you mean"."""
        in_code = closest_match(key, _by_length(self._written_counts().get(scope, {})))
        in_db = self.db_keys.closest(key, scope) if self.db_keys is not None else None
        if in_code is None or in_db is None:
            return in_code or in_db
        import difflib  # only when a key is unknown

        ratio = lambda other: difflib.SequenceMatcher(None, key, other).ratio()  # noqa: E731
        return max((in_code, in_db), key=lambda c: (ratio(c), c))


class LazyIndex:
    """The key index, built on first use: --fix needs it, a plain warm run does not."""

    def __init__(self, build) -> None:
        self._build, self._index = build, None

    def __getattr__(self, name: str):
        if self._index is None:
            self._index = self._build()
        return getattr(self._index, name)
