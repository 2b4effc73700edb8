/**
 * The language client: finds a Python, checks it, starts `python -m cat_lsp`
 * over stdio, keeps the server's settings current, and restarts it when a
 * setting that shapes the process changes.
 */

import { readFileSync, readdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import * as path from "node:path";
import * as vscode from "vscode";
import { PythonExtension } from "@vscode/python-extension";
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  TransportKind,
} from "vscode-languageclient/node";

import { Candidate, Host, candidates, describe, pick, searchReport } from "./finder";
import {
  BundleManifest,
  Probe,
  Problem,
  UNIVERSAL_NOTICE,
  bundledPath,
  checkProbe,
  effectiveStrategy,
  parseManifest,
  probeInterpreter,
  serverEnv,
  versionText,
} from "./interpreter";
import {
  FolderSettings,
  PROCESS_SECTIONS,
  ProcessSettings,
  ServerOptions as CatServerOptions,
  needsRestart,
  readFolderSettings,
  readProcessSettings,
  serverArgs,
} from "./settings";

export const CLIENT_ID = "cat"; // vscode-languageclient reads `cat.trace.server` by this id
export const DATABASE_CHANGED = "cat/databaseChanged";

/** The process settings of the window (machine-overridable: not per folder). */
function processSettings(): ProcessSettings {
  const config = vscode.workspace.getConfiguration("cat");
  return readProcessSettings((name) => config.get(name));
}

/** The server settings of every workspace folder, plus the window's defaults. */
export function serverOptions(): CatServerOptions {
  const read = (folder: vscode.WorkspaceFolder | undefined): FolderSettings => {
    const config = vscode.workspace.getConfiguration("cat", folder?.uri);
    return readFolderSettings(folder ? folder.uri.toString() : null, (name) => config.get(name));
  };
  return { folders: [read(undefined), ...(vscode.workspace.workspaceFolders ?? []).map(read)] };
}

async function pythonExtensionInterpreter(output: vscode.LogOutputChannel): Promise<string | undefined> {
  if (!vscode.extensions.getExtension("ms-python.python")) {
    return undefined;
  }
  try {
    const api = await PythonExtension.api();
    const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
    const active = api.environments.getActiveEnvironmentPath(resource);
    const resolved = await api.environments.resolveEnvironment(active);
    return resolved?.executable.uri?.fsPath ?? active.path;
  } catch (error) {
    output.warn(`could not ask the Python extension for its interpreter: ${error}`);
    return undefined;
  }
}

/** The finder's view of this machine. */
function localHost(): Host {
  return {
    platform: process.platform,
    env: process.env,
    homedir: homedir(),
    path,
    fs: {
      isFile: (file) => {
        try {
          return statSync(file).isFile();
        } catch {
          return false;
        }
      },
      readdir: (folder) => {
        try {
          return readdirSync(folder);
        } catch {
          return [];
        }
      },
    },
  };
}

/** The package's bundle manifest; undefined in the universal package. */
function readBundleManifest(extensionPath: string): BundleManifest | undefined {
  let text: string | undefined;
  try {
    text = readFileSync(path.join(extensionPath, "bundled", "libs", "manifest.json"), "utf8");
  } catch {
    text = undefined;
  }
  return parseManifest(text);
}

/** The problem when no candidate passed: the output channel has already said why each was skipped. */
function noPython(list: Candidate[]): Problem {
  const message = list.length
    ? `No Python found can run cat-lsp (tried ${list.map(describe).join("; ")}; the "Cat" output says why each was skipped). Set cat.interpreter to a Python 3.10 or newer.`
    : "No Python 3.10 or newer was found on the PATH or in the usual install places. Install one, or set cat.interpreter to one.";
  return { message, setting: "cat.interpreter" };
}

export class CatServer implements vscode.Disposable {
  client: LanguageClient | undefined;
  private settings: ProcessSettings = processSettings();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly stateEmitter = new vscode.EventEmitter<void>();
  private readonly databaseEmitter = new vscode.EventEmitter<string | undefined>();
  /** Fires when the client starts or stops. */
  readonly onDidChangeState = this.stateEmitter.event;
  /** Fires when the server says a project's database changed (its folder URI). */
  readonly onDatabaseChanged = this.databaseEmitter.event;
  /** Why the server is not running, when it is not. */
  problem: string | undefined;
  private starting: Promise<void> | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((event) => this.configurationChanged(event)),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.sendSettings()),
    );
  }

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  async start(): Promise<void> {
    if (!this.starting) {
      this.starting = this.doStart().finally(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(5000);
      } catch (error) {
        this.output.warn(`stopping cat-lsp: ${error}`);
      }
      client.dispose();
      this.stateEmitter.fire();
    }
  }

  private async doStart(): Promise<void> {
    this.settings = processSettings();
    const launch = await this.launch(await pythonExtensionInterpreter(this.output));
    if (!launch) {
      this.stateEmitter.fire();
      return;
    }
    this.problem = undefined;
    const server: ServerOptions = {
      command: launch.python,
      args: serverArgs(this.settings),
      transport: TransportKind.stdio,
      // `python -m` puts the working directory first on sys.path, ahead of the
      // bundled folder: in the user's project, a folder named like one of our
      // dependencies would shadow it.  The server learns the workspace from
      // `initialize`, not from its working directory.
      options: { cwd: this.context.extensionPath, env: launch.env },
    };
    const client: LanguageClientOptions = {
      documentSelector: [
        { scheme: "file", language: "python" },
        { scheme: "untitled", language: "python" },
      ],
      outputChannel: this.output,
      traceOutputChannel: this.output,
      initializationOptions: serverOptions(),
    };
    this.output.info(`starting cat-lsp: ${launch.python} ${serverArgs(this.settings).join(" ")} (${launch.description})`);
    const languageClient = new LanguageClient(CLIENT_ID, "Cat Language Server", server, client);
    languageClient.onDidChangeState(() => this.stateEmitter.fire());
    this.client = languageClient;
    try {
      await languageClient.start();
      languageClient.onNotification(DATABASE_CHANGED, (params: { uri?: string }) => this.databaseEmitter.fire(params?.uri));
    } catch (error) {
      this.problem = `cat-lsp did not start: ${error}`;
      this.output.error(this.problem);
      void vscode.window.showErrorMessage(`Cat: ${this.problem}`, "Show Output").then((pick) => {
        if (pick) {
          this.output.show();
        }
      });
    }
    this.stateEmitter.fire();
  }

  /** The Python and environment to start, or undefined after telling the user why not. */
  private async launch(
    fromPythonExtension: string | undefined,
  ): Promise<{ python: string; env: NodeJS.ProcessEnv; description: string } | undefined> {
    const manifest = readBundleManifest(this.context.extensionPath);
    const strategy = effectiveStrategy(this.settings.importStrategy, manifest);
    if (strategy !== this.settings.importStrategy) {
      this.output.info(UNIVERSAL_NOTICE);
    }
    const host = localHost();
    const list = candidates(this.settings.interpreter, fromPythonExtension, host);
    const problems: Problem[] = [];
    const found = await pick<Probe>(list, host, async (candidate: Candidate) => {
      const outcome = await probeInterpreter(candidate);
      if (!outcome.ok) {
        problems.push(outcome.problem);
        return { ok: false, why: outcome.problem.message };
      }
      const problem = checkProbe(candidate, outcome.probe, strategy, manifest);
      if (problem) {
        problems.push(problem);
        return { ok: false, why: problem.message };
      }
      return { ok: true, value: outcome.probe };
    });
    const picked = found.picked;
    const pickedText = picked && `Python ${versionText(picked.value.version)} at ${picked.value.executable}`;
    searchReport(found, pickedText).forEach((line) => (picked ? this.output.info(line) : this.output.warn(line)));
    if (!picked) {
      this.report(problems.length === 1 && found.skipped.length === 1 ? problems[0] : noPython(list));
      return undefined;
    }
    const probe = picked.value;
    let libs: string[] | undefined;
    if (strategy === "useBundled" && manifest) {
      libs = bundledPath(manifest, probe.version)!.map((folder) => path.join(this.context.extensionPath, "bundled", "libs", folder));
    }
    const description =
      `Python ${versionText(probe.version)} from ${picked.candidate.source}, ` +
      (libs ? `bundled cat-lsp from ${libs.join(path.delimiter)}` : "cat-lsp installed in that environment");
    return { python: probe.executable, env: serverEnv(process.env, strategy, libs, path.delimiter), description };
  }

  private report({ message, setting }: Problem): void {
    this.problem = message;
    this.output.error(message);
    void vscode.window.showErrorMessage(`Cat: ${message}`, "Open Setting", "Show Output").then((pick) => {
      if (pick === "Open Setting") {
        void vscode.commands.executeCommand("workbench.action.openSettings", setting);
      } else if (pick === "Show Output") {
        this.output.show();
      }
    });
  }

  private async configurationChanged(event: vscode.ConfigurationChangeEvent): Promise<void> {
    if (!event.affectsConfiguration("cat")) {
      return;
    }
    if (PROCESS_SECTIONS.some((section) => event.affectsConfiguration(section))) {
      const next = processSettings();
      if (needsRestart(this.settings, next) || !this.client) {
        this.output.info("a setting that shapes the server process changed: restarting cat-lsp");
        await this.restart();
        return;
      }
    }
    this.sendSettings();
  }

  /** Database and lint settings, applied live by the server. */
  sendSettings(): void {
    if (this.client && this.running) {
      void this.client.sendNotification(DidChangeConfigurationNotification.type, { settings: { cat: serverOptions() } });
    }
  }

  /** Restart when the Python extension's interpreter changes and it is the one in use. */
  async followPythonExtension(): Promise<void> {
    if (!vscode.extensions.getExtension("ms-python.python")) {
      return;
    }
    try {
      const api = await PythonExtension.api();
      this.disposables.push(
        api.environments.onDidChangeActiveEnvironmentPath(() => {
          if (!processSettings().interpreter) {
            this.output.info("the Python extension's interpreter changed: restarting cat-lsp");
            void this.restart();
          }
        }),
      );
    } catch {
      // no API: nothing to follow
    }
  }

  dispose(): void {
    void this.stop();
    this.disposables.forEach((d) => d.dispose());
    this.stateEmitter.dispose();
    this.databaseEmitter.dispose();
  }
}
