"""The engine: source text in, findings (with fixes) and key uses out.

An :class:`Engine` does all per-file work (``check``) and runs the first
pass over many files (``first_pass``, on an executor the caller provides).
Everything it remembers between calls is its own: an incremental engine
(the language server's worker keeps one) holds the memoised chunks of the
documents it linted, their last versions and the evaluated key literals,
within the bounds it was made with; a plain engine (the command line's)
holds nothing, so its result is a function of its inputs alone, which is
what lets the command line cache it.  ``check_source`` and ``lint_source``
are one-off checks with a plain engine.

``check_project`` adds the project-wide rules (CAT006, CAT010) and applies
select/ignore/per-file-ignores/noqa.
"""

from __future__ import annotations

import ast
import re
import sys
import traceback
import warnings
from concurrent.futures import Executor
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import Iterable, NamedTuple, Sequence

import libcst as cst

from cat_lint.facts import collect
from cat_lint.findings import Edit, FileResult, Finding, Fix, KeyUse, Span, python_lines
from cat_lint.fixes import LineIndex
from cat_lint.grammar import EXCEPT_STAR_EXIT, except_star_exit, lower, newer_in_module, newer_in_tree
from cat_lint.incremental import MAX_CACHED_CHARS, MAX_RECENT_PATHS, ChunkMemo, History, assemble, chunk_lines, starts_after_edit
from cat_lint.keys import KeyIndex
from cat_lint.limits import MAX_SOURCE_CHARS
from cat_lint.memory import collector_paused
from cat_lint.noqa import FILE_LINE, is_suppressed, noqa_comments, parse_noqa
from cat_lint.positions import Positions, StatementMemo
from cat_lint.relevance import Reduced, reduce_source
from cat_lint.rules import FILE_RULES, get_rule
from cat_lint.rules._base import FixSpec, LiteralMemo, Report, RuleContext, literal_text, using_literal_memo
from cat_lint.rules.cat010_key_type_drift import json_type, typed_argument
from cat_lint.settings import Settings

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
            line, col = _string_start(source, syntax) or (syntax.lineno or 1, max(0, (syntax.offset or 1) - 1))
            message = f"the file does not parse: {REWORDED.get(syntax.msg, syntax.msg)}"
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


# Python's error messages that a later version reworded: the newest wording, whatever Python runs.
REWORDED = {
    "non-default argument follows default argument": "parameter without a default follows parameter with a default",
}


def _string_start(source: str, syntax: SyntaxError) -> tuple[int, int] | None:
    """Where the string literal starts that a ``(unicode error)`` is about, as Python 3.12+ reports it.

    Older Pythons point past the end of the literal instead; the tokenizer
    finds the literal that ends there.
    """
    if RUNNING >= (3, 12) or not str(syntax.msg).startswith("(unicode error)") or not syntax.lineno:
        return None
    import io
    import tokenize

    end = (syntax.lineno, max(0, (syntax.offset or 1) - 1))
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.STRING and token.end == end:
                return token.start
            if token.start[0] > end[0]:
                break
    except (tokenize.TokenError, SyntaxError):
        pass
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")
_TOO_DEEP = "the file does not parse: it nests too deeply"
# Python's own limits; past them libcst's native parser may take minutes or crash the process.
_LIMIT_ERRORS = ("too many nested parentheses", "too many levels of indentation", "too many statically nested blocks")


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

    Syntax newer than the target is refused first (``cat_lint.grammar``).
    Then Python's compiler rejects, after parsing, ``await`` or ``return`` or
    ``break`` in the wrong place, duplicate arguments, bad ``nonlocal`` and
    ``global``, late ``__future__`` imports, async comprehensions outside
    async functions, two starred targets...: the file would not import.
    """
    newer = newer_in_tree(tree, source, target)
    if newer is not None:
        return _parse_error(source, path, None, newer.message(target), at=(newer.line, newer.col))
    return _compiler_error(tree, source, path)


def _compiler_error(tree: ast.Module, source: str, path: str) -> Finding | None:
    """What Python's compiler refuses in a parsed tree, as CAT000."""
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
    return None


def _refused_here(source: str, path: str, target: tuple[int, int], refusal: SyntaxError) -> Parsed:
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
        return _failed(_parse_error(source, path, None))
    newer = newer_in_module(module, source, target)
    if newer is not None:
        return _failed(_parse_error(source, path, None, newer.message(target), at=(newer.line, newer.col)))
    if target <= RUNNING or str(refusal.msg).startswith("(unicode error)"):
        return _failed(_parse_error(source, path, None))
    exit_at = except_star_exit(module)  # what the compiler checks of `except*`, which lowering loses
    if exit_at is not None:
        return _failed(_parse_error(source, path, None, f"Python refuses to compile the file: {EXCEPT_STAR_EXIT}", at=exit_at))
    lowered = lower(module)
    if lowered is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = compile(lowered, path or "<unknown>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
        except SyntaxError:
            return _failed(_parse_error(lowered, path, None))  # refused in this Python's syntax too: a real error
        except (ValueError, RecursionError, MemoryError, OverflowError):
            tree = None
        refused = _compiler_error(tree, lowered, path) if tree is not None else None
        if refused is not None:
            return _failed(refused)
    return Parsed(module, None)


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


def _row_and_column(source: str, at: int) -> tuple[int, int]:
    """The engine position of offset ``at``: rows broken where Python breaks them (a lone ``\\r`` too)."""
    return LineIndex(source).position(at)


def _failed(error: Finding) -> Parsed:
    return Parsed(None, None, error)


def _parse(source: str, path: str, target: tuple[int, int] = DEFAULT_TARGET,
           chunks: ChunkMemo | None = None, history: History | None = None,
           reduce_from: int | None = None, hooks: tuple[str, ...] = ()) -> Parsed:
    """Parse with libcst, after Python's own compiler has checked the file is safe to hand to it.

    Compiling to an AST costs a few percent of libcst's parse and guards it
    (its line numbers also let positions be computed statement by statement):
    inputs that exhaust Python's parser (deep nesting) can crash libcst's
    native parser, so they are reported without reaching it.  A file Python
    rejects for another reason still goes to libcst, which accepts syntax of
    newer Pythons than the one running the linter.

    With ``chunks`` and ``history`` (an incremental engine's) and a path
    linted before, the module is assembled from memoised per-statement
    parses when that reproduces the source exactly (see
    ``cat_lint.incremental``); otherwise parsed whole.  Of a file of
    ``reduce_from`` characters or more, only the top-level statements
    that can matter are parsed (``cat_lint.relevance``).
    """
    if len(source) > MAX_SOURCE_CHARS:
        return _failed(_parse_error(source, path, None, f"the file is too large to lint: {len(source):,} characters, past cat-lint's limit of "
                                                  f"{MAX_SOURCE_CHARS:,}; nothing in it was checked"))
    if "\x00" in source:
        line, col = _row_and_column(source, source.index("\x00"))
        return _failed(Finding("CAT000", "the file does not parse: it contains a NUL character", path, Span(line, col, line, col)))
    surrogate = _SURROGATE.search(source)
    if surrogate is not None:
        # What a bad decode with surrogateescape leaves: Python would refuse the file.
        line, col = _row_and_column(source, surrogate.start())
        return _failed(Finding("CAT000", "the file does not parse: it is not valid UTF-8 text", path, Span(line, col, line, col)))
    incremental = chunks is not None and history is not None
    previous = history.get(path, target) if incremental else None
    if previous is not None:
        # The chunks an edit left alone keep their places: only the edited region is compiled.
        starts = starts_after_edit(previous, source, target)
        if starts is not None:
            module, firsts = assemble(source, starts, chunks)
            if module is not None:
                history.remember(path, source, starts, target)
                return Parsed(module, assembled=True, firsts=firsts)
    tree = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning and the like are not ours to print
            tree = compile(source, path or "<unknown>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except (RecursionError, MemoryError, OverflowError):
        return _failed(_parse_error(source, path, None, _TOO_DEEP))
    except SyntaxError as exc:
        if any(limit in str(exc.msg) for limit in _LIMIT_ERRORS):
            return _failed(_parse_error(source, path, None))
        # This Python's grammar is not the target's: libcst's parser judges the file for the target.
        parsed = _refused_here(source, path, target, exc)
        if incremental and parsed.module is not None:
            history.remember(path, source, None, target)
        return parsed
    except (ValueError, UnicodeError):  # lone surrogates and the like: libcst decides
        pass
    if tree is not None:
        refused = compile_error(tree, source, path, target)
        if refused is not None:
            return _failed(refused)
    starts = chunk_lines(tree) if tree is not None else None
    if incremental:
        history.remember(path, source, starts, target)
    large = len(source) > LARGE_SOURCE_CHARS
    if not incremental and tree is not None and reduce_from is not None and len(source) >= reduce_from:
        reduced = reduce_source(source, tree, hooks)
        if reduced is not None and not reduced.starts:  # nothing in the file can matter
            return Parsed(cst.Module(body=()), None, assembled=True, firsts=[], reduced=reduced)
        if reduced is not None:
            module, _firsts = assemble(reduced.text, reduced.starts, ChunkMemo(max_chars=0), with_firsts=False)
            if module is not None:
                return Parsed(module, None, assembled=True, firsts=reduced.firsts, reduced=reduced)
    if (incremental or large) and starts:
        # A large file is parsed statement by statement and assembled: libcst's parse of
        # one 3 MB module takes three times as long and peaks at ten times the memory.
        module, _firsts = assemble(source, starts, chunks if incremental else ChunkMemo(max_chars=0), with_firsts=False)
        if module is not None:
            return Parsed(module, tree, assembled=True)  # positions use the tree
    try:
        return Parsed(cst.parse_module(source), tree)
    except cst.ParserSyntaxError as exc:
        return _failed(_parse_error(source, path, exc))
    except RecursionError:
        return _failed(_parse_error(source, path, None, _TOO_DEEP))
    except Exception as exc:  # the native parser reports some errors as other exception types
        return _failed(_parse_error(source, path, None, f"the file does not parse: {exc}"))


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


def _key_uses(facts) -> list[tuple[str, str, str, cst.BaseExpression, str | None, cst.BaseExpression | None]]:
    """Each literal key: (key, scope, verb, key node, JSON type the call gives it, the node that gives it)."""
    uses = []
    for call in facts.store_calls:
        if call.key is None:
            continue
        key = literal_text(call.key)
        if key:
            typed = typed_argument(call)
            kind = json_type(typed, facts, call) if typed is not None else None
            uses.append((key, call.scope, call.verb, call.key, kind, typed if kind is not None else None))
    return uses


@dataclass(frozen=True)
class Crash:
    """The engine raised on one file: a bug to report, not a reason to drop the other files."""

    path: str
    error: str
    details: str


class Engine:
    """Checks files; owns whatever it remembers from one check to the next.

    A plain ``Engine()`` (the command line's) remembers nothing: each check
    parses the file whole, and its result depends on its inputs alone.
    ``Engine(incremental=True)`` (the language server's worker) keeps, for
    the documents it checked recently, their last text and chunk lines
    (``History``), the parsed chunks (``ChunkMemo``, bounded by
    ``memo_chars`` characters of source) and the evaluated key literals
    (``LiteralMemo``) and the positions in unchanged statements
    (``StatementMemo``), so that a re-check after an edit parses only the
    edited statements.  Its findings are exactly a plain engine's: the
    tests compare them.  A plain engine parses only the top-level
    statements that can matter of a file of ``reduce_from`` characters or
    more (``cat_lint.relevance``): again the same findings, compared by the
    tests.  ``owns_process``: the caller owns this process, and the
    engine may pause Python's cyclic collector during each check (see
    ``cat_lint.memory``).  One engine may be used from several threads.
    """

    def __init__(self, *, incremental: bool = False, memo_chars: int = MAX_CACHED_CHARS,
                 recent_paths: int = MAX_RECENT_PATHS, reduce_from: int | None = LARGE_SOURCE_CHARS,
                 owns_process: bool = False) -> None:
        self.incremental = incremental
        self.owns_process = owns_process
        self.reduce_from = None if incremental else reduce_from
        self.chunks = ChunkMemo(memo_chars) if incremental else None
        self.history = History(recent_paths) if incremental else None
        self.literals = LiteralMemo() if incremental else None
        self.statements = StatementMemo() if incremental else None
        self.assembled = 0  # checks whose module was assembled from chunks: for tests and measurements

    def check(self, source: str, path: str, settings: Settings) -> FileResult:
        """Every per-file finding (unfiltered) and the literal keys of one file.

        A leading U+FEFF (a byte-order mark an editor kept in its buffer) is
        what Python skips in a file: it is linted without it, and positions on
        the first line count it, so they stay those of the text given.
        """
        with using_literal_memo(self.literals), collector_paused() if self.owns_process else nullcontext():
            if source.startswith("\ufeff"):
                return _shift_first_line(self._check(source[1:], path, settings), 1)
            return self._check(source, path, settings)

    def first_pass(self, sources: Sequence[tuple[str, str]], settings: Settings,
                   executor: Executor | None = None, batch: int = 1) -> tuple[dict[str, FileResult], list[Crash]]:
        """Check many files: ``(path, text)`` pairs in, results by path and the files that crashed out.

        With ``executor`` (the caller's: a process pool for the command
        line, the language server's own), the files go to it in batches of
        ``batch``, each checked by a plain engine in the worker (which owns
        its process as this engine owns its own); without,
        they are checked here by this engine.  A file the engine raises on
        is a ``Crash``: reported by the caller as an internal error, while
        every other file's result still counts.
        """
        results: dict[str, FileResult] = {}
        crashes: list[Crash] = []
        if executor is None:
            outcomes: Iterable[FileResult | Crash] = (self._guarded(path, text, settings) for path, text in sources)
        else:
            items = list(sources)
            futures = [executor.submit(check_batch, items[i:i + batch], settings, self.owns_process)
                       for i in range(0, len(items), max(1, batch))]
            outcomes = (outcome for future in futures for outcome in future.result())
        for outcome in outcomes:
            if isinstance(outcome, Crash):
                crashes.append(outcome)
            else:
                results[outcome.path] = outcome
        return results, crashes

    def _guarded(self, path: str, text: str, settings: Settings) -> FileResult | Crash:
        try:
            return self.check(text, path, settings)
        except Exception as exc:  # noqa: BLE001 - reported as an internal error, the run goes on
            return Crash(path, f"{type(exc).__name__}: {exc}", traceback.format_exc())

    def _check(self, source: str, path: str, settings: Settings) -> FileResult:
        result = FileResult(path)
        result.noqa, result.file_noqa = parse_noqa(source)
        if result.noqa:
            result.noqa_comments = noqa_comments(source, result.noqa)
        parsed = _parse(source, path, target_of(settings), self.chunks, self.history,
                        self.reduce_from, settings.bootstrap_hooks)
        if parsed.module is None:
            result.findings.append(parsed.error)
            return result
        if parsed.assembled:
            self.assembled += 1
        try:
            _analyse(parsed, source if parsed.reduced is None else parsed.reduced.text, path, settings, result,
                     self.statements if parsed.assembled and parsed.reduced is None else None)
            if parsed.reduced is not None:
                parsed.reduced.lines.result(result)
        except RecursionError:
            result.findings = [Finding("CAT000", "the file nests too deeply for cat-lint to check it", path, Span(1, 0, 1, 0))]
            result.key_uses = []
        return result


def check_batch(items: Sequence[tuple[str, str]], settings: Settings,
                owns_process: bool = False) -> list[FileResult | Crash]:
    """A batch of ``(path, text)`` checked by a plain engine: what ``Engine.first_pass`` runs in a worker."""
    engine = Engine(owns_process=owns_process)
    return [engine._guarded(path, text, settings) for path, text in items]


def check_source(source: str, path: str, settings: Settings) -> FileResult:
    """A one-off check of one file, by a plain engine."""
    return Engine().check(source, path, settings)


def _shift_first_line(result: FileResult, by: int) -> FileResult:
    def span(s: Span) -> Span:
        return Span(s.start_line, s.start_col + (by if s.start_line == 1 else 0),
                    s.end_line, s.end_col + (by if s.end_line == 1 else 0))

    def fix(f: Fix | None) -> Fix | None:
        return None if f is None else replace(f, edits=tuple(replace(e, span=span(e.span)) for e in f.edits))

    result.findings = [replace(f, span=span(f.span), fix=fix(f.fix), suggestions=tuple(fix(x) for x in f.suggestions))
                       for f in result.findings]
    result.key_uses = [replace(u, span=span(u.span)) for u in result.key_uses]
    return result


def _analyse(parsed: Parsed, source: str, path: str, settings: Settings, result: FileResult,
             statements: StatementMemo | None) -> None:
    module = parsed.module
    facts = collect(module, source)
    if not facts.store_calls and not facts.user_refs:
        return  # nothing of the Cat's stores in this file: no rule can fire
    context = RuleContext(facts, settings, path)
    reports: list[Report] = []
    for rule in FILE_RULES:
        reports.extend(rule.check(context))
    keys = _key_uses(facts)
    nodes: list[cst.CSTNode] = [r.node for r in reports] + [k[3] for k in keys] + [k[5] for k in keys if k[5] is not None]
    # A parenthesized tuple is shown with its parentheses: they are part of the literal.
    outer: list[cst.CSTNode] = [r.node for r in reports if isinstance(r.node, cst.Tuple) and r.node.lpar]
    for report in reports:
        if report.fix is not None:
            for spec in report.fix.edits:
                (outer if spec.kind in ("replace_outer", "outer_first", "outer_last") else nodes).append(spec.node)
    if not nodes and not outer:
        return
    positions = Positions(module, source, nodes, outer, facts.units, facts.tops, parsed.tree,
                          memo=statements, firsts=parsed.firsts)
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
        # A file that does not parse was not checked: its suppressions are neither used nor unused.
        unparsed = any(f.code == "CAT000" for f in result.findings)
        if settings.enabled("CAT100") and result.noqa_comments and not unparsed:
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
