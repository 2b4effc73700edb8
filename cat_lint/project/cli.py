"""``cat-store``: a person's look inside a project's key-value stores.

It is one of the tools, so it runs beside the real Cat and never imports a
package named ``cat``.  Reading (``keys``, ``get``) goes through the reader of
:func:`cat_lint.project.reader.open_reader`, which opens the database
read-only (SQLite or PostgreSQL): looking never creates a missing database
and never blocks a running Cat.
Deleting is one transaction under the same lock the runtime's writers take
(:mod:`cat_lint.project.one_key`).  ``backup`` uses SQLite's online backup,
safe while the Cat runs.

Every user mistake (no database, unknown key, bad URL, unwritable backup
folder) ends with one line on stderr and exit status 1 (something is not
there) or 2 (the command line or configuration is wrong), never a traceback.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from typing import Any, Sequence

from cat_lint.project.backup import BackupError, backup_database
from cat_lint.project.location import (
    DatabaseLocation,
    DatabaseURLError,
    find_cat_project,
    parse_url,
    project_dir,
    resolve_database,
)
from cat_lint.project.one_key import delete_key
from cat_lint.project.reader import DatabaseReader, DatabaseUnavailable, StoredKey, open_reader

PROG = "cat-store"
NOT_FOUND = 1
USAGE = 2


class CliError(Exception):
    """A message for the user and the exit status to leave with."""

    def __init__(self, message: str, status: int = NOT_FOUND) -> None:
        super().__init__(message)
        self.status = status


# -- argument parsing ---------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The parser; ``--sql``/``--project`` work before or after the command."""
    description = "Look inside a Cheshire Cat project's key-value stores (store and user)."
    parser = argparse.ArgumentParser(prog=PROG, description=description)
    _add_location_options(parser, default=None)

    # Sub-commands repeat the location options with SUPPRESS defaults so that
    # `cat-store keys --sql URL` works and never resets a value given earlier.
    common = argparse.ArgumentParser(add_help=False)
    _add_location_options(common, default=argparse.SUPPRESS)

    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    keys = commands.add_parser("keys", parents=[common], help="list the stored keys")
    keys.add_argument("--user", metavar="ID", help="only the keys of this user")
    keys.add_argument("--json", action="store_true", help="print JSON instead of a table")

    get = commands.add_parser("get", parents=[common], help="print one value as JSON")
    get.add_argument("key", metavar="KEY")
    get.add_argument("--user", metavar="ID", help="read the per-user store of this user")

    delete = commands.add_parser("delete", parents=[common], help="delete one key")
    delete.add_argument("key", metavar="KEY")
    delete.add_argument("--user", metavar="ID", help="delete from the per-user store of this user")

    backup = commands.add_parser("backup", parents=[common], help="copy the live database safely (SQLite online backup)")
    backup.add_argument("dest", metavar="DEST", help="backup file to write (or an existing folder)")
    return parser


def _add_location_options(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "--sql", metavar="URL", default=default,
        help="database URL (default: CAT_SQL, else SQL in the project's config.py, else sqlite:///data/core/core.db)",
    )
    parser.add_argument(
        "--project", metavar="DIR", default=default,
        help="project folder (default: CAT_PROJECT_DIR, else the Cat project around the current "
             "folder: the nearest one holding plugins/ or config.py, else the current folder)",
    )


# -- commands -----------------------------------------------------------------


def cmd_keys(location: DatabaseLocation, args: argparse.Namespace) -> None:
    with _reader(location) as reader:
        if args.user is not None:
            global_keys, user_keys = [], _read(reader.user_keys, args.user)
            if not user_keys:
                _complain_unknown_user(reader, args.user)
        else:
            global_keys, user_keys = _read(reader.global_keys), _read(reader.user_keys)
        if args.json:
            print(json.dumps([_key_json(k) for k in global_keys + user_keys], indent=2, ensure_ascii=False))
            return
        print(f"database: {location.describe()}")
        if args.user is None:
            print()
            print(f"global store: {_count(len(global_keys), 'key')}")
            if global_keys:
                print(_table(global_keys, with_users=False))
            users = _read(reader.user_ids)
            print()
            print(f"per-user store: {_count(len(user_keys), 'key')}, {_count(len(users), 'user')}")
            if user_keys:
                print(_table(user_keys, with_users=True))
        else:
            print()
            print(f"per-user store of user {args.user!r}: {_count(len(user_keys), 'key')}")
            print(_table(user_keys, with_users=False))


def cmd_get(location: DatabaseLocation, args: argparse.Namespace) -> None:
    with _reader(location) as reader:
        found, value = _read(reader.get, args.key, args.user)
        if not found:
            raise CliError(_unknown_key_message(reader, location, args.key, args.user))
    print(json.dumps(value, indent=2, ensure_ascii=False))


def cmd_delete(location: DatabaseLocation, args: argparse.Namespace) -> None:
    with _reader(location) as reader:  # look first: a clear error (with a suggestion), and no database gets created
        found, _ = _read(reader.get, args.key, args.user)
        if not found:
            raise CliError(_unknown_key_message(reader, location, args.key, args.user))
    removed = _read(delete_key, location, args.key, args.user)
    if not removed:  # gone meanwhile
        raise CliError(f"no key {args.key!r} in {_where(args.user)} of {location.describe()}; nothing deleted")
    print(f"deleted {args.key!r} from {_where(args.user)}")


def _where(user_id: str | None) -> str:
    return "the global store" if user_id is None else f"the per-user store of user {user_id!r}"


def cmd_backup(location: DatabaseLocation, args: argparse.Namespace) -> None:
    try:
        written = backup_database(location, args.dest)
    except BackupError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write the backup to {args.dest}: {exc.strerror or exc}") from None
    print(f"backed up {location.describe()}")
    print(f"       to {written} ({_size(written.stat().st_size)})")


COMMANDS = {"keys": cmd_keys, "get": cmd_get, "delete": cmd_delete, "backup": cmd_backup}


# -- helpers ------------------------------------------------------------------


def _reader(location: DatabaseLocation) -> DatabaseReader:
    return open_reader(location)


def _read(method: Any, *args: Any) -> Any:
    """Call a reading or deleting function, turning an unusable database into a one-line error."""
    try:
        return method(*args)
    except DatabaseUnavailable as exc:
        raise CliError(str(exc)) from None


def _complain_unknown_user(reader: DatabaseReader, user_id: str) -> None:
    users = _read(reader.user_ids)
    if user_id in users:
        return
    message = f"no keys stored for user {user_id!r}"
    close = difflib.get_close_matches(user_id, users, n=1)
    if close:
        message += f"; did you mean {close[0]!r}?"
    elif users:
        shown = ", ".join(repr(u) for u in users[:5]) + (", ..." if len(users) > 5 else "")
        message += f" (users with keys: {shown})"
    raise CliError(message)


def _unknown_key_message(reader: DatabaseReader, location: DatabaseLocation, key: str, user_id: str | None) -> str:
    """Say the key is missing, and point at the likely intended one."""
    if user_id is None:
        message = f"no key {key!r} in the global store"
        candidates = [k.key for k in _read(reader.global_keys)]
        elsewhere = {k.key: k for k in _read(reader.user_keys)}.get(key)
        if elsewhere is not None:
            return (
                f"{message}; {key!r} is a per-user key ({_count(elsewhere.users, 'user')}): "
                f"add --user ID (see `cat-store keys`)"
            )
    else:
        message = f"no key {key!r} for user {user_id!r}"
        candidates = [k.key for k in _read(reader.user_keys, user_id)]
        found_globally, _ = _read(reader.get, key, None)
        if found_globally:
            return f"{message}; {key!r} is a global key: drop --user"
        if not candidates:
            _complain_unknown_user(reader, user_id)  # raises when the user has no keys at all
    close = difflib.get_close_matches(key, candidates, n=1)
    if close:
        return f"{message}; did you mean {close[0]!r}?"
    return f"{message} in {location.describe()}"


def _table(keys: Sequence[StoredKey], with_users: bool) -> str:
    headers = ["KEY", "TYPE", "SIZE"] + (["USERS"] if with_users else []) + ["PREVIEW"]
    rows = [
        [_printable(k.key), k.type, _size(k.size)] + ([str(k.users)] if with_users else []) + [k.preview]
        for k in keys
    ]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers[:-1])]
    lines = []
    for row in [headers] + rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + [row[-1]]
        lines.append("  " + "  ".join(cells).rstrip())
    return "\n".join(lines)


def _printable(key: str) -> str:
    """Keys may hold anything; show control characters and padding unambiguously."""
    if key.isprintable() and key == key.strip() and key:
        return key
    return json.dumps(key, ensure_ascii=False)


def _key_json(k: StoredKey) -> dict[str, Any]:
    data: dict[str, Any] = {"scope": k.scope, "key": k.key, "type": k.type, "types": list(k.types), "size": k.size}
    if k.scope == "user":
        data["users"] = k.users
    data["preview"] = k.preview
    return data


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    for unit in ("kB", "MB", "GB"):
        n /= 1000  # type: ignore[assignment]
        if n < 1000:
            return f"{n:.1f} {unit}"
    return f"{n:.1f} TB"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# -- entry point --------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        try:
            # --project, else CAT_PROJECT_DIR, else the Cat project around the
            # working folder (found as cat-lint and cat-lsp find it), else the working folder.
            found = find_cat_project()
            if args.sql:  # named after the option, so an error says where the URL came from
                named = args.project if args.project is not None else os.environ.get("CAT_PROJECT_DIR") or found
                location = parse_url(args.sql, project_dir(named), "--sql")
            else:
                location = resolve_database(project=args.project, discovered=found)
        except DatabaseURLError as exc:
            raise CliError(str(exc), USAGE) from None
        COMMANDS[args.command](location, args)
    except CliError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.status
    except BrokenPipeError:  # `cat-store keys | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
