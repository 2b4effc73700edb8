/**
 * Where to look for a Python, in order, and which of those to run.
 *
 * Pure logic over an injected {@link Host} (platform, environment, `path`
 * flavour and a file system), so the unit tests run the Windows and macOS
 * layouts on any machine with `path.win32` and a fake file system.  Only the
 * probe runs a program: candidates are tried one at a time, so the usual
 * case (the first one works) costs one Python process, as before.
 *
 * The order: `cat.interpreter` (alone: a Python the user named is never
 * swapped for another); the Python extension's interpreter; `python3` and
 * `python` on the PATH, and on Windows the `py -3` launcher; then the
 * versioned `python3.15` ... `python3.10` on the PATH and the usual install
 * places (Homebrew's `/opt/homebrew/bin` and `/usr/local/bin`,
 * `%LOCALAPPDATA%\Programs\Python`, pyenv).  The Microsoft Store alias is
 * skipped without running it (it opens the Store instead of Python).
 */

import type { PlatformPath } from "node:path";

/** The only file system questions the finder asks. */
export interface FinderFs {
  isFile(path: string): boolean;
  /** The names in a folder; empty when it does not exist. */
  readdir(path: string): string[];
}

export interface Host {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  homedir: string;
  path: PlatformPath;
  fs: FinderFs;
}

export type Source = "cat.interpreter" | "the Python extension" | "the PATH" | "the py launcher" | "an install place";

export interface Candidate {
  /** What is run: a path, or (for `cat.interpreter` only) a command the PATH resolves. */
  command: string;
  /** Arguments before the script: `-3` for the py launcher. */
  args: string[];
  source: Source;
}

/** Newest first: the versions a bundle may exist for. */
export const VERSIONED = ["3.15", "3.14", "3.13", "3.12", "3.11", "3.10"];

const windows = (host: Host) => host.platform === "win32";

/** `name` in each folder of the PATH where it is a file (on Windows, `name.exe`: a Python is never a .bat or .cmd). */
function onPath(host: Host, name: string): string[] {
  const p = host.path;
  const folders = (host.env.PATH ?? host.env.Path ?? "").split(p.delimiter).filter(Boolean);
  const extensions = windows(host) ? [".exe"] : [""];
  const found: string[] = [];
  for (const folder of folders) {
    for (const extension of extensions) {
      const file = p.join(folder, name + extension);
      if (host.fs.isFile(file)) {
        found.push(file);
      }
    }
  }
  return found;
}

/** Python folders named like `Python312` or `python-3.12.1`, newest first, with their minor version. */
function versionedFolders(host: Host, parent: string, pattern: RegExp): string[] {
  return host.fs
    .readdir(parent)
    .map((name) => ({ name, match: pattern.exec(name) }))
    .filter((entry): entry is { name: string; match: RegExpExecArray } => entry.match !== null)
    .map(({ name, match }) => ({ name, minor: Number(match[1]) }))
    .filter(({ minor }) => minor >= 10)
    .sort((a, b) => b.minor - a.minor || a.name.localeCompare(b.name))
    .map(({ name }) => host.path.join(parent, name));
}

/** The usual install places, after the PATH. */
function installPlaces(host: Host): string[] {
  const p = host.path;
  const files: string[] = [];
  if (windows(host)) {
    const local = host.env.LOCALAPPDATA ?? p.join(host.homedir, "AppData", "Local");
    for (const folder of versionedFolders(host, p.join(local, "Programs", "Python"), /^Python3(\d+)/i)) {
      files.push(p.join(folder, "python.exe"));
    }
    const pyenv = host.env.PYENV_ROOT ?? p.join(host.homedir, ".pyenv", "pyenv-win");
    for (const folder of versionedFolders(host, p.join(pyenv, "versions"), /^3\.(\d+)/)) {
      files.push(p.join(folder, "python.exe"));
    }
  } else {
    for (const folder of ["/opt/homebrew/bin", "/usr/local/bin"]) {
      for (const name of ["python3", ...VERSIONED.map((v) => `python${v}`)]) {
        files.push(p.join(folder, name));
      }
    }
    files.push(p.join(host.env.PYENV_ROOT ?? p.join(host.homedir, ".pyenv"), "shims", "python3"));
  }
  return files.filter((file) => host.fs.isFile(file));
}

/** Every place to try, in order, each file once. */
export function candidates(setting: string, fromPythonExtension: string | undefined, host: Host): Candidate[] {
  if (setting.trim()) {
    return [{ command: setting.trim(), args: [], source: "cat.interpreter" }];
  }
  const list: Candidate[] = [];
  const seen = new Set<string>();
  const add = (command: string, source: Source, args: string[] = []) => {
    const key = windows(host) ? command.toLowerCase() : command;
    if (!seen.has(key)) {
      seen.add(key);
      list.push({ command, args, source });
    }
  };
  if (fromPythonExtension?.trim()) {
    add(fromPythonExtension.trim(), "the Python extension");
  }
  for (const name of ["python3", "python"]) {
    onPath(host, name).forEach((file) => add(file, "the PATH"));
  }
  if (windows(host)) {
    const launchers = onPath(host, "py");
    const systemRoot = host.env.SystemRoot ?? host.env.SYSTEMROOT ?? "C:\\Windows";
    const fallback = host.path.join(systemRoot, "py.exe");
    for (const file of launchers.length ? launchers : host.fs.isFile(fallback) ? [fallback] : []) {
      add(file, "the py launcher", ["-3"]);
    }
  }
  for (const version of VERSIONED) {
    onPath(host, `python${version}`).forEach((file) => add(file, "the PATH"));
  }
  installPlaces(host).forEach((file) => add(file, "an install place"));
  return list;
}

/** Why a candidate is not even run: the Microsoft Store alias, which opens the Store instead of Python. */
export function skipWithoutRunning(candidate: Candidate, host: Host): string | undefined {
  if (!windows(host)) {
    return undefined;
  }
  const local = host.env.LOCALAPPDATA ?? host.path.join(host.homedir, "AppData", "Local");
  const aliases = host.path.join(local, "Microsoft", "WindowsApps").toLowerCase() + host.path.sep;
  if (host.path.resolve(candidate.command).toLowerCase().startsWith(aliases)) {
    return "the Microsoft Store alias, which opens the Store instead of running Python";
  }
  return undefined;
}

export function describe(candidate: Candidate): string {
  return `${[candidate.command, ...candidate.args].join(" ")} (from ${candidate.source})`;
}

export interface Skipped {
  candidate: Candidate;
  why: string;
}

export type Tried<T> = { ok: true; value: T } | { ok: false; why: string };

export interface Found<T> {
  /** The first candidate that passed, with what trying it gave; undefined when none did. */
  picked?: { candidate: Candidate; value: T };
  skipped: Skipped[];
}

/**
 * Try the candidates in order until one passes.  `tryOne` runs the probe and
 * judges it (version, bundle, import strategy); it is called once per
 * candidate reached, never for one skipped without running.
 */
export async function pick<T>(list: Candidate[], host: Host, tryOne: (candidate: Candidate) => Promise<Tried<T>>): Promise<Found<T>> {
  const skipped: Skipped[] = [];
  for (const candidate of list) {
    const why = skipWithoutRunning(candidate, host);
    if (why) {
      skipped.push({ candidate, why });
      continue;
    }
    const outcome = await tryOne(candidate);
    if (outcome.ok) {
      return { picked: { candidate, value: outcome.value }, skipped };
    }
    skipped.push({ candidate, why: outcome.why });
  }
  return { skipped };
}

/** The output channel's account of a search: which one was picked, and why each other was skipped. */
export function searchReport(found: Found<unknown>, pickedText?: string): string[] {
  const lines = found.picked ? [`picked ${describe(found.picked.candidate)}${pickedText ? `: ${pickedText}` : ""}`] : [];
  for (const { candidate, why } of found.skipped) {
    lines.push(`skipped ${describe(candidate)}: ${why}`);
  }
  return lines;
}
