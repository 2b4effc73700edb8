"""What the database poll remembers of each project's database, so it acts on each change once.

The poll asks every project for its database snapshot.  Two things follow
from a snapshot the poll has not seen yet:

* the open documents are checked again (CAT006 follows the keys) and the
  client is told to list the keys again.  "Not seen yet" is the poll's own
  record, not the key index's: a completion request re-reads a changed
  database as well, and must not leave the poll thinking nothing changed;
* when the database became unreadable, readable again, or unreadable for
  another reason, one line in the client's log says so, naming the file and
  the cause.  A database that stays broken is not reported again at every
  poll, and a Cat writing keys all the time (a new snapshot every poll) is
  nothing to report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cat_lsp.database import Snapshot


@dataclass
class _Seen:
    generation: int
    reason: str | None
    was_readable: bool


@dataclass(frozen=True)
class DatabaseNews:
    """What a snapshot means to the poll: whether to re-check documents, and what to log (if anything)."""

    changed: bool
    message: str | None = None


class DatabaseWatch:
    """The last snapshot the poll acted on, per project folder (used on the event loop only)."""

    def __init__(self) -> None:
        self._seen: dict[Path, _Seen] = {}

    def news(self, folder: Path, snapshot: Snapshot, where: str) -> DatabaseNews:
        """Compare ``snapshot`` of ``folder``'s database (described as ``where``) with the last one seen."""
        before = self._seen.get(folder)
        readable = snapshot.reason is None
        if before is not None and before.generation == snapshot.generation:
            return DatabaseNews(False)
        self._seen[folder] = _Seen(snapshot.generation, snapshot.reason,
                                   readable or (before is not None and before.was_readable))
        if before is None:
            # The first look: only a problem is worth a line.
            return DatabaseNews(True, None if readable else _unreadable(folder, snapshot.reason))
        if snapshot.reason == before.reason:
            return DatabaseNews(True)
        if not readable:
            return DatabaseNews(True, _unreadable(folder, snapshot.reason))
        again = " again" if before.was_readable else ""
        count = len(snapshot.global_keys) + len(snapshot.user_keys)
        return DatabaseNews(True, f"the database {where} is readable{again}: {count} key{'s' if count != 1 else ''}")

    def forget(self, folder: Path) -> None:
        self._seen.pop(folder, None)


def _unreadable(folder: Path, reason: str | None) -> str:
    return (f"no keys from the database of {folder.name}: {reason}; completion and CAT006 know only "
            "the keys the code saves until it can be read")
