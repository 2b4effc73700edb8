"""The compile cases of CAT000, as data: the tests import them, and ``python compile_cases.py``
prints what CAT000 finds in each under each target version (as JSON), which
``test_compile_across_pythons`` compares between every interpreter the machine has.

Only the standard library and cat_lint are imported here: the other
interpreters run it with the worktree on ``PYTHONPATH`` and nothing else of
the test suite.
"""

from __future__ import annotations

import json
import sys

# What every Python refuses (after parsing, or while parsing).
REFUSED = {
    "await outside async": 'from cat import store\n\ndef f():\n    await store.save("k", 1)\n',
    "return outside function": "return 1\n",
    "duplicate argument": "def f(a, a):\n    pass\n",
    "break outside loop": "break\n",
    "continue outside loop": "continue\n",
    "bad nonlocal": "def f():\n    nonlocal x\n",
    "nonlocal at module level": "nonlocal x\n",
    "parameter and global": "def f(x):\n    global x\n",
    "late future import": "import os\nfrom __future__ import annotations\n",
    "unknown future feature": "from __future__ import braces\n",
    "bad N escape": 'x = "\\N{NO SUCH CHARACTER NAME}"\n',
    "async comprehension at module level": "x = [y async for y in z]\n",
    "two starred targets": "*a, *b = [1, 2]\n",
    "yield outside function": "yield 1\n",
    "await in a sync comprehension of a sync function": "def f():\n    return [await g() for g in h]\n",
    "assignment to __debug__": "__debug__ = 1\n",
    "starred alone": "*a = [1]\n",
    "default before non-default": "def f(a=1, b):\n    pass\n",
    "return with value in async generator": "async def f():\n    yield 1\n    return 2\n",
    "syntax error": "def f(:\n    pass\n",
}

PEP695 = "def first[T](items: list[T]) -> T:\n    return items[0]\n"
FSTRING_312 = 'x = {"a": 1}\ny = f"{x["a"]}"\n'

# Syntax a Python version added: refused for an older target, whichever Python runs cat-lint.
ADDED_IN = {
    (3, 11): "try:\n    pass\nexcept* ValueError:\n    pass\n",
    (3, 12): "type Alias = int\n",
}

# Each construct of cat_lint.grammar, alone and with what the compiler refuses after it.
NEWER_SYNTAX = {
    "except star": ADDED_IN[(3, 11)],
    "except star, then await outside async": ADDED_IN[(3, 11)] + "def g():\n    await h()\n",
    "except star left by return": "def f():\n    try:\n        pass\n    except* E:\n        for x in y:\n            break\n        return 1\n",
    "except star left by continue": "def f():\n    for x in y:\n        try:\n            pass\n        except* E:\n"
                                    "            def g():\n                return 1\n            continue\n",
    "except star left by a bare return": "def f():\n    try:\n        pass\n    except* E:\n        return\n",
    "starred subscript": "x = a[*b]\n",
    "starred subscript in a tuple": "x = a[1, *b]\n",
    "starred subscript after a parenthesized element": "x = a[(1), *b]\n",
    "starred in a parenthesized tuple subscript": "x = a[(*b,)]\n",
    "starred args annotation": "def f(*args: *Ts):\n    pass\n",
    "type parameters of a def": PEP695,
    "type parameters of a class": "class Box[T]:\n    pass\n",
    "type statement": ADDED_IN[(3, 12)],
    "type statement with parameters": "type Pair[T] = tuple[T, T]\n",
    "type parameters, then await outside async": PEP695 + "def g():\n    await h()\n",
    "type parameters, then return outside function": PEP695 + "return 1\n",
    "type parameter default": "def f[T=int]():\n    pass\n",
    "f-string reusing its quote": FSTRING_312,
    "f-string with a backslash": 'x = f"{chr(10).join(\'\\n\')}"\n',
    "f-string with a comment": 'x = f"""{1 # c\n}"""\n',
    "f-string with a line break": 'x = f"{1 +\n2}"\n',
    "f-string nested, same quotes": 'x = f"{f"{1}"}"\n',
    "f-string in a format spec": 'x = f"{1:{">"}10}"\n',
    "f-string concatenated": 'x = "a" f"{"b"}" "c"\n',
    "f-string of 3.12, then await outside async": FSTRING_312 + "def g():\n    await h()\n",
    "f-string of 3.12 in a function that awaits": 'async def g(x):\n    return f"{x["a"]}" + str(await x)\n',
    "old f-strings": 'x = f"{1}" f\'{"a"}\' f"""{"b"}""" rf"\\d{2}" f"{{}}"\n',
    "old f-string, nested": "x = f\"{f'{1}'}\"\n",
    "old f-strings, braces in strings of their fields": "x = f\"{'{'} \\n\" f\"{'}'} #\" f'{\"}\"}'\n",
    "f-string with a comment, then await outside async": 'x = f"""{1 # c\n}"""\ndef g():\n    await h()\n',
    "f-string with a line break, then return outside function": 'x = f"{1 +\n2}"\nreturn x\n',
    "parenthesized context managers": "with (open(a) as b, open(c) as d):\n    pass\n",
    "match": "match x:\n    case [1, *rest]:\n        pass\n",
    "non-ASCII before newer syntax": 'x = "café"; y = a[*b]\n',
}

TARGETS = ("py310", "py311", "py312", "py313", "py314")


def cases() -> dict[str, str]:
    out = {f"refused: {name}": source for name, source in REFUSED.items()}
    out.update({f"newer: {name}": source for name, source in NEWER_SYNTAX.items()})
    return out


def compiles() -> dict[str, bool]:
    """Whether the Python running this accepts each case: the truth for a target of its own version."""
    import warnings

    out = {}
    for name, source in cases().items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                compile(source, "plugin.py", "exec", dont_inherit=True)
            out[name] = True
        except SyntaxError:
            out[name] = False
    return out


def results() -> dict[str, list[list[object]]]:
    """Every case under every target: CAT000's (line, column, message), by ``case | target``."""
    from cat_lint.engine import check_source
    from cat_lint.settings import Settings

    out = {}
    for name, source in sorted(cases().items()):
        for target in TARGETS:
            found = check_source(source, "plugin.py", Settings(target_version=target)).findings
            out[f"{name} | {target}"] = [[f.span.start_line, f.span.start_col, f.message] for f in found if f.code == "CAT000"]
    return out


if __name__ == "__main__":
    json.dump({"python": list(sys.version_info[:3]), "results": results(), "compiles": compiles()},
              sys.stdout, indent=1, sort_keys=True)
