"""apply_fixes, and what the rules' fixes produce: code that compiles and lints clean."""

from __future__ import annotations

from cat_lint.engine import lint_source
from cat_lint.findings import Edit, Finding, Fix, Span
from cat_lint.fixes import apply_fixes
from cat_lint.settings import Settings

S = Settings()


def finding(span: Span, text: str, safe: bool = True) -> Finding:
    return Finding("CAT004", "m", "p.py", span, Fix("t", (Edit(span, text),), safe))


def fix_until_clean(source: str, safe_only: bool = True) -> tuple[str, int]:
    total = 0
    for _ in range(10):
        new, count = apply_fixes(source, lint_source(source, "p.py", S), safe_only=safe_only)
        total += count
        if count == 0:
            return new, total
        source = new
    raise AssertionError("fixes did not converge")


def test_apply_insertions_replacements_and_counts():
    src = "a = 1\nb = 2\n"
    new, count = apply_fixes(src, [finding(Span(1, 4, 1, 5), "10"), finding(Span(2, 0, 2, 0), "# x\n")])
    assert (new, count) == ("a = 10\n# x\nb = 2\n", 2)


def test_overlapping_fixes_wait_for_the_next_round_and_unsafe_ones_are_skipped():
    src = "abcdef\n"
    first = finding(Span(1, 0, 1, 3), "X")
    overlapping = finding(Span(1, 2, 1, 4), "Y")
    unsafe = finding(Span(1, 5, 1, 6), "Z", safe=False)
    assert apply_fixes(src, [overlapping, first, unsafe]) == ("Xdef\n", 1)
    assert apply_fixes(src, [unsafe], safe_only=False) == ("abcdeZ\n", 1)
    assert apply_fixes(src, []) == (src, 0)


def test_columns_are_code_points_and_crlf_is_kept():
    src = "x = 'é😀'\r\ny = 1\r\n"
    new, _ = apply_fixes(src, [finding(Span(1, 7, 1, 8), "!"), finding(Span(2, 4, 2, 5), "2")])
    assert new == "x = 'é😀!\r\ny = 2\r\n"


def test_await_fix_in_async_functions_compiles_and_lints_clean():
    src = (
        "from cat import store, user\n\n"
        "async def f(theme):\n"
        "    store.save('theme', theme)\n"
        "    todos = user.load('todos', [])\n"
        "    (store.delete('old'))\n"
        "    return len(todos)\n"
    )
    new, count = fix_until_clean(src)
    assert count == 3
    assert "    await store.save('theme', theme)\n" in new
    assert "    todos = await user.load('todos', [])\n" in new
    assert "    (await store.delete('old'))\n" in new
    compile(new, "fixed.py", "exec")
    # Left: "todos" and "old" are read but never written (CAT006 has no safe fix).
    assert [f.code for f in lint_source(new, "p.py", S)] == ["CAT006", "CAT006"]


def test_no_await_fix_outside_async_functions():
    src = "from cat import store\n\ndef f():\n    store.save('k', 1)\n"
    assert fix_until_clean(src) == (src, 0)


def test_nested_tuples_become_lists_over_rounds():
    src = "from cat import store\n\nasync def f():\n    await store.save('k', (1, (2, 3), ('a',)))\n"
    new, count = fix_until_clean(src)
    assert new == "from cat import store\n\nasync def f():\n    await store.save('k', [1, [2, 3], ['a',]])\n"
    assert count == 3
    compile(new, "fixed.py", "exec")
    assert lint_source(new, "p.py", S) == []


def test_tuple_through_a_name_is_an_unsafe_fix():
    src = "from cat import store\n\nasync def f():\n    size = 640, 480\n    await store.save('size', size)\n"
    (lossy,) = lint_source(src, "p.py", S)
    assert lossy.code == "CAT003" and not lossy.fix.safe
    assert fix_until_clean(src) == (src, 0)
    new, _ = fix_until_clean(src, safe_only=False)
    assert "    size = [640, 480]\n" in new


def test_did_you_mean_fix_keeps_the_quotes():
    src = "from cat import store\n\nasync def f():\n    await store.save('theme', 1)\n    return await store.load('themes')\n"
    new, count = fix_until_clean(src, safe_only=False)
    assert count == 1 and "store.load('theme')" in new
