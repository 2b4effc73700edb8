"""CAT000 findings: where a file Python or libcst refuses is wrong, in the words authors know.

Python's own compiler is asked first, since its positions and wording
("expected ':'") are what authors see when the Cat imports the file;
libcst's message is the fallback.  ``compile_error`` adds what the compiler
refuses only after parsing, and syntax newer than the target Python.
"""

from __future__ import annotations

import ast
import re
import sys
import warnings

import libcst as cst

from cat_lint.findings import Finding, Span, python_lines
from cat_lint.grammar import newer_in_tree
from cat_lint.rules import PARSE_RULE

#: The Python running cat-lint.
RUNNING = sys.version_info[:2]

TOO_DEEP = "the file does not parse: it nests too deeply"

_AT = re.compile(r"error at (\d+):(\d+): ")


def parse_error(source: str, path: str, exc: BaseException | None, message: str | None = None,
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
    return Finding(PARSE_RULE.code, message or "the file does not parse", path, Span(line, col, line, col))


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
        return parse_error(source, path, None, newer.message(target), at=(newer.line, newer.col))
    return compiler_error(tree, source, path)


def compiler_error(tree: ast.Module, source: str, path: str) -> Finding | None:
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
        return parse_error(source, path, None, f"Python refuses to compile the file: {exc.msg}", at=(line, col))
    except (RecursionError, MemoryError, OverflowError):
        return parse_error(source, path, None, TOO_DEEP)
    except ValueError:
        return None
    return None
