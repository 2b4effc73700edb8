"""The Cat's own tables, as its ORM really creates them.

Kept identical to what ``cheshire-cat-ai`` 2.x creates so that the real Cat reads
what this runtime writes and the other way round.  Note the declared types:
``JSON`` and ``UUID`` give SQLite columns NUMERIC affinity, which is why
:mod:`cat.values` and :func:`encode_user_id` bind some values as BLOBs.
"""

from __future__ import annotations

import re

GLOBAL_TABLE = "key_value_db"
USER_TABLE = "user_key_value_db"

# The DDL cheshire-cat-ai 2.0.23 (Piccolo) emits on SQLite, verbatim but for
# IF NOT EXISTS, so an inspection of either database shows the same tables.
SQLITE_SCHEMA = (
    f"""CREATE TABLE IF NOT EXISTS "{GLOBAL_TABLE}" ("key" VARCHAR(1024) PRIMARY KEY NOT NULL DEFAULT '', """
    """"value" JSON NOT NULL DEFAULT '{}')""",
    f"""CREATE TABLE IF NOT EXISTS "{USER_TABLE}" ("id" UUID PRIMARY KEY NOT NULL DEFAULT None, """
    """"user_id" UUID NOT NULL DEFAULT None, "key" VARCHAR(1024) NOT NULL DEFAULT '', """
    """"value" JSON NOT NULL DEFAULT '{}')""",
    f'CREATE INDEX IF NOT EXISTS {USER_TABLE}_user_id ON "{USER_TABLE}" ("user_id")',
    f'CREATE INDEX IF NOT EXISTS {USER_TABLE}_key ON "{USER_TABLE}" ("key")',
)

MAX_KEY_LENGTH = 1024


_NUMERIC_TEXT = re.compile(r"[ \t\n\r\f\v]*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[ \t\n\r\f\v]*")


def looks_numeric(text: str) -> bool:
    """Whether SQLite's NUMERIC affinity would turn this text into a number.

    A superset is harmless (the id is then merely stored as a BLOB); missing
    a case is not, so the pattern errs on the generous side.
    """
    return _NUMERIC_TEXT.fullmatch(text) is not None


def encode_user_id(user_id: str) -> str | bytes:
    """What to bind for ``user_id`` so that ids compare exactly.

    A UUID is stored as text, as the Cat does.  An id that NUMERIC affinity
    would convert ("1", "01" and "1.0" would all become 1) is bound as a
    BLOB of its UTF-8 text, which affinity leaves alone.
    """
    return user_id.encode("utf-8") if looks_numeric(user_id) else user_id


def decode_user_id(raw: object) -> str:
    """The user id as the application knows it, from whatever the column holds."""
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return bytes(raw).decode("utf-8")
    return str(raw)
