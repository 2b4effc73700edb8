"""A file to lint as text: decoded as Python decodes it, and encoded back when a fix is written.

Python reads a source by its PEP 263 cookie or BOM (UTF-8 by default) and
minds bytes that are not UTF-8 only outside comments.  The rules see text;
``--fix`` and ``--add-noqa`` must write the same encoding, BOM and odd
bytes back, so decoding and encoding live together here.  A file that
cannot be decoded gets one CAT000 finding instead of a parse.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

from cat_lint.findings import Finding, Span
from cat_lint.fixes import LineIndex
from cat_lint.limits import MAX_SOURCE_BYTES
from cat_lint.project.location import read_regular


@dataclass
class Source:
    """A file: its key for the engine, content hash, and (once read) bytes, text and encoding.

    A file whose size and modification time are those the cache recorded is
    not read at all (its digest comes from the cache): ``data`` reads it on
    first use, which only output that shows source lines and ``--fix`` need.
    """

    key: str
    path: Path
    raw: bytes | None
    digest: str
    text: str | None = None
    encoding: str = "utf-8"
    decode_error: Finding | None = None
    # Bytes Python tolerates but UTF-8 does not (in comments): their places in ``text``
    # (where they stand as U+FFFD) and the text that keeps them (surrogate escapes).
    undecodable: list[int] = field(default_factory=list)
    raw_text: str = ""

    @property
    def data(self) -> bytes:
        if self.raw is None:
            try:
                self.raw = read_regular(self.path, MAX_SOURCE_BYTES)
            except OSError:
                self.raw = b""
        return self.raw


def decode(source: Source) -> Source:
    """Decode as Python does (PEP 263 cookie, BOM, UTF-8 default).

    A file that cannot be decoded gets one CAT000 finding at the first bad
    byte instead of a parse, like a file that does not parse at all.
    """
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source.data).readline)
        source.encoding = encoding
        source.text = source.data.decode(encoding)
        if source.text.startswith("\ufeff"):
            source.text = source.text[1:]
    except SyntaxError as exc:  # bad or unknown coding cookie, or no UTF-8 in the first two lines
        if "invalid or missing encoding declaration" in str(exc.msg):
            if _tolerated(source):
                return source
            try:
                source.data.decode("utf-8")
            except UnicodeDecodeError as bad:  # at the first byte that is not UTF-8
                _decode_failed(source, bad)
                return source
        source.decode_error = cat000(source.key, 1, 0, f"cannot decode the file: {exc.msg}")
    except UnicodeDecodeError as exc:
        if not _tolerated(source):
            _decode_failed(source, exc)
    except LookupError as exc:
        _decode_failed(source, exc)
    return source


def _tolerated(source: Source) -> bool:
    """Bytes that are not UTF-8 where Python does not mind them: decode them as placeholders.

    Python checks UTF-8 only outside comments: a latin-1 byte in a comment
    imports fine.  Each such byte stands as U+FFFD in the text the rules
    see, and is put back when a fix is written (:func:`encode_text`).
    """
    if source.encoding not in ("utf-8", "utf-8-sig") or not _python_accepts_bytes(source.data):
        return False
    raw = source.data.decode(source.encoding, errors="surrogateescape")
    if raw.startswith("\ufeff"):
        raw = raw[1:]
    source.undecodable = [i for i, ch in enumerate(raw) if "\udc80" <= ch <= "\udcff"]
    source.raw_text = raw
    source.text = _SURROGATES.sub("\ufffd", raw)
    return True


_SURROGATES = re.compile("[\udc80-\udcff]")


def _python_accepts_bytes(data: bytes) -> bool:
    """Whether Python's tokenizer takes these bytes (a syntax error elsewhere is the engine's to report)."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, "<source>", "exec", flags=0x400, dont_inherit=True)  # PyCF_ONLY_AST
    except SyntaxError as exc:
        message = str(exc.msg)
        return not ("decode" in message or "Non-UTF-8" in message or "unicode error" in message)
    except (ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True


def encode_text(source: Source, text: str) -> bytes | None:
    """``text`` (the source after fixes) as the bytes to write: its encoding, its BOM, its odd bytes.

    ``None`` when bytes that could not be decoded cannot be put back safely.
    """
    if source.undecodable:
        marks = [i for i, ch in enumerate(source.text or "") if ch == "\ufffd"]
        now = [i for i, ch in enumerate(text) if ch == "\ufffd"]
        if len(marks) != len(now):
            return None
        odd = set(source.undecodable)
        chars = list(text)
        for before, after in zip(marks, now):
            if before in odd:
                chars[after] = source.raw_text[before]
        data = "".join(chars).encode(source.encoding, errors="surrogateescape")
    else:
        data = text.encode(source.encoding)
    if source.data.startswith(b"\xef\xbb\xbf") and not data.startswith(b"\xef\xbb\xbf"):
        data = b"\xef\xbb\xbf" + data
    return data


def _decode_failed(source: Source, exc: Exception) -> None:
    start = getattr(exc, "start", 0)
    before = source.data[:start].decode(source.encoding, errors="replace")
    line, col = LineIndex(before).position(len(before))  # rows as Python counts them: a lone CR breaks one
    reason = getattr(exc, "reason", str(exc))
    source.decode_error = cat000(
        source.key, line, col, f"cannot decode the file as {source.encoding}: {reason}")


def cat000(path: str, line: int, col: int, message: str) -> Finding:
    """The one finding of a file that cannot be read or decoded, at one character."""
    return Finding("CAT000", message, path, Span(line, col, line, col + 1))
