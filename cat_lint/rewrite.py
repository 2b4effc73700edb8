"""Writing a fixed plugin file back (``--fix``, ``--add-noqa``) as the author's editor would.

A fix changes the file the author edits, not the name it was reached by:
through a symlink the file it points at is written and the link stays; a
file with several hard links is written in place, so every name sees the
fix; any other file is replaced atomically (readers see the old or the new
text, never a mix), keeping its permission bits and, where the process may
set them (``cat-lint --fix`` as root in a container, over a bind-mounted
project), its owner and group.  A file the process may not write is
refused with :class:`CannotWrite`, even where replacing it by a rename
would succeed: read-only means "leave it".
"""

from __future__ import annotations

import os
from pathlib import Path


class CannotWrite(Exception):
    """A fixed file could not be written: the CLI says so, naming it, and exits 2."""


def rewrite_source(path: Path, data: bytes) -> None:
    """Write ``data`` as the new content of the file ``path`` names (its target, when a symlink)."""
    from cat_lint.filenames import printable

    shown = printable(str(path))
    real = Path(os.path.realpath(path))
    try:
        status = real.stat()
    except OSError as exc:
        raise CannotWrite(f"cannot write the fixes to {shown}: {exc.strerror or exc}") from None
    if not os.access(real, os.W_OK):
        raise CannotWrite(f"cannot write the fixes to {shown}: the file is read-only")
    try:
        if status.st_nlink > 1:
            with open(real, "r+b") as handle:  # in place: every hard link is the same file
                handle.write(data)
                handle.truncate()
                handle.flush()
                os.fsync(handle.fileno())
            return
        from cat_lint.cache import write_atomic

        write_atomic(real, data)
        written = real.stat()
        if hasattr(os, "chown") and (status.st_uid, status.st_gid) != (written.st_uid, written.st_gid):
            try:
                os.chown(real, status.st_uid, status.st_gid)
            except PermissionError:
                pass  # not ours to give away: the file is ours now, as a rename makes it
    except OSError as exc:
        raise CannotWrite(f"cannot write the fixes to {shown}: {exc.strerror or exc}") from None

