"""The key explorer where the database is missing, and in a multi-root workspace,
in code-server (tests/vscode/explorer.mjs reads the view; the assertions are here)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from vscode_support import EXTENSION, code_server_session, example_project

pytestmark = pytest.mark.slow

SAVES_ONE_KEY = 'from cat import hook, store\n\n\n@hook\nasync def after_cat_bootstrap(cat):\n    await store.save("b_started", True)\n'


def read_view(workspace: Path, served: Path, tmp_path: Path, name: str) -> dict:
    screenshots = Path(os.environ.get("CAT_E2E_SCREENSHOTS", tmp_path))
    screenshots.mkdir(parents=True, exist_ok=True)
    with code_server_session(served, tmp_path / f"code-server-{name}") as session:
        env = dict(session.env, WORKSPACE=str(workspace), SCREENSHOTS=str(screenshots), NAME=name)
        result = subprocess.run(["node", str(Path(__file__).with_name("explorer.mjs"))], env=env, cwd=EXTENSION,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr[-3000:]}\n(screenshots in {screenshots})"
        return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_project_without_database_explains_where_it_was_looked_for(tmp_path: Path):
    project = tmp_path / "fresh"
    (project / "plugins" / "empty").mkdir(parents=True)
    (project / "plugins" / "empty" / "plugin.py").write_text("def nothing():\n    return None\n", encoding="utf-8")
    view = read_view(project, project, tmp_path, "no-database")
    assert view["rows"] == []
    assert "No database to read for this project" in view["welcome"]
    assert "else SQL in the project's config.py" in view["welcome"]
    assert f"no database at {project / 'data' / 'core' / 'core.db'} (from the default)" in view["notification"]


def test_one_section_per_cat_project_of_a_multi_root_workspace(tmp_path: Path):
    example = example_project(tmp_path / "example")
    other = tmp_path / "other"
    (other / "plugins" / "b").mkdir(parents=True)
    (other / "plugins" / "b" / "plugin.py").write_text(SAVES_ONE_KEY, encoding="utf-8")
    docs = tmp_path / "notes"  # not a Cat project: no section
    docs.mkdir()
    (docs / "readme.txt").write_text("notes\n", encoding="utf-8")
    workspace = tmp_path / "all.code-workspace"
    workspace.write_text(json.dumps({"folders": [{"path": str(example)}, {"path": str(other)}, {"path": str(docs)}]}),
                         encoding="utf-8")
    view = read_view(workspace, example, tmp_path, "multi-root")
    rows = view["rows"]
    sections = [r for r in rows if r.startswith(("example", "other", "notes"))]
    assert [s[:5] for s in sections] == ["examp", "other"], rows
    assert "core.db" in sections[0]
    assert "no database" in sections[1]
    assert any(r.startswith("welcome_greetings") for r in rows), rows
    assert any(r.startswith("b_started") and "not in the database yet" in r for r in rows), rows
