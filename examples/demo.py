"""``make demo``: run the example project's plugins against the runtime and show what they stored.

What happens, as the Cat would do it:

1. start-up: resolve the project's database (its ``config.py``), import
   every plugin, fire the bootstrap hooks (no request in flight);
2. a few requests from two users and an anonymous visitor: agent turns
   (``before_agent_run``), tool calls and endpoint calls, each inside
   ``cat.request_context``; then 50 simultaneous turns, to show that
   ``update`` counts every one of them;
3. a look at the database with ``cat-store``, as a person would take it.

The database is ``examples/data/core/core.db``, recreated on every run.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parent
sys.path.insert(0, str(EXAMPLES.parent / "runtime"))  # runs from a checkout even without `pip install -e`

import cat  # noqa: E402
from cat import endpoints  # noqa: E402
from cat_lint.project import cli  # noqa: E402  (cat-store, with the tools)
from cat_lint.project.location import resolve_database  # noqa: E402

ALICE = ("7d6c1f0e-5a44-4d2b-9a8e-1b5c1e2f3a40", "Alice", ("user",))
BOB = ("b1e5a9d2-3c7f-4e8a-a0b4-6f2d9c8e7a51", "Bob", ("admin",))


def title(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, 68 - len(text)))


async def call(method: str, path: str, payload: Any = None) -> Any:
    """Call a plugin's endpoint as the Cat's router would, enforcing its role."""
    found = next((e for e in endpoints.endpoints() if e.method == method and e.path == path), None)
    if found is None:
        raise LookupError(f"no endpoint {method} {path}")
    request = cat.context.current_request()
    if found.role is not None:
        roles = set(request.roles) if request and request.user_id else None
        needed = {found.role} if isinstance(found.role, str) else set(found.role)
        if roles is None:
            return "401 Unauthorized (log in first)"
        if "authenticated" not in needed and "admin" not in roles and not roles & needed:
            return f"403 Forbidden (needs role {found.role!r})"
    return await (found.function(payload) if payload is not None else found.function())


async def run_tool(name: str, text: str) -> str:
    found = next(t for t in endpoints.tools() if t.name == name)
    return await found.function(text)


async def agent_turn(message: str) -> dict:
    """What the Cat does around an agent run: pipe a context through the hooks."""
    return await cat.execute_hook("before_agent_run", {"message": message})


async def main() -> None:
    shutil.rmtree(EXAMPLES / "data", ignore_errors=True)
    # The project's own config.py decides, whatever CAT_SQL says in this shell.
    location = resolve_database(project=EXAMPLES, environ={})
    cat.configure(sql=location.url, project=EXAMPLES)

    title("start-up")
    cat.load_plugins(EXAMPLES / "plugins")
    print("database :", location.describe())
    known = (*cat.hooks.BOOTSTRAP_HOOKS, "before_agent_run", "after_agent_run")
    print("hooks    :", ", ".join(f"{name} x{len(cat.hooks.handlers(name))}" for name in known if cat.hooks.handlers(name)))
    print("endpoints:", ", ".join(f"{e.method} {e.path}" for e in endpoints.endpoints()))
    print("tools    :", ", ".join(t.name for t in endpoints.tools()))
    await cat.bootstrap()
    print("bootstrap hooks ran with no request in flight")

    title("Alice's requests")
    with cat.request_context(*ALICE):
        print("turn     ->", await agent_turn("hi"))
        print("tool     ->", await run_tool("add_todo", "buy milk"))
        print("tool     ->", await run_tool("add_todo", "water the plants"))
        print("PUT  /preferences ->", await call("PUT", "/preferences", {"language": "it"}))
        print("POST /todos/done  ->", await call("POST", "/todos/done", {"text": "buy milk"}))
        print("tool     ->", await run_tool("list_todos", ""))
        print("turn     ->", await agent_turn("ciao"))
        print("DELETE /todos     ->", await call("DELETE", "/todos"))

    title("Bob's requests")
    with cat.request_context(*BOB):
        print("turn     ->", await agent_turn("hello"))
        print("tool     ->", await run_tool("add_todo", "renew the certificate"))
        print("tool     ->", await run_tool("add_todo", "rotate the logs"))
        print("GET  /todos       ->", await call("GET", "/todos"))
        print("DELETE /todos     ->", await call("DELETE", "/todos"))
        print("tool     ->", await run_tool("list_todos", ""))

    title("an anonymous visitor")
    with cat.request_context(None):
        print("GET  /visits      ->", await call("GET", "/visits"))
        print("GET  /visits/mine ->", await call("GET", "/visits/mine"))

    title("50 simultaneous turns, 25 each")

    async def turn_as(who: tuple) -> None:
        with cat.request_context(*who):
            await agent_turn("again")

    await asyncio.gather(*(turn_as(ALICE if i % 2 else BOB) for i in range(50)))
    with cat.request_context(*ALICE):
        mine = await call("GET", "/visits/mine")
    with cat.request_context(None):
        total = await call("GET", "/visits")
    verdict = "none lost" if (total["total"], mine["visits"]) == (3 + 50, 2 + 25) else "SOME LOST"
    print(f"total visits {total['total']} (expected 3 + 50), Alice's {mine['visits']} (expected 2 + 25): {verdict}")
    await cat.close()

    title("what got stored (cat-store keys)")
    cli.main(["--sql", location.url, "--project", str(EXAMPLES), "keys"])
    title(f"cat-store get todos --user {ALICE[0]}")
    cli.main(["--sql", location.url, "--project", str(EXAMPLES), "get", "todos", "--user", ALICE[0]])


if __name__ == "__main__":
    asyncio.run(main())
