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

MAX_KEY_LENGTH = 1024  # key VARCHAR(1024) in both tables: the runtime and CAT007 refuse longer keys

_SURROGATE = re.compile("[\ud800-\udfff]")


def key_text_problem(text: str) -> str | None:
    """Why ``text`` cannot be a key on every backend, or ``None``.

    PostgreSQL text cannot hold NUL, and neither SQLite nor PostgreSQL can
    store a lone surrogate (``"\\ud800"``, which ``json.loads`` can produce):
    refusing both everywhere keeps a plugin from working on one backend only.
    """
    if "\x00" in text:
        return f"contains a NUL character (at index {text.index(chr(0))}), which PostgreSQL cannot store"
    found = _SURROGATE.search(text)
    if found:
        return f"contains a lone surrogate ({found.group()!r} at index {found.start()}), which is not valid Unicode text"
    return None


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


# On PostgreSQL ``user_id`` is a native UUID column, so an id that is not a UUID
# is stored as a hash of its text.  The hashes carry the variant bits that
# RFC 4122 reserves for future definition (0b111): no RFC 4122 UUID, which is
# what the Cat and everyone else mint, has them, so a hashed id never equals an
# id stored as itself.  Fixed forever: changing it orphans data.
_USER_ID_SALT = b"cat-devtools user id\x00"


def pg_user_id(user_id: str) -> uuid.UUID:
    """The UUID stored on PostgreSQL for ``user_id``; distinct ids never share one.

    A canonical RFC 4122 UUID (lower case, hyphens: every id the Cat makes)
    is stored as itself, so the Cat and the runtime see the same users.  Any
    other text, other spellings of a UUID included, is the SHA-256 of its
    exact text folded into the reserved variant: ``"alice"`` can never be
    reached by passing the UUID stored for her, because that UUID is not an
    RFC 4122 UUID and is therefore hashed in turn.  SQLite stores ids as text
    and compares them exactly, so both backends tell the same ids apart.
    """
    try:
        parsed = uuid.UUID(user_id)
    except ValueError:
        parsed = None
    if parsed is not None and str(parsed) == user_id and parsed.variant == uuid.RFC_4122:
        return parsed
    digest = bytearray(hashlib.sha256(_USER_ID_SALT + user_id.encode("utf-8", "surrogatepass")).digest()[:16])
    digest[8] = 0xE0 | (digest[8] & 0x1F)  # variant 0b111: reserved for future definition
    return uuid.UUID(bytes=bytes(digest))


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
