/**
 * The status bar item: whether the server runs, and which database it reads
 * (or why none).  Clicking it opens the output channel.
 */

import * as vscode from "vscode";

import type { KeyExplorer } from "./keyExplorer";
import { databaseStatus } from "./keyModel";
import type { CatServer } from "./server";

export class StatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("cat.status", vscode.StatusBarAlignment.Left, 10);
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly server: CatServer,
    private readonly explorer: KeyExplorer,
  ) {
    this.item.name = "Cat Language Server";
    this.item.command = "cat.showOutput";
    this.disposables.push(server.onDidChangeState(() => this.update()), explorer.onDidLoad(() => this.update()));
    this.update();
    this.item.show();
  }

  private update(): void {
    if (this.server.running) {
      const database = databaseStatus(this.explorer.firstResult());
      this.item.text = database.short ? `$(database) Cat: ${database.short}` : "$(database) Cat";
      this.item.backgroundColor = undefined;
      this.item.tooltip = `cat-lsp is running.\n${database.long}\nClick to show the output.`;
    } else if (this.server.problem) {
      this.item.text = "$(error) Cat";
      this.item.backgroundColor = new vscode.ThemeColor("statusBarItem.errorBackground");
      this.item.tooltip = `cat-lsp is not running: ${this.server.problem}\nClick to show the output.`;
    } else {
      this.item.text = "$(loading~spin) Cat";
      this.item.backgroundColor = undefined;
      this.item.tooltip = "cat-lsp is starting.";
    }
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
    this.item.dispose();
  }
}
