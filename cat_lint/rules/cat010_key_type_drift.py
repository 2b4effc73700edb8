"""CAT010: a key whose JSON type disagrees between the code's places, or with the database."""

from __future__ import annotations

import json
from typing import Iterable

from cat_lint.filenames import printable
from cat_lint.findings import Edit, Finding, Fix, KeyUse
from cat_lint.keys import KeyIndex
from cat_lint.rules._base import IndexRule, Invalid, block

# How messages say a JSON type, and which types cannot stand for each other (integer and number can).
TYPE_NAMES = {
    "array": "a list", "object": "a dict", "string": "a string", "integer": "an integer", "number": "a number",
    "boolean": "a boolean", "null": "null",
}
_KIND = {"integer": "number"}
# The calls whose type is what the key holds: a save's value, and an update's default (what
# its function starts from when the key is missing; it writes what the function returns).
_WRITES = ("save", "update")
# An empty value of each type, what the fix puts in place of a default of the wrong type.
_EMPTY = {"array": "[]", "object": "{}", "string": '""', "integer": "0", "number": "0", "boolean": "False"}


def kind(json_type: str) -> str:
    return _KIND.get(json_type, json_type)

def _how(use: KeyUse) -> str:
    name = TYPE_NAMES.get(use.json_type or "", use.json_type or "")
    if use.verb == "save":
        return f"saved as {name}"
    return f"{'loaded' if use.verb == 'load' else 'updated'} with {name} default"


def _where(use: KeyUse) -> str:
    return f"{printable(use.path)}:{use.span.start_line}"  # a message is a line of text


#: How many of the other places a finding lists as related locations; its message counts them all.
MAX_RELATED = 20


def _typed_writes(index, key: str, scope: str) -> list[KeyUse]:
    return [u for u in index.typed_uses(key, scope) if u.verb in _WRITES and u.json_type != "null"]


def _saved_kinds(index, key: str, scope: str) -> frozenset[str]:
    """The kinds every save (and update default) of ``key`` in the code writes, derived once per index state."""
    memo = index.memo(KeyTypeDrift.code)
    found = memo.get((scope, key))
    if found is None:
        found = memo[(scope, key)] = frozenset(kind(u.json_type) for u in _typed_writes(index, key, scope))
    return found


def _other_writes(index, key: str, scope: str, mine: str) -> tuple[int, tuple[KeyUse, ...]]:
    """How many writes of ``key`` are of another kind than ``mine``, and the first ``MAX_RELATED`` of them.

    Every use of a key asks this; the answer is the same for every use of
    one kind, so it is derived once per kind: 20,000 saves of one key cost
    as much as 20,000 keys saved once, not 20,000 squared.
    """
    memo = index.memo(KeyTypeDrift.code)
    found = memo.get((scope, key, mine))
    if found is None:
        others = [u for u in _typed_writes(index, key, scope) if kind(u.json_type) != mine]
        found = memo[(scope, key, mine)] = (len(others), tuple(others[:MAX_RELATED]))
    return found


def _database(use: KeyUse, held) -> tuple[str, int] | None:
    """The type the database holds most that disagrees with ``use``, with how many users hold it."""
    if held is None:
        return None
    _users, types = held
    others = [(t, n) for t, n in types if t != "null" and kind(t) != kind(use.json_type or "")]
    return max(others, key=lambda pair: pair[1]) if others else None


class KeyTypeDrift(IndexRule):
    code = "CAT010"
    name = "key-type-drift"
    summary = "A key's JSON type disagrees between places in the code, or with what the database holds."
    fixable = "sometimes"
    what = """
        Reports a literal key whose JSON type disagrees:

        - saved as one type in one place and as another elsewhere (a list here, a dict there);
          an `update`'s default counts as what it saves, since its function starts from it;
        - loaded with a default of one type while the code saves another type
          (`user.load("todos", {})` where `user.save("todos", [...])`);
        - saved, or loaded with a default, of one type while the database holds another for
          the key. For a per-user key every type seen across users counts, with how many users
          hold it: "the database holds a list in 37 of 40 users", or "a dict in 3 of 40 users"
          for old data the code no longer expects.

        Literal values, defaults and simple constructors decide the type (`[]`, `{}`,
        `list(...)`, `dict(...)`, numbers, strings, `True`/`False`, comprehensions), also
        through a local name assigned once. Integers and floats are both numbers. `None` and
        anything the code does not say plainly never conflict. Like CAT006 it looks at the
        whole linted tree and at the project's database.
    """
    why = """
        A key holds whatever was saved last. When two places disagree on its type, the code
        written for one type meets the other: `todos.append(...)` on a dict, `counts["hits"]`
        on a list. It does not fail where the mistake is but later, in production, for the
        users whose data was written by the other place or by an older version of the plugin.
    """
    example = """
        from cat import user

        async def add_todo(text):
            todos = await user.load("todos", {})     # CAT010: saved as a list below
            await user.save("todos", [text])
    """
    use_instead = """
        from cat import user

        async def add_todo(text):
            todos = await user.load("todos", [])
            await user.save("todos", todos + [text])
    """
    fix_text = """
        Decide on one type for the key and use it everywhere; convert old data once (a
        bootstrap hook that loads, converts and saves the key, or `cat-store`). When a default
        of a load disagrees with the one type every save (and update default) in the code writes (or, when no code saves
        the key, with the one type the database holds), the finding offers a fix that
        replaces the default with an empty value of the saved type; it is offered, never applied
        by `--fix`, because the code after the load may rely on the old default.
    """
    limits = """
        Only literal keys, and types the code states plainly. The database's types are read
        when the run starts (the language server follows the database as it changes); values
        are typed by their first characters, as `cat-store` lists them.
    """
    VALID = (
        block("""
            from cat import user

            async def f(text):
                todos = await user.load('todos', [])
                await user.save('todos', todos + [text])
        """),
        block("""
            from cat import store

            async def f(n):
                await store.save('count', 1)
                await store.save('count', 2.5)
                return await store.load('count', 0)
        """),
        block("""
            from cat import store

            async def f(value):
                await store.save('theme', value)
                await store.save('theme', None)
                return await store.load('theme', 'light')
        """),
        block("""
            from cat import store, user

            async def f():
                await store.save('todos', {})
                await user.save('todos', [])
        """),
    )
    INVALID = (
        Invalid(
            block("""
                from cat import user

                async def f(text):
                    todos = await user.load('todos', {})
                    await user.save('todos', [text])
            """),
            4, 28,
            'the key "todos" is loaded with a dict default here, but saved as a list in plugin.py:5: '
            "code written for one type fails on the other",
            fixed=block("""
                from cat import user

                async def f(text):
                    todos = await user.load('todos', [])
                    await user.save('todos', [text])
            """),
        ),
        Invalid(
            block("""
                from cat import store

                async def f(items):
                    await store.save('index', list(items))


                async def g(items):
                    await store.save('index', {i: True for i in items})
            """),
            8, 21,
            'the key "index" is saved as a dict here, but saved as a list in plugin.py:4: '
            "code written for one type fails on the other",
            count=2,
        ),
        Invalid(
            block("""
                from cat import store

                async def f():
                    empty = {}
                    await store.save('cache', empty)
                    await store.save('cache', 'none')
            """),
            5, 21,
            count=2,
        ),
    )

    def check_uses(self, key_uses: Iterable[KeyUse], index: KeyIndex) -> Iterable[Finding]:
        db_keys = index.db_keys
        for use in key_uses:
            if use.json_type is None or use.json_type == "null":
                continue
            # The places that write another kind (never ``use`` itself, which writes its own).
            count, others = _other_writes(index, use.key, use.scope, kind(use.json_type))
            held = db_keys.held(use.key, use.scope) if db_keys is not None else None
            stored = _database(use, held)
            if not count and stored is None:
                continue
            parts = []
            if count:
                first = others[0]
                more = f" (and {count - 1} more place{'s' if count > 2 else ''})" if count > 1 else ""
                parts.append(f"{_how(first)} in {_where(first)}{more}")
            if stored is not None:
                name = TYPE_NAMES.get(stored[0], stored[0])
                if use.scope == "user":
                    parts.append(f"the database holds {name} in {stored[1]} of {held[0]} users")
                else:
                    parts.append(f"the database holds {name}")
            message = (
                f"the key {json.dumps(use.key, ensure_ascii=False)} is {_how(use)} here, but "
                f"{', and '.join(parts)}: code written for one type fails on the other"
            )
            related = tuple((o.path, o.span, f"{_how(o)} here") for o in others)
            yield Finding(self.code, message, use.path, use.span, self._fix(use, index, held), related=related)

    @staticmethod
    def _fix(use: KeyUse, index, held) -> Fix | None:
        """A load's default replaced by an empty value of the one type every save in the code writes
        (without saves in the code, the one type the database holds)."""
        if use.verb != "load" or use.value_span is None:
            return None
        saved = set(_saved_kinds(index, use.key, use.scope))
        if not saved and held is not None:  # no save in the code: what the database holds decides
            saved = {kind(t) for t, _n in held[1] if t != "null"}
        if len(saved) != 1:
            return None
        (target,) = saved
        empty = _EMPTY.get(target)
        if empty is None or target == kind(use.json_type or ""):
            return None
        return Fix(f"Use {empty} as the default", (Edit(use.value_span, empty),), safe=False)
