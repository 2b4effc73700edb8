"""Re-parsing an edited document statement by statement.

libcst's parse of a whole file is most of the engine's cost (about half a
second for 3,000 lines), and the language server re-lints a document on
every pause in typing although only one statement changed.  So a file the
engine has seen before is cut into chunks, one per top-level statement,
each chunk is parsed alone and memoised by its text, and the chunks'
statements are assembled into one ``libcst.Module``: after an edit only
the edited statement is parsed again.

Cutting: Python's own AST gives the line range of each top-level
statement, decorators included; statements sharing a line stay in one
chunk.  A chunk runs from its statement's first line to the line before
the next statement, so the comments and blank lines after a statement stay
with it, and it is parsed with a sentinel statement (``pass``) after it:
libcst then splits those lines exactly as in the whole file, giving an
indented block's trailing comments to the block (its ``footer``) and the
rest to the sentinel, whose ``leading_lines`` assembly moves in front of
the next statement.  (Parsed at the end of a text, the same lines are split
otherwise, and libcst even drops a blank line before a dedented comment.)
The first chunk starts at line 1: its module header is the file's; the
last is parsed as the end of the file it is.

After an edit the whole file is not compiled again: the chunk lines of the
path's last lint hold outside the edited region, and only that region
(the edited chunks and one on each side) is compiled to cut it
(``starts_after_edit``); each chunk's own AST gives the statement lines
positions need (``chunk_firsts``), memoised with the chunk.

Trust: the assembled module's code is checked against the source on every
call, from the generated code of each of its statements (memoised per
statement node, which is immutable), and anything unusual (form feeds,
mixed or old Mac newlines, a byte order mark, tab indentation, a chunk
whose indentation default differs from the file's, a chunk libcst or
Python rejects) makes the caller parse the whole file as before.

Nothing here is global: the chunk memo (a bounded LRU) and the history
of each path's last lint belong to the ``cat_lint.engine.Engine`` that
owns them; the language server's worker has one, the command line none.
Chunks are keyed by their text and by how many identical chunks precede
them in the file, so one module never holds the same node object twice
(the engine keys its per-run tables by node identity).
"""

from __future__ import annotations

import ast
import bisect
import re
import threading
import warnings
from collections import OrderedDict

import libcst as cst

from cat_lint.grammar import newer_in_tree
from cat_lint.positions import statement_lines

# Bound on the memo: the total characters of the chunks kept (a 3,000-line
# plugin is about 100,000); their trees take far more memory than their text.
MAX_CACHED_CHARS = 600_000
# Paths seen recently: only a document linted before takes the incremental
# path (a one-shot command line lint would only pay for filling the memo).
MAX_RECENT_PATHS = 64

_TAB_INDENT = re.compile(r"^[ ]*\t", re.M)


class _Chunk:
    """One parsed chunk and what assembly needs from it, computed once."""

    __slots__ = ("text", "module", "statements", "carry", "has_indent", "codes", "carry_code", "adjusted", "firsts")

    def __init__(self, text: str, module: cst.Module, last: bool) -> None:
        self.text = text
        self.module = module
        if last:
            self.statements, self.carry = tuple(module.body), ()
        else:
            # Parsed with a sentinel statement after it: the lines libcst gives the next statement are its.
            *statements, sentinel = module.body
            if not _is_sentinel(sentinel) or module.footer:
                raise ValueError("the sentinel statement did not parse as itself")
            self.statements, self.carry = tuple(statements), tuple(sentinel.leading_lines)
        self.has_indent = any(_has_block(stmt) for stmt in self.statements)
        self.codes: dict[tuple[str, str], tuple[str, ...]] = {}
        self.carry_code: dict[str, str] = {}
        # (the previous chunk's carried lines, indent, newline) -> (first statement with them in front, its code)
        self.adjusted: tuple[tuple[str, str, str], cst.BaseStatement, str] | None = None
        self.firsts: list[int] | None = None  # first lines of its AST statements, from line 1 (see chunk_firsts)


def chunk_firsts(chunk: _Chunk) -> list[int] | None:
    """The first lines of a chunk's statements in Python's AST, compiled alone (positions need them)."""
    if chunk.firsts is None:
        try:
            tree = compile(chunk.text, "<chunk>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
            return None
        chunk.firsts = statement_lines(tree.body)
    return chunk.firsts


SENTINEL = "pass"


def _is_sentinel(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Pass)
        and stmt.trailing_whitespace.comment is None
    )


def _has_block(stmt: cst.CSTNode) -> bool:
    """Whether a top-level statement holds an indented block (libcst's default indent comes from the first)."""
    suites = [getattr(stmt, "body", None)]
    orelse = getattr(stmt, "orelse", None)
    while orelse is not None:
        suites.append(getattr(orelse, "body", None))
        orelse = getattr(orelse, "orelse", None)
    for handler in getattr(stmt, "handlers", ()) or ():
        suites.append(handler.body)
    final = getattr(stmt, "finalbody", None)
    if final is not None:
        suites.append(final.body)
    for case in getattr(stmt, "cases", ()) or ():
        suites.append(case.body)
    return any(isinstance(suite, cst.IndentedBlock) for suite in suites)


def _codegen(nodes, template: cst.Module) -> list[str]:
    """Each node's code at the top level of a module with ``template``'s indentation and newline.

    ``Module.code_for_node`` is libcst's public way to generate one node's
    code with a module's defaults; ``template`` is an empty module holding them.
    """
    return [template.code_for_node(node) for node in nodes]


class ChunkMemo:
    """The LRU of parsed chunks, bounded by their total size; safe to share between threads."""

    def __init__(self, max_chars: int = MAX_CACHED_CHARS) -> None:
        self.max_chars = max_chars
        self._items: OrderedDict[tuple[str, int, bool], _Chunk] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()
        self.parsed = 0  # chunks parsed (not found in the memo): for tests and measurements

    def get(self, text: str, occurrence: int, last: bool, newline: str) -> _Chunk:
        key = (text, occurrence, last)
        with self._lock:
            chunk = self._items.get(key)
            if chunk is not None:
                self._items.move_to_end(key)
                return chunk
        # A chunk inside the file is parsed with a statement after it, as it is in the file: at the
        # end of a file libcst attributes trailing comments differently (and loses blank lines
        # before a dedented comment).  May raise: the caller falls back.
        parsed = cst.parse_module(text if last else text + SENTINEL + newline)
        chunk = _Chunk(text, parsed, last)
        with self._lock:
            self.parsed += 1
            if key not in self._items:
                self._items[key] = chunk
                self._chars += len(text)
                while self._chars > self.max_chars and len(self._items) > 1:
                    (old_text, _, _), _old = self._items.popitem(last=False)
                    self._chars -= len(old_text)
        return chunk

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._chars = 0

    def __len__(self) -> int:
        return len(self._items)


class History:
    """Each recently linted path's last source and chunk lines: an LRU of ``max_paths`` paths.

    Only a path found here takes the incremental route; the next lint of
    it cuts only the edited region (``starts_after_edit``).  An entry holds
    for the target Python it was checked for: the edited region is compiled
    for that target only, so another target starts afresh.
    """

    def __init__(self, max_paths: int = MAX_RECENT_PATHS) -> None:
        self.max_paths = max_paths
        self._items: OrderedDict[str, tuple[str, list[int], tuple[int, int] | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: str, target: tuple[int, int] | None = None) -> tuple[str, list[int]] | None:
        """The path's last source and chunk lines, if it was checked for ``target``."""
        with self._lock:
            entry = self._items.get(path)
        if entry is None or entry[2] != target:
            return None
        return entry[0], entry[1]

    def remember(self, path: str, source: str, starts: list[int] | None, target: tuple[int, int] | None = None) -> None:
        """Keep a lint's chunk lines for the next lint of the same path (a placeholder when unknown)."""
        with self._lock:
            self._items[path] = (source, starts or [], target)
            self._items.move_to_end(path)
            while len(self._items) > self.max_paths:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def _common_prefix(a: str, b: str) -> int:
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:  # slices compare in C: a binary search beats a loop over characters
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str, limit: int) -> int:
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid:] == b[len(b) - mid:]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _line_offsets(source: str) -> list[int]:
    offsets = [0]
    at = source.find("\n")
    while at >= 0:
        offsets.append(at + 1)
        at = source.find("\n", at + 1)
    return offsets


def starts_after_edit(previous: tuple[str, list[int]] | None, source: str,
                      target: tuple[int, int] | None = None) -> list[int] | None:
    """The chunk lines of ``source`` from ``previous`` (the path's last lint: its source and
    chunk lines), compiling only the edited chunks.

    The edited region runs from the chunk before the first changed character
    to the chunk after the last one.  Python's compiler must accept the
    region alone: then it ends where the tokenizer is back at the top level
    (no open bracket, string or continuation), so the unchanged chunks after
    it still start where they did, and those before it are untouched text.
    ``None`` (compile the whole file) when there is no usable last lint or
    the region does not compile alone.
    """
    if previous is None or not previous[1]:
        return None
    old, old_starts = previous
    if old == source:
        return list(old_starts)
    prefix = _common_prefix(old, source)
    suffix = _common_suffix(old, source, min(len(old), len(source)) - prefix)
    old_offsets = _line_offsets(old)
    if old_starts[-1] > len(old_offsets):
        return None
    bounds = [old_offsets[line - 1] for line in old_starts]
    first = max(0, bisect.bisect_left(bounds, prefix) - 2)  # the chunk before the one edited
    old_end = len(old) - suffix
    after = bisect.bisect_left(bounds, old_end) + 1  # one chunk past the edit
    region_start = bounds[first]
    region_end_old = bounds[after] if after < len(bounds) else len(old)
    region_end = region_end_old + len(source) - len(old)
    if region_end < region_start:
        return None
    region = source[region_start:region_end]
    if "__future__" in region:
        return None  # where a __future__ import may stand depends on the whole file
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = compile(region, "<edit>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
            # What the compiler refuses after parsing (`await` outside async...) and,
            # for an older target Python, its grammar: the whole file reports it.
            compile(tree, "<edit>", "exec", dont_inherit=True)
            if target is not None and newer_in_tree(tree, region, target) is not None:
                return None
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return None
    inner = chunk_lines(tree)
    if not inner:
        return None
    if first > 0:
        body = tree.body[0]
        decorators = getattr(body, "decorator_list", None)
        if (min(body.lineno, *(d.lineno for d in decorators)) if decorators else body.lineno) != 1:
            return None  # lines before its first statement belong to the chunk before
    base = old_starts[first]
    shift = source.count("\n", 0, region_end) - old.count("\n", 0, region_end_old)
    return old_starts[:first] + [base + line - 1 for line in inner] + [line + shift for line in old_starts[after:]]


def _newline_of(source: str) -> str | None:
    """The file's newline when it uses one kind only, else None."""
    if "\r" not in source:
        return "\n"
    crlf = source.count("\r\n")
    if crlf == source.count("\r") == source.count("\n"):
        return "\r\n"
    return None


def chunk_lines(tree: ast.Module) -> list[int]:
    """The first line of each chunk: each top-level statement's (decorators included), merged when they share a line."""
    starts: list[int] = []
    end = 0
    for stmt in tree.body:
        decorators = getattr(stmt, "decorator_list", None)
        first = min(stmt.lineno, *(d.lineno for d in decorators)) if decorators else stmt.lineno
        last = stmt.end_lineno or stmt.lineno
        if starts and first <= end:
            end = max(end, last)
            continue
        starts.append(first)
        end = last
    if starts:
        starts[0] = 1  # the module header goes with the first statement
    return starts


def parse_incremental(source: str, tree: ast.Module | None, memo: ChunkMemo) -> cst.Module | None:
    """The module libcst would parse from ``source``, from memoised chunks; ``None`` when this does not apply."""
    if tree is None or not tree.body:
        return None
    return assemble(source, chunk_lines(tree), memo)[0]


def assemble(source: str, starts: list[int], memo: ChunkMemo,
             with_firsts: bool = True) -> tuple[cst.Module | None, list[int] | None]:
    """The module of ``source`` cut at ``starts``, and the first lines of its AST statements (or None, None).

    Without ``with_firsts`` (the caller has the file's AST) the first lines are not computed: ``None``.
    """
    if not starts or "\f" in source or source.startswith("\ufeff"):
        return None, None
    newline = _newline_of(source)
    if newline is None or _TAB_INDENT.search(source):
        return None, None
    offsets = _line_offsets(source)
    if starts[-1] > len(offsets) or starts[0] != 1:
        return None, None
    bounds = [offsets[line - 1] for line in starts] + [len(source)]
    seen: dict[str, int] = {}
    chunks: list[_Chunk] = []
    last = len(starts) - 1
    try:
        for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
            text = source[a:b]
            occurrence = seen.get(text, 0)
            seen[text] = occurrence + 1
            chunks.append(memo.get(text, occurrence, i == last, newline))
    except Exception:  # libcst rejects a chunk (or crashes on it): the whole file decides
        return None, None
    module = _assemble(source, chunks, newline)
    if module is None:
        return None, None
    if not with_firsts:
        return module, None
    firsts: list[int] | None = []
    for line, chunk in zip(starts, chunks):
        lines = chunk_firsts(chunk)
        if lines is None:
            firsts = None
            break
        firsts.extend(n + line - 1 for n in lines)
    return module, firsts



def _assemble(source: str, chunks: list[_Chunk], newline: str) -> cst.Module | None:
    indent = next((c.module.default_indent for c in chunks if c.has_indent), "    ")
    body: list[cst.BaseStatement] = []
    first = chunks[0].module
    template = cst.Module(body=(), default_indent=indent, default_newline=newline)
    pieces: list[str] = _codegen(first.header, template)
    carried: tuple[cst.EmptyLine, ...] = ()
    carried_code = ""
    for i, chunk in enumerate(chunks):
        module = chunk.module
        if module.default_newline != newline or (chunk.has_indent and module.default_indent != indent):
            return None  # libcst would have parsed these lines differently inside the whole file
        if not chunk.statements or (i and module.header):
            return None
        codes = chunk.codes.get((indent, newline))
        if codes is None:
            codes = chunk.codes[(indent, newline)] = tuple(_codegen(chunk.statements, template))
        statements = list(chunk.statements)
        if carried:
            key = (carried_code, indent, newline)
            if chunk.adjusted is None or chunk.adjusted[0] != key:
                head = statements[0]
                moved = head.with_changes(leading_lines=(*carried, *head.leading_lines))
                chunk.adjusted = (key, moved, _codegen([moved], template)[0])
            statements[0] = chunk.adjusted[1]
            codes = (chunk.adjusted[2], *codes[1:])
        body.extend(statements)
        pieces.extend(codes)
        carried = chunk.carry
        if carried:
            carried_code = chunk.carry_code.get(newline)
            if carried_code is None:
                carried_code = chunk.carry_code[newline] = "".join(_codegen(carried, template))
    last = chunks[-1].module
    if last.has_trailing_newline:
        pieces.extend(_codegen(last.footer, template))
    else:
        # Module's codegen drops the final token (a newline) of a file that does not end with one:
        # generate the last chunk's statements and footer together, as it does.
        count = len(chunks[-1].statements)
        del pieces[len(pieces) - count:]
        tail = "".join(_codegen((*body[len(body) - count:], *last.footer), template))
        pieces.append(tail[:-len(newline)] if tail.endswith(newline) else tail)
    return _module(first, body, last, indent, newline, source, pieces)


def _module(first, body, last, indent, newline, source, pieces) -> cst.Module | None:
    if "".join(pieces) != source:
        return None
    return cst.Module(
        body=body,
        header=first.header,
        footer=last.footer,
        encoding=first.encoding,
        default_indent=indent,
        default_newline=newline,
        has_trailing_newline=last.has_trailing_newline,
    )
