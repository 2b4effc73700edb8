"""Where the cursor sits in the key argument of a store call, on half-typed code too.

Completion and go-to-definition ask on every keystroke, often while the
line under the cursor does not parse: the call is read from the text before
the cursor, and the import aliases from Python's own parser (a tenth of
libcst's parse time), with the cursor's line left out when the file does
not parse.  The linter's resolvers (:mod:`cat_lint.name_resolution`) need
a whole module; this answers for the editor alone.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from cat_lint.findings import Span
from cat_lint.name_resolution import STAR_NAMES, STORES


@dataclass(frozen=True)
class StoreCallContext:
    """Where a cursor sits inside the key argument of ``store.<verb>(`` / ``user.<verb>(``."""

    scope: str  # "store" or "user"
    verb: str
    prefix: str  # the key text typed before the cursor
    quote: str  # '"' or "'" (empty when no string has been opened yet)
    span: Span  # the key text to replace, quotes excluded (empty at the cursor when nothing is typed)


_CALL_AT = re.compile(r"(?P<obj>[A-Za-z_][\w.]*)\.(?P<verb>save|load|exists|delete|update)\(\s*(?P<quote>[rRuU]?['\"])?(?P<text>[^'\"\n]*)$")


def _ast_import_aliases(tree: ast.Module) -> dict[str, str]:
    """The same table as :class:`cat_lint.name_resolution.ImportTable`, read from Python's AST (a tenth of libcst's parse time)."""
    aliases: dict[str, str] = {}

    def visit(body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if alias.asname:
                        aliases[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        aliases[top] = top
            elif isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
                for alias in stmt.names:
                    if alias.name == "*":
                        if stmt.module == "cat":
                            for name in STAR_NAMES:
                                aliases.setdefault(name, f"cat.{name}")
                        continue
                    aliases[alias.asname or alias.name] = f"{stmt.module}.{alias.name}"
            elif isinstance(stmt, (ast.If, ast.Try, ast.With)) or type(stmt).__name__ == "TryStar":
                visit(stmt.body)
                for handler in getattr(stmt, "handlers", ()):
                    visit(handler.body)
                visit(getattr(stmt, "orelse", []) or [])
                visit(getattr(stmt, "finalbody", []) or [])

    visit(tree.body)
    return aliases


def _aliases_of(source: str, line: int) -> dict[str, str]:
    """Import aliases from as much of the file as parses: the whole file, or it with the cursor's line blanked.

    Python's own parser is used here: the editor asks on every keystroke,
    and only the import statements matter.
    """
    lines = source.splitlines(keepends=True)
    attempts = [source]
    if 0 < line <= len(lines):
        attempts.append("".join(lines[: line - 1]) + "\n" + "".join(lines[line:]))
        attempts.append("".join(lines[: line - 1]))
    for text in attempts:
        try:
            tree = compile(text, "<editor>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
            continue
        return _ast_import_aliases(tree)
    # Nothing parses: read the import statements one by one (parenthesized ones span lines).
    aliases: dict[str, str] = {}
    statement: list[str] = []
    depth = 0
    for text in lines:
        code = text.split("#", 1)[0]
        if not statement and not code.strip().startswith(("import ", "from ")):
            continue
        statement.append(code.strip())
        depth += code.count("(") - code.count(")")
        if depth > 0 or code.rstrip().endswith("\\"):
            continue
        try:
            aliases.update(_ast_import_aliases(ast.parse(" ".join(part.rstrip("\\") for part in statement) + "\n")))
        except (SyntaxError, ValueError):
            pass
        statement, depth = [], 0
    return aliases


def store_call_at(source: str, line: int, col: int) -> StoreCallContext | None:
    """The store call whose key argument holds the cursor (1-based line, 0-based column), if any."""
    lines = source.splitlines()
    if not 0 < line <= len(lines) + (1 if source.endswith(("\n", "\r")) or not source else 0):
        return None
    current = lines[line - 1] if line <= len(lines) else ""
    col = max(0, min(col, len(current)))
    head = current[:col]
    match = _CALL_AT.search(head)
    if match is None:
        return None
    aliases = _aliases_of(source, line)
    obj = match.group("obj")
    parts = obj.split(".")
    base = aliases.get(parts[0])
    if base is None:
        return None
    qualified = ".".join([base] + parts[1:])
    scope = STORES.get(qualified)
    if scope is None:
        return None
    quote = match.group("quote") or ""
    text = match.group("text")
    if not quote:
        if text.strip():
            return None  # the first argument is not a string literal
        return StoreCallContext(scope, match.group("verb"), "", "", Span(line, col, line, col))
    quote_char = quote[-1]
    start = col - len(text)
    # The key text runs to the closing quote, if the line has one.
    rest = current[col:]
    close = rest.find(quote_char)
    end = col + (close if close >= 0 else len(re.match(r"[^'\"\s,)]*", rest).group(0)))
    return StoreCallContext(scope, match.group("verb"), text, quote_char, Span(line, start, line, end))
