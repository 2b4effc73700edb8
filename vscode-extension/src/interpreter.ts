/**
 * Which Python runs the server, and whether it can.
 *
 * No `vscode` import here: the extension passes in what it learnt from
 * VS Code (the setting, the Python extension's choice), and the unit tests
 * run the same code against real interpreters.  Every way of failing ends in
 * a {@link Problem} the extension shows as a notification with a button
 * opening the setting that fixes it: never a silent failure.
 */

import { execFile } from "node:child_process";

import type { ImportStrategy } from "./settings";

export const MIN_VERSION: readonly [number, number] = [3, 10];
/** The Pythons whose wheels `make vsix` puts under `bundled/libs/`. */
export const BUNDLED_VERSIONS: readonly string[] = ["3.10", "3.11", "3.12", "3.13"];

export interface Choice {
  command: string;
  /** Where it came from, for messages: the setting, the Python extension, or the PATH. */
  source: "cat.interpreter" | "the Python extension" | "the PATH";
}

/** `cat.interpreter`, else the Python extension's interpreter, else `python3`. */
export function chooseInterpreter(setting: string, fromPythonExtension: string | undefined): Choice {
  if (setting.trim()) {
    return { command: setting.trim(), source: "cat.interpreter" };
  }
  if (fromPythonExtension && fromPythonExtension.trim()) {
    return { command: fromPythonExtension.trim(), source: "the Python extension" };
  }
  return { command: "python3", source: "the PATH" };
}

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
export function probeInterpreter(choice: Choice, timeoutMs = 20000): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    execFile(choice.command, ["-c", PROBE_SCRIPT], { timeout: timeoutMs, windowsHide: true }, (error, stdout, stderr) => {
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
          message: `The Python from ${choice.source}, "${choice.command}", ${why}. Set cat.interpreter to a Python ${MIN_VERSION.join(".")} or newer.`,
          setting: "cat.interpreter",
        },
      });
    });
  });
}

export function versionText(version: readonly number[]): string {
  return version.join(".");
}

/** The folder under `bundled/libs/` for this Python (`py3.11`), or undefined when none is shipped. */
export function bundledFolder(version: readonly number[]): string | undefined {
  const minor = `${version[0]}.${version[1]}`;
  return BUNDLED_VERSIONS.includes(minor) ? `py${minor}` : undefined;
}

/** Whether this interpreter can run the server with this import strategy. */
export function checkProbe(choice: Choice, probe: Probe, strategy: ImportStrategy): Problem | undefined {
  const [major, minor] = probe.version;
  const where = `${probe.executable} (from ${choice.source})`;
  if (major < MIN_VERSION[0] || (major === MIN_VERSION[0] && minor < MIN_VERSION[1])) {
    return {
      message: `cat-lsp needs Python ${versionText(MIN_VERSION)} or newer; ${where} is ${versionText(probe.version)}. Set cat.interpreter to a newer Python.`,
      setting: "cat.interpreter",
    };
  }
  if (strategy === "useBundled" && bundledFolder(probe.version) === undefined) {
    return {
      message: `This extension bundles cat-lsp for Python ${BUNDLED_VERSIONS.join(", ")}; ${where} is ${versionText(probe.version)}. Set cat.interpreter to one of those, or install cat-devtools in it and set cat.importStrategy to fromEnvironment.`,
      setting: "cat.interpreter",
    };
  }
  if (strategy === "fromEnvironment" && !probe.hasCatLsp) {
    return {
      message: `cat-devtools is not installed in ${where}. Run "${probe.executable} -m pip install cat-devtools", or set cat.importStrategy to useBundled.`,
      setting: "cat.importStrategy",
    };
  }
  return undefined;
}

/**
 * The environment of the server process: with `useBundled`, the bundled
 * folder goes first on `PYTHONPATH`, ahead of whatever the interpreter has
 * installed (it holds no `cat` package, so a user's real Cat is never
 * shadowed).
 */
export function serverEnv(
  base: NodeJS.ProcessEnv,
  strategy: ImportStrategy,
  libsFolder: string | undefined,
  separator = ":",
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, PYTHONUNBUFFERED: "1" };
  if (strategy === "useBundled" && libsFolder) {
    env.PYTHONPATH = base.PYTHONPATH ? `${libsFolder}${separator}${base.PYTHONPATH}` : libsFolder;
  }
  return env;
}
