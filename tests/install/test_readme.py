"""What the README tells a new user to do works, as written.

* Its example plugin and the test beside it, copied out of the README, pass
  in an environment that holds only the runtime's wheel (with what it
  depends on) and pytest: no pytest-asyncio, no conftest, no configuration.
* Its pre-commit configuration runs cat-lint; the hook the repository ships
  runs from a clone through ``pre-commit try-repo``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from environments import ROOT

pytestmark = pytest.mark.slow

README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)

WRONG_PLUGIN = """\
from cat import store


async def remember(theme):
    store.save("theme", theme)
"""


def readme_files() -> dict[str, str]:
    """The README's Python blocks that name their file on their first line (``# plugins/...py``)."""
    files = {}
    for language, body in FENCE.findall(README):
        first = body.splitlines()[0] if body else ""
        if language == "python" and first.startswith("# plugins/") and first.endswith(".py"):
            files[first[2:]] = body
    return files


def readme_yaml(containing: str) -> str:
    blocks = [body for language, body in FENCE.findall(README) if language == "yaml" and containing in body]
    assert len(blocks) == 1, f"the README should have one yaml block with {containing!r}"
    return blocks[0]


def test_the_readme_plugin_and_its_test_pass_with_only_the_runtime_installed(new_venv, tmp_path):
    files = readme_files()
    assert sorted(files) == ["plugins/visit_counter/tests/test_visits.py", "plugins/visit_counter/visits.py"]
    project = tmp_path / "my-cat"
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text, encoding="utf-8")

    venv = new_venv("runtime-only")
    venv.install("runtime", "pytest")
    listed = venv.run(venv.python, "-c", "import importlib.metadata as m; print(sorted(d.metadata['Name'].lower() for d in m.distributions()))", cwd=project)
    installed = eval(listed.stdout)  # a list literal printed just above
    assert "cat-devtools-runtime" in installed and "pytest" in installed
    assert not any("asyncio" in name or "anyio" in name or "cheshire" in name for name in installed), installed

    done = venv.run(venv.python, "-m", "pytest", "plugins/", cwd=project, timeout=180)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout

    # The runtime loads only the location code of the tools, not the linter or the server.
    loaded = venv.run(venv.python, "-c", "import sys, cat; print(sorted({m.split('.')[0] for m in sys.modules}))", cwd=project)
    modules = eval(loaded.stdout)
    assert "cat" in modules and "cat_lint" in modules
    assert not {"libcst", "pygls", "lsprotocol", "cat_lsp"} & set(modules), modules


@pytest.fixture
def git_project(tmp_path: Path) -> Path:
    """A plain Cat project under git, with one plugin that forgets an await."""
    root = tmp_path / "my-cat"
    (root / "plugins" / "themes").mkdir(parents=True)
    (root / "plugins" / "themes" / "themes.py").write_text(WRONG_PLUGIN, encoding="utf-8")
    (root / "config.py").write_text("", encoding="utf-8")
    for command in (["init", "-q"], ["add", "-A"]):
        subprocess.run(["git", *command], cwd=root, check=True, capture_output=True)
    return root


def pre_commit(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # the tools of this session
    env["PRE_COMMIT_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_readme_pre_commit_configuration_runs_cat_lint(git_project, tmp_path):
    (git_project / ".pre-commit-config.yaml").write_text(readme_yaml("repo: local"), encoding="utf-8")
    done = pre_commit("run", "--all-files", cwd=git_project, home=tmp_path / "pre-commit")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "cat-lint" in done.stdout and "Failed" in done.stdout
    assert "plugins/themes/themes.py:5:5: CAT004" in done.stdout

    (git_project / "plugins" / "themes" / "themes.py").write_text(WRONG_PLUGIN.replace("    store.save", "    await store.save"), encoding="utf-8")
    done = pre_commit("run", "--all-files", cwd=git_project, home=tmp_path / "pre-commit")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Passed" in done.stdout


def test_the_shipped_hook_runs_from_a_clone_with_try_repo(git_project, tmp_path):
    clone = tmp_path / "cat-devtools"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, capture_output=True)
    done = pre_commit("try-repo", str(clone), "cat-lint", "--all-files", cwd=git_project, home=tmp_path / "pre-commit")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "plugins/themes/themes.py:5:5: CAT004" in done.stdout
