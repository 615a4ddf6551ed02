// The status bar item: indexing progress and index state.
import * as vscode from 'vscode';
import { statusBarView, type ProgressView } from './format';
import type { IndexStatus } from './protocol';

export type RunState = 'starting' | 'running' | 'stopped' | 'missing';

export class CodekinStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private run: RunState = 'starting';
  private status: IndexStatus | null = null;
  private readonly progress = new Map<string, ProgressView>();

  constructor() {
    this.item = vscode.window.createStatusBarItem('codekin.status', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'codekin';
    this.render();
    this.item.show();
  }

  get lastStatus(): IndexStatus | null {
    return this.status;
  }

  get text(): string {
    return this.item.text;
  }

  setRunState(run: RunState): void {
    this.run = run;
    if (run !== 'running') {
      this.progress.clear();
    }
    this.render();
  }

  setStatus(status: IndexStatus | null): void {
    this.status = status;
    this.render();
  }

  setProgress(token: string, view: ProgressView | null): void {
    if (view) {
      this.progress.set(token, view);
    } else {
      this.progress.delete(token);
    }
    this.render();
  }

  private render(): void {
    const current = [...this.progress.values()].pop() ?? null;
    const view = statusBarView(this.run, this.status, current);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.command = this.run === 'missing' ? 'codekin.installServer' : this.run === 'stopped' ? 'codekin.showLogs' : 'codekin.showIndexStatus';
    this.item.backgroundColor =
      this.run === 'missing' || this.status?.state === 'error'
        ? new vscode.ThemeColor('statusBarItem.warningBackground')
        : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
