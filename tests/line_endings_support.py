"""One plugin file and its line-ending variants, for the command line's and the server's CRLF tests.

Both suites lint the same text under each kind of ending and compare: so the
text and the ways of rewriting its endings live here once.
"""

from __future__ import annotations

import re

BREAK = re.compile(r"\r\n|\r|\n")  # what Python, libcst and LSP all count as a line break

SOURCE = '''\
from cat import hook, store, user


@hook
async def before_cat_sends_message(message, cat):
    store.save("counter", (1, 2))
    await store.save("sizes", (
        640,  # width
        480,
    ))
    total = await store.load("countr")
    x = 1  # noqa: CAT004
    y = 2  # noqa
    prefs = user.load("prefs")
    return message
'''

# One ending per line of SOURCE: lone CRs inside a bracket, before a noqa comment, after a blank line.
MIXED = ["\n", "\r\n", "\r", "\r\n", "\n", "\r\n", "\r", "\n", "\r\n", "\r", "\n", "\r\n", "\r", "\n", "\r\n"]


def with_endings(text: str, kind: str) -> str:
    """``text`` (LF) with every line ending ``kind``: "crlf", "cr", or "mixed" (the endings of MIXED)."""
    lines = text.split("\n")[:-1]
    if kind == "crlf":
        return "".join(line + "\r\n" for line in lines)
    if kind == "cr":
        return "".join(line + "\r" for line in lines)
    return "".join(line + MIXED[i] for i, line in enumerate(lines))
