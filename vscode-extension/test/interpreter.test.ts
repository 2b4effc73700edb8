import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import {
  Choice,
  Probe,
  bundledFolder,
  checkProbe,
  chooseInterpreter,
  parseProbe,
  probeInterpreter,
  serverEnv,
} from "../src/interpreter";

test("cat.interpreter wins over the Python extension and the PATH", () => {
  assert.deepEqual(chooseInterpreter("/opt/py/bin/python", "/venv/bin/python"), {
    command: "/opt/py/bin/python",
    source: "cat.interpreter",
  });
});

test("without the setting, the Python extension's interpreter is used", () => {
  assert.deepEqual(chooseInterpreter("  ", "/venv/bin/python"), { command: "/venv/bin/python", source: "the Python extension" });
});

test("without either, python3 on the PATH", () => {
  assert.deepEqual(chooseInterpreter("", undefined), { command: "python3", source: "the PATH" });
});

test("the probe reads a real interpreter's version and executable", async () => {
  const outcome = await probeInterpreter({ command: "python3", source: "the PATH" });
  assert.ok(outcome.ok, JSON.stringify(outcome));
  if (outcome.ok) {
    assert.equal(outcome.probe.version[0], 3);
    assert.match(outcome.probe.executable, /python/);
  }
});

test("a missing interpreter is a problem naming it and the setting to change", async () => {
  const outcome = await probeInterpreter({ command: "/nowhere/bin/python", source: "cat.interpreter" });
  assert.equal(outcome.ok, false);
  if (!outcome.ok) {
    assert.equal(outcome.problem.setting, "cat.interpreter");
    assert.match(outcome.problem.message, /"\/nowhere\/bin\/python", was not found/);
  }
});

test("a program that is not Python is a problem, not a crash", async () => {
  const folder = mkdtempSync(join(tmpdir(), "cat-probe-"));
  const fake = join(folder, "python");
  writeFileSync(fake, "#!/bin/sh\necho 'I am not Python' >&2\nexit 3\n");
  chmodSync(fake, 0o755);
  const outcome = await probeInterpreter({ command: fake, source: "cat.interpreter" });
  assert.equal(outcome.ok, false);
  if (!outcome.ok) {
    assert.match(outcome.problem.message, /did not run \(I am not Python\)/);
  }
});

test("the probe's line is found after whatever a sitecustomize printed", () => {
  const probe = parseProbe('hello from sitecustomize\n{"version": [3, 12, 1], "executable": "/usr/bin/python3.12", "hasCatLsp": true}\n');
  assert.deepEqual(probe, { version: [3, 12, 1], executable: "/usr/bin/python3.12", hasCatLsp: true });
  assert.equal(parseProbe("nothing useful"), undefined);
});

const choice: Choice = { command: "python3", source: "the PATH" };
const probe = (version: [number, number, number], hasCatLsp = false): Probe => ({ version, executable: "/usr/bin/python3", hasCatLsp });

test("Python older than 3.10 is refused with the version found", () => {
  const problem = checkProbe(choice, probe([3, 9, 18]), "useBundled");
  assert.equal(problem?.setting, "cat.interpreter");
  assert.match(problem!.message, /needs Python 3\.10 or newer; \/usr\/bin\/python3 \(from the PATH\) is 3\.9\.18/);
});

test("3.10 to 3.13 run the bundled server", () => {
  for (const minor of [10, 11, 12, 13]) {
    assert.equal(checkProbe(choice, probe([3, minor, 0]), "useBundled"), undefined);
  }
});

test("a Python with no bundled folder is told to use its own install", () => {
  const problem = checkProbe(choice, probe([3, 14, 0]), "useBundled");
  assert.match(problem!.message, /bundles cat-lsp for Python 3\.10, 3\.11, 3\.12, 3\.13/);
  assert.equal(checkProbe(choice, probe([3, 14, 0], true), "fromEnvironment"), undefined);
});

test("fromEnvironment without cat-devtools installed says how to install it", () => {
  const problem = checkProbe(choice, probe([3, 11, 2], false), "fromEnvironment");
  assert.equal(problem?.setting, "cat.importStrategy");
  assert.match(problem!.message, /pip install cat-devtools/);
});

test("the bundled folder follows the interpreter's minor version", () => {
  assert.equal(bundledFolder([3, 10, 14]), "py3.10");
  assert.equal(bundledFolder([3, 13, 0]), "py3.13");
  assert.equal(bundledFolder([3, 9, 0]), undefined);
  assert.equal(bundledFolder([3, 14, 0]), undefined);
});

test("useBundled puts the bundled folder first on PYTHONPATH; fromEnvironment leaves it alone", () => {
  assert.equal(serverEnv({ PYTHONPATH: "/mine" }, "useBundled", "/ext/bundled/libs/py3.11").PYTHONPATH, "/ext/bundled/libs/py3.11:/mine");
  assert.equal(serverEnv({}, "useBundled", "/ext/bundled/libs/py3.11").PYTHONPATH, "/ext/bundled/libs/py3.11");
  assert.equal(serverEnv({ PYTHONPATH: "/mine" }, "fromEnvironment", undefined).PYTHONPATH, "/mine");
});
