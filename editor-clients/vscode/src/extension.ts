// codekin for VS Code: semantic code search through the `codekin serve` language server.
import * as vscode from 'vscode';
import { ServerManager } from './client';
import { Commands } from './commands';
import { CodekinStatusBar } from './statusBar';

export interface CodekinApi {
  /** The running language client (starting it if needed). */
  getClient(): ReturnType<ServerManager['ensure']>;
  readonly server: ServerManager;
  readonly commands: Commands;
  readonly statusBar: CodekinStatusBar;
}

let manager: ServerManager | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<CodekinApi> {
  const output = vscode.window.createOutputChannel('codekin', { log: true });
  const statusBar = new CodekinStatusBar();
  manager = new ServerManager(output, statusBar);
  const commands = new Commands(manager);
  commands.register(context);
  context.subscriptions.push(output, statusBar, manager);
  void manager.ensure();
  return { getClient: () => manager!.ensure(), server: manager, commands, statusBar };
}

export async function deactivate(): Promise<void> {
  await manager?.stop();
}
