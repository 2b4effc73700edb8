"""CAT000: the file does not parse."""

from __future__ import annotations

from cat_lint.rules._base import Invalid, Rule


class SyntaxErrorRule(Rule):
    code = "CAT000"
    name = "syntax-error"
    summary = "The file does not parse, so no other rule can look at it."
    what = """
        Reports a file that libcst cannot parse, at the position of the error.
        The engine raises this itself: no other rule runs on such a file.
    """
    why = """
        The Cat imports every `.py` file under a plugin folder; one that does not
        parse stops the plugin from loading at all.
    """
    example = """
        from cat import store

        async def remember(value)
            await store.save("last", value)
    """
    fix_text = "Correct the syntax at the reported position."
    VALID = ("x = 1\n",)
    INVALID = (
        Invalid("def f(:\n    pass\n", 1, 6),
        Invalid("x = 1\nif x\n    pass\n", 2, 4, "the file does not parse: expected ':'"),
    )
