import assert from "node:assert/strict";
import * as path from "node:path";
import { test } from "node:test";

import { Candidate, Host, Tried, candidates, pick, searchReport, skipWithoutRunning } from "../src/finder";

/** A machine made of the given files (folders are implied), with its own path flavour. */
function fakeHost(platform: NodeJS.Platform, files: string[], env: NodeJS.ProcessEnv, homedir: string): Host {
  const p = platform === "win32" ? path.win32 : path.posix;
  const key = (name: string) => (platform === "win32" ? p.normalize(name).toLowerCase() : p.normalize(name));
  const known = new Set(files.map(key));
  return {
    platform,
    env,
    homedir,
    path: p,
    fs: {
      isFile: (file) => known.has(key(file)),
      readdir: (folder) => {
        const prefix = key(folder) + p.sep;
        const names = files.filter((f) => key(f).startsWith(prefix)).map((f) => p.normalize(f).slice(prefix.length).split(p.sep)[0]);
        return [...new Set(names)];
      },
    },
  };
}

const commands = (list: Candidate[]) => list.map((c) => [c.command, ...c.args].join(" "));

/** A probe that answers from a table of versions, and records what it ran. */
function prober(versions: Record<string, string>) {
  const ran: string[] = [];
  const tryOne = async (candidate: Candidate): Promise<Tried<string>> => {
    const command = [candidate.command, ...candidate.args].join(" ");
    ran.push(command);
    const version = versions[command];
    if (!version) {
      return { ok: false, why: "was not found" };
    }
    const minor = Number(version.split(".")[1]);
    return minor >= 10 ? { ok: true, value: version } : { ok: false, why: `Python ${version} is older than 3.10` };
  };
  return { ran, tryOne };
}

const mac = fakeHost(
  "darwin",
  ["/usr/bin/python3", "/opt/homebrew/bin/python3", "/opt/homebrew/bin/python3.13", "/usr/local/bin/python3.11", "/Users/ann/.pyenv/shims/python3"],
  { PATH: "/usr/bin:/bin:/usr/sbin" },
  "/Users/ann",
);

test("macOS: Apple's python3 on the PATH first, then Homebrew's, /usr/local's and pyenv's", () => {
  assert.deepEqual(commands(candidates("", undefined, mac)), [
    "/usr/bin/python3",
    "/opt/homebrew/bin/python3",
    "/opt/homebrew/bin/python3.13",
    "/usr/local/bin/python3.11",
    "/Users/ann/.pyenv/shims/python3",
  ]);
});

test("macOS: Apple's 3.9 is skipped with its version, Homebrew's Python is picked, nothing after it runs", async () => {
  const { ran, tryOne } = prober({ "/usr/bin/python3": "3.9.6", "/opt/homebrew/bin/python3": "3.13.1" });
  const found = await pick(candidates("", undefined, mac), mac, tryOne);
  assert.equal(found.picked?.candidate.command, "/opt/homebrew/bin/python3");
  assert.deepEqual(ran, ["/usr/bin/python3", "/opt/homebrew/bin/python3"]);
  assert.deepEqual(searchReport(found, "Python 3.13.1"), [
    "picked /opt/homebrew/bin/python3 (from an install place): Python 3.13.1",
    "skipped /usr/bin/python3 (from the PATH): Python 3.9.6 is older than 3.10",
  ]);
});

test("macOS: the versioned interpreters on the PATH come newest first, after python3 and python", () => {
  const host = fakeHost("darwin", ["/usr/bin/python3", "/opt/local/bin/python3.12", "/opt/local/bin/python3.15", "/opt/local/bin/python"],
    { PATH: "/opt/local/bin:/usr/bin" }, "/Users/ann");
  assert.deepEqual(commands(candidates("", undefined, host)), [
    "/usr/bin/python3",
    "/opt/local/bin/python",
    "/opt/local/bin/python3.15",
    "/opt/local/bin/python3.12",
  ]);
});

test("PYENV_ROOT moves pyenv's shims", () => {
  const host = fakeHost("linux", ["/srv/pyenv/shims/python3"], { PATH: "/usr/bin", PYENV_ROOT: "/srv/pyenv" }, "/home/ann");
  assert.deepEqual(commands(candidates("", undefined, host)), ["/srv/pyenv/shims/python3"]);
});

const LOCAL = "C:\\Users\\Ann\\AppData\\Local";
const windows = fakeHost(
  "win32",
  [
    `${LOCAL}\\Microsoft\\WindowsApps\\python3.exe`,
    `${LOCAL}\\Microsoft\\WindowsApps\\python.exe`,
    "C:\\Windows\\py.exe",
    `${LOCAL}\\Programs\\Python\\Python39\\python.exe`,
    `${LOCAL}\\Programs\\Python\\Python312\\python.exe`,
    `${LOCAL}\\Programs\\Python\\Python313\\python.exe`,
    "C:\\Users\\Ann\\.pyenv\\pyenv-win\\versions\\3.11.9\\python.exe",
  ],
  { Path: `${LOCAL}\\Microsoft\\WindowsApps;C:\\Windows;C:\\Windows\\System32`, LOCALAPPDATA: LOCAL, SystemRoot: "C:\\Windows" },
  "C:\\Users\\Ann",
);

test("Windows: the PATH's python3 and python, the py launcher with -3, then the installs newest first", () => {
  assert.deepEqual(commands(candidates("", undefined, windows)), [
    `${LOCAL}\\Microsoft\\WindowsApps\\python3.exe`,
    `${LOCAL}\\Microsoft\\WindowsApps\\python.exe`,
    "C:\\Windows\\py.exe -3",
    `${LOCAL}\\Programs\\Python\\Python313\\python.exe`,
    `${LOCAL}\\Programs\\Python\\Python312\\python.exe`,
    "C:\\Users\\Ann\\.pyenv\\pyenv-win\\versions\\3.11.9\\python.exe",
  ]);
});

test("Windows: the Store aliases are skipped without being run, and py -3 is picked", async () => {
  const { ran, tryOne } = prober({ "C:\\Windows\\py.exe -3": "3.12.4" });
  const found = await pick(candidates("", undefined, windows), windows, tryOne);
  assert.equal(found.picked?.candidate.source, "the py launcher");
  assert.deepEqual(ran, ["C:\\Windows\\py.exe -3"]);
  assert.deepEqual(searchReport(found), [
    "picked C:\\Windows\\py.exe -3 (from the py launcher)",
    `skipped ${LOCAL}\\Microsoft\\WindowsApps\\python3.exe (from the PATH): the Microsoft Store alias, which opens the Store instead of running Python`,
    `skipped ${LOCAL}\\Microsoft\\WindowsApps\\python.exe (from the PATH): the Microsoft Store alias, which opens the Store instead of running Python`,
  ]);
});

test("Windows: the Store alias is recognised whatever the case of the path", () => {
  const alias: Candidate = { command: "c:\\users\\ann\\appdata\\local\\microsoft\\windowsapps\\PYTHON3.EXE", args: [], source: "the Python extension" };
  assert.match(skipWithoutRunning(alias, windows) ?? "", /Microsoft Store alias/);
  const real: Candidate = { command: `${LOCAL}\\Programs\\Python\\Python313\\python.exe`, args: [], source: "the PATH" };
  assert.equal(skipWithoutRunning(real, windows), undefined);
});

test("Windows: with no py.exe on the PATH, the launcher is looked for in the Windows folder", () => {
  const host = fakeHost("win32", ["D:\\Windows\\py.exe"], { Path: "C:\\Tools", SystemRoot: "D:\\Windows", LOCALAPPDATA: LOCAL }, "C:\\Users\\Ann");
  assert.deepEqual(commands(candidates("", undefined, host)), ["D:\\Windows\\py.exe -3"]);
});

test("the Python extension's interpreter comes before the PATH, and is not tried twice (Windows paths differ in case)", () => {
  const list = candidates("", `${LOCAL.toLowerCase()}\\programs\\python\\python313\\python.exe`, windows);
  assert.equal(list[0].source, "the Python extension");
  assert.equal(list.filter((c) => c.command.toLowerCase().endsWith("python313\\python.exe")).length, 1);
});

test("cat.interpreter is the only candidate: a Python the user named is never swapped for another", () => {
  assert.deepEqual(candidates(" /opt/py/bin/python ", "/venv/bin/python", mac), [
    { command: "/opt/py/bin/python", args: [], source: "cat.interpreter" },
  ]);
});

test("every candidate skipped: nothing picked, each with its reason", async () => {
  const { tryOne } = prober({ "/usr/bin/python3": "3.8.10" });
  const host = fakeHost("linux", ["/usr/bin/python3"], { PATH: "/usr/bin" }, "/home/ann");
  const found = await pick(candidates("", undefined, host), host, tryOne);
  assert.equal(found.picked, undefined);
  assert.deepEqual(searchReport(found), ["skipped /usr/bin/python3 (from the PATH): Python 3.8.10 is older than 3.10"]);
  assert.deepEqual(candidates("", undefined, fakeHost("linux", [], { PATH: "/usr/bin" }, "/home/ann")), []);
});
