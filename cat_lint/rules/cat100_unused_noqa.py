"""CAT100: a ``# noqa`` that suppresses nothing, or names a code that is no rule."""

from __future__ import annotations

from typing import Iterable

from cat_lint.findings import Edit, FileResult, Finding, Fix, Span
from cat_lint.rules._base import Invalid, NoqaRule, block


class UnusedNoqa(NoqaRule):
    code = "CAT100"
    name = "unused-noqa"
    summary = "A `# noqa` comment suppresses nothing on its line, or names a code that is no cat-lint rule."
    fixable = "always"
    what = """
        Reports, like Ruff's RUF100, a line-level suppression that does nothing: a
        `# noqa: CAT004` on a line with no CAT004 finding, a bare `# noqa` on a line
        with no finding at all, and a `CAT` code that is no rule (`# noqa: CAT999`).
        Codes of other tools (`# noqa: E501`) are left alone. A finding counts as
        suppressed on its first and its last line, as suppression does.
    """
    why = """
        A suppression outlives the mistake it silenced: once the code is fixed, the
        comment stays and would hide the next real mistake on that line. A misspelt
        code silences nothing while looking as if it did.
    """
    example = """
        from cat import store

        async def remember(x):
            await store.save("notes", x)  # noqa: CAT004  # CAT100: it is awaited, nothing to silence
    """
    use_instead = """
        from cat import store

        async def remember(x):
            await store.save("notes", x)
    """
    fix_text = """
        Remove the unused codes (the whole comment when none is left). `--fix` does it.
        Silence this rule itself only with an explicit `# noqa: CAT100`.
    """
    limits = """
        A code counts as used when its rule found something on that line, even if the
        rule is not selected. File-level `# cat-lint: noqa` comments are not checked.
    """
    VALID = (
        block("""
            from cat import store

            async def f():
                store.save('k', 1)  # noqa: CAT004
        """),
        block("""
            from cat import store

            async def f():
                store.save('k', 1)  # noqa
        """),
        "x = 1  # noqa: E501\n",
        block("""
            from cat import store

            async def f():
                store.save('k', (
                    1, 2))  # noqa: CAT003, CAT004
        """),
    )
    INVALID = (
        Invalid("x = 1  # noqa: CAT004\n", 1, 7,
                "`# noqa: CAT004` suppresses nothing: no CAT004 finding on this line", fixed="x = 1\n"),
        Invalid("x = 1  # noqa\n", 1, 7, "`# noqa` suppresses nothing: no finding on this line", fixed="x = 1\n"),
        Invalid(
            block("""
                from cat import store

                async def f():
                    store.save('k', 1)  # noqa: CAT004, CAT999
            """),
            4, 24,
            "`# noqa: CAT004, CAT999` names CAT999, which is no cat-lint rule",
            fixed=block("""
                from cat import store

                async def f():
                    store.save('k', 1)  # noqa: CAT004
            """),
        ),
        Invalid("x = 1  # noqa: CAT001, E501  # explained\n", 1, 7,
                fixed="x = 1  # noqa: E501  # explained\n"),
    )

    def check_result(self, result: FileResult, findings: Iterable[Finding]) -> list[Finding]:
        """CAT100 for each suppression of ``result`` that ``findings`` (before suppression) do not use."""
        from cat_lint.noqa import _CODE, _LINE
        from cat_lint.rules import ALL_RULES

        known = {rule.code for rule in ALL_RULES}
        found = list(findings)
        out = []
        for line, (code_end, col, comment) in sorted(result.noqa_comments.items()):
            directive = _LINE.search(comment)
            codes = result.noqa.get(line)
            if directive is None or codes is None:
                continue
            on_line = {f.code for f in found if f.code != self.code and line in (f.span.start_line, f.span.end_line)}
            listed = [c.upper() for c in _CODE.findall(directive.group("codes") or "")]
            shown = comment[directive.start():directive.end()].strip()
            if not listed:
                if on_line:
                    continue
                bad, message = set(), f"`{shown}` suppresses nothing: no finding on this line"
            else:
                unknown = [c for c in listed if c.startswith("CAT") and c not in known]
                unused = [c for c in listed if c in known and c not in on_line]
                if not unknown and not unused:
                    continue
                bad = set(unknown) | set(unused)
                parts = []
                if unknown:
                    parts.append(f"names {', '.join(unknown)}, which {'is' if len(unknown) == 1 else 'are'} no cat-lint rule")
                if unused:
                    parts.append(f"suppresses nothing: no {' or '.join(unused)} finding on this line")
                message = f"`{shown}` " + "; ".join(parts) if len(parts) == 1 else f"`{shown}` {parts[0]}, and {parts[1]}"
            keep = [c for c in listed if c not in bad]
            start, end = col + directive.start(), col + directive.end()
            rest = (comment[:directive.start()] + comment[directive.end():]).strip()
            if keep:
                edit = Edit(Span(line, start, line, end), "# noqa: " + ", ".join(keep))
            elif not rest:
                edit = Edit(Span(line, code_end, line, col + len(comment)), "")  # the whole comment goes
            else:
                edit = Edit(Span(line, col, line, col + len(comment)), rest if rest.startswith("#") else f"# {rest}")
            fix = Fix("Remove the unused suppression" if not keep else "Remove the codes that suppress nothing",
                      (edit,), safe=True)
            out.append(Finding(self.code, message, result.path, Span(line, start, line, end), fix))
        return out
