"""``cat-lint``: the command line, following Ruff's conventions wherever they fit.

::

    cat-lint [check] [PATH ... | -] [--output-format FMT] [--select ...] [--ignore ...]
             [--fix | --fix-only | --diff | --add-noqa] [--unsafe-fixes] [--exit-non-zero-on-fix]
             [--statistics] [--exit-zero] [--no-cache] [--config FILE] [--output-file FILE]
             [--force-exclude] [--extend-exclude ...] [--stdin-filename PATH]
             [--show-files | --show-settings]
    cat-lint rule CAT001      # one rule's documentation
    cat-lint rules            # every rule: code, name, summary, fixable

Subcommands versus paths: Ruff needs ``ruff check PATH``; we keep the flat
``cat-lint PATH`` that the issue asks for, so the first argument is a
subcommand only when it is exactly ``check``, ``rule`` or ``rules``.  A
folder that happens to be called ``rules`` is linted with ``cat-lint
check rules`` or ``cat-lint ./rules`` (and ``cat-lint rules`` says so on
stderr when such a folder exists).

Exit codes: 0 nothing found (or ``--exit-zero``), 1 findings remain (with
``--diff``: there would be changes), 2 a usage, configuration or internal
error.  Internal errors print one line and "please report", with the
traceback only under ``--verbose``.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path
from typing import Sequence

from cat_lint.output import FORMATS
from cat_lint.rewrite import CannotWrite

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A mistake on the command line or in the configuration: exit 2, no traceback."""


def _codes(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"cat-lint: error: {message}\n")
        raise SystemExit(EXIT_ERROR)


def _check_parser(prog: str = "cat-lint") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description="Lint Cheshire Cat plugins for persistence mistakes (store/user).",
        epilog="Subcommands: `cat-lint rule CODE` shows a rule's documentation, "
               "`cat-lint rules` lists every rule. `cat-lint check PATH` is the same as "
               "`cat-lint PATH` (use it to lint a folder named `rule` or `rules`).",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or folders to lint (default: .)")
    parser.add_argument("--output-format", choices=FORMATS, default=None,
                        help="how findings are printed (default: full)")
    parser.add_argument("--select", action="append", type=_codes, metavar="CODES",
                        help="comma-separated rule codes or prefixes to enable; replaces the configured `select`")
    parser.add_argument("--extend-select", action="append", type=_codes, metavar="CODES",
                        help="comma-separated rule codes or prefixes to enable on top of the selection")
    parser.add_argument("--ignore", action="append", type=_codes, metavar="CODES",
                        help="comma-separated rule codes or prefixes to disable, added to the configured `ignore`")
    parser.add_argument("--fix", action="store_true",
                        help="apply safe fixes in place (reading standard input: print the fixed source)")
    parser.add_argument("--unsafe-fixes", action="store_true",
                        help="with --fix, --fix-only or --diff: apply the fixes that are not safe too "
                             "(they may change what the code does: read them)")
    parser.add_argument("--fix-only", action="store_true",
                        help="apply the fixes and report only how many; the findings that remain are not shown")
    parser.add_argument("--exit-non-zero-on-fix", action="store_true",
                        help="exit 1 when a fix was applied, even if no finding remains")
    parser.add_argument("--add-noqa", action="store_true",
                        help="add `# noqa: CODE` to every line with a finding, instead of reporting it")
    parser.add_argument("--output-file", "-o", type=Path, metavar="FILE",
                        help="write the report to FILE instead of standard output")
    parser.add_argument("--show-files", action="store_true", help="list the files that would be linted, and exit")
    parser.add_argument("--show-settings", action="store_true",
                        help="show the settings in force (configuration, project, database, options), and exit")
    parser.add_argument("--diff", action="store_true",
                        help="print the fixes as a unified diff and change nothing (exit 1 if there are any)")
    parser.add_argument("--statistics", action="store_true", help="show how many findings each rule has")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    parser.add_argument("--extend-exclude", action="append", type=_codes, metavar="PATTERNS",
                        help="comma-separated gitignore-style patterns to exclude on top of the configured ones")
    parser.add_argument("--force-exclude", action="store_true", default=None,
                        help="apply the excludes to paths named on the command line too (as the pre-commit hook does)")
    parser.add_argument("--no-force-exclude", dest="force_exclude", action="store_false",
                        help="lint every path named on the command line, even when excluded")
    parser.add_argument("--stdin-filename", metavar="PATH",
                        help="read the source from standard input and lint it as the file PATH "
                             "(its project, configuration and per-file settings); `-` as the path "
                             "reads standard input too")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="use this pyproject.toml (or cat-lint.toml) instead of searching for one")
    parser.add_argument("--jobs", "-j", type=int, metavar="N",
                        help="worker processes, at most the CPUs available (default: the CPUs available)")
    parser.add_argument("--quiet", "-q", action="store_true", help="print findings only, no summary")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="say which configuration and how many cached files were used; tracebacks on internal errors")
    parser.add_argument("--version", action="version", version=f"cat-lint {_version()}")
    return parser


def _version() -> str:
    from cat_lint.cache import tool_version

    return tool_version()


def _flatten(groups: list[list[str]] | None) -> list[str] | None:
    if groups is None:
        return None
    return [code for group in groups for code in group]


# --- cat-lint rule / rules -------------------------------------------------

def _rules():
    from cat_lint.rules import ALL_RULES

    return list(ALL_RULES)


def rule_fixable(rule) -> bool:
    """Whether ``--fix`` can ever fix the rule (rules say "never", "sometimes" or "always")."""
    value = getattr(rule, "fixable", "never")
    if isinstance(value, str):
        return value.lower() not in ("never", "", "no", "false")
    return bool(value)


def _fix_label(rule) -> str:
    value = getattr(rule, "fixable", None)
    if isinstance(value, str):
        return "" if not rule_fixable(rule) else value
    return "yes" if rule_fixable(rule) else ""


def _rule_command(argv: Sequence[str]) -> int:
    parser = _Parser(prog="cat-lint rule", description="Show a rule's documentation.")
    parser.add_argument("code", metavar="CODE", help="a rule code such as CAT001, or its name such as user-without-request")
    parser.add_argument("--output-format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    from cat_lint.rules import get_rule

    rule = get_rule(args.code.strip())  # the registry's lookup: a code in any case, or a name
    if rule is None:
        known = "\n".join(f"  {r.code}  {r.name}" for r in _rules())
        sys.stderr.write(f"cat-lint: error: unknown rule {args.code!r}; the rules are:\n{known}\n")
        return EXIT_ERROR
    if args.output_format == "json":
        import json

        sys.stdout.write(json.dumps({
            "code": rule.code, "name": rule.name, "summary": rule.summary,
            "fixable": rule_fixable(rule), "url": getattr(rule, "url", None),
            "explanation": rule.docs,
        }, indent=2) + "\n")
        return EXIT_OK
    # The rule renders its own page (heading, summary, sections).
    lines = [rule.docs.rstrip()]
    url = getattr(rule, "url", None)
    if url:
        lines += ["", f"Documentation: {url}"]
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


def _rules_command(argv: Sequence[str]) -> int:
    parser = _Parser(prog="cat-lint rules", description="List every rule.")
    parser.add_argument("--output-format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    if os.path.isdir("rules"):
        sys.stderr.write("cat-lint: note: `rules` is a subcommand; to lint the folder `rules`, "
                         "run `cat-lint check rules` or `cat-lint ./rules`\n")
    rules = _rules()
    if args.output_format == "json":
        import json

        sys.stdout.write(json.dumps([
            {"code": r.code, "name": r.name, "summary": r.summary, "fixable": rule_fixable(r),
             "url": getattr(r, "url", None)} for r in rules], indent=2) + "\n")
        return EXIT_OK
    headers = ("Code", "Name", "Fixable", "Summary")
    rows = [(r.code, r.name, _fix_label(r), r.summary) for r in rules]
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(3)]
    out = []
    for row in [headers, *rows]:
        out.append("  ".join(str(row[i]).ljust(widths[i]) for i in range(3)) + "  " + row[3])
    out.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * len(headers[3]))
    sys.stdout.write("\n".join(line.rstrip() for line in out) + "\n")
    return EXIT_OK


# --- cat-lint [check] PATH ... ----------------------------------------------

def _check_command(argv: Sequence[str], prog: str = "cat-lint") -> int:
    args = _check_parser(prog).parse_args(argv)
    from cat_lint.config import ConfigError, load_config, with_overrides
    from cat_lint.discovery import DiscoveryError, common_folder, discover, excluded
    from cat_lint.output import Report, get_formatter
    from cat_lint.project.location import find_cat_project
    from cat_lint.api import lint_files
    from cat_lint.fixing import apply_run_fixes

    paths = list(args.paths)
    use_stdin = "-" in paths or (args.stdin_filename is not None and not paths)
    if use_stdin and paths not in ([], ["-"]):
        raise UsageError("`-` (read standard input) cannot be combined with other paths")
    if use_stdin:
        # The file the text stands for: it decides the configuration, the
        # project and the per-file settings, and names the findings.
        stdin_path = Path(os.path.abspath(args.stdin_filename or "-"))
        paths = [str(stdin_path.parent)] if args.stdin_filename else []
    else:
        paths = paths or ["."]
        missing = [p for p in paths if not os.path.lexists(p)]
        if missing:
            raise UsageError("no such file or directory: " + ", ".join(missing))
    # Where configuration and the Cat project are looked for: a path that is a symlink loop or a
    # dangling link stands for its folder (discover() names it in a warning and lints the rest).
    located = [p for p in paths if os.path.exists(p)] or [os.path.dirname(os.path.abspath(p)) for p in paths]
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    from cat_lint.runner import default_jobs

    # More workers than CPUs only adds processes: capped, as Ruff caps its threads.
    jobs = min(args.jobs, default_jobs()) if args.jobs is not None else None
    try:
        loaded = load_config(common_folder(located or ["."]), args.config)
        settings = with_overrides(loaded.settings, _flatten(args.select), _flatten(args.ignore),
                                  _flatten(args.extend_select))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    from dataclasses import replace as _replace

    if args.extend_exclude:
        settings = _replace(settings, extend_exclude=settings.extend_exclude + tuple(_flatten(args.extend_exclude)))
    if args.force_exclude is not None:
        settings = _replace(settings, force_exclude=args.force_exclude)
    # The Cat project the code belongs to: its database, and every file
    # CAT006 must know about.  One resolver for every tool.
    cat_project = find_cat_project(located)
    if args.verbose:
        origin = loaded.source or "no configuration file (defaults)"
        sys.stderr.write(f"cat-lint: configuration: {origin}; project root: {loaded.root}\n")
        sys.stderr.write(f"cat-lint: Cat project: {cat_project or 'none found, using ' + str(loaded.root)}\n")
        if settings.database is None:
            from cat_lint.project.location import resolve_database

            try:
                described = resolve_database(discovered=cat_project or loaded.root).describe()
            except ValueError as exc:
                described = f"unusable ({exc})"
            sys.stderr.write(f"cat-lint: database: {described}\n")
    from cat_lint.project.location import DatabaseURLError, resolve_database

    try:
        resolve_database(settings.database, discovered=cat_project or loaded.root)
    except DatabaseURLError as exc:  # an unusable URL or config.py: said once, the code is still linted
        sys.stderr.write(f"cat-lint: warning: {exc}; CAT006 relies on the code alone\n")
    stdin: dict[Path, bytes] | None = None
    if use_stdin:
        data = sys.stdin.buffer.read()
        if args.stdin_filename and settings.force_exclude and excluded(stdin_path, settings):
            if args.fix:
                sys.stdout.buffer.write(data)  # excluded: the text goes through unchanged
            return EXIT_OK
        files, stdin = [stdin_path], {stdin_path: data}
    else:
        problems: list[str] = []
        try:
            files = discover(paths, settings, problems)
        except DiscoveryError as exc:
            raise UsageError(str(exc)) from None
        for problem in problems:
            sys.stderr.write(f"cat-lint: warning: {problem}\n")
    output_format = args.output_format or "full"
    if args.show_files:
        from cat_lint.filenames import printable

        _write_report(args, "".join(f"{printable(str(path))}\n" for path in files))
        return EXIT_OK
    if args.show_settings:
        _write_report(args, _settings_text(loaded, settings, cat_project))
        return EXIT_OK
    if not files and not args.quiet:
        sys.stderr.write("cat-lint: warning: no Python files found under the given path(s)\n")
    if args.add_noqa and use_stdin:
        raise UsageError("--add-noqa changes files: it cannot read standard input")
    args.fix = args.fix or args.fix_only

    # The rest of the project, for CAT006 on partial file lists: the Cat project, else the
    # repository or configured project; never a folder that is merely where a file lies
    # (`cat-lint ~/Downloads/x.py` must not read all of ~/Downloads).
    scope = cat_project or (loaded.root if loaded.source is not None or _marked(loaded.root) else None)
    covered = scope is None or any(Path(p).resolve() == scope or Path(p).resolve() in scope.parents
                                   for p in located if not use_stdin)
    walked = [folder for folder in (Path(p).resolve() for p in located) if folder.is_dir()] if not use_stdin else []
    context = [] if covered or not files else discover([scope], settings, skip=walked)
    run, index = lint_files(files, settings, loaded.root, use_cache=not args.no_cache, jobs=jobs,
                            cat_project=cat_project, context=context, stdin=stdin, owns_process=True)
    if use_stdin and args.fix:
        return _fix_stdin(run, settings, index, loaded.root, output_format, args)
    if args.verbose:
        sys.stderr.write(f"cat-lint: {len(files)} files, {run.cache_hits} from the cache, "
                         f"at most {jobs or default_jobs()} worker processes\n")
        phases = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in run.timings.items())
        sys.stderr.write(f"cat-lint: time spent: {phases}\n")

    if args.add_noqa:
        return _add_noqa(run, args)

    if args.diff:
        run = apply_run_fixes(run, settings, index, write=False, unsafe=args.unsafe_fixes)
        for key in sorted(run.fixed_files):
            from cat_lint.fixes import unified_diff

            name = Report([], loaded.root).display(key)
            sys.stdout.write(unified_diff(run.sources[key].text or "", run.fixed_files[key], name))
        if not args.quiet:
            if run.fixed:
                sys.stderr.write(f"Would fix {run.fixed} error{'s' if run.fixed != 1 else ''}.\n")
            else:
                sys.stderr.write("No errors would be fixed.\n")
        return EXIT_FINDINGS if run.fixed and not args.exit_zero else EXIT_OK

    if args.fix:
        run = apply_run_fixes(run, settings, index, write=True, unsafe=args.unsafe_fixes)
    fixed_exit = EXIT_FINDINGS if run.fixed and args.exit_non_zero_on_fix else EXIT_OK

    if args.fix_only:
        if not args.quiet:
            sys.stderr.write(f"Fixed {run.fixed} error{'s' if run.fixed != 1 else ''}.\n" if run.fixed
                             else "No errors fixed.\n")
        return EXIT_ERROR if run.crashes else fixed_exit

    findings = run.all_findings()
    texts = {key: s.text if s.text is not None else _decode_for_display(s.data)
             for key, s in run.sources.items() if key in run.findings}
    texts.update({k: v for k, v in run.fixed_files.items() if k in run.findings})
    report = Report(findings, loaded.root, texts, fixed=run.fixed, quiet=args.quiet)
    if args.statistics:
        from cat_lint.output.statistics import render as render_statistics

        _write_report(args, render_statistics(report, "json" if output_format == "json" else "text"))
    else:
        _write_report(args, get_formatter(output_format)(report))
    if run.crashes:
        for crash in run.crashes:
            if args.verbose:
                sys.stderr.write(crash.details)
            sys.stderr.write(f"cat-lint: internal error while linting {report.display(crash.path)}: {crash.error}\n")
        sys.stderr.write(_bug(args.verbose))
        return EXIT_ERROR
    if findings and not args.exit_zero:
        return EXIT_FINDINGS
    return fixed_exit


def _marked(folder: Path) -> bool:
    """Whether ``folder`` is a project by its own markers (``pyproject.toml``, ``.git``)."""
    try:
        return (folder / "pyproject.toml").is_file() or (folder / ".git").exists()
    except OSError:
        return False


def _write_report(args, text: str) -> None:
    """The report to ``--output-file`` (replaced atomically, folders created) or to standard output.

    File names reach it through :mod:`cat_lint.filenames`; any undecodable
    byte of a name left in the text (a rule's message) is U+FFFD too, so
    the report is always valid UTF-8.
    """
    from cat_lint.filenames import lossy

    # A key's text may hold a lone surrogate (`"x\\ud800y"` in the source), which no UTF-8 holds:
    # shown as the escape the source wrote.
    text = lossy(text).encode("utf-8", errors="backslashreplace").decode("utf-8")
    if args.output_file is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from cat_lint.cache import write_atomic

    try:
        args.output_file.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(args.output_file, text.encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot write the report to {args.output_file}: {exc.strerror or exc}") from None


def _settings_text(loaded, settings, cat_project) -> str:
    from dataclasses import fields

    from cat_lint.project.location import DatabaseURLError, resolve_database

    try:
        database = resolve_database(settings.database, discovered=cat_project or loaded.root).describe()
    except DatabaseURLError as exc:
        database = f"unusable ({exc})"
    lines = [
        f"configuration file: {loaded.source or 'none (defaults)'}",
        f"project root: {loaded.root}",
        f"Cat project: {cat_project or 'none found'}",
        f"database: {database}",
    ]
    for field in fields(settings):
        if field.name == "project":
            continue
        value = getattr(settings, field.name)
        if field.name == "exclude" and not value:
            from cat_lint.config import DEFAULT_EXCLUDE

            value = DEFAULT_EXCLUDE
        shown = ", ".join(f"{p} = [{', '.join(c)}]" for p, c in value) if field.name == "per_file_ignores" else (
            ", ".join(value) if isinstance(value, tuple) else value)
        lines.append(f"{field.name.replace('_', '-')}: {shown}")
    return "\n".join(lines) + "\n"


def _add_noqa(run, args) -> int:
    """``--add-noqa``: every remaining finding gets a ``# noqa: CODE`` on its line; files are rewritten."""
    from cat_lint.noqa import add_noqa
    from cat_lint.rewrite import rewrite_source
    from cat_lint.sources import decode, encode_text

    added = 0
    for key, findings in sorted(run.findings.items()):
        source = run.sources[key]
        if source.text is None:
            decode(source)
        if source.text is None:
            continue
        new_text, count = add_noqa(source.text, findings)
        data = encode_text(source, new_text) if count else None
        if data is None:
            continue
        rewrite_source(source.path, data)
        added += count
    if not args.quiet:
        sys.stderr.write(f"Added {added} noqa directive{'s' if added != 1 else ''}.\n")
    return EXIT_ERROR if run.crashes else EXIT_OK


def _fix_stdin(run, settings, index, root: Path, output_format: str, args) -> int:
    """``--fix`` on standard input: the fixed source to stdout, what remains to stderr (as Ruff)."""
    from cat_lint.output import Report, get_formatter
    from cat_lint.fixing import apply_run_fixes

    run = apply_run_fixes(run, settings, index, write=False, unsafe=args.unsafe_fixes)
    (key, source), = run.sources.items()
    from cat_lint.sources import encode_text

    data = encode_text(source, run.fixed_files[key]) if key in run.fixed_files else None
    if data is None:
        data = source.data
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    findings = run.all_findings()
    text = run.fixed_files.get(key, source.text)
    report = Report(findings, root, {key: text} if text is not None else {}, fixed=run.fixed, quiet=args.quiet)
    sys.stderr.write(get_formatter(output_format)(report))
    if run.crashes:
        sys.stderr.write(f"cat-lint: internal error while linting {report.display(key)}: {run.crashes[0].error}\n")
        return EXIT_ERROR
    return EXIT_FINDINGS if findings and not args.exit_zero else EXIT_OK


def _bug(verbose: bool) -> str:
    """The line after an internal error: how to report it (``cat_lint.home``)."""
    from cat_lint.home import how_to_report

    return (f"This is a bug in cat-lint, {how_to_report()}"
            + ("" if verbose else " (run again with --verbose to include the traceback)") + "\n")


def _decode_for_display(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = "--verbose" in argv or "-v" in argv
    try:
        if argv and argv[0] == "rule":
            return _rule_command(argv[1:])
        if argv and argv[0] == "rules":
            return _rules_command(argv[1:])
        if argv and argv[0] == "check":
            return _check_command(argv[1:], prog="cat-lint check")
        return _check_command(argv)
    except UsageError as exc:
        sys.stderr.write(f"cat-lint: error: {exc}\n")
        return EXIT_ERROR
    except CannotWrite as exc:  # --fix, --add-noqa: the files before it are written, this one is untouched
        sys.stderr.write(f"cat-lint: error: {exc}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("cat-lint: interrupted\n")
        return EXIT_ERROR
    except BrokenPipeError:
        # `cat-lint | head`: the reader went away; nothing left to say.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_ERROR
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if verbose:
            traceback.print_exc()
        sys.stderr.write(f"cat-lint: internal error: {type(exc).__name__}: {exc}\n" + _bug(verbose))
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
