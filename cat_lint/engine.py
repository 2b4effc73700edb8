"""The engine: source text in, findings (with fixes) and key uses out.

``check_source`` does all per-file work and is a pure function of its
inputs, so the command line runs it in worker processes and caches its
result; ``check_project`` adds the project-wide rules (CAT006, CAT010) and applies
select/ignore/per-file-ignores/noqa; ``lint_source`` is both for one
document, as the language server needs.
"""

from __future__ import annotations

import ast
import gc
import re
import sys
import threading
import warnings
from contextlib import contextmanager
from typing import Iterable

import libcst as cst

from cat_lint.findings import Edit, FileResult, Finding, Fix, KeyUse, Span, python_lines
from cat_lint.incremental import MEMO, ChunkMemo, assemble, chunk_lines, remember, seen_before, starts_after_edit
from cat_lint.keys import KeyIndex
from cat_lint.noqa import FILE_LINE, is_suppressed, noqa_comments, parse_noqa
from cat_lint.positions import Positions
from cat_lint.rules import FILE_RULES, get_rule
from cat_lint.rules._base import FixSpec, Report, RuleContext, literal_text
from cat_lint.rules.cat010_key_type_drift import json_type, typed_argument
from cat_lint.settings import Settings
from cat_lint.visitors import collect

MAX_SOURCE_CHARS = 5_000_000  # beyond this a file is not a plugin; report instead of parsing for minutes
LARGE_SOURCE_CHARS = 200_000  # from this size on a file is parsed statement by statement


_AT = re.compile(r"error at (\d+):(\d+): ")


def _parse_error(source: str, path: str, exc: BaseException | None, message: str | None = None,
                 at: tuple[int, int] | None = None) -> Finding:
    """CAT000 at the error's position (``at``: line, 0-based column, when known).

    libcst's native parser loses columns, so Python's own compiler is asked
    first: its position and wording ("expected ':'") are what authors know.
    """
    line, col = at or (1, 0)
    if message is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                compile(source, path or "<unknown>", "exec", flags=0x400, dont_inherit=True)  # PyCF_ONLY_AST
        except SyntaxError as syntax:
            line, col = syntax.lineno or 1, max(0, (syntax.offset or 1) - 1)
            message = f"the file does not parse: {syntax.msg}"
        except (ValueError, RecursionError, MemoryError, OverflowError):
            pass
    if message is None and isinstance(exc, cst.ParserSyntaxError):
        text = exc.message.strip().splitlines()[0] if exc.message else "invalid syntax"
        at = _AT.search(text)
        if at:
            line, col = int(at.group(1)), int(at.group(2))
            text = text[at.end():]
        text = text.replace("parser error: ", "")
        message = f"the file does not parse: {text}"
    lines = python_lines(source)
    if lines and line > len(lines):
        line, col = len(lines), len(lines[-1])
    elif lines:
        col = min(col, len(lines[line - 1]))
    else:
        line, col = 1, 0
    return Finding("CAT000", message or "the file does not parse", path, Span(line, col, line, col))


_SURROGATE = re.compile("[\ud800-\udfff]")
_TOO_DEEP = "the file does not parse: it nests too deeply"
# Python's own limits; past them libcst's native parser may take minutes or crash the process.
_LIMIT_ERRORS = ("too many nested parentheses", "too many levels of indentation", "too many statically nested blocks")


# The modules assembled from memoised chunks that are being analysed right now: id -> the first
# lines of the file's AST statements, when the whole file was not compiled (positions need them).
_ASSEMBLED: dict[int, list[int] | None] = {}


#: The Python running cat-lint, and the oldest the Cat supports (cheshire-cat-ai 2.x: >=3.11).
RUNNING = sys.version_info[:2]
DEFAULT_TARGET = (3, 11)


def target_of(settings: Settings) -> tuple[int, int]:
    """``target-version`` ("py311") as a version tuple."""
    value = getattr(settings, "target_version", None)
    if not value:
        return DEFAULT_TARGET
    return (int(value[2]), int(value[3:]))


def compile_error(tree: ast.Module, source: str, path: str, target: tuple[int, int]) -> Finding | None:
    """CAT000 for what the Cat's Python refuses although it parses, else ``None``.

    Python's compiler rejects, after parsing, ``await`` or ``return`` or
    ``break`` in the wrong place, duplicate arguments, bad ``nonlocal`` and
    ``global``, late ``__future__`` imports, async comprehensions outside
    async functions, two starred targets...: the file would not import.
    When the target Python is older than this one, the file is also parsed
    with the target's grammar (``ast.parse(feature_version=...)``).
    """
    lines = python_lines(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(tree, path or "<unknown>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        line, col = exc.lineno or 1, max(0, (exc.offset or 1) - 1)
        if 1 <= line <= len(lines) and not lines[line - 1].isascii():
            # The compiler's offsets come from the AST: UTF-8 bytes, not characters.
            col = len(lines[line - 1].encode("utf-8")[:col].decode("utf-8", errors="ignore"))
        return _parse_error(source, path, None, f"Python refuses to compile the file: {exc.msg}", at=(line, col))
    except (RecursionError, MemoryError, OverflowError):
        return _parse_error(source, path, None, _TOO_DEEP)
    except ValueError:
        return None
    if target < RUNNING:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ast.parse(source, path or "<unknown>", feature_version=target)
        except SyntaxError as exc:
            message = f"the file does not parse on Python {target[0]}.{target[1]} (target-version): {exc.msg}"
            return _parse_error(source, path, None, message, at=(exc.lineno or 1, max(0, (exc.offset or 1) - 1)))
        except (RecursionError, MemoryError, OverflowError, ValueError):
            return None
    return None


def _parse(source: str, path: str, incremental: bool = False,
           target: tuple[int, int] = DEFAULT_TARGET) -> tuple[cst.Module | None, ast.Module | None, Finding | None]:
    """Parse with libcst, after Python's own compiler has checked the file is safe to hand to it.

    Compiling to an AST costs a few percent of libcst's parse and guards it
    (its line numbers also let positions be computed statement by statement):
    inputs that exhaust Python's parser (deep nesting) can crash libcst's
    native parser, so they are reported without reaching it.  A file Python
    rejects for another reason still goes to libcst, which accepts syntax of
    newer Pythons than the one running the linter.

    With ``incremental`` (a document linted before), the module is
    assembled from memoised per-statement parses when that reproduces the
    source exactly (see ``cat_lint.incremental``); otherwise parsed whole.
    """
    if len(source) > MAX_SOURCE_CHARS:
        return None, None, _parse_error(source, path, None, f"the file is too large to lint: {len(source):,} characters, past cat-lint's limit of "
                                                  f"{MAX_SOURCE_CHARS:,}; nothing in it was checked")
    if "\x00" in source:
        at = source.index("\x00")
        line = source.count("\n", 0, at) + 1
        col = at - (source.rfind("\n", 0, at) + 1)
        return None, None, Finding("CAT000", "the file does not parse: it contains a NUL character", path, Span(line, col, line, col))
    surrogate = _SURROGATE.search(source)
    if surrogate is not None:
        # What a bad decode with surrogateescape leaves: Python would refuse the file.
        at = surrogate.start()
        line = source.count("\n", 0, at) + 1
        col = at - (source.rfind("\n", 0, at) + 1)
        return None, None, Finding("CAT000", "the file does not parse: it is not valid UTF-8 text", path, Span(line, col, line, col))
    if incremental:
        # The chunks an edit left alone keep their places: only the edited region is compiled.
        starts = starts_after_edit(path, source, target)
        if starts is not None:
            module, firsts = assemble(source, starts)
            if module is not None:
                remember(path, source, starts)
                _ASSEMBLED[id(module)] = firsts
                return module, None, None
    tree = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning and the like are not ours to print
            tree = compile(source, path or "<unknown>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except (RecursionError, MemoryError, OverflowError):
        return None, None, _parse_error(source, path, None, _TOO_DEEP)
    except SyntaxError as exc:
        newer = target > RUNNING and not str(exc.msg).startswith("(unicode error)")
        if any(limit in str(exc.msg) for limit in _LIMIT_ERRORS) or not newer:
            return None, None, _parse_error(source, path, None)
        # The target is a newer Python than this one: the syntax may be
        # newer too (PEP 695, 3.12 f-strings); libcst knows it and decides.
    except (ValueError, UnicodeError):  # lone surrogates and the like: libcst decides
        pass
    if tree is not None:
        refused = compile_error(tree, source, path, target)
        if refused is not None:
            return None, None, refused
    starts = chunk_lines(tree) if tree is not None else None
    remember(path, source, starts)
    large = len(source) > LARGE_SOURCE_CHARS
    if (incremental or large) and starts:
        # A large file is parsed statement by statement and assembled: libcst's parse of
        # one 3 MB module takes three times as long and peaks at ten times the memory.
        module, _firsts = assemble(source, starts, MEMO if incremental else ChunkMemo(max_chars=0))
        if module is not None:
            _ASSEMBLED[id(module)] = None  # positions use the tree
            return module, tree, None
    try:
        return cst.parse_module(source), tree, None
    except cst.ParserSyntaxError as exc:
        return None, None, _parse_error(source, path, exc)
    except RecursionError:
        return None, None, _parse_error(source, path, None, _TOO_DEEP)
    except Exception as exc:  # the native parser reports some errors as other exception types
        return None, None, _parse_error(source, path, None, f"the file does not parse: {exc}")


def _edit(positions: Positions, spec) -> Edit:
    if spec.kind == "insert":
        span = positions.span(spec.node)
        return Edit(Span(span.start_line, span.start_col, span.start_line, span.start_col), spec.text)
    if spec.kind == "append":
        span = positions.span(spec.node)
        return Edit(Span(span.end_line, span.end_col, span.end_line, span.end_col), spec.text)
    if spec.kind == "delete_lines":  # a statement's whole lines, up to the start of the next one
        span = positions.span(spec.node)
        return Edit(Span(span.start_line, 0, span.end_line + 1, 0), spec.text)
    if spec.kind == "replace_outer":
        return Edit(positions.outer_span(spec.node), spec.text)
    if spec.kind == "outer_first":  # the opening bracket of a parenthesized node
        span = positions.outer_span(spec.node)
        return Edit(Span(span.start_line, span.start_col, span.start_line, span.start_col + 1), spec.text)
    if spec.kind == "outer_last":  # its closing bracket
        span = positions.outer_span(spec.node)
        return Edit(Span(span.end_line, span.end_col - 1, span.end_line, span.end_col), spec.text)
    return Edit(positions.span(spec.node), spec.text)


def _fix(positions: Positions, spec: FixSpec | None) -> Fix | None:
    if spec is None:
        return None
    return Fix(spec.title, tuple(_edit(positions, e) for e in spec.edits), spec.safe)


# The text of key literals of assembled modules (cat_lint.incremental), whose unchanged
# statements are the same nodes from one lint to the next: id -> (node, text); holding the
# node keeps its id from being reused.  Evaluating a literal costs a compile.
_KEY_TEXTS: dict[int, tuple[cst.BaseExpression, str | None]] = {}
_MAX_KEY_TEXTS = 50_000


def _key_text(node: cst.BaseExpression, memo: bool) -> str | None:
    if not memo:
        return literal_text(node)
    known = _KEY_TEXTS.get(id(node))
    if known is not None and known[0] is node:
        return known[1]
    text = literal_text(node)
    if len(_KEY_TEXTS) >= _MAX_KEY_TEXTS:
        _KEY_TEXTS.clear()
    _KEY_TEXTS[id(node)] = (node, text)
    return text


def _key_uses(facts, memo: bool = False) -> list[tuple[str, str, str, cst.BaseExpression, str | None, cst.BaseExpression | None]]:
    """Each literal key: (key, scope, verb, key node, JSON type the call gives it, the node that gives it)."""
    uses = []
    for call in facts.store_calls:
        if call.key is None:
            continue
        key = _key_text(call.key, memo)
        if key:
            typed = typed_argument(call)
            kind = json_type(typed, facts, call) if typed is not None else None
            uses.append((key, call.scope, call.verb, call.key, kind, typed if kind is not None else None))
    return uses


_gc_lock = threading.Lock()
_gc_holders = 0
_gc_was_enabled = False


@contextmanager
def _no_cyclic_gc():
    """Python's cyclic collector paused while one file is checked.

    A lint allocates many short-lived objects (Python's AST of the file,
    the collector's tables) that die by reference counting at its end.
    Collections during the lint promote them into the oldest generation
    while they are alive, and once enough have been promoted the collector
    walks the whole heap, which in a language server's worker holds the
    memoised trees of every open document: measured, that doubled the
    time of a re-lint of a 3,000-line file.  Paused, they are freed before
    any collection sees them.  Nested and concurrent uses are counted.
    """
    global _gc_holders, _gc_was_enabled
    with _gc_lock:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                gc.enable()


def check_source(source: str, path: str, settings: Settings) -> FileResult:
    """Every per-file finding (unfiltered) and the literal keys of one file.

    A leading U+FEFF (a byte-order mark an editor kept in its buffer) is
    what Python skips in a file: it is linted without it, and positions on
    the first line count it, so they stay those of the text given.
    """
    with _no_cyclic_gc():
        if source.startswith("\ufeff"):
            return _shift_first_line(_check_source(source[1:], path, settings), 1)
        return _check_source(source, path, settings)


def _shift_first_line(result: FileResult, by: int) -> FileResult:
    from dataclasses import replace

    def span(s: Span) -> Span:
        return Span(s.start_line, s.start_col + (by if s.start_line == 1 else 0),
                    s.end_line, s.end_col + (by if s.end_line == 1 else 0))

    def fix(f: Fix | None) -> Fix | None:
        return None if f is None else replace(f, edits=tuple(replace(e, span=span(e.span)) for e in f.edits))

    result.findings = [replace(f, span=span(f.span), fix=fix(f.fix), suggestions=tuple(fix(x) for x in f.suggestions))
                       for f in result.findings]
    result.key_uses = [replace(u, span=span(u.span)) for u in result.key_uses]
    return result


def _check_source(source: str, path: str, settings: Settings) -> FileResult:
    result = FileResult(path)
    result.noqa, result.file_noqa = parse_noqa(source)
    if result.noqa:
        result.noqa_comments = noqa_comments(source, result.noqa)
    module, tree, error = _parse(source, path, incremental=seen_before(path), target=target_of(settings))
    if module is None:
        result.findings.append(error)
        return result
    assembled = id(module) in _ASSEMBLED
    firsts = _ASSEMBLED.get(id(module))
    try:
        _analyse(module, tree, source, path, settings, result, assembled, firsts)
    except RecursionError:
        result.findings = [Finding("CAT000", "the file nests too deeply for cat-lint to check it", path, Span(1, 0, 1, 0))]
        result.key_uses = []
    finally:
        _ASSEMBLED.pop(id(module), None)
    return result


def _analyse(
    module: cst.Module, tree: ast.Module | None, source: str, path: str, settings: Settings, result: FileResult, assembled: bool = False,
    firsts: list[int] | None = None,
) -> None:
    facts = collect(module, source)
    if not facts.store_calls and not facts.user_refs:
        return  # nothing of the Cat's stores in this file: no rule can fire
    context = RuleContext(facts, settings, path)
    reports: list[Report] = []
    for rule in FILE_RULES:
        reports.extend(rule.check(context))
    keys = _key_uses(facts, memo=assembled)
    nodes: list[cst.CSTNode] = [r.node for r in reports] + [k[3] for k in keys] + [k[5] for k in keys if k[5] is not None]
    # A parenthesized tuple is shown with its parentheses: they are part of the literal.
    outer: list[cst.CSTNode] = [r.node for r in reports if isinstance(r.node, cst.Tuple) and r.node.lpar]
    for report in reports:
        if report.fix is not None:
            for spec in report.fix.edits:
                (outer if spec.kind in ("replace_outer", "outer_first", "outer_last") else nodes).append(spec.node)
    if not nodes and not outer:
        return
    positions = Positions(module, source, nodes, outer, facts.units, facts.tops, tree, memo=assembled, firsts=firsts)
    for report in reports:
        node = report.node
        span = positions.outer_span(node) if isinstance(node, cst.Tuple) and node.lpar else positions.span(node)
        result.findings.append(Finding(report.code, report.message, path, span, _fix(positions, report.fix)))
    result.key_uses = [KeyUse(key, scope, verb, path, positions.span(node), kind, positions.span(typed) if typed is not None else None)
                       for key, scope, verb, node, kind, typed in keys]
    result.findings.sort(key=lambda f: (f.span, f.code))


# --- project-wide -----------------------------------------------------------

def _project_findings(code: str, result: FileResult, index: KeyIndex) -> list[Finding]:
    rule = get_rule(code)
    return list(rule.check_uses(result.key_uses, index)) if rule is not None else []


def filter_findings(result: FileResult, findings: Iterable[Finding], settings: Settings) -> list[Finding]:
    """Drop what select/ignore, per-file-ignores and noqa comments silence."""
    kept = []
    for finding in findings:
        if not settings.enabled(finding.code):
            continue
        if settings.ignored_by_path(finding.path, finding.code):
            continue
        lines = (finding.span.start_line,) if finding.span.start_line == finding.span.end_line else (finding.span.start_line, finding.span.end_line)
        if finding.code == "CAT100":
            # Only an explicit `# noqa: CAT100` silences it: a bare `# noqa` is what it reports.
            if "CAT100" in result.noqa.get(finding.span.start_line, ()) or result.file_noqa \
                    or "CAT100" in result.noqa.get(FILE_LINE, ()):
                continue
        elif finding.code != "CAT000" and is_suppressed(finding.code, lines, result.noqa, result.file_noqa):
            continue
        kept.append(finding)
    kept.sort(key=lambda f: (f.span, f.code))
    return kept


def check_project(results: Iterable[FileResult], settings: Settings, index: KeyIndex) -> dict[str, list[Finding]]:
    """Final findings per path: the per-file ones plus CAT006 and CAT010, filtered and sorted by position."""
    out: dict[str, list[Finding]] = {}
    for result in results:
        findings = list(result.findings)
        for code in ("CAT006", "CAT010"):  # the project-wide rules
            if settings.enabled(code):
                findings.extend(_project_findings(code, result, index))
        if settings.enabled("CAT100") and result.noqa_comments:
            rule = get_rule("CAT100")
            findings.extend(rule.check_result(result, findings))
        out[result.path] = filter_findings(result, findings, settings)
    return out


def lint_source(source: str, path: str, settings: Settings, index: KeyIndex | None = None) -> list[Finding]:
    """Lint one document; without ``index``, CAT006 sees only this document's keys."""
    result = check_source(source, path, settings)
    if index is None:
        index = KeyIndex()
        index.set_file(path, result.key_uses)
    return check_project([result], settings, index)[path]
