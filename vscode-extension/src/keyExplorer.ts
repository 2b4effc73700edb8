/**
 * The key explorer: the project's real data beside its code.
 *
 * Everything comes from the server (`cat/keys`, `cat/keyValue`,
 * `cat/userIds`) and it refreshes when the server says the database changed
 * (`cat/databaseChanged`), on the refresh command, and when the server
 * (re)starts: the extension never polls, and never opens the database itself.
 */

import * as vscode from "vscode";

import { KeyEntry, KeyGroup, KeysResult, LOCATION_ORDER, describeKey, explain, groupKeys, prettyValue, viewState } from "./keyModel";
import type { CatServer } from "./server";

export const VIEW_ID = "cat.keys";
export const SCHEME = "cat-key";

type Node =
  | { kind: "project"; folder: vscode.WorkspaceFolder | undefined; result: KeysResult }
  | { kind: "group"; folder: vscode.WorkspaceFolder | undefined; group: KeyGroup }
  | { kind: "key"; folder: vscode.WorkspaceFolder | undefined; entry: KeyEntry }
  | { kind: "note"; text: string };

/** The virtual document of a key: `cat-key:/KEY.json?folder=URI&user=ID`. */
export function valueUri(key: string, folder: vscode.WorkspaceFolder | undefined, user?: string): vscode.Uri {
  const query = new URLSearchParams();
  if (folder) {
    query.set("folder", folder.uri.toString());
  }
  if (user !== undefined) {
    query.set("user", user);
  }
  const name = user !== undefined ? `${key} (${user})` : key;
  return vscode.Uri.from({ scheme: SCHEME, path: `/${name}.json`, query: `key=${encodeURIComponent(key)}&${query.toString()}` });
}

/**
 * The workspace folders that are Cat projects (a `plugins/` folder or a
 * `config.py`): one section each.  When none is, every folder is shown, so a
 * plugin's own repository still gets its keys.
 */
async function catProjects(): Promise<readonly vscode.WorkspaceFolder[]> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length < 2) {
    return folders;
  }
  const exists = async (uri: vscode.Uri) => {
    try {
      await vscode.workspace.fs.stat(uri);
      return true;
    } catch {
      return false;
    }
  };
  const marks = await Promise.all(
    folders.map(async (f) => (await exists(vscode.Uri.joinPath(f.uri, "plugins"))) || (await exists(vscode.Uri.joinPath(f.uri, "config.py")))),
  );
  const cat = folders.filter((_, i) => marks[i]);
  return cat.length > 0 ? cat : folders;
}

export class KeyExplorer implements vscode.TreeDataProvider<Node>, vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly loadEmitter = new vscode.EventEmitter<void>();
  /** Fires after every fresh `cat/keys` answer (the status bar shows the database from it). */
  readonly onDidLoad = this.loadEmitter.event;
  private readonly docEmitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.docEmitter.event;
  private readonly view: vscode.TreeView<Node>;
  private readonly disposables: vscode.Disposable[] = [];
  private results = new Map<string, KeysResult>();

  constructor(private readonly server: CatServer) {
    this.view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    this.disposables.push(
      this.view,
      vscode.workspace.registerTextDocumentContentProvider(SCHEME, this),
      server.onDatabaseChanged(() => this.refresh()),
      server.onDidChangeState(() => this.refresh()),
      vscode.workspace.onDidSaveTextDocument((doc) => {
        if (doc.languageId === "python") {
          this.refresh(); // keys saved or read in code changed
        }
      }),
      vscode.commands.registerCommand("cat.showDatabase", () => this.showDatabase()),
      vscode.commands.registerCommand("cat.keys.open", (node: Node) => this.open(node)),
      vscode.commands.registerCommand("cat.keys.goToSaves", (node: Node) => this.goTo(node, "saves")),
      vscode.commands.registerCommand("cat.keys.goToReads", (node: Node) => this.goTo(node, "reads")),
    );
  }

  refresh(): void {
    this.results.clear();
    this.changeEmitter.fire(undefined);
    // Open value documents follow the database too.
    for (const doc of vscode.workspace.textDocuments) {
      if (doc.uri.scheme === SCHEME) {
        this.docEmitter.fire(doc.uri);
      }
    }
  }

  /** The first project's answer, for the status bar (undefined before the first listing). */
  firstResult(): KeysResult | undefined {
    return [...this.results.values()][0];
  }

  private async fetch(folder: vscode.WorkspaceFolder | undefined): Promise<KeysResult> {
    const key = folder?.uri.toString() ?? "";
    const cached = this.results.get(key);
    if (cached) {
      return cached;
    }
    const client = this.server.client;
    if (!client || !this.server.running) {
      return { database: null, reason: this.server.problem ?? "the language server is not running", keys: [] };
    }
    const result = await client.sendRequest<KeysResult>("cat/keys", folder ? { uri: folder.uri.toString() } : {});
    this.results.set(key, result);
    this.loadEmitter.fire();
    return result;
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) {
      return this.roots();
    }
    if (node.kind === "project") {
      return this.projectChildren(node.folder, node.result);
    }
    if (node.kind === "group") {
      return node.group.keys.map((entry) => ({ kind: "key", folder: node.folder, entry }));
    }
    return [];
  }

  private async roots(): Promise<Node[]> {
    const folders = await catProjects();
    try {
      if (folders.length > 1) {
        const results = await Promise.all(folders.map((f) => this.fetch(f)));
        this.view.message = undefined;
        this.setState(results);
        return folders.map((folder, i) => ({ kind: "project", folder, result: results[i] }));
      }
      const folder = folders[0];
      const result = await this.fetch(folder);
      // A message above rows; with no rows the welcome content explains instead (VS Code hides it under a message).
      this.view.message = result.keys.length > 0 ? explain(result) || undefined : undefined;
      this.setState([result]);
      return this.projectChildren(folder, result);
    } catch (error) {
      this.view.message = `The keys could not be listed: ${error}`;
      this.setState([]);
      return [];
    }
  }

  private setState(results: KeysResult[]): void {
    void vscode.commands.executeCommand("setContext", "cat.keys.state", viewState(results, this.server.running));
  }

  private projectChildren(folder: vscode.WorkspaceFolder | undefined, result: KeysResult): Node[] {
    const groups: Node[] = groupKeys(result).map((group) => ({ kind: "group", folder, group }));
    const note = explain(result);
    return note && (vscode.workspace.workspaceFolders ?? []).length > 1 ? [{ kind: "note", text: note }, ...groups] : groups;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case "project": {
        const item = new vscode.TreeItem(node.folder?.name ?? "workspace", vscode.TreeItemCollapsibleState.Expanded);
        item.description = node.result.reason ? "no database" : node.result.database ?? "";
        item.tooltip = node.result.reason ?? node.result.database ?? "";
        item.iconPath = new vscode.ThemeIcon("database");
        return item;
      }
      case "group": {
        const item = new vscode.TreeItem(node.group.label, vscode.TreeItemCollapsibleState.Expanded);
        item.description = `${node.group.keys.length}`;
        item.id = `${node.folder?.uri.toString() ?? ""}#${node.group.scope}`;
        return item;
      }
      case "note": {
        const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon("info");
        item.tooltip = node.text;
        return item;
      }
      case "key": {
        const view = describeKey(node.entry);
        const item = new vscode.TreeItem(view.label, vscode.TreeItemCollapsibleState.None);
        item.description = view.description;
        item.tooltip = new vscode.MarkdownString(view.tooltip);
        item.iconPath = new vscode.ThemeIcon(view.icon);
        item.contextValue = view.contextValue;
        item.id = `${node.folder?.uri.toString() ?? ""}#${node.entry.scope}#${node.entry.key}`;
        if (view.state !== "notYetStored") {
          item.command = { command: "cat.keys.open", title: "Open Value", arguments: [node] };
        }
        return item;
      }
    }
  }

  /** Which database each project reads, or where it was looked for. */
  private async showDatabase(): Promise<void> {
    const folders = await catProjects();
    const lines = await Promise.all(
      (folders.length ? folders : [undefined]).map(async (folder) => {
        const result = await this.fetch(folder);
        const where = result.reason ?? `reads ${result.database}`;
        return folders.length > 1 ? `${folder?.name}: ${where}` : where;
      }),
    );
    void vscode.window.showInformationMessage(`Cat: ${lines.join("; ")}. ${LOCATION_ORDER}`);
  }

  /** A global key opens its value; a per-user key first asks which user. */
  private async open(node: Node): Promise<void> {
    if (node?.kind !== "key") {
      return;
    }
    const { entry, folder } = node;
    let user: string | undefined;
    if (entry.scope === "user") {
      const client = this.server.client;
      if (!client) {
        return;
      }
      const answer = await client.sendRequest<{ userIds: string[]; more: boolean }>("cat/userIds", {
        uri: folder?.uri.toString(),
        key: entry.key,
      });
      user = await vscode.window.showQuickPick(answer.userIds, {
        title: `Users holding "${entry.key}"` + (answer.more ? " (the first 50)" : ""),
        placeHolder: "Whose value to open",
      });
      if (user === undefined) {
        return;
      }
    }
    const doc = await vscode.workspace.openTextDocument(valueUri(entry.key, folder, user));
    await vscode.window.showTextDocument(doc, { preview: true });
  }

  /** The read-only document of a key's value, fetched from the server. */
  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const query = new URLSearchParams(uri.query);
    const client = this.server.client;
    if (!client) {
      return "// the language server is not running\n";
    }
    const params: Record<string, string> = { key: query.get("key") ?? "" };
    if (query.get("folder")) {
      params.uri = query.get("folder")!;
    }
    if (query.has("user")) {
      params.userId = query.get("user")!;
    }
    const answer = await client.sendRequest<{ found: boolean; value: unknown; reason: string | null }>("cat/keyValue", params);
    if (!answer.found) {
      return `// ${params.key} is not in the database${answer.reason ? `: ${answer.reason}` : ""}\n`;
    }
    return prettyValue(answer.value);
  }

  /** "Go to saves" and "Go to reads", answered by the server's definition and references. */
  private async goTo(node: Node, which: "saves" | "reads"): Promise<void> {
    if (node?.kind !== "key") {
      return;
    }
    const place = node.entry.saves?.[0] ?? node.entry.reads?.[0];
    if (!place) {
      return;
    }
    const uri = vscode.Uri.parse(place.uri);
    const position = new vscode.Position(place.range.start.line, place.range.start.character + 1);
    const locations =
      which === "saves"
        ? await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>("vscode.executeDefinitionProvider", uri, position)
        : await vscode.commands.executeCommand<vscode.Location[]>("vscode.executeReferenceProvider", uri, position);
    const found = (locations ?? []).map((l) => ("targetUri" in l ? new vscode.Location(l.targetUri, l.targetRange) : l));
    await vscode.commands.executeCommand(
      "editor.action.goToLocations",
      uri,
      position,
      found,
      "goto",
      `No ${which === "saves" ? "saves" : "reads"} of "${node.entry.key}" in the workspace`,
    );
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
    this.changeEmitter.dispose();
    this.loadEmitter.dispose();
    this.docEmitter.dispose();
  }
}
