"""CAT010 across a project and against a database the runtime wrote."""

from __future__ import annotations

import asyncio
import json

import cat

from cli_support import make_project, run_cli


SAVES_A_LIST = "from cat import user\n\n\nasync def add(text):\n    await user.save('todos', [text])\n"
LOADS_A_DICT = "from cat import user\n\n\nasync def show():\n    todos = await user.load('todos', {})\n    return todos\n"
LOADS_A_LIST = "from cat import user\n\n\nasync def show():\n    return await user.load('todos', [])\n"


def findings(project) -> list[dict]:
    proc = run_cli(["--no-cache", "--output-format", "json", "--select", "CAT010"], project)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def write_users(project, values: dict[str, object]) -> None:
    """Each user's `todos`, saved by the runtime in that user's request."""
    cat.configure(sql=f"sqlite:///{project}/state/core.db")

    async def main() -> None:
        try:
            for user_id, value in values.items():
                async with cat.request_context(user_id):
                    await cat.user.save("todos", value)
        finally:
            await cat.close()

    asyncio.run(main())


def test_a_default_that_disagrees_with_a_save_in_another_file(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": SAVES_A_LIST, "plugins/b.py": LOADS_A_DICT})
    (found,) = findings(project)
    assert found["filename"].endswith("plugins/b.py") and found["location"]["row"] == 5
    assert found["message"] == (
        'the key "todos" is loaded with a dict default here, but saved as a list in plugins/a.py:5: '
        "code written for one type fails on the other"
    )
    # The fix is offered, not applied by --fix.
    assert found["fix"] is not None and found["fix"]["applicability"] != "safe"
    proc = run_cli(["--no-cache", "--fix", "--select", "CAT010"], project)
    assert (project / "plugins" / "b.py").read_text() == LOADS_A_DICT and proc.returncode == 1
    proc = run_cli(["--no-cache", "--fix", "--unsafe-fixes", "--select", "CAT010"], project)
    assert "user.load('todos', [])" in (project / "plugins" / "b.py").read_text(), proc.stdout + proc.stderr


def test_the_database_holds_another_type_in_most_users(tmp_path):
    project = make_project(tmp_path, {"plugins/b.py": LOADS_A_DICT}, config='database = "sqlite:///state/core.db"')
    assert findings(project) == []
    write_users(project, {f"user-{i}": ([f"task {i}"] if i < 37 else {"old": True}) for i in range(40)})
    (found,) = findings(project)
    assert found["message"] == (
        'the key "todos" is loaded with a dict default here, but the database holds a list in 37 of 40 users: '
        "code written for one type fails on the other"
    )


def test_code_and_database_that_agree_are_clean(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": SAVES_A_LIST, "plugins/b.py": LOADS_A_LIST},
                           config='database = "sqlite:///state/core.db"')
    write_users(project, {f"user-{i}": [] for i in range(5)} | {"user-5": None})
    assert findings(project) == []


# --- issue 16, item 8: many uses of one key cost linear work ------------------------------------------

def _saves(count: int, value: str = "[]", key: str = "k") -> str:
    body = "".join(f"    await store.save({key!r}, {value})\n" for _ in range(count))
    return "from cat import store\n\n\nasync def f():\n" + body


def test_many_saves_of_one_key_give_the_right_findings(tmp_path):
    project = make_project(tmp_path, {"plugins/lists.py": _saves(300), "plugins/dict.py": _saves(1, "{}")})
    found = findings(project)
    assert len(found) == 301
    (odd,) = [f for f in found if f["filename"].endswith("dict.py")]
    assert odd["message"] == ('the key "k" is saved as a dict here, but saved as a list in plugins/lists.py:5 '
                              "(and 299 more places): code written for one type fails on the other")
    lists = [f for f in found if f["filename"].endswith("lists.py")]
    assert {f["message"] for f in lists} == {
        'the key "k" is saved as a list here, but saved as a dict in plugins/dict.py:5: '
        "code written for one type fails on the other"}
    proc = run_cli(["--no-cache", "--output-format", "sarif", "--select", "CAT010", "plugins/dict.py"], project)
    (result,) = json.loads(proc.stdout)["runs"][0]["results"]
    related = result["relatedLocations"]  # the first places, not all 300: the message counts the rest
    assert [r["physicalLocation"]["region"]["startLine"] for r in related] == list(range(5, 5 + len(related)))
    assert 0 < len(related) < 300


def _work(sources: dict[str, str]) -> int:
    """Bytecode instructions run by the project pass of CAT010 (its rule module and the key index) over ``sources``.

    Counting instructions, not seconds: the same input always costs the
    same count, so how the count grows with the input shows the algorithm.
    """
    import sys

    from cat_lint.engine import check_project, check_source
    from cat_lint.keys import KeyIndex
    from cat_lint.settings import Settings

    settings = Settings(select=("CAT010",))
    results = [check_source(text, path, settings) for path, text in sources.items()]
    index = KeyIndex()
    for result in results:
        index.set_file(result.path, result.key_uses)
    watched = ("cat010_key_type_drift.py", "keys.py")
    count = 0

    def trace(frame, event, arg):
        nonlocal count
        if not frame.f_code.co_filename.endswith(watched):
            return None
        frame.f_trace_opcodes = True
        if event == "opcode":
            count += 1
        return trace

    sys.settrace(trace)
    try:
        check_project(results, settings, index)
    finally:
        sys.settrace(None)
    return count


def test_the_work_on_many_saves_of_one_key_grows_linearly():
    for value in ("[]", "{}"):  # the same type everywhere (no finding), then half of them another type
        small = _work({"a.py": _saves(200), "b.py": _saves(200, value)})
        large = _work({"a.py": _saves(400), "b.py": _saves(400, value)})
        assert large < 2.5 * small, f"twice the saves cost {large / small:.1f} times the work (values {value})"
