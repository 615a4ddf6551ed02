// The language client: starting `codekin serve`, settings, progress and index status.
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  State,
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
  type LanguageClientOptions,
  type ServerOptions,
  type WorkDoneProgressBegin,
  type WorkDoneProgressReport,
  type WorkDoneProgressEnd,
  type ProgressToken,
} from 'vscode-languageclient/node';
import {
  INDEX_STATUS,
  INDEX_STATUS_CHANGED,
  SERVER_OPEN_SIMILAR,
  type IndexStatus,
  type SimilarLensArgument,
} from './protocol';
import { stripPrefix } from './format';
import { affectsServer, SERVER_KEYS, serverSettings } from './settings';
import { findServer, installServer, onInterpreterChange } from './serverSetup';
import type { CodekinStatusBar } from './statusBar';

export const LANGUAGES = [
  'python', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'go', 'rust', 'java', 'c',
  'cpp', 'csharp', 'ruby', 'php', 'kotlin', 'scala', 'swift', 'lua', 'shellscript', 'elixir', 'haskell', 'zig',
];

/**
 * The `codekin` settings the user actually set (user, workspace or folder scope), for the
 * server. Defaults from the manifest are left out so that they never override a repository's
 * own `.codekin.toml` (editor settings rank above it on the server).
 */
function currentServerSettings(scope?: vscode.Uri): Record<string, unknown> {
  const cfg = vscode.workspace.getConfiguration('codekin', scope);
  const isSet = (key: string) => {
    const i = cfg.inspect(key);
    return !!i && [i.globalValue, i.workspaceValue, i.workspaceFolderValue].some((v) => v !== undefined);
  };
  const section: Record<string, unknown> = {};
  for (const key of SERVER_KEYS) {
    section[key] = cfg.get(key);
  }
  return serverSettings(section, isSet);
}

/** Peek at the locations of a "N similar" lens. */
async function showSimilarLens(client: LanguageClient, arg: SimilarLensArgument | undefined): Promise<vscode.Location[]> {
  if (!arg) {
    return [];
  }
  const p2c = client.protocol2CodeConverter;
  const locations = (arg.locations ?? []).map((l) => new vscode.Location(p2c.asUri(l.uri), p2c.asRange(l.range)));
  await vscode.commands.executeCommand(
    'editor.action.peekLocations',
    p2c.asUri(arg.uri),
    p2c.asPosition(arg.position),
    locations,
    'peek',
  );
  return locations;
}

export class ServerManager implements vscode.Disposable {
  client: LanguageClient | undefined;
  private starting: Promise<LanguageClient | undefined> | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private clientDisposables: vscode.Disposable[] = [];
  private offeredInstall = false;
  private readonly statusEmitter = new vscode.EventEmitter<IndexStatus>();
  /** Fires on every index status the server reports. */
  readonly onDidChangeStatus = this.statusEmitter.event;

  constructor(
    readonly output: vscode.LogOutputChannel,
    private readonly statusBar: CodekinStatusBar,
  ) {
    this.disposables.push(
      this.statusEmitter,
      vscode.workspace.onDidChangeConfiguration((e) => this.onConfigChange(e)),
    );
    void onInterpreterChange(() => {
      if (!vscode.workspace.getConfiguration('codekin').get<string>('server.path')) {
        this.output.info('Python interpreter changed; restarting the codekin server');
        void this.restart();
      }
    }).then((d) => d && this.disposables.push(d));
  }

  get isRunning(): boolean {
    return this.client?.state === State.Running;
  }

  /** The running client, starting it when needed; undefined when no server could be found. */
  async ensure(): Promise<LanguageClient | undefined> {
    if (this.client && this.client.state === State.Running) {
      return this.client;
    }
    if (!this.starting) {
      this.starting = this.start().finally(() => (this.starting = undefined));
    }
    return this.starting;
  }

  /** Like ensure(), but tells the user when there is no server. */
  async require(): Promise<LanguageClient | undefined> {
    const client = await this.ensure();
    if (!client) {
      void vscode.window
        .showErrorMessage('codekin: the language server is not running.', 'Show Logs', 'Set Up Server…')
        .then((c) => {
          if (c === 'Show Logs') {
            this.output.show();
          } else if (c === 'Set Up Server…') {
            void vscode.commands.executeCommand('codekin.installServer');
          }
        });
    }
    return client;
  }

  private async start(): Promise<LanguageClient | undefined> {
    this.statusBar.setRunState('starting');
    const folder = vscode.workspace.workspaceFolders?.[0];
    const located = await findServer(folder?.uri);
    if (located.source === 'missing') {
      this.output.warn(`codekin server not found: ${located.reason}`);
      this.statusBar.setRunState('missing');
      void vscode.commands.executeCommand('setContext', 'codekin.running', false);
      if (!this.offeredInstall) {
        this.offeredInstall = true;
        void this.offerInstall(located.reason, located.interpreter);
      }
      return undefined;
    }
    this.output.info(`starting codekin server (${located.source}): ${located.command} ${located.args.join(' ')}`);
    const env = vscode.workspace.getConfiguration('codekin').get<Record<string, string>>('server.env', {});
    const serverOptions: ServerOptions = {
      command: located.command,
      args: located.args,
      options: { env: { ...process.env, ...env }, cwd: folder?.uri.fsPath, shell: located.shell },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: LANGUAGES.map((language) => ({ scheme: 'file', language })),
      outputChannel: this.output,
      traceOutputChannel: this.output,
      initializationOptions: currentServerSettings(),
      middleware: {
        // "N similar" code lenses: show the matches in the peek view, on the client.
        executeCommand: async (command, args, next) => {
          if (command === SERVER_OPEN_SIMILAR && this.client) {
            return showSimilarLens(this.client, args[0] as SimilarLensArgument);
          }
          return next(command, args);
        },
        workspace: {
          // Answer workspace/configuration for `codekin` with the server's keys the user set.
          configuration: async (params, token, next) => {
            const result = await next(params, token);
            if (!Array.isArray(result)) {
              return result;
            }
            return result.map((value, i) => {
              const item = params.items[i];
              if (item?.section !== 'codekin') {
                return value;
              }
              const scope = item.scopeUri ? client.protocol2CodeConverter.asUri(item.scopeUri) : undefined;
              return currentServerSettings(scope);
            });
          },
        },
      },
    };
    const client = new LanguageClient('codekin', 'codekin', serverOptions, clientOptions);
    this.client = client;
    this.clientDisposables.push(
      client.onDidChangeState((e) => {
        const running = e.newState === State.Running;
        this.statusBar.setRunState(running ? 'running' : e.newState === State.Starting ? 'starting' : 'stopped');
        void vscode.commands.executeCommand('setContext', 'codekin.running', running);
      }),
    );
    try {
      await client.start();
    } catch (err) {
      this.output.error(`codekin server failed to start: ${String(err)}`);
      this.statusBar.setRunState('stopped');
      void vscode.window.showErrorMessage(`codekin: the server failed to start: ${String(err)}`, 'Show Logs').then(
        (c) => c && this.output.show(),
      );
      return undefined;
    }
    this.hookProgress(client);
    this.clientDisposables.push(
      client.onNotification(INDEX_STATUS_CHANGED, (status: IndexStatus) => this.setStatus(status)),
    );
    void this.refreshStatus();
    return client;
  }

  /** Show `status` in the status bar and tell listeners (also for statuses requested elsewhere). */
  setStatus(status: IndexStatus): void {
    this.statusBar.setStatus(status);
    this.statusEmitter.fire(status);
  }

  async refreshStatus(): Promise<IndexStatus | undefined> {
    const client = this.client;
    if (!client || client.state !== State.Running) {
      return undefined;
    }
    try {
      const status = await client.sendRequest<IndexStatus>(INDEX_STATUS, {});
      this.setStatus(status);
      return status;
    } catch (err) {
      this.output.warn(`codekin/indexStatus failed: ${String(err)}`);
      return undefined;
    }
  }

  /**
   * Show the server's work-done progress as a notification and in the status bar item (instead
   * of the client library's silent window progress).
   */
  private hookProgress(client: LanguageClient): void {
    const ends = new Map<string, () => void>();
    this.clientDisposables.push(
      client.onRequest(WorkDoneProgressCreateRequest.type, ({ token }) => {
        const key = String(token);
        let report: ((v: { message?: string; increment?: number }) => void) | undefined;
        let reported = 0;
        let title: string | undefined;
        let finish: () => void = () => undefined;
        const done = new Promise<void>((resolve) => (finish = resolve));
        ends.set(key, finish);
        const sub = client.onProgress(WorkDoneProgress.type, token as ProgressToken, (value) => {
          const v = value as WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;
          if (v.kind === 'begin') {
            title = v.title;
            this.statusBar.setProgress(key, { title: v.title, message: v.message, percentage: v.percentage });
            void vscode.window.withProgress(
              { location: vscode.ProgressLocation.Notification, title: `codekin: ${stripPrefix(v.title)}`, cancellable: !!v.cancellable },
              async (progress, cancel) => {
                report = (r) => progress.report(r);
                cancel.onCancellationRequested(() =>
                  client.sendNotification(WorkDoneProgressCancelNotification.type, { token: token as ProgressToken }),
                );
                if (v.message) {
                  progress.report({ message: v.message });
                }
                await done;
              },
            );
          } else if (v.kind === 'report') {
            this.statusBar.setProgress(key, { title, message: v.message, percentage: v.percentage });
            const pct = typeof v.percentage === 'number' ? Math.max(0, Math.min(100, v.percentage)) : undefined;
            const increment = pct !== undefined ? Math.max(0, pct - reported) : undefined;
            if (pct !== undefined) {
              reported = Math.max(reported, pct);
            }
            report?.({ message: v.message, increment });
          } else if (v.kind === 'end') {
            this.statusBar.setProgress(key, null);
            ends.delete(key);
            sub.dispose();
            finish();
            void this.refreshStatus();
          }
        });
      }),
      { dispose: () => ends.forEach((finish) => finish()) },
    );
  }

  private async offerInstall(reason: string, interpreter?: string): Promise<void> {
    const choice = await vscode.window.showWarningMessage(
      `codekin: the language server was not found (${reason}).`,
      'Install into Python…',
      'Set Server Path',
      'Show Logs',
    );
    if (choice === 'Install into Python…') {
      await this.install(interpreter);
    } else if (choice === 'Set Server Path') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'codekin.server.path');
    } else if (choice === 'Show Logs') {
      this.output.show();
    }
  }

  async install(interpreter?: string): Promise<void> {
    const ok = await installServer(interpreter);
    if (ok) {
      void vscode.window.showInformationMessage('codekin installed; starting the server.');
      await this.restart();
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.clientDisposables.forEach((d) => d.dispose());
    this.clientDisposables = [];
    if (client) {
      try {
        await client.stop(5000);
      } catch (err) {
        this.output.warn(`stopping the server: ${String(err)}`);
      }
      await client.dispose().catch(() => undefined);
    }
    this.statusBar.setRunState('stopped');
    this.statusBar.setStatus(null);
  }

  async restart(): Promise<LanguageClient | undefined> {
    await this.stop();
    this.offeredInstall = false;
    return this.ensure();
  }

  private onConfigChange(e: vscode.ConfigurationChangeEvent): void {
    if (e.affectsConfiguration('codekin.server')) {
      this.output.info('codekin.server settings changed; restarting the server');
      void this.restart();
      return;
    }
    if (this.client && this.isRunning && affectsServer((s) => e.affectsConfiguration(s))) {
      void this.client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { codekin: currentServerSettings() },
      });
    }
  }

  dispose(): void {
    void this.stop();
    this.disposables.forEach((d) => d.dispose());
  }
}
