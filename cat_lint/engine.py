"""The engine: source text in, findings (with fixes) and key uses out.

An :class:`Engine` does all per-file work (``check``) and runs the first
pass over many files (``first_pass``, on an executor the caller provides).
Everything it remembers between calls is its own: an incremental engine
(the language server's worker keeps one) holds the memoised chunks of the
documents it linted, their last versions and the evaluated key literals,
within the bounds it was made with; a plain engine (the command line's)
holds nothing, so its result is a function of its inputs alone, which is
what lets the command line cache it.  ``check_source`` and ``lint_source``
are one-off checks with a plain engine.  The parse of each file, with its
guards and its incremental shortcuts, is ``cat_lint.parse``'s.

``check_project`` adds the findings of the project-wide rules (the index
rules and the noqa rules, ``cat_lint.rules._base``) and applies
select/ignore/per-file-ignores/noqa.
"""

from __future__ import annotations

import traceback
from concurrent.futures import Executor
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

import libcst as cst

from cat_lint.findings import Edit, FileResult, Finding, Fix, KeyUse, Span
from cat_lint.incremental import MAX_CACHED_CHARS, MAX_RECENT_PATHS, ChunkMemo, History
from cat_lint.key_uses import key_uses
from cat_lint.keys import KeyIndex
from cat_lint.limits import MAX_SOURCE_CHARS
from cat_lint.memory import collector_paused
from cat_lint.noqa import noqa_comments, parse_noqa
from cat_lint.parse import LARGE_SOURCE_CHARS, Parsed, parse, target_of
from cat_lint.positions import Positions, StatementMemo
from cat_lint.rules import FILE_RULES, INDEX_RULES, NOQA_RULES, PARSE_RULE, rule_of
from cat_lint.rules._base import FixSpec, LiteralMemo, Report, Rule, RuleContext, using_literal_memo
from cat_lint.settings import Settings
from cat_lint.facts import collect

# The engine's public names; the two limits, the parse's, are read here by its callers too.
__all__ = ["LARGE_SOURCE_CHARS", "MAX_SOURCE_CHARS", "Crash", "Engine", "check_batch", "check_project",
           "check_source", "filter_findings", "lint_source"]


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
        parsed = parse(source, path, target_of(settings), self.chunks, self.history,
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
            result.findings = [Finding(PARSE_RULE.code, "the file nests too deeply for cat-lint to check it", path, Span(1, 0, 1, 0))]
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
    rules = [rule for rule in FILE_RULES if rule.applies(facts)]
    if not rules and not facts.store_calls:
        return  # nothing in this file that a rule looks at, and no key uses
    context = RuleContext(facts, settings, path)
    reports: list[Report] = []
    for rule in rules:
        reports.extend(rule.check(context))
    keys = key_uses(facts)
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

_ANY_RULE = Rule()  # how noqa silences a finding of a code that is no rule's


def filter_findings(result: FileResult, findings: Iterable[Finding], settings: Settings) -> list[Finding]:
    """Drop what select/ignore, per-file-ignores and noqa comments silence."""
    kept = []
    for finding in findings:
        if not settings.enabled(finding.code):
            continue
        if settings.ignored_by_path(finding.path, finding.code):
            continue
        if (rule_of(finding.code) or _ANY_RULE).silenced(finding, result):
            continue
        kept.append(finding)
    kept.sort(key=lambda f: (f.span, f.code))
    return kept


def check_project(results: Iterable[FileResult], settings: Settings, index: KeyIndex) -> dict[str, list[Finding]]:
    """Final findings per path: the per-file ones plus the project-wide rules', filtered and sorted by position."""
    out: dict[str, list[Finding]] = {}
    for result in results:
        findings = list(result.findings)
        for rule in INDEX_RULES:
            if settings.enabled(rule.code):
                findings.extend(rule.check_uses(result.key_uses, index))
        # A file that does not parse was not checked: its suppressions are neither used nor unused.
        unparsed = any(f.code == PARSE_RULE.code for f in result.findings)
        if result.noqa_comments and not unparsed:
            for rule in NOQA_RULES:
                if settings.enabled(rule.code):
                    findings.extend(list(rule.check_result(result, findings)))
        out[result.path] = filter_findings(result, findings, settings)
    return out


def lint_source(source: str, path: str, settings: Settings, index: KeyIndex | None = None) -> list[Finding]:
    """Lint one document; without ``index``, CAT006 sees only this document's keys."""
    result = check_source(source, path, settings)
    if index is None:
        index = KeyIndex()
        index.set_file(path, result.key_uses)
    return check_project([result], settings, index)[path]
