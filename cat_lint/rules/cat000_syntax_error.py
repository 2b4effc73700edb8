"""CAT000: the file does not compile, so the Cat cannot import it."""

from __future__ import annotations

from cat_lint.rules._base import Invalid, ParseRule, block


class SyntaxErrorRule(ParseRule):
    code = "CAT000"
    name = "syntax-error"
    summary = "The file does not compile on the Cat's Python, so no other rule can look at it."
    what = """
        Reports a file that the Cat's Python refuses to compile, at the position
        Python gives: syntax errors, and what the compiler rejects after parsing
        (`await` outside an async function, `return` or `break` in the wrong
        place, a duplicate argument, a bad `nonlocal` or `global`, a late
        `__future__` import, a bad `\\N{...}` escape, an async comprehension
        outside an async function, two starred targets), plus a file that
        cannot be read or decoded.  The engine raises this itself: no other
        rule runs on such a file.

        The Python judged is the `target-version` setting (default `py311`,
        the oldest the Cat 2.x runs on), and only it: the finding is the same
        whichever Python from 3.10 runs cat-lint.  Syntax newer than the
        target (`except*`, PEP 646 starred subscripts, PEP 695 type
        parameters and `type`, 3.12 f-strings, 3.13 type parameter defaults)
        is an error even when the Python running cat-lint knows it, and
        syntax newer than that Python but not than the target is accepted,
        with the compiler's checks still made on the rest.  Encodings follow Python too: a byte
        that is not UTF-8 inside a comment is accepted, as Python accepts it.
        A file larger than 5,000,000 characters is not linted and gets this
        finding, saying so.
    """
    why = """
        The Cat imports every `.py` file under a plugin folder; one that does not
        compile stops the plugin from loading at all.
    """
    example = """
        from cat import store

        def remember(value):
            await store.save("last", value)  # CAT000: `await` outside an async function
    """
    use_instead = """
        from cat import store

        async def remember(value):
            await store.save("last", value)
    """
    fix_text = "Correct the code at the reported position."
    VALID = (
        "x = 1\n",
        block("""
            async def f(store):
                await store.save('k', 1)
        """),
        block("""
            # café in a comment
            x = 1
        """),
    )
    INVALID = (
        Invalid(
            block("""
                def f(:
                    pass
            """),
            1, 6,
        ),
        Invalid(
            block("""
                x = 1
                if x
                    pass
            """),
            2, 4,
            "the file does not parse: expected ':'",
        ),
        Invalid(
            block("""
                def f(store):
                    await store.save('k', 1)
            """),
            2, 4,
            "Python refuses to compile the file: 'await' outside async function",
        ),
        Invalid("return 1\n", 1, 0, "Python refuses to compile the file: 'return' outside function"),
        Invalid(
            block("""
                def f(a, a):
                    pass
            """),
            1, 9,
            "Python refuses to compile the file: duplicate argument 'a' in function definition",
        ),
        Invalid(
            block("""
                for x in y:
                    pass
                break
            """),
            3, 0,
            "Python refuses to compile the file: 'break' outside loop",
        ),
        Invalid(
            block("""
                def f():
                    nonlocal x
            """),
            2, 4,
            "Python refuses to compile the file: no binding for nonlocal 'x' found",
        ),
        Invalid(
            block("""
                def f(x):
                    global x
            """),
            2, 4,
            "Python refuses to compile the file: name 'x' is parameter and global",
        ),
        Invalid(
            block("""
                import os
                from __future__ import annotations
            """),
            2, 0,
            "Python refuses to compile the file: from __future__ imports must occur at the beginning of the file",
        ),
        Invalid("x = [y async for y in z]\n", 1, 4,
                "Python refuses to compile the file: asynchronous comprehension outside of an asynchronous function"),
        Invalid("*a, *b = [1, 2]\n", 1, 0, "Python refuses to compile the file: multiple starred expressions in assignment"),
        Invalid('x = "caf\u00e9"; await f()\n', 1, 12, "Python refuses to compile the file: 'await' outside function"),
    )
