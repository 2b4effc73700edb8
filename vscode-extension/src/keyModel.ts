/**
 * What the key explorer shows, from the server's `cat/keys` answer.
 *
 * Pure (no `vscode` import): the explorer turns these descriptions into tree
 * items, and the unit tests check the grouping and the marks directly.
 */

/** A place in code that saves or reads a key (LSP shapes). */
export interface KeyPlace {
  uri: string;
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
}

/** One entry of `cat/keys` (see cat_lsp/keys_request.py). */
export interface KeyEntry {
  scope: "global" | "user";
  key: string;
  type: string;
  types: string[];
  size: number;
  preview: string;
  users: number;
  savedInCode: boolean;
  readInCode?: boolean;
  inDatabase?: boolean;
  saves?: KeyPlace[];
  reads?: KeyPlace[];
}

export interface KeysResult {
  database: string | null;
  reason: string | null;
  keys: KeyEntry[];
}

/** How the database location is decided, for the explanation in the view. */
export const LOCATION_ORDER =
  "Where it is looked for: the cat.database setting, else database in [tool.cat-lint], else the CAT_SQL environment variable, else SQL in the project's config.py, else data/core/core.db in the project folder.";

const ICONS: Record<string, string> = {
  object: "symbol-object",
  array: "symbol-array",
  string: "symbol-string",
  integer: "symbol-number",
  number: "symbol-number",
  boolean: "symbol-boolean",
  null: "symbol-null",
};

export interface KeyView {
  label: string;
  description: string;
  /** Markdown. */
  tooltip: string;
  icon: string;
  /** For `view/item/context` menus: which of "saved", "read" apply. */
  contextValue: string;
  state: "stored" | "notYetStored" | "unused";
}

export function isStored(entry: KeyEntry): boolean {
  return entry.inDatabase ?? entry.type !== "unknown";
}

export function isUnused(entry: KeyEntry): boolean {
  return isStored(entry) && !entry.savedInCode && !(entry.readInCode ?? false);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function places(title: string, list: KeyPlace[] | undefined): string {
  if (!list || list.length === 0) {
    return `**${title}:** none in the workspace`;
  }
  const lines = list.slice(0, 10).map((p) => `- ${shortPath(p.uri)}:${p.range.start.line + 1}`);
  if (list.length > 10) {
    lines.push(`- and ${list.length - 10} more`);
  }
  return `**${title}:**\n${lines.join("\n")}`;
}

function shortPath(uri: string): string {
  const path = decodeURIComponent(uri.replace(/^file:\/\//, ""));
  const parts = path.split("/");
  return parts.slice(-3).join("/");
}

export function describeKey(entry: KeyEntry): KeyView {
  const stored = isStored(entry);
  const unused = isUnused(entry);
  const state = !stored ? "notYetStored" : unused ? "unused" : "stored";
  let description: string;
  if (!stored) {
    description = "not in the database yet";
  } else if (entry.scope === "user") {
    description = `${plural(entry.users, "user")} · ${entry.type}`;
  } else {
    description = `${entry.type} · ${size(entry.size)}`;
  }
  if (unused) {
    description += " · unused";
  }
  const tooltip = [
    `**${entry.key}** (${entry.scope === "global" ? "store" : "user"})`,
    stored
      ? `Type: ${entry.type} · size: ${size(entry.size)}` + (entry.scope === "user" ? ` (largest) · ${plural(entry.users, "user")}` : "")
      : "Saved by the code, not in the database yet.",
    stored ? "Preview: `" + entry.preview.replace(/`/g, "'") + "`" : "",
    unused ? "No code in the workspace reads or writes it." : "",
    places("Saved at", entry.saves),
    places("Read at", entry.reads),
  ]
    .filter(Boolean)
    .join("\n\n");
  const context = ["catKey", entry.scope];
  if (entry.saves?.length) {
    context.push("saved");
  }
  if (entry.reads?.length) {
    context.push("read");
  }
  return {
    label: entry.key,
    description,
    tooltip,
    icon: stored ? ICONS[entry.types.length === 1 ? entry.type : ""] ?? "symbol-variable" : "circle-outline",
    contextValue: context.join(" "),
    state,
  };
}

export interface KeyGroup {
  scope: "global" | "user";
  label: string;
  keys: KeyEntry[];
}

/** Global keys first, then per-user ones; each sorted by name; empty groups left out. */
export function groupKeys(result: KeysResult): KeyGroup[] {
  const groups: KeyGroup[] = [
    { scope: "global", label: "Global keys (store)", keys: [] },
    { scope: "user", label: "Per-user keys (user)", keys: [] },
  ];
  for (const entry of result.keys) {
    groups[entry.scope === "global" ? 0 : 1].keys.push(entry);
  }
  for (const group of groups) {
    group.keys.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
  return groups.filter((g) => g.keys.length > 0);
}

/** The line the view shows above its items (or instead of them): which database, or why none. */
export function explain(result: KeysResult): string {
  if (result.reason) {
    return `No keys read: ${result.reason}. ${LOCATION_ORDER}`;
  }
  const stored = result.keys.filter(isStored).length;
  if (stored === 0) {
    return `The database ${result.database ?? ""} holds no keys yet.`;
  }
  return "";
}

/** A key's value as the read-only document shows it. */
export function prettyValue(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

/** The status bar's words for the database: its file name (or why none), and a longer line for the tooltip. */
export function databaseStatus(result: KeysResult | undefined): { short: string; long: string } {
  if (!result) {
    return { short: "", long: "Database: not read yet." };
  }
  if (result.reason || !result.database) {
    return { short: "no database", long: `No database: ${result.reason ?? "unknown"}` };
  }
  const path = result.database.replace(/ \(from [^)]*\)$/, "");
  return { short: path.split(/[\\/]/).pop() || path, long: `Database: ${result.database}` };
}

/** Which welcome content the view shows when it has no rows (the `cat.keys.state` context key). */
export type ViewState = "notRunning" | "noDatabase" | "empty" | "keys";

export function viewState(results: KeysResult[], running: boolean): ViewState {
  if (!running) {
    return "notRunning";
  }
  if (results.some((r) => r.keys.length > 0)) {
    return "keys";
  }
  return results.some((r) => r.reason) ? "noDatabase" : "empty";
}
