import assert from "node:assert/strict";
import { test } from "node:test";

import { needsRestart, readFolderSettings, readProcessSettings, serverArgs } from "../src/settings";

function getter(values: Record<string, unknown>) {
  return (name: string) => values[name];
}

test("process settings default to the bundled server and no arguments", () => {
  assert.deepEqual(readProcessSettings(getter({})), { interpreter: "", importStrategy: "useBundled", args: [] });
});

test("an unknown import strategy falls back to useBundled", () => {
  assert.equal(readProcessSettings(getter({ importStrategy: "elsewhere" })).importStrategy, "useBundled");
  assert.equal(readProcessSettings(getter({ importStrategy: "fromEnvironment" })).importStrategy, "fromEnvironment");
});

test("the server runs as `python -m cat_lsp` with the user's arguments", () => {
  const settings = readProcessSettings(getter({ args: ["--verbose", "--log-file", "/tmp/l.log"] }));
  assert.deepEqual(serverArgs(settings), ["-m", "cat_lsp", "--verbose", "--log-file", "/tmp/l.log"]);
});

test("transport arguments are dropped: the client talks over stdio and adds --stdio itself", () => {
  const settings = readProcessSettings(getter({ args: ["--tcp", "127.0.0.1:2087", "--stdio", "--tcp=x:1", "-v"] }));
  assert.deepEqual(serverArgs(settings), ["-m", "cat_lsp", "-v"]);
});

test("arguments that are not strings are ignored", () => {
  assert.deepEqual(readProcessSettings(getter({ args: ["-v", 3, null] })).args, ["-v"]);
});

test("folder settings: empty means 'let the project decide'", () => {
  assert.deepEqual(readFolderSettings("file:///p", getter({ database: "  ", "lint.select": null })), {
    uri: "file:///p",
    database: null,
    select: null,
    ignore: null,
  });
});

test("folder settings carry the database and the lint selection as given", () => {
  const folder = readFolderSettings(null, getter({ database: "sqlite:///x.db", "lint.select": ["CAT0"], "lint.ignore": [" CAT006 "] }));
  assert.deepEqual(folder, { uri: null, database: "sqlite:///x.db", select: ["CAT0"], ignore: ["CAT006"] });
});

test("an empty select list is kept (it selects nothing), unlike an unset one", () => {
  assert.deepEqual(readFolderSettings(null, getter({ "lint.select": [] })).select, []);
});

test("only process settings restart the server", () => {
  const base = readProcessSettings(getter({ args: ["-v"] }));
  assert.equal(needsRestart(base, { ...base }), false);
  assert.equal(needsRestart(base, { ...base, interpreter: "/usr/bin/python3.12" }), true);
  assert.equal(needsRestart(base, { ...base, importStrategy: "fromEnvironment" }), true);
  assert.equal(needsRestart(base, { ...base, args: ["-v", "--log-file", "x"] }), true);
  assert.equal(needsRestart(base, { ...base, args: ["--verbose"] }), true);
});
