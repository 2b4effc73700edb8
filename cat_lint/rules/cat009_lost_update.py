"""CAT009: a value loaded, computed on and saved back, which loses updates when requests overlap."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import libcst as cst

from cat_lint.rules._base import EditSpec, FileRule, FixSpec, Invalid, Report, RuleContext, block, call_text, literal_text
from cat_lint.name_resolution import bound_values, import_bindings, pattern_captures, target_names
from cat_lint.facts import FunctionInfo, ModuleFacts, StoreCall, code_nodes

# Calls an update function may make and stay a plain, quick computation of the old value.
_PURE_BUILTINS = frozenset({
    "abs", "all", "any", "bool", "dict", "float", "int", "len", "list", "max", "min", "round", "sorted", "str", "sum",
})
# What an `async with` must be named like to count as a lock: `lock`, `self._counter_lock`, `LOCKS[key]`.
_LOCK_WORDS = ("lock", "mutex", "semaphore")
_LOCK_CLASSES = frozenset({"Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition"})


@dataclass(eq=False)
class _Statement:
    """A simple statement (or a compound statement's header) of the function, in document order."""

    node: cst.CSTNode  # the small statement, or the header expression of a compound statement
    line: cst.SimpleStatementLine | None  # the line it stands on, when it is alone on it
    block: int  # id of the block holding it
    blocks: tuple[int, ...]  # the blocks around it, outermost first (``block`` last)
    index: int  # its position in that block
    locks: frozenset[int]  # the lock-like `async with` statements around it
    binds: tuple[str, ...] = ()  # names a compound statement binds here with no value (`for x`, `as x`, `case x`, `def x`)


@dataclass(eq=False)
class _Body:
    """The statements of one function (nested defs, classes and lambdas left out)."""

    statements: list[_Statement] = field(default_factory=list)
    # id of a statement node as the collector numbers them (``ModuleFacts.units``) -> our statements in it
    by_unit: dict[int, list[int]] = field(default_factory=dict)
    _path: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, function: cst.FunctionDef) -> _Body:
        body = cls()
        body._block(function.body, frozenset(), function)
        return body

    def _add(self, node: cst.CSTNode, line, index: int, locks: frozenset[int], unit: cst.CSTNode,
             binds: tuple[str, ...] = (), holds_code: bool = True) -> None:
        if holds_code:
            self.by_unit.setdefault(id(unit), []).append(len(self.statements))
        self.statements.append(_Statement(node, line, self._path[-1], tuple(self._path), index, locks, binds))

    def _block(self, block: cst.BaseSuite | cst.CSTNode, locks: frozenset[int], owner: cst.CSTNode,
               binds: tuple[str, ...] = (), at: cst.CSTNode | None = None) -> None:
        """The statements of a block; ``binds``: names bound on entering it (a loop target, an
        except or case capture), recorded at its start, node ``at``."""
        self._path.append(id(block))
        try:
            if binds:
                self._add(at, None, -1, locks, owner, binds, holds_code=False)
            if isinstance(block, cst.If):  # an `elif`: a block of its own, holding one statement
                self._statement(block, 0, locks)
            elif isinstance(block, cst.SimpleStatementSuite):  # `if x: a; b`: the collector counts it in the `if`
                for index, small in enumerate(block.body):
                    self._add(small, None, index, locks, owner)
            else:
                for index, stmt in enumerate(block.body):
                    self._statement(stmt, index, locks)
        finally:
            self._path.pop()

    def _statement(self, stmt: cst.CSTNode, index: int, locks: frozenset[int]) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            alone = stmt if len(stmt.body) == 1 else None
            for small in stmt.body:
                self._add(small, alone, index, locks, stmt)
            return
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            # It binds its name here; its body runs later, or is another scope.
            self._add(stmt.name, None, index, locks, stmt, (stmt.name.value,), holds_code=False)
            return
        header = lambda node: self._add(node, None, index, locks, stmt)  # noqa: E731
        if isinstance(stmt, cst.If):
            header(stmt.test)
            self._block(stmt.body, locks, stmt)
            if stmt.orelse is not None:
                self._block(stmt.orelse if isinstance(stmt.orelse, cst.If) else stmt.orelse.body, locks, stmt)
        elif isinstance(stmt, (cst.For, cst.While)):
            header(stmt.iter if isinstance(stmt, cst.For) else stmt.test)
            targets = tuple(target_names(stmt.target)) if isinstance(stmt, cst.For) else ()
            self._block(stmt.body, locks, stmt, targets, getattr(stmt, "target", None))
            if stmt.orelse is not None:
                self._block(stmt.orelse.body, locks, stmt)
        elif isinstance(stmt, cst.With):
            held = locks
            for item in stmt.items:
                names = tuple(target_names(item.asname.name)) if item.asname is not None else ()
                self._add(item.item, None, index, locks, stmt, names)
                if stmt.asynchronous is not None and _is_lock(item.item):
                    held = held | {id(stmt)}
            self._block(stmt.body, held, stmt)
        elif isinstance(stmt, (cst.Try, getattr(cst, "TryStar", cst.Try))):
            self._block(stmt.body, locks, stmt)
            for handler in stmt.handlers:
                name = handler.name.name if handler.name is not None else None
                self._block(handler.body, locks, stmt, tuple(target_names(name)) if name is not None else (), name)
            for part in (stmt.orelse, stmt.finalbody):
                if part is not None:
                    self._block(part.body, locks, stmt)
        elif isinstance(stmt, getattr(cst, "Match", ())):
            header(stmt.subject)
            for case in stmt.cases:
                self._block(case.body, locks, stmt, pattern_captures(case.pattern), case.pattern)
        else:  # anything else: its expressions still count as a statement
            header(stmt)

    def find(self, node: cst.CSTNode, facts: ModuleFacts) -> int | None:
        """The index of the statement holding ``node``: through the statement the collector
        recorded for it (``ModuleFacts.tops``), searching only when that leaves a choice."""
        unit = facts.tops.get(id(node))
        numbers = self.by_unit.get(id(facts.units[unit])) if unit is not None and 0 <= unit < len(facts.units) else None
        if numbers is not None and len(numbers) == 1:
            return numbers[0]
        for number in numbers if numbers is not None else range(len(self.statements)):
            if _contains(self.statements[number].node, node):
                return number
        return None


def _is_lock(expr: cst.BaseExpression) -> bool:
    """A lock shared by the calls: `lock`, `self._lock`, `locks[key]`, `lock_for(key)`; not a new
    `asyncio.Lock()` made on the spot, which every request would hold alone."""
    made = isinstance(expr, cst.Call)
    if made:
        expr = expr.func
    if isinstance(expr, cst.Subscript):
        expr = expr.value
    name = expr.attr.value if isinstance(expr, cst.Attribute) else expr.value if isinstance(expr, cst.Name) else ""
    if made and name in _LOCK_CLASSES:
        return False
    return any(word in name.lower() for word in _LOCK_WORDS)


_walk = code_nodes  # every node of an expression or statement, lambdas and comprehensions included


def _contains(tree: cst.CSTNode, node: cst.CSTNode) -> bool:
    return any(item is node for item in _walk(tree))


def _names_read(node: cst.CSTNode) -> set[str]:
    """The plain names an expression reads (attribute names and keywords are not names)."""
    skip: set[int] = set()
    names: set[str] = set()
    for item in _walk(node):
        if isinstance(item, cst.Attribute):
            skip.add(id(item.attr))
        elif isinstance(item, cst.Arg) and item.keyword is not None:
            skip.add(id(item.keyword))
        elif isinstance(item, cst.Name) and id(item) not in skip:
            names.add(item.value)
    return names


def _bindings(statement: _Statement) -> list[tuple[str, cst.BaseExpression | None]]:
    """``(name, the expression it is bound to, or None)`` for each name a statement binds, by any form.

    Assignments (chained and unpacking too, each name its part), ``+=``
    (the added value), walrus expressions anywhere in it (also in a
    comprehension, whose walrus binds in the function), imports, and what
    a compound statement binds with no value (``statement.binds``).
    """
    node = statement.node
    pairs: list[tuple[str, cst.BaseExpression | None]] = [(name, None) for name in statement.binds]
    if isinstance(node, cst.Assign):
        for target in node.targets:
            pairs.extend(bound_values(target.target, node.value))
    elif isinstance(node, cst.AnnAssign) and node.value is not None:
        pairs.extend(bound_values(node.target, node.value))
    elif isinstance(node, cst.AugAssign) and isinstance(node.target, cst.Name):
        pairs.append((node.target.value, node.value))
    elif isinstance(node, (cst.Import, cst.ImportFrom)):
        pairs.extend((bound, None) for bound, _q, _a in import_bindings(node))
    for item in _walk(node):
        if isinstance(item, cst.NamedExpr) and isinstance(item.target, cst.Name):
            pairs.append((item.target.value, item.value))
    return pairs


def _same_key(facts: ModuleFacts, a: cst.BaseExpression | None, b: cst.BaseExpression | None) -> bool:
    if a is None or b is None:
        return False
    text_a, text_b = literal_text(a), literal_text(b)
    if text_a is not None or text_b is not None:
        return text_a == text_b
    return facts.module.code_for_node(a) == facts.module.code_for_node(b)


def _runs_once(function: FunctionInfo, hooks: Iterable[str]) -> bool:
    hooks = set(hooks)
    return any(f.hook_name in hooks for f in function.chain())


class LostUpdate(FileRule):
    code = "CAT009"
    name = "lost-update"
    summary = "A key is loaded, computed on and saved back: requests that overlap lose each other's updates."
    fixable = "sometimes"
    what = """
        Reports a `load` of a key followed, in the same function, by a `save` of the same key
        to the same store, when the saved value is computed from what was loaded (the loaded
        name itself, edited in place or with `+=`, or a name assigned from it).  A name
        assigned anew on the way to the save (`value = await fetch()` when nothing was
        stored: a cache being filled) no longer carries what was loaded.  `store` and `user` are
        resolved through imports, as every rule does.

        It is reported for `store`, which every user's requests share.  For `user`, only one
        user's overlapping requests can race (two tabs, a retried request, tasks started by
        one request), so it is reported only with `lost-update-user = true` in
        `[tool.cat-lint]`.

        It is not reported where the code is already serialised: both calls inside one
        `async with` of a lock (a name containing `lock`, `mutex` or `semaphore`, such as
        `async with counter_lock:`, `async with self._lock:` or `async with locks[key]:`;
        not `async with asyncio.Lock():`, a new lock that each request holds alone), or in a
        bootstrap hook (and functions nested in it), which runs once at start-up with no
        request in flight.
        `update` is the atomic way and is never reported.
    """
    why = """
        `load` and `save` are two separate round trips to the database, and the event loop
        runs other requests between them. Two requests that overlap both load the same value,
        both compute from it, and the second save overwrites the first: one visit, one to-do,
        one vote is silently lost. Measured with the runtime (`bench/store.py`), 192 concurrent
        load-and-save increments of one counter kept only 3.
    """
    example = """
        from cat import store

        async def count_visit():
            count = await store.load("visits", 0)   # CAT009: overlapping requests lose visits
            await store.save("visits", count + 1)
    """
    use_instead = """
        from cat import store

        async def count_visit():
            return await store.update("visits", lambda count: count + 1, default=0)
    """
    fix_text = """
        Use `update`, which reads and writes in one step while the database is locked:

        ```python
        count = await store.update("visits", lambda count: count + 1, default=0)
        ```

        The fix does this rewrite when the save is the statement right after the load and
        saves a single expression of the loaded value (no `await` in it).  The variable is
        kept, and now holds the value that was saved.  The fix is applied by `--fix` and by
        the editor's fix-all only when that cannot change what the function does; otherwise it
        is offered, to review, and not applied in bulk:

        - when the loaded name is read after the save: there it held the old value, after the
          fix it holds the new one (which is usually what was meant, but not always);
        - when the expression calls a function other than a few pure builtins (`len`, `min`,
          `max`, `sorted`...): an update function runs while the database is locked, so it
          must be quick and must not wait on anything;
        - when the save's line carries a comment, which the fix would remove.

        No fix is offered, and the message says why, when the value is edited by statements
        between the load and the save (`todos.append(...)`), when the save is conditional or
        in another block than the load, or when computing the value awaits: move that
        computation into a plain function and pass it to `update`
        (`await user.update("todos", lambda todos: todos + [item], default=[])`), or hold a
        lock around both calls. A conditional save becomes an update function that returns
        the old value unchanged when the condition does not hold; note that it then writes
        the same value back.
    """
    limits = """
        A lock is recognised by name only, and an `asyncio.Lock` serialises the tasks of one
        process: with several worker processes only `update` is atomic. Keys are compared as
        literals, or as the same expression written the same way (`f"count_{day}"`).
    """
    VALID = (
        block("""
            from cat import store

            async def f():
                await store.update('visits', lambda n: n + 1, default=0)
        """),
        block("""
            import asyncio
            from cat import store

            LOCK = asyncio.Lock()

            async def f():
                async with LOCK:
                    count = await store.load('visits', 0)
                    await store.save('visits', count + 1)
        """),
        block("""
            from cat import hook, store

            @hook
            async def after_cat_bootstrap(cat):
                count = await store.load('starts', 0)
                await store.save('starts', count + 1)
                return cat
        """),
        block("""
            from cat import user

            async def f():
                count = await user.load('visits', 0)
                await user.save('visits', count + 1)
        """),
        block("""
            from cat import store

            async def f(theme):
                old = await store.load('theme')
                await store.save('theme', theme)
                return old
        """),
        block("""
            from cat import store

            async def f():
                count = await store.load('visits', 0)
                await store.save('last_visits', count + 1)
        """),
        block("""
            from cat import store

            async def f():
                await store.save('visits', 0)
                return await store.load('visits')
        """),
        block("""
            from cat import store

            async def token(fetch):
                value = await store.load('token')
                if value is None:
                    value = await fetch()
                    await store.save('token', value)
                return value
        """),
    )
    INVALID = (
        Invalid(
            block("""
                from cat import store

                async def f():
                    count = await store.load('visits', 0)
                    await store.save('visits', count + 1)
            """),
            4, 18,
            '`count` is loaded by `store.load("visits")` and a value computed from it is saved by `store.save("visits", ...)`: '
            'requests that overlap both read the same value and all but one of their updates are lost; use `store.update`',
            fixed=block("""
                from cat import store

                async def f():
                    count = await store.update('visits', lambda count: count + 1, default=0)
            """),
        ),
        Invalid(
            block("""
                from cat import store

                async def f():
                    count = await store.load('visits', 0)
                    await store.save('visits', count + 1)
                    return count
            """),
            4, 18,
            fixed=block("""
                from cat import store

                async def f():
                    count = await store.update('visits', lambda count: count + 1, default=0)
                    return count
            """),
        ),
        Invalid(
            block("""
                from cat import user

                async def add(item):
                    todos = await user.load('todos', [])
                    todos.append(item)
                    await user.save('todos', todos)
            """),
            4, 18,
            '`todos` is loaded by `user.load("todos")` and a value computed from it is saved by `user.save("todos", ...)`: '
            "one user's requests that overlap both read the same value and all but one of their updates are lost; "
            "use `user.update` (no automatic fix: statements between the load and the save change the value; "
            "move them into the function given to `update`)",
            settings=(("lost_update_user", True),),
        ),
        Invalid(
            block("""
                import cat

                async def f(name):
                    counts = await cat.store.load('counts', {})
                    if name:
                        counts[name] = counts.get(name, 0) + 1
                        await cat.store.save('counts', counts)
            """),
            4, 19,
        ),
        Invalid(
            block("""
                from cat import store

                async def f(day):
                    seen = await store.load(f'seen_{day}', [])
                    new = sorted(seen + [day])
                    await store.save(f'seen_{day}', new)
            """),
            4, 17,
        ),
        Invalid(
            block("""
                import asyncio
                from cat import store

                async def f():
                    async with asyncio.Lock():
                        count = await store.load('visits', 0)
                        await store.save('visits', count + 1)
            """),
            6, 22,
        ),
        Invalid(
            block("""
                from cat import store

                async def f(n):
                    count = await store.load('hits', 0)
                    count += n
                    await store.save('hits', count)
            """),
            4, 18,
        ),
        Invalid(
            block("""
                from cat import store

                async def f(fetch):
                    count = await store.load('total', 0)
                    await store.save('total', count + await fetch())
            """),
            4, 18,
            '`count` is loaded by `store.load("total")` and a value computed from it is saved by `store.save("total", ...)`: '
            "requests that overlap both read the same value and all but one of their updates are lost; use `store.update` "
            "(no automatic fix: computing the saved value awaits, which an update function cannot do)",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        facts = ctx.facts
        with_user = ctx.settings.lost_update_user
        by_function: dict[int, list[StoreCall]] = {}
        for call in facts.store_calls:
            if call.func is None or call.deferred or call.verb not in ("load", "save"):
                continue
            if call.scope == "user" and not with_user:
                continue
            by_function.setdefault(id(call.func), []).append(call)
        for calls in by_function.values():
            loads = [c for c in calls if c.verb == "load"]
            saves = [c for c in calls if c.verb == "save" and c.value is not None]
            if not loads or not saves:
                continue
            function = calls[0].func
            if _runs_once(function, ctx.settings.bootstrap_hooks):
                continue
            pairs = [(l, s) for l in loads for s in saves if l.scope == s.scope and _same_key(facts, l.key, s.key)]
            if not pairs:
                continue
            body = _Body.of(function.node)
            reported: set[int] = set()
            for load, save in pairs:
                if id(load) in reported:
                    continue
                report = self._pair(facts, body, load, save)
                if report is not None:
                    reported.add(id(load))
                    yield report

    def _pair(self, facts: ModuleFacts, body: _Body, load: StoreCall, save: StoreCall) -> Report | None:
        at_load, at_save = body.find(load.node, facts), body.find(save.node, facts)
        if at_load is None or at_save is None or at_save < at_load:
            return None
        first, last = body.statements[at_load], body.statements[at_save]
        if first.locks & last.locks:
            return None  # one lock held around both calls
        # What carries the loaded value: the names it is bound to, and the names computed from them.
        names = list(dict.fromkeys(name for name, value in _bindings(first)
                                   if value is not None and _contains(value, load.node)))
        carried = set(names)
        for statement in body.statements[at_load + 1:at_save]:
            for bound, value in _bindings(statement):
                if isinstance(statement.node, cst.AugAssign):  # `count += 1` keeps what it had, and adds
                    if bound in carried or (value is not None and _names_read(value) & carried):
                        carried.add(bound)
                elif value is not None and _names_read(value) & carried:
                    carried.add(bound)
                elif last.blocks[:len(statement.blocks)] == statement.blocks:
                    # Rebound on every way to the save (`token = await fetch()` before saving it): the
                    # value saved no longer comes from the load, as in a cache filled when empty.
                    carried.discard(bound)
        if not (_names_read(save.value) & carried) and not _contains(save.value, load.node):
            return None
        name = names[0] if len(names) == 1 else None
        loaded = f"`{name}` is" if name else "the value is"
        who = "requests that overlap" if load.scope == "store" else "one user's requests that overlap"
        message = (
            f"{loaded} loaded by `{call_text(load.receiver, 'load', load.key)}` and a value computed from it is saved by "
            f"`{call_text(save.receiver, 'save', save.key)}`: {who} both read the same value and all but one of "
            f"their updates are lost; use `{load.receiver}.update`"
        )
        fix, reason = self._fix(facts, body, at_load, at_save, load, save, name)
        if fix is None:
            message += f" (no automatic fix: {reason})"
        return Report(self.code, load.node, message, fix)

    def _fix(self, facts: ModuleFacts, body: _Body, at_load: int, at_save: int, load: StoreCall, save: StoreCall,
             name: str | None) -> tuple[FixSpec | None, str]:
        first, last = body.statements[at_load], body.statements[at_save]
        stmt = first.node
        value = stmt.value if isinstance(stmt, (cst.Assign, cst.AnnAssign)) else None
        if (name is None or first.line is None or not isinstance(value, cst.Await) or value.expression is not load.node
                or (isinstance(stmt, cst.Assign) and len(stmt.targets) != 1)):
            return None, f"the load is not a plain `name = await {load.receiver}.load(...)` statement"
        if last.block != first.block:
            return None, "the save is conditional, or in another block than the load"
        if at_save != at_load + 1 or last.index != first.index + 1:
            return None, "statements between the load and the save change the value; move them into the function given to `update`"
        saved = last.node
        if (last.line is None or not isinstance(saved, cst.Expr) or not isinstance(saved.value, cst.Await)
                or saved.value.expression is not save.node):
            return None, "the save is not a plain `await ...save(...)` statement"
        expression = save.value
        nodes = list(_walk(expression))
        if any(isinstance(n, cst.Await) for n in nodes):
            return None, "computing the saved value awaits, which an update function cannot do"
        if any(isinstance(n, (cst.Yield, cst.NamedExpr)) for n in nodes):
            return None, "the saved expression yields or assigns, which a lambda cannot do"
        default = self._default(load)
        if default is ...:
            return None, "the load's arguments are not a key and a default"
        module = facts.module
        receiver = module.code_for_node(load.node.func.value)
        text = f"await {receiver}.update({module.code_for_node(load.key)}, lambda {name}: {module.code_for_node(expression)}"
        text += f", default={module.code_for_node(default)})" if default is not None else ")"
        later_reads = any(name in _names_read(s.node) for s in body.statements[at_save + 1:])
        impure = any(
            isinstance(n, cst.Call) and (facts.resolve_builtin(n.func) or "").removeprefix("builtins.") not in _PURE_BUILTINS
            for n in nodes
        )
        commented = last.line.trailing_whitespace.comment is not None
        safe = not (later_reads or impure or commented)
        edits = (EditSpec("replace", value, text), EditSpec("delete_lines", last.line, ""))
        return FixSpec(f"Use `{receiver}.update`, which cannot lose updates", edits, safe=safe), ""

    @staticmethod
    def _default(load: StoreCall):
        """The load's default expression, ``None`` without one, ``...`` when the arguments are unusual."""
        args = load.node.args
        if any(a.star for a in args):
            return ...
        positional = [a.value for a in args if a.keyword is None]
        keywords = {a.keyword.value: a.value for a in args if a.keyword is not None}
        if set(keywords) - {"key", "default"} or len(positional) > 2:
            return ...
        if len(positional) == 2:
            return positional[1]
        return keywords.get("default")
