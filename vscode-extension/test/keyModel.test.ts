import assert from "node:assert/strict";
import { test } from "node:test";

import { KeyEntry, KeysResult, databaseStatus, describeKey, explain, groupKeys, prettyValue, viewState } from "../src/keyModel";

const entry = (over: Partial<KeyEntry>): KeyEntry => ({
  scope: "global",
  key: "k",
  type: "integer",
  types: ["integer"],
  size: 1,
  preview: "1",
  users: 0,
  savedInCode: true,
  readInCode: true,
  inDatabase: true,
  saves: [],
  reads: [],
  ...over,
});

test("global keys come first, each group sorted, empty groups left out", () => {
  const result: KeysResult = {
    database: "/p/data/core/core.db (from the default)",
    reason: null,
    keys: [entry({ key: "zeta" }), entry({ key: "prefs", scope: "user" }), entry({ key: "alpha" })],
  };
  const groups = groupKeys(result);
  assert.deepEqual(groups.map((g) => [g.scope, g.keys.map((k) => k.key)]), [
    ["global", ["alpha", "zeta"]],
    ["user", ["prefs"]],
  ]);
  assert.deepEqual(groupKeys({ ...result, keys: [entry({})] }).map((g) => g.scope), ["global"]);
});

test("a global key shows its JSON type as icon and its size", () => {
  const view = describeKey(entry({ key: "visits", type: "object", types: ["object"], size: 2048 }));
  assert.equal(view.icon, "symbol-object");
  assert.equal(view.description, "object · 2.0 KB");
  assert.equal(view.state, "stored");
});

test("a per-user key shows how many users hold it", () => {
  const view = describeKey(entry({ scope: "user", users: 3, type: "array", types: ["array"] }));
  assert.equal(view.description, "3 users · array");
});

test("a key the code saves but the database lacks is marked as not stored yet, and cannot be opened", () => {
  const view = describeKey(entry({ inDatabase: false, type: "unknown", types: [], size: 0 }));
  assert.equal(view.state, "notYetStored");
  assert.equal(view.description, "not in the database yet");
});

test("a stored key no code reads or writes is marked unused", () => {
  const view = describeKey(entry({ savedInCode: false, readInCode: false }));
  assert.equal(view.state, "unused");
  assert.match(view.description, /unused$/);
  assert.match(view.tooltip, /No code in the workspace reads or writes it/);
});

test("the tooltip lists where the key is saved and read", () => {
  const place = (uri: string, line: number) => ({ uri, range: { start: { line, character: 4 }, end: { line, character: 9 } } });
  const view = describeKey(entry({ saves: [place("file:///p/plugins/a/a.py", 4)], reads: [place("file:///p/plugins/b/b.py", 9)] }));
  assert.match(view.tooltip, /Saved at:\*\*\n- plugins\/a\/a\.py:5/);
  assert.match(view.tooltip, /Read at:\*\*\n- plugins\/b\/b\.py:10/);
  assert.equal(view.contextValue, "catKey global saved read");
});

test("a missing database is explained with where it was looked for and how that is decided", () => {
  const text = explain({ database: null, reason: "no database at /p/data/core/core.db (from the default)", keys: [] });
  assert.match(text, /no database at \/p\/data\/core\/core\.db \(from the default\)/);
  assert.match(text, /cat\.database setting, else database in \[tool\.cat-lint\], else the CAT_SQL/);
  assert.equal(explain({ database: "x", reason: null, keys: [entry({})] }), "");
});

test("values open pretty-printed", () => {
  assert.equal(prettyValue({ a: [1, 2] }), '{\n  "a": [\n    1,\n    2\n  ]\n}\n');
});

test("the status bar names the database file, or says there is none", () => {
  assert.deepEqual(databaseStatus({ database: "/p/data/core/core.db (from config.py)", reason: null, keys: [] }), {
    short: "core.db",
    long: "Database: /p/data/core/core.db (from config.py)",
  });
  assert.deepEqual(databaseStatus({ database: null, reason: "no database at /p/x.db (from the default)", keys: [] }), {
    short: "no database",
    long: "No database: no database at /p/x.db (from the default)",
  });
  assert.equal(databaseStatus(undefined).short, "");
});

test("the view's welcome content: server down, no database, or nothing stored or saved yet", () => {
  const none: KeysResult = { database: null, reason: "no database at /p/data/core/core.db (from the default)", keys: [] };
  const empty: KeysResult = { database: "/p/core.db (from config.py)", reason: null, keys: [] };
  assert.equal(viewState([none], false), "notRunning");
  assert.equal(viewState([none], true), "noDatabase");
  assert.equal(viewState([empty], true), "empty");
  // Keys the code saves are listed even without a database: rows, not a welcome.
  assert.equal(viewState([{ ...none, keys: [entry({ inDatabase: false })] }], true), "keys");
});
