"""CAT003: a value that will not come back as it was saved."""

from __future__ import annotations

import ast
import json
from typing import Iterable

import libcst as cst

from cat_lint.rules._base import EditSpec, FileRule, FixSpec, Invalid, Report, RuleContext, block, call_text
from cat_lint.rules._values import origin, value_problems


def _as_loaded(key_source: str) -> str:
    """How a literal dict key comes back from JSON: ``1`` -> ``"1"``, ``True`` -> ``"true"``."""
    try:
        (loaded,) = json.loads(json.dumps({ast.literal_eval(key_source): 0}))
    except Exception:
        loaded = key_source
    return json.dumps(loaded)


class LossyValue(FileRule):
    code = "CAT003"
    name = "lossy-value"
    summary = "A saved value will not load back as it was saved: a tuple, a dict with non-string keys, or dict keys that meet in JSON."
    fixable = "sometimes"
    what = """
        Reports a tuple, or a dict literal with non-string keys (numbers, `True`, `None`),
        passed to `save` or returned by an `update` function, also inside list, tuple and dict
        literals and through a local name assigned once.  Also a dict literal whose keys
        become the same string in JSON (`{1: "int", "1": "str"}`, `{True: 1, "true": 2}`,
        `{None: 1, "null": 2}`): the runtime refuses such a value, since one entry would be lost.
    """
    why = """
        JSON has no tuples and only string keys: a tuple loads back as a list, and `{1: "a"}`
        loads back as `{"1": "a"}`. Code that compares the loaded value with what it saved, or
        looks up `data[1]`, silently stops working after a round trip.
    """
    example = """
        from cat import store

        async def remember():
            await store.save("size", (640, 480))          # CAT003: loads as [640, 480]
            await store.save("names", {1: "one"})         # CAT003: loads as {"1": "one"}
    """
    use_instead = """
        from cat import store

        async def remember():
            await store.save("size", [640, 480])
            await store.save("names", {"1": "one"})
    """
    fix_text = """
        Save what you will load: a list instead of a tuple, string keys (`{"1": "one"}`), or a
        list of pairs. A tuple literal written in the call (or in an update lambda) is made a
        list by the safe fix; through a variable the fix is offered but not applied by
        `--fix`, since the tuple may be used as a tuple elsewhere.
    """
    VALID = (
        block("""
            from cat import store

            async def f():
                await store.save('size', [640, 480])
        """),
        block("""
            from cat import store

            async def f():
                await store.save('names', {'1': 'one'})
        """),
        block("""
            from cat import store

            async def f(point):
                x, y = point
                await store.save('p', {'x': x, 'y': y})
        """),
    )
    INVALID = (
        Invalid(
            block("""
                from cat import store

                async def f():
                    await store.save('size', (640, 480))
            """),
            4, 29,
            '`value` is a tuple: it loads back as a list after `store.save("size", ...)`',
            fixed=block("""
                from cat import store

                async def f():
                    await store.save('size', [640, 480])
            """),
        ),
        Invalid(
            block("""
                from cat import user

                async def f():
                    await user.save('names', {'all': {1: 'one', 'two': 2}})
            """),
            4, 38,
            '`value["all"]` has the non-string key 1: it loads back as "1" after `user.save("names", ...)`',
        ),
        Invalid(
            block("""
                from cat import store

                async def f():
                    await store.save('ids', {1: 'int', '1': 'str'})
            """),
            4, 39,
            '`value` has the keys 1 and \'1\', which are both "1" in JSON: one entry would be lost, so `store.save("ids", ...)` raises and writes nothing',
        ),
        Invalid(
            block("""
                from cat import store

                async def f():
                    await store.update('pair', lambda old: (old, 1))
            """),
            4, 43,
            '`value` is a tuple (returned by the update lambda): it loads back as a list after `store.update("pair", ...)`',
            fixed=block("""
                from cat import store

                async def f():
                    await store.update('pair', lambda old: [old, 1])
            """),
        ),
        Invalid(
            block("""
                from cat import store

                async def f():
                    await store.save('sizes', (
                        640,  # width
                        480,
                    ))
            """),
            4, 30,
            fixed=block("""
                from cat import store

                async def f():
                    await store.save('sizes', [
                        640,  # width
                        480,
                    ])
            """),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        facts = ctx.facts
        for call, how, problem in value_problems(facts):
            if problem.kind != "lossy":
                continue
            through = f" (through `{problem.through}`)" if problem.through else ""
            shown = call_text(call.receiver, call.verb, call.key)
            if problem.what == "is a tuple":
                fix = None
                node = problem.node
                if isinstance(node, cst.Tuple):
                    # Only the brackets change: the elements keep their layout and comments.
                    if len(node.lpar) == 1:
                        edits = (EditSpec("outer_first", node, "["), EditSpec("outer_last", node, "]"))
                    elif not node.lpar:
                        edits = (EditSpec("insert", node, "["), EditSpec("append", node, "]"))
                    else:  # ((1, 2)): the list replaces every pair of parentheses
                        edits = (EditSpec("replace_outer", node, facts.module.code_for_node(cst.List(elements=node.elements))),)
                    fix = FixSpec("Save a list instead of a tuple", edits, safe=problem.through is None)
                yield Report(self.code, problem.node, f"`{problem.where}` is a tuple{origin(how)}{through}: it loads back as a list after `{shown}`", fix)
            elif problem.what.startswith("has the keys"):
                yield Report(
                    self.code,
                    problem.node,
                    f"`{problem.where}` {problem.what}{origin(how)}{through}: one entry would be lost, so "
                    f"`{shown}` raises and writes nothing",
                )
            else:
                key_source = problem.what.rsplit(" ", 1)[-1]
                yield Report(
                    self.code,
                    problem.node,
                    f"`{problem.where}` {problem.what}{origin(how)}{through}: it loads back as {_as_loaded(key_source)} after `{shown}`",
                )
