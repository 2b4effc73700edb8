"""How large a file cat-lint checks: one place for the engine (characters) and the reader (bytes).

A file past these is not a plugin (a generated blob, a data dump named
``.py``): it is reported with one CAT000 instead of being parsed for minutes.
The reader checks the size on the opened file before reading anything, so
an 8 GB file costs no memory; the byte limit is four bytes a character
(UTF-8's most), so no file it refuses could have passed the engine's limit.
"""

MAX_SOURCE_CHARS = 5_000_000
MAX_SOURCE_BYTES = 4 * MAX_SOURCE_CHARS
