"""Which top-level statements of a large file can matter to the rules.

libcst's parse is most of what a lint costs (a 100,000-line file takes
libcst alone longer than the whole lint of a 2,000-file project), while a
large file is mostly code that has nothing to do with the Cat: helpers,
models, constants.  So, past the engine's size threshold, libcst is given
only the top-level statements that can change a finding, one after the
other (``reduce_source``), and every line of what it reports is mapped
back to the file's (``LineMap``): columns do not change, since whole lines
are kept or left out.

A statement matters when it names the Cat: one of the words ``cat``,
``store``, ``user``, what ``from cat import *`` binds, or a bootstrap
hook's name appears anywhere in its text (in an import path, an
attribute, even a comment or a string: words, not parsed names, so that
no spelling is missed).  And a statement matters when a name at module
level links it to one that matters, which is how facts travel between
top-level statements: it binds a name that one which matters reads (the
helper a hook calls, the constant a save writes), or it reads a name that
one which matters binds (the function that awaits a coroutine stored at
module level, the callers of a helper that touches the store).  Reads are
every word of the statement's text, an over-approximation: a statement
kept needlessly costs time, never a finding.  The test suite lints every
file both ways, with and without blanking, and compares.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections import defaultdict
from dataclasses import dataclass, replace

from cat_lint.findings import FileResult, Span
from cat_lint.name_resolution import STAR_NAMES
from cat_lint.positions import statement_lines

_WORD = re.compile(r"[^\W\d]\w*")
_GLOBAL = re.compile(r"\b(?:global|nonlocal)\s+([^\n;#]+)")
#: Words that make a statement matter by themselves (with the bootstrap hooks' names).
CAT_WORDS = frozenset({"cat", "store", "user", *STAR_NAMES})


def _bound(stmt: ast.stmt) -> set[str]:
    """Names a top-level statement binds at module level (over-approximated for compound statements)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    names: set[str] = set()
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue  # what its body binds is its own
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
        stack.extend(ast.iter_child_nodes(node))
    return names


def _star_import(stmt: ast.stmt) -> bool:
    """Whether a top-level statement holds ``from ... import *`` (only module level may: not in a def)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return False
    return any(isinstance(node, ast.ImportFrom) and node.names[0].name == "*" for node in ast.walk(stmt))


def groups(body: list[ast.stmt]) -> list[tuple[int, int, list[ast.stmt]]]:
    """Top-level statements grouped as the engine cuts chunks: those sharing a line stay together.

    Each group: (first line, decorators included; last line; its statements).
    """
    out: list[tuple[int, int, list[ast.stmt]]] = []
    for stmt in body:
        decorators = getattr(stmt, "decorator_list", None)
        first = min(stmt.lineno, *(d.lineno for d in decorators)) if decorators else stmt.lineno
        last = stmt.end_lineno or stmt.lineno
        if out and first <= out[-1][1]:
            start, end, stmts = out[-1]
            out[-1] = (start, max(end, last), [*stmts, stmt])
        else:
            out.append((first, last, [stmt]))
    return out


def relevant_groups(source_lines: list[str], found: list[tuple[int, int, list[ast.stmt]]],
                    hooks: tuple[str, ...] = ()) -> list[bool]:
    """For each group of top-level statements, whether it can matter to a rule (see the module's docstring)."""
    words: list[set[str]] = []
    bound: list[set[str]] = []
    for first, last, stmts in found:
        text = "".join(source_lines[first - 1:last])
        words.append(set(_WORD.findall(text)))
        names = set().union(*(_bound(s) for s in stmts))
        for declared in _GLOBAL.findall(text):  # `global x` in a function binds the module's x
            names.update(_WORD.findall(declared))
        bound.append(names)
    binders: dict[str, list[int]] = defaultdict(list)
    for i, names in enumerate(bound):
        for name in names:
            binders[name].append(i)
    bound_anywhere = set(binders)
    readers: dict[str, list[int]] = defaultdict(list)
    for i, found_words in enumerate(words):
        for name in found_words & bound_anywhere:
            readers[name].append(i)
    seeds = CAT_WORDS | set(hooks)
    # A star import binds names nobody can list (one of them could be `store`): always kept.
    keep = [bool(w & seeds) or any(_star_import(s) for s in stmts) for w, (_f, _l, stmts) in zip(words, found)]
    todo = [i for i, k in enumerate(keep) if k]
    followed: set[str] = set()
    while todo:
        i = todo.pop()
        for name in (words[i] & bound_anywhere) | bound[i]:
            if name in followed:
                continue
            followed.add(name)
            for j in (*binders.get(name, ()), *readers.get(name, ())):
                if not keep[j]:
                    keep[j] = True
                    todo.append(j)
    return keep


class LineMap:
    """Lines of the reduced text back to the file's: kept groups are runs of consecutive lines."""

    def __init__(self, reduced_starts: list[int], file_starts: list[int]) -> None:
        self._reduced, self._file = reduced_starts, file_starts

    def line(self, line: int) -> int:
        group = max(0, bisect.bisect_right(self._reduced, line) - 1)
        return self._file[group] + line - self._reduced[group]

    def span(self, span: Span) -> Span:
        # An end at column 0 ends the line before it: map that line, or a span
        # running to the end of a kept group would end in the next one.
        end = self.line(span.end_line - 1) + 1 if span.end_col == 0 and span.end_line > span.start_line else self.line(span.end_line)
        return Span(self.line(span.start_line), span.start_col, end, span.end_col)

    def result(self, result: FileResult) -> FileResult:
        """``result``'s positions (findings, fixes, suggestions, related places, key uses) in the file's lines."""
        def fix(f):
            return None if f is None else replace(f, edits=tuple(replace(e, span=self.span(e.span)) for e in f.edits))

        result.findings = [
            replace(f, span=self.span(f.span), fix=fix(f.fix), suggestions=tuple(fix(x) for x in f.suggestions),
                    related=tuple((p, self.span(s) if p == result.path else s, what) for p, s, what in f.related))
            for f in result.findings]
        result.key_uses = [replace(u, span=self.span(u.span), value_span=self.span(u.value_span) if u.value_span else None)
                           for u in result.key_uses]
        return result


@dataclass(frozen=True)
class Reduced:
    """The statements that can matter, one after the other, and how to read them."""

    text: str
    starts: list[int]  # the first line of each kept group in ``text``: the chunks to parse
    firsts: list[int]  # the first line of every statement (nested ones too) in ``text``, for positions
    lines: LineMap


def _suites(stmt: ast.stmt):
    """A compound statement's blocks in document order."""
    for name in ("body", "handlers", "orelse", "cases", "finalbody"):
        value = getattr(stmt, name, None)
        if not value or not isinstance(value, list):
            continue
        if name in ("handlers", "cases"):
            yield from (item.body for item in value if item.body)
        elif isinstance(value[0], ast.stmt):
            yield value


def _first_indent(stmts: list[ast.stmt], lines: list[str]) -> str | None:
    """The indentation of the first indented block: libcst takes its default indentation from it."""
    for stmt in stmts:
        for suite in _suites(stmt):
            head = suite[0]
            before = lines[head.lineno - 1].encode("utf-8")[:head.col_offset]
            if before and not before.strip():
                return before.decode("utf-8")  # a block on lines of its own
            if not before:  # `elif` (an If at the start of its line): its blocks are next
                found = _first_indent([head], lines)
                if found is not None:
                    return found
    return None


def reduce_source(source: str, tree: ast.Module, hooks: tuple[str, ...] = ()) -> Reduced | None:
    """The top-level statements of ``source`` that can matter, without the others; ``None`` when all can,
    or when leaving some out could change how libcst reads the rest (its default indentation)."""
    found = groups(tree.body)
    lines = _lines(source)
    keep = relevant_groups(lines, found, hooks)
    if all(keep):
        return None
    kept = [group for group, k in zip(found, keep) if k]
    if _first_indent([s for _f, _l, stmts in found for s in stmts], lines) != _first_indent(
            [s for _f, _l, stmts in kept for s in stmts], lines):
        return None
    pieces: list[str] = []
    reduced_starts: list[int] = []
    file_starts: list[int] = []
    firsts: list[int] = []
    at = 1
    for first, last, stmts in kept:
        reduced_starts.append(at)
        file_starts.append(first)
        pieces.extend(lines[first - 1:last])
        firsts.extend(statement_lines(stmts, at - first))
        at += last - first + 1
    return Reduced("".join(pieces), reduced_starts, firsts, LineMap(reduced_starts, file_starts))


_BREAK = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _lines(source: str) -> list[str]:
    """Lines with their breaks, broken where Python breaks them (``\\n``, ``\\r\\n``, ``\\r``)."""
    return _BREAK.findall(source)
