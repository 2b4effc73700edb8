"""How file names are shown: every output and message goes through here.

File names are bytes to the operating system.  Python hands them over as
text by ``os.fsdecode``: bytes that are not UTF-8 become lone surrogates
(``\\xff`` as ``\\udcff``), which name the file exactly (the cache, ``--fix``
and the language server keep working on it) but cannot be written as
UTF-8.  So a name is shown as Ruff shows it (Rust's ``to_string_lossy``):
each sequence of bytes that is not UTF-8 as U+FFFD, and text output stays
valid UTF-8 whatever the name.

A name can also hold a newline, a tab or an escape character, which would
split a one-finding-a-line output or drive the terminal: in text meant to
be read line by line they are shown as backslash escapes (``\\n``,
``\\t``, ``\\x1b``), as Python's ``repr`` shows them.  Backslashes
themselves are left alone (they are Windows's separators).
"""

from __future__ import annotations

import os
import re

_SURROGATE = re.compile("[\udc80-\udcff]")
# C0 and C1 controls, DEL, and the two Unicode line separators (some readers split lines on them).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# What a URI cannot hold as it is: undecodable bytes (as surrogates), C0 controls and DEL.
_NOT_IN_URI = re.compile("[\udc80-\udcff\x00-\x1f\x7f]")


def lossy(name: str) -> str:
    """``name`` with the bytes ``os.fsdecode`` could not decode as U+FFFD (valid UTF-8 text)."""
    if _SURROGATE.search(name) is None:
        return name
    return os.fsencode(name).decode("utf-8", errors="replace")


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    return _NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


def printable(name: str, keep: str = "") -> str:
    """``name`` as a line of text shows it: :func:`lossy`, and control characters as backslash escapes.

    The characters in ``keep`` are left for the caller to escape its own way.
    """
    name = lossy(name)
    if _CONTROL.search(name) is None:
        return name
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _escape(m), name)


def uri_path(name: str) -> str:
    """``name`` for a URI: the bytes that are not UTF-8 and the control characters percent-encoded.

    Other characters are kept as they are, as SARIF output always wrote
    them; a consumer that decodes the percent escapes gets the file's real bytes.
    """
    def encode(match: re.Match[str]) -> str:
        return "".join(f"%{byte:02X}" for byte in os.fsencode(match.group()))

    return _NOT_IN_URI.sub(encode, name)
