"""The parse pipeline: source text in, a libcst module (or the CAT000 finding instead) out.

``parse`` runs named steps, in this order, each of which may end it:

1. ``_refuse_unsafe``: what no parser is handed (too large, NUL, undecodable);
2. ``_reassemble``: an incremental engine's memoised chunks, when an edit
   left them alone (``cat_lint.incremental``): only the edited region is
   compiled;
3. ``_compile``: Python's own compiler, whose AST costs a few percent of
   libcst's parse and guards it: inputs that exhaust Python's parser (deep
   nesting) can crash libcst's native parser, so they stop here; a file
   this Python's grammar refuses is judged for the target by libcst
   (``_judged_by_libcst``);
4. ``compile_error``: what the target Python refuses although it parses
   (``cat_lint.refusals``);
5. ``_parse_relevant``: of a large file, only the top-level statements
   that can matter (``cat_lint.relevance``);
6. ``_parse_chunks``: statement by statement, for an incremental engine and
   for a large file;
7. ``_parse_whole``: libcst's parse of the whole module.
"""

from __future__ import annotations

import ast
import re
import warnings
from typing import NamedTuple

import libcst as cst

from cat_lint.findings import Finding, Span
from cat_lint.fixes import LineIndex
from cat_lint.grammar import EXCEPT_STAR_EXIT, except_star_exit, lower, newer_in_module
from cat_lint.incremental import ChunkMemo, History, assemble, chunk_lines, starts_after_edit
from cat_lint.limits import MAX_SOURCE_CHARS
from cat_lint.refusals import RUNNING, TOO_DEEP, compile_error, compiler_error, parse_error
from cat_lint.relevance import Reduced, reduce_source
from cat_lint.rules import PARSE_RULE
from cat_lint.settings import Settings

LARGE_SOURCE_CHARS = 200_000  # from this size on a file is parsed statement by statement

#: The oldest Python the Cat supports (cheshire-cat-ai 2.x: >=3.11).
DEFAULT_TARGET = (3, 11)

_SURROGATE = re.compile("[\ud800-\udfff]")
# Python's own limits; past them libcst's native parser may take minutes or crash the process.
_LIMIT_ERRORS = ("too many nested parentheses", "too many levels of indentation", "too many statically nested blocks")


def target_of(settings: Settings) -> tuple[int, int]:
    """``target-version`` ("py311") as a version tuple."""
    value = getattr(settings, "target_version", None)
    if not value:
        return DEFAULT_TARGET
    return (int(value[2]), int(value[3:]))


class Parsed(NamedTuple):
    """A parse: the module (or the CAT000 error instead), Python's AST when the whole file was compiled,
    and for a module assembled from memoised chunks, the first lines of its AST statements
    (positions need them when the AST is absent).  ``reduced`` when the module holds only the
    top-level statements that can matter (a large file, see ``cat_lint.relevance``): its lines
    are those of ``reduced.text``, mapped back to the file's by ``reduced.lines``."""

    module: cst.Module | None
    tree: ast.Module | None = None
    error: Finding | None = None
    assembled: bool = False
    firsts: list[int] | None = None
    reduced: Reduced | None = None


def parse(source: str, path: str, target: tuple[int, int] = DEFAULT_TARGET,
          chunks: ChunkMemo | None = None, history: History | None = None,
          reduce_from: int | None = None, hooks: tuple[str, ...] = ()) -> Parsed:
    """Parse with libcst, after Python's own compiler has checked the file is safe to hand to it.

    With ``chunks`` and ``history`` (an incremental engine's) and a path
    linted before, the module is assembled from memoised per-statement
    parses when that reproduces the source exactly; otherwise parsed whole.
    Of a file of ``reduce_from`` characters or more, only the top-level
    statements that can matter are parsed.
    """
    unsafe = _refuse_unsafe(source, path)
    if unsafe is not None:
        return _failed(unsafe)
    incremental = chunks is not None and history is not None
    if incremental:
        reassembled = _reassemble(source, path, target, chunks, history)
        if reassembled is not None:
            return reassembled
    tree, judged = _compile(source, path, target)
    if judged is not None:
        if incremental and judged.module is not None:
            history.remember(path, source, None, target)
        return judged
    if tree is not None:
        refused = compile_error(tree, source, path, target)
        if refused is not None:
            return _failed(refused)
    starts = chunk_lines(tree) if tree is not None else None
    if incremental:
        history.remember(path, source, starts, target)
    if not incremental and tree is not None and reduce_from is not None and len(source) >= reduce_from:
        relevant = _parse_relevant(source, tree, hooks)
        if relevant is not None:
            return relevant
    if (incremental or len(source) > LARGE_SOURCE_CHARS) and starts:
        chunked = _parse_chunks(source, tree, starts, chunks if incremental else ChunkMemo(max_chars=0))
        if chunked is not None:
            return chunked
    return _parse_whole(source, path, tree)


def _failed(error: Finding) -> Parsed:
    return Parsed(None, None, error)


def _refuse_unsafe(source: str, path: str) -> Finding | None:
    """CAT000 for a text no parser is handed: past cat-lint's size limit, with a NUL, or badly decoded."""
    if len(source) > MAX_SOURCE_CHARS:
        return parse_error(source, path, None, f"the file is too large to lint: {len(source):,} characters, past cat-lint's limit of "
                                               f"{MAX_SOURCE_CHARS:,}; nothing in it was checked")
    if "\x00" in source:
        line, col = _row_and_column(source, source.index("\x00"))
        return Finding(PARSE_RULE.code, "the file does not parse: it contains a NUL character", path, Span(line, col, line, col))
    surrogate = _SURROGATE.search(source)
    if surrogate is not None:
        # What a bad decode with surrogateescape leaves: Python would refuse the file.
        line, col = _row_and_column(source, surrogate.start())
        return Finding(PARSE_RULE.code, "the file does not parse: it is not valid UTF-8 text", path, Span(line, col, line, col))
    return None


def _row_and_column(source: str, at: int) -> tuple[int, int]:
    """The engine position of offset ``at``: rows broken where Python breaks them (a lone ``\\r`` too)."""
    return LineIndex(source).position(at)


def _reassemble(source: str, path: str, target: tuple[int, int], chunks: ChunkMemo, history: History) -> Parsed | None:
    """The module assembled from the chunks an edit left alone, which keep their places; else ``None``."""
    previous = history.get(path, target)
    if previous is None:
        return None
    starts = starts_after_edit(previous, source, target)
    if starts is None:
        return None
    module, firsts = assemble(source, starts, chunks)
    if module is None:
        return None
    history.remember(path, source, starts, target)
    return Parsed(module, assembled=True, firsts=firsts)


def _compile(source: str, path: str, target: tuple[int, int]) -> tuple[ast.Module | None, Parsed | None]:
    """Python's AST of the file (``None`` when this Python cannot say), or instead the final parse.

    The final parse is CAT000 for a file past Python's own limits, or the
    judgement of libcst's parser for a file this Python's grammar refuses.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning and the like are not ours to print
            return compile(source, path or "<unknown>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True), None
    except (RecursionError, MemoryError, OverflowError):
        return None, _failed(parse_error(source, path, None, TOO_DEEP))
    except SyntaxError as exc:
        if any(limit in str(exc.msg) for limit in _LIMIT_ERRORS):
            return None, _failed(parse_error(source, path, None))
        # This Python's grammar is not the target's: libcst's parser judges the file for the target.
        return None, _judged_by_libcst(source, path, target, exc)
    except (ValueError, UnicodeError):  # lone surrogates and the like: libcst decides
        return None, None


def _judged_by_libcst(source: str, path: str, target: tuple[int, int], refusal: SyntaxError) -> Parsed:
    """A file this Python does not parse: judged for the target with libcst's parser.

    libcst knows the syntax of every Python the target can name.  When it
    parses the file, the constructs newer than the target are refused as
    they are in a file this Python parses; a file valid for a target newer
    than this Python is rewritten in this Python's syntax, line for line
    (``cat_lint.grammar.lower``), for the compiler's own checks.  Otherwise
    this Python's error stands.
    """
    try:
        module = cst.parse_module(source)
    except Exception:  # libcst refuses it too (or cannot say): Python's position and wording
        return _failed(parse_error(source, path, None))
    newer = newer_in_module(module, source, target)
    if newer is not None:
        return _failed(parse_error(source, path, None, newer.message(target), at=(newer.line, newer.col)))
    if target <= RUNNING or str(refusal.msg).startswith("(unicode error)"):
        return _failed(parse_error(source, path, None))
    exit_at = except_star_exit(module)  # what the compiler checks of `except*`, which lowering loses
    if exit_at is not None:
        return _failed(parse_error(source, path, None, f"Python refuses to compile the file: {EXCEPT_STAR_EXIT}", at=exit_at))
    lowered = lower(module)
    if lowered is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = compile(lowered, path or "<unknown>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
        except SyntaxError:
            return _failed(parse_error(lowered, path, None))  # refused in this Python's syntax too: a real error
        except (ValueError, RecursionError, MemoryError, OverflowError):
            tree = None
        refused = compiler_error(tree, lowered, path) if tree is not None else None
        if refused is not None:
            return _failed(refused)
    return Parsed(module, None)


def _parse_relevant(source: str, tree: ast.Module, hooks: tuple[str, ...]) -> Parsed | None:
    """Only the top-level statements that can matter, assembled; ``None`` when the file cannot be reduced."""
    reduced = reduce_source(source, tree, hooks)
    if reduced is None:
        return None
    if not reduced.starts:  # nothing in the file can matter
        return Parsed(cst.Module(body=()), None, assembled=True, firsts=[], reduced=reduced)
    module, _firsts = assemble(reduced.text, reduced.starts, ChunkMemo(max_chars=0), with_firsts=False)
    if module is None:
        return None
    return Parsed(module, None, assembled=True, firsts=reduced.firsts, reduced=reduced)


def _parse_chunks(source: str, tree: ast.Module | None, starts: list[int], chunks: ChunkMemo) -> Parsed | None:
    """The module parsed statement by statement and assembled; ``None`` when that does not reproduce it.

    libcst's parse of one 3 MB module takes three times as long as its
    statements' and peaks at ten times the memory.
    """
    module, _firsts = assemble(source, starts, chunks, with_firsts=False)
    if module is None:
        return None
    return Parsed(module, tree, assembled=True)  # positions use the tree


def _parse_whole(source: str, path: str, tree: ast.Module | None) -> Parsed:
    """libcst's parse of the whole module, its errors as CAT000."""
    try:
        return Parsed(cst.parse_module(source), tree)
    except cst.ParserSyntaxError as exc:
        return _failed(parse_error(source, path, exc))
    except RecursionError:
        return _failed(parse_error(source, path, None, TOO_DEEP))
    except Exception as exc:  # the native parser reports some errors as other exception types
        return _failed(parse_error(source, path, None, f"the file does not parse: {exc}"))
