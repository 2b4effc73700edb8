"""What the poll remembers of each project, so that it acts on each change once and says it once.

Every poll interval the session looks at each project's database and
folder.  Two things follow from a database snapshot the poll has not seen
yet:

* the open documents are checked again (CAT006 follows the keys) and the
  client is told to list the keys again.  "Not seen yet" is the poll's own
  record, not the key index's: a completion request re-reads a changed
  database as well, and must not leave the poll thinking nothing changed;
* when the database became unreadable, readable again, or unreadable for
  another reason, one line in the client's log says so, naming the file and
  the cause.  A database that stays broken is not reported again at every
  poll, and a Cat writing keys all the time (a new snapshot every poll) is
  nothing to report.

A workspace folder that disappears (deleted, moved, its disk unmounted) is
said once too, and once more when it is back, which is when the session
reads the project again (settings, index, database).
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


class PollRecord:
    """The last database snapshot the poll acted on and whether the folder was there, per project folder.

    Used on the event loop only.
    """

    def __init__(self) -> None:
        self._seen: dict[Path, _Seen] = {}
        self._missing: set[Path] = set()

    def folder_news(self, folder: Path, present: bool) -> str | None:
        """A line to log when ``folder`` went away or came back since the last poll, else ``None``."""
        if present == (folder not in self._missing):
            return None
        if present:
            self._missing.discard(folder)
            return f"the workspace folder {folder} is back: reading its settings, code and database again"
        self._missing.add(folder)
        return (f"the workspace folder {folder} is gone (deleted or moved); open documents are still checked, "
                "with what was known of the folder, until it is back")

    def database_news(self, folder: Path, snapshot: Snapshot, where: str) -> DatabaseNews:
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
        self._missing.discard(folder)


def _unreadable(folder: Path, reason: str | None) -> str:
    return (f"no keys from the database of {folder.name}: {reason}; completion and CAT006 know only "
            "the keys the code saves until it can be read")
