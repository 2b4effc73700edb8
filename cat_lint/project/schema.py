"""The Cat's own tables, as its ORM really creates them, and how their columns are read.

Kept identical to what ``cheshire-cat-ai`` 2.x creates so that the real Cat reads
what the runtime writes and the other way round.  The tools (``cat-store``,
``cat-lint``, ``cat-lsp``) read through these names and decoders; the runtime
(``cat``) writes through them.  Note the declared types: ``JSON`` and ``UUID``
give SQLite columns NUMERIC affinity, which is why the runtime's encoder and
:func:`encode_user_id` bind some values as BLOBs, and why :func:`decode_value`
accepts every shape the column may hold.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any

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


# On PostgreSQL ``user_id`` is a native UUID column.  Ids that are not canonical
# UUIDs are stored as a name-based UUID of their exact text (fixed forever:
# changing it orphans data).
USER_ID_NAMESPACE = uuid.UUID("6f1c5e8a-2b7d-5c43-9a1e-7d3b2c4f5a60")


def pg_user_id(user_id: str) -> uuid.UUID:
    """The UUID stored on PostgreSQL for ``user_id``: itself when canonical, else derived from its exact text."""
    try:
        parsed = uuid.UUID(user_id)
    except ValueError:
        parsed = None
    if parsed is not None and str(parsed) == user_id:
        return parsed
    return uuid.uuid5(USER_ID_NAMESPACE, user_id)


def pg_key_lock(user_id: uuid.UUID | None, key: str) -> int:
    """The transaction-scoped advisory lock every PostgreSQL writer of one key takes first.

    A signed 64-bit id derived from the scope and the key: the runtime's writes
    and ``cat-store delete`` take the same lock, so they serialize even on a
    row that does not exist yet.
    """
    scope = "g" if user_id is None else f"u{user_id}"
    digest = hashlib.blake2b(f"{scope}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def decode_value(raw: Any) -> Any:
    """Turn a ``value`` column back into the Python value that was saved.

    Three shapes reach here: JSON text, the BLOB of JSON text the runtime binds
    for top-level numbers, and the INTEGER/REAL that SQLite's affinity made of
    what the real Cat wrote.
    """
    if raw is None:
        return None
    if isinstance(raw, (bool, int, float)):
        return raw  # written by the real Cat and already coerced by SQLite
    if isinstance(raw, memoryview):
        raw = raw.tobytes()
    if isinstance(raw, (bytes, bytearray)):
        raw = bytes(raw).decode("utf-8")
    if isinstance(raw, str):
        return json.loads(raw)
    return raw  # PostgreSQL drivers may hand back decoded JSON already
