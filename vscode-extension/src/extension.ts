/**
 * Entry point: the output channel, the server, the commands, the status bar
 * and the key explorer.  Everything about Cat code lives in the server; this
 * side starts it, forwards settings and shows what it answers.
 */

import * as vscode from "vscode";

import { KeyExplorer } from "./keyExplorer";
import { CatServer } from "./server";
import { StatusItem } from "./status";

export const FIX_ALL_KIND = "source.fixAll.cat-lint";

let server: CatServer | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("Cat", { log: true });
  server = new CatServer(context, output);
  const explorer = new KeyExplorer(server);
  const status = new StatusItem(server, explorer);
  context.subscriptions.push(
    output,
    server,
    explorer,
    status,
    vscode.commands.registerCommand("cat.restart", async () => {
      output.info("restart requested");
      await server!.restart();
    }),
    vscode.commands.registerCommand("cat.showOutput", () => output.show()),
    vscode.commands.registerCommand("cat.refreshKeys", () => explorer.refresh()),
    vscode.commands.registerCommand("cat.fixAll", () =>
      vscode.commands.executeCommand("editor.action.codeAction", { kind: FIX_ALL_KIND, apply: "first" }),
    ),
  );
  void server.followPythonExtension();
  await server.start();
}

export async function deactivate(): Promise<void> {
  await server?.stop();
}
