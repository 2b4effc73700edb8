import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import type { Candidate } from "../src/finder";
import {
  BundleManifest,
  Probe,
  UNIVERSAL_NOTICE,
  bundledPath,
  checkProbe,
  effectiveStrategy,
  parseManifest,
  parseProbe,
  probeInterpreter,
  serverEnv,
} from "../src/interpreter";

test("the probe reads a real interpreter's version and executable", async () => {
  const outcome = await probeInterpreter({ command: "python3", args: [], source: "the PATH" });
  assert.ok(outcome.ok, JSON.stringify(outcome));
  if (outcome.ok) {
    assert.equal(outcome.probe.version[0], 3);
    assert.match(outcome.probe.executable, /python/);
  }
});

test("a missing interpreter is a problem naming it and the setting to change", async () => {
  const outcome = await probeInterpreter({ command: "/nowhere/bin/python", args: [], source: "cat.interpreter" });
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
  const outcome = await probeInterpreter({ command: fake, args: [], source: "cat.interpreter" });
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

const choice: Candidate = { command: "python3", args: [], source: "the PATH" };
const probe = (version: [number, number, number], hasCatLsp = false): Probe => ({ version, executable: "/usr/bin/python3", hasCatLsp });
const folders = (version: string) => ({ libcst: "1.9.0", path: version === "3.10" ? ["py3.10", "common"] : ["common"] });
const linux: BundleManifest = {
  target: "linux-x64",
  pythons: Object.fromEntries(["3.10", "3.11", "3.12", "3.13", "3.14", "3.15"].map((v) => [v, folders(v)])),
  gaps: {},
};
const intelMac: BundleManifest = {
  target: "darwin-x64",
  pythons: Object.fromEntries(["3.10", "3.11", "3.12", "3.13", "3.14"].map((v) => [v, { ...folders(v), libcst: "1.8.6" }])),
  gaps: { "3.15": "no wheel of libcst<1.10,>=1.4 for macosx_10_15_x86_64 and CPython 3.15" },
};

test("the py launcher's -3 goes before the probe script", async () => {
  const folder = mkdtempSync(join(tmpdir(), "cat-probe-"));
  const fake = join(folder, "py");
  writeFileSync(fake, '#!/bin/sh\n[ "$1" = -3 ] && shift && exec python3 "$@"\necho "no -3" >&2\nexit 2\n');
  chmodSync(fake, 0o755);
  const outcome = await probeInterpreter({ command: fake, args: ["-3"], source: "the py launcher" });
  assert.ok(outcome.ok, JSON.stringify(outcome));
});

test("Python older than 3.10 is refused with the version found", () => {
  const problem = checkProbe(choice, probe([3, 9, 18]), "useBundled", linux);
  assert.equal(problem?.setting, "cat.interpreter");
  assert.match(problem!.message, /needs Python 3\.10 or newer; \/usr\/bin\/python3 \(from the PATH\) is 3\.9\.18/);
});

test("3.10 to 3.15 run the bundled server", () => {
  for (const minor of [10, 11, 12, 13, 14, 15]) {
    assert.equal(checkProbe(choice, probe([3, minor, 0]), "useBundled", linux), undefined);
  }
});

test("a Python with no bundled folder is told to use its own install", () => {
  const problem = checkProbe(choice, probe([3, 16, 0]), "useBundled", linux);
  assert.match(problem!.message, /bundles cat-lsp for Python 3\.10, 3\.11, 3\.12, 3\.13, 3\.14, 3\.15; .* is 3\.16\.0/);
  assert.match(problem!.message, /set cat\.importStrategy to fromEnvironment/);
  assert.equal(checkProbe(choice, probe([3, 16, 0], true), "fromEnvironment", linux), undefined);
});

test("Intel macOS on 3.15 says there is no libcst wheel and to use fromEnvironment", () => {
  const problem = checkProbe(choice, probe([3, 15, 0]), "useBundled", intelMac);
  assert.equal(problem?.setting, "cat.importStrategy");
  assert.match(problem!.message, /The darwin-x64 package has no bundled cat-lsp for Python 3\.15 \(no wheel of libcst/);
  assert.match(problem!.message, /set cat\.importStrategy to fromEnvironment, or set cat\.interpreter to a Python 3\.10, 3\.11, 3\.12, 3\.13, 3\.14\./);
  assert.equal(checkProbe(choice, probe([3, 14, 2]), "useBundled", intelMac), undefined);
});

test("fromEnvironment without cat-devtools installed says how to install it", () => {
  const problem = checkProbe(choice, probe([3, 11, 2], false), "fromEnvironment", linux);
  assert.equal(problem?.setting, "cat.importStrategy");
  assert.match(problem!.message, /pip install cat-devtools/);
});

test("the universal package runs fromEnvironment even when useBundled is set, and says so", () => {
  assert.equal(effectiveStrategy("useBundled", undefined), "fromEnvironment");
  assert.equal(effectiveStrategy("useBundled", linux), "useBundled");
  assert.match(UNIVERSAL_NOTICE, /bundles no cat-lsp: it runs the cat-devtools installed in the interpreter/);
  const problem = checkProbe(choice, probe([3, 12, 0], false), "fromEnvironment", undefined);
  assert.match(problem!.message, /not installed in .*this universal package of the extension bundles none/);
  assert.equal(checkProbe(choice, probe([3, 12, 0], true), "fromEnvironment", undefined), undefined);
});

test("the bundled folders follow the interpreter's minor version, as the manifest lists them", () => {
  assert.deepEqual(bundledPath(linux, [3, 10, 14]), ["py3.10", "common"]);
  assert.deepEqual(bundledPath(linux, [3, 15, 0]), ["common"]);
  assert.equal(bundledPath(linux, [3, 9, 0]), undefined);
  assert.equal(bundledPath(intelMac, [3, 15, 0]), undefined);
});

test("the manifest is read from its JSON; no manifest is the universal package", () => {
  const manifest = parseManifest(JSON.stringify(intelMac));
  assert.deepEqual(manifest, intelMac);
  assert.equal(parseManifest(undefined), undefined);
});

test("useBundled puts the bundled folders first on PYTHONPATH; fromEnvironment leaves it alone", () => {
  const libs = ["/ext/bundled/libs/py3.10", "/ext/bundled/libs/common"];
  assert.equal(serverEnv({ PYTHONPATH: "/mine" }, "useBundled", libs).PYTHONPATH, "/ext/bundled/libs/py3.10:/ext/bundled/libs/common:/mine");
  assert.equal(serverEnv({}, "useBundled", ["/ext/bundled/libs/common"]).PYTHONPATH, "/ext/bundled/libs/common");
  assert.equal(serverEnv({ PYTHONPATH: "D:\\mine" }, "useBundled", ["C:\\ext\\common"], ";").PYTHONPATH, "C:\\ext\\common;D:\\mine");
  assert.equal(serverEnv({ PYTHONPATH: "/mine" }, "fromEnvironment", undefined).PYTHONPATH, "/mine");
});
