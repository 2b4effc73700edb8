/**
 * Whether a Python can run the server: the probe, its verdict, and the
 * server's environment (finder.ts says where the candidates come from).
 *
 * No `vscode` import here: the extension passes in what it learnt from
 * VS Code (the setting, the bundle's manifest), and the unit tests run the
 * same code against real interpreters.  Every way of failing ends in
 * a {@link Problem} the extension shows as a notification with a button
 * opening the setting that fixes it: never a silent failure.
 */

import { execFile } from "node:child_process";

import type { Candidate } from "./finder";
import type { ImportStrategy } from "./settings";

export const MIN_VERSION: readonly [number, number] = [3, 10];

/** `bundled/libs/manifest.json`, written by `make vsix` (scripts/bundle_libs.py) into each platform's package. */
export interface BundleManifest {
  /** The VS Code platform the package is for (`darwin-arm64`). */
  target: string;
  /** For each bundled Python (`3.12`): its folders under `bundled/libs/`, first on PYTHONPATH first. */
  pythons: Record<string, { libcst: string; path: string[] }>;
  /** Pythons the package has no bundle for, and why (no wheel of libcst for that platform). */
  gaps: Record<string, string>;
}

/** The manifest from its text; undefined for the universal package, which has none. */
export function parseManifest(text: string | undefined): BundleManifest | undefined {
  if (text === undefined) {
    return undefined;
  }
  const data = JSON.parse(text);
  return { target: String(data.target), pythons: data.pythons ?? {}, gaps: data.gaps ?? {} };
}

/** The strategy that actually runs: the universal package has nothing to bundle from. */
export function effectiveStrategy(strategy: ImportStrategy, manifest: BundleManifest | undefined): ImportStrategy {
  return manifest ? strategy : "fromEnvironment";
}

/** What the output channel says when `useBundled` is set in the universal package. */
export const UNIVERSAL_NOTICE =
  "This is the universal package of the Cat extension, which bundles no cat-lsp: it runs the cat-devtools " +
  "installed in the interpreter, as cat.importStrategy fromEnvironment does. The packages for Windows, macOS " +
  "and Linux (x64 and arm64) bundle it for Python 3.10 to 3.15.";

/** What the probe learns from an interpreter. */
export interface Probe {
  version: [number, number, number];
  executable: string;
  /** Whether `cat_lsp` is importable there (what `fromEnvironment` needs). */
  hasCatLsp: boolean;
}

/** Printed as one JSON line by the interpreter under test; imports nothing of ours. */
export const PROBE_SCRIPT =
  "import importlib.util, json, sys; " +
  "print(json.dumps({'version': list(sys.version_info[:3]), 'executable': sys.executable, " +
  "'hasCatLsp': importlib.util.find_spec('cat_lsp') is not None}))";

export function parseProbe(stdout: string): Probe | undefined {
  for (const line of stdout.split(/\r?\n/).reverse()) {
    try {
      const data = JSON.parse(line);
      if (Array.isArray(data.version) && data.version.length === 3 && typeof data.executable === "string") {
        return { version: data.version, executable: data.executable, hasCatLsp: Boolean(data.hasCatLsp) };
      }
    } catch {
      // not the probe's line (a sitecustomize may print): keep looking
    }
  }
  return undefined;
}

/** Which setting a problem is fixed with. */
export type Fix = "cat.interpreter" | "cat.importStrategy";

export interface Problem {
  message: string;
  setting: Fix;
}

export type ProbeOutcome = { ok: true; probe: Probe } | { ok: false; problem: Problem };

/** Run the interpreter once to learn its version, or why it cannot run. */
export function probeInterpreter(choice: Candidate, timeoutMs = 20000): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    execFile(choice.command, [...choice.args, "-c", PROBE_SCRIPT], { timeout: timeoutMs, windowsHide: true }, (error, stdout, stderr) => {
      const probe = error ? undefined : parseProbe(String(stdout));
      if (probe) {
        resolve({ ok: true, probe });
        return;
      }
      const code = (error as NodeJS.ErrnoException | null)?.code;
      const why =
        code === "ENOENT"
          ? "was not found"
          : code === "EACCES"
            ? "is not executable"
            : `did not run (${String(stderr).trim().split(/\r?\n/).pop() || error?.message || "no output"})`;
      resolve({
        ok: false,
        problem: {
          message: `The Python from ${choice.source}, "${[choice.command, ...choice.args].join(" ")}", ${why}. Set cat.interpreter to a Python ${MIN_VERSION.join(".")} or newer.`,
          setting: "cat.interpreter",
        },
      });
    });
  });
}

export function versionText(version: readonly number[]): string {
  return version.join(".");
}

/** The folders under `bundled/libs/` for this Python (`["py3.10", "common"]`), or undefined when none is shipped. */
export function bundledPath(manifest: BundleManifest, version: readonly number[]): string[] | undefined {
  return manifest.pythons[`${version[0]}.${version[1]}`]?.path;
}

/** Whether this interpreter can run the server with this import strategy (already made effective). */
export function checkProbe(
  choice: Candidate,
  probe: Probe,
  strategy: ImportStrategy,
  manifest: BundleManifest | undefined,
): Problem | undefined {
  const [major, minor] = probe.version;
  const where = `${probe.executable} (from ${choice.source})`;
  if (major < MIN_VERSION[0] || (major === MIN_VERSION[0] && minor < MIN_VERSION[1])) {
    return {
      message: `cat-lsp needs Python ${versionText(MIN_VERSION)} or newer; ${where} is ${versionText(probe.version)}. Set cat.interpreter to a newer Python.`,
      setting: "cat.interpreter",
    };
  }
  if (strategy === "useBundled" && manifest && bundledPath(manifest, probe.version) === undefined) {
    const bundled = Object.keys(manifest.pythons).join(", ");
    const gap = manifest.gaps[`${major}.${minor}`];
    const why = gap
      ? `The ${manifest.target} package has no bundled cat-lsp for Python ${major}.${minor} (${gap}), which ${where} is`
      : `This extension bundles cat-lsp for Python ${bundled}; ${where} is ${versionText(probe.version)}`;
    return {
      message: `${why}. Install cat-devtools in it ("${probe.executable} -m pip install cat-devtools") and set cat.importStrategy to fromEnvironment, or set cat.interpreter to a Python ${bundled}.`,
      setting: gap ? "cat.importStrategy" : "cat.interpreter",
    };
  }
  if (strategy === "fromEnvironment" && !probe.hasCatLsp) {
    const universal = manifest ? "" : " (this universal package of the extension bundles none)";
    return {
      message: `cat-devtools is not installed in ${where}${universal}. Run "${probe.executable} -m pip install cat-devtools", or set cat.importStrategy to useBundled.`,
      setting: manifest ? "cat.importStrategy" : "cat.interpreter",
    };
  }
  return undefined;
}

/**
 * The environment of the server process: with `useBundled`, the bundled
 * folders go first on `PYTHONPATH` (the Python's own, then `common`), ahead of whatever the interpreter has
 * installed (it holds no `cat` package, so a user's real Cat is never
 * shadowed).
 */
export function serverEnv(
  base: NodeJS.ProcessEnv,
  strategy: ImportStrategy,
  libsFolders: readonly string[] | undefined,
  separator = ":",
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, PYTHONUNBUFFERED: "1" };
  if (strategy === "useBundled" && libsFolders?.length) {
    env.PYTHONPATH = [...libsFolders, ...(base.PYTHONPATH ? [base.PYTHONPATH] : [])].join(separator);
  }
  return env;
}
