/**
 * The `cat.*` settings, and what each becomes for the server.
 *
 * Pure functions over plain objects (no `vscode` import), so the unit tests
 * exercise exactly what the extension runs.  Two kinds of settings:
 *
 * - process settings (interpreter, import strategy, arguments) decide how the
 *   server process starts: changing one restarts it;
 * - server settings (database, lint selection) travel in the
 *   `initializationOptions` and in `workspace/didChangeConfiguration`, and
 *   the server applies them live.
 *
 * `cat.trace.server` is read by vscode-languageclient itself (the client's
 * id is `cat`), so it changes live without anything here.
 */

export type ImportStrategy = "useBundled" | "fromEnvironment";

/** What decides how the server process starts. */
export interface ProcessSettings {
  interpreter: string;
  importStrategy: ImportStrategy;
  args: string[];
}

/** What the server applies to one workspace folder. */
export interface FolderSettings {
  /** The folder's URI (`null`: the defaults, for files outside every folder). */
  uri: string | null;
  database: string | null;
  select: string[] | null;
  ignore: string[] | null;
}

/** The shape of `initializationOptions` and of `didChangeConfiguration`'s `settings.cat`. */
export interface ServerOptions {
  folders: FolderSettings[];
}

/** Reads one setting, as `vscode.WorkspaceConfiguration.get` does. */
export type Getter = (name: string) => unknown;

function stringList(value: unknown): string[] | null {
  if (!Array.isArray(value)) {
    return null;
  }
  return value.filter((item): item is string => typeof item === "string").map((item) => item.trim()).filter(Boolean);
}

function text(value: unknown): string {
  return typeof value === "string" ? value.trim() : "";
}

export function readProcessSettings(get: Getter): ProcessSettings {
  const strategy = get("importStrategy");
  return {
    interpreter: text(get("interpreter")),
    importStrategy: strategy === "fromEnvironment" ? "fromEnvironment" : "useBundled",
    args: stringList(get("args")) ?? [],
  };
}

export function readFolderSettings(uri: string | null, get: Getter): FolderSettings {
  const database = text(get("database"));
  return {
    uri,
    database: database || null,
    select: stringList(get("lint.select")),
    ignore: stringList(get("lint.ignore")),
  };
}

/** Whether going from `before` to `after` needs a new server process. */
export function needsRestart(before: ProcessSettings, after: ProcessSettings): boolean {
  return (
    before.interpreter !== after.interpreter ||
    before.importStrategy !== after.importStrategy ||
    before.args.length !== after.args.length ||
    before.args.some((arg, i) => arg !== after.args[i])
  );
}

/** Settings whose change `affectsConfiguration` should restart the server for. */
export const PROCESS_SECTIONS = ["cat.interpreter", "cat.importStrategy", "cat.args"];

/**
 * The server's command line: `python -m cat_lsp ARGS`.
 *
 * vscode-languageclient appends `--stdio` itself for the stdio transport, so
 * it is not added here; a `--tcp` in the user's arguments would break the
 * connection, so it is dropped with its value.
 */
export function serverArgs(settings: ProcessSettings): string[] {
  const args: string[] = [];
  for (let i = 0; i < settings.args.length; i++) {
    const arg = settings.args[i];
    if (arg === "--stdio") {
      continue;
    }
    if (arg === "--tcp") {
      i++;
      continue;
    }
    if (arg.startsWith("--tcp=")) {
      continue;
    }
    args.push(arg);
  }
  return ["-m", "cat_lsp", ...args];
}
