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
