// The extension's commands (ids `codekin.<verb>`; the server's are `codekin.server.<verb>`).
import * as vscode from 'vscode';
import { ExecuteCommandRequest, type LanguageClient } from 'vscode-languageclient/node';
import { debounce, LatestOnly } from './debounce';
import { resultOpened } from './feedback';
import { driftOf, formatContext, formatIndexStatus, pickRow, relativeTo } from './format';
import type { ServerManager } from './client';
import {
  CONTEXT,
  INDEX_STATUS,
  RESULT_OPENED,
  SEARCH,
  SERVER_CLEAR_INDEX,
  SERVER_REINDEX,
  SIMILAR,
  type ContextParams,
  type ContextResult,
  type IndexStatus,
  type SearchItem,
  type SearchResult,
  type SimilarParams,
} from './protocol';

function roots(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
}

function cfg() {
  return vscode.workspace.getConfiguration('codekin');
}

type Row = vscode.QuickPickItem & { item?: SearchItem };

function toLocation(client: LanguageClient, item: { uri: string; range: SearchItem['range'] }): vscode.Location {
  const conv = client.protocol2CodeConverter;
  return new vscode.Location(conv.asUri(item.uri), conv.asRange(item.range));
}

/** What the last Semantic Search showed (for tests and for "search again"). */
export interface SearchState {
  query: string;
  items: SearchItem[];
}

/** A QuickPick of ranked results that keeps the server's order (VS Code neither sorts nor
 * filters them away), previews the highlighted one and opens the accepted one (and tells `onOpen`);
 * hiding it without accepting returns to `origin`. */
function rankedPick(
  client: LanguageClient,
  title: string,
  placeholder: string,
  origin: vscode.TextEditor | undefined,
  onHide: () => void = () => undefined,
  onOpen: (item: SearchItem) => void = () => undefined,
): vscode.QuickPick<Row> {
  const qp = vscode.window.createQuickPick<Row>();
  qp.title = title;
  qp.placeholder = placeholder;
  qp.matchOnDescription = false;
  qp.matchOnDetail = false;
  (qp as unknown as { sortByLabel: boolean }).sortByLabel = false;
  qp.keepScrollPosition = false;
  let accepted = false;
  let previewed = false;
  qp.onDidChangeActive((active) => {
    const item = active[0]?.item;
    if (!item || !cfg().get<boolean>('search.previewOnNavigate', true)) {
      return;
    }
    previewed = true;
    const loc = toLocation(client, item);
    void vscode.window.showTextDocument(loc.uri, { preview: true, preserveFocus: true, selection: loc.range });
  });
  qp.onDidAccept(() => {
    const item = qp.selectedItems[0]?.item ?? qp.activeItems[0]?.item;
    if (!item) {
      return;
    }
    accepted = true;
    onOpen(item);
    const loc = toLocation(client, item);
    qp.hide();
    void vscode.window
      .showTextDocument(loc.uri, { selection: new vscode.Range(loc.range.start, loc.range.start), preview: false })
      .then((editor) => editor.revealRange(loc.range, vscode.TextEditorRevealType.InCenterIfOutsideViewport));
  });
  qp.onDidHide(() => {
    onHide();
    qp.dispose();
    if (!accepted && previewed && origin) {
      void vscode.window.showTextDocument(origin.document, { viewColumn: origin.viewColumn, selection: origin.selection });
    }
  });
  return qp;
}

/** QuickPick rows for ranked items, in the server's order. */
function rowsOf(items: SearchItem[], partial: boolean, empty: string): Row[] {
  const rs = roots();
  const rows: Row[] = items.map((item) => ({ ...pickRow(item, rs), alwaysShow: true, item }));
  if (partial) {
    rows.unshift({ label: '$(sync~spin) indexing… results are partial', alwaysShow: true, kind: vscode.QuickPickItemKind.Separator });
  }
  if (!rows.length) {
    rows.push({ label: empty, alwaysShow: true });
  }
  return rows;
}

export class Commands {
  lastSearch: SearchState | undefined;
  /** What the last Find Similar Code showed, in order. */
  lastSimilar: SearchItem[] | undefined;

  constructor(private readonly server: ServerManager) {}

  register(context: vscode.ExtensionContext): void {
    const reg = (id: string, fn: (...args: any[]) => unknown) =>
      context.subscriptions.push(vscode.commands.registerCommand(id, fn));
    reg('codekin.search', (query?: string) => this.search(typeof query === 'string' ? query : undefined));
    reg('codekin.searchFiles', (query?: string) =>
      this.search(typeof query === 'string' ? query : undefined, { files: true }),
    );
    reg('codekin.findSimilar', () => this.findSimilar());
    reg('codekin.copyContext', () => this.copyContext());
    reg('codekin.reindex', (opts?: { full?: boolean }) => this.reindex(!!opts?.full));
    reg('codekin.rebuildIndex', () => this.reindex(true));
    reg('codekin.clearIndex', () => this.clearIndex());
    reg('codekin.showIndexStatus', () => this.showIndexStatus());
    reg('codekin.restartServer', () => this.server.restart());
    reg('codekin.showLogs', () => this.server.output.show());
    reg('codekin.installServer', () => this.server.install());
  }

  /** Semantic Search (or, with `files`, Find Files: one row per file): a QuickPick with
   * debounced live results. */
  async search(initial?: string, opts: { files?: boolean } = {}): Promise<void> {
    const client = await this.server.require();
    if (!client) {
      return;
    }
    const files = !!opts.files;
    const latest = new LatestOnly();
    let cts: vscode.CancellationTokenSource | undefined;
    // Results come ranked from the server: VS Code must neither filter nor re-sort them.
    const qp = rankedPick(
      client,
      files ? 'Codekin: Find Files' : 'Codekin: Semantic Search',
      files
        ? 'Which files… (e.g. "where are HTTP retries configured")'
        : 'Describe the code you are looking for (e.g. "parse a config file")',
      vscode.window.activeTextEditor,
      () => {
        debounced.cancel();
        cts?.cancel();
      },
      (item) => {
        // with `codekin.feedback` on, the server logs which result was opened for which query
        const shown = this.lastSearch;
        const params = shown && resultOpened(cfg().get<boolean>('feedback', false), shown.query, shown.items, item);
        if (params) {
          void client.sendNotification(RESULT_OPENED, params);
        }
      },
    );

    const run = async (query: string) => {
      cts?.cancel();
      cts = new vscode.CancellationTokenSource();
      const ticket = latest.next();
      qp.busy = true;
      try {
        const result = await client.sendRequest<SearchResult>(
          SEARCH,
          { query, limit: cfg().get<number>('search.limit', 20), ...(files ? { files: true } : {}) },
          cts.token,
        );
        if (!latest.isCurrent(ticket)) {
          return;
        }
        const items = result?.items ?? [];
        this.lastSearch = { query, items };
        qp.items = rowsOf(items, !!result?.partial, `No results for "${query}"`);
      } catch (err) {
        if (latest.isCurrent(ticket) && !(cts?.token.isCancellationRequested ?? false)) {
          qp.items = [{ label: `$(error) ${String((err as Error)?.message ?? err)}`, alwaysShow: true }];
        }
      } finally {
        if (latest.isCurrent(ticket)) {
          qp.busy = false;
        }
      }
    };
    const debounced = debounce((q: string) => void run(q), cfg().get<number>('search.debounceMs', 200));

    qp.onDidChangeValue((value) => {
      if (!value.trim()) {
        debounced.cancel();
        latest.invalidate();
        cts?.cancel();
        qp.busy = false;
        qp.items = [];
        return;
      }
      qp.busy = true;
      debounced(value);
    });
    qp.show();
    if (initial) {
      qp.value = initial;
      debounced(initial);
      debounced.flush();
    }
  }

  /** Find Similar Code: code similar to the chunk at the cursor, or to the selection, as a
   * ranked QuickPick in the server's order (`path:line`, symbol, score). */
  async findSimilar(): Promise<SearchItem[] | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('codekin: open a file and put the cursor in some code first.');
      return undefined;
    }
    const client = await this.server.require();
    if (!client) {
      return undefined;
    }
    const c2p = client.code2ProtocolConverter;
    const params: SimilarParams = {
      textDocument: { uri: c2p.asUri(editor.document.uri) },
      limit: cfg().get<number>('search.limit', 20),
    };
    if (editor.selection.isEmpty) {
      params.position = c2p.asPosition(editor.selection.active);
    } else {
      params.range = c2p.asRange(editor.selection);
    }
    let result: SearchResult;
    try {
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: 'codekin: finding similar code' },
        () => client.sendRequest<SearchResult>(SIMILAR, params),
      );
    } catch (err) {
      void vscode.window.showErrorMessage(`codekin: ${String((err as Error)?.message ?? err)}`);
      return undefined;
    }
    const items = result?.items ?? [];
    this.lastSimilar = items;
    if (!items.length) {
      void vscode.window.showInformationMessage('codekin: no similar code found.');
      return items;
    }
    const here = `${relativeTo(editor.document.uri.toString(), roots())}:${editor.selection.active.line + 1}`;
    const qp = rankedPick(client, `Codekin: Similar to ${here}`, 'Type to filter; Enter opens', editor);
    qp.items = rowsOf(items, !!result.partial, 'No similar code found');
    qp.show();
    return items;
  }

  /** Copy Context for Assistant: ranked chunks for the cursor, within the budget, to the clipboard. */
  async copyContext(): Promise<string | undefined> {
    const client = await this.server.require();
    if (!client) {
      return undefined;
    }
    const editor = vscode.window.activeTextEditor;
    const params: ContextParams = { tokenBudget: cfg().get<number>('context.tokenBudget', 2000) };
    if (editor) {
      const c2p = client.code2ProtocolConverter;
      params.textDocument = { uri: c2p.asUri(editor.document.uri) };
      params.position = c2p.asPosition(editor.selection.active);
      if (!editor.selection.isEmpty) {
        params.query = editor.document.getText(editor.selection).slice(0, 2000);
      }
    } else {
      const query = await vscode.window.showInputBox({ title: 'Codekin: context for which question?' });
      if (!query) {
        return undefined;
      }
      params.query = query;
    }
    let result: ContextResult;
    try {
      result = await client.sendRequest<ContextResult>(CONTEXT, params);
    } catch (err) {
      void vscode.window.showErrorMessage(`codekin: ${String((err as Error)?.message ?? err)}`);
      return undefined;
    }
    const text = formatContext(result, roots());
    await vscode.env.clipboard.writeText(text);
    const n = result?.items?.length ?? 0;
    const tokens = typeof result?.tokens === 'number' ? `, ~${result.tokens} tokens` : '';
    void vscode.window.showInformationMessage(`codekin: copied ${n} chunk${n === 1 ? '' : 's'}${tokens} to the clipboard.`);
    return text;
  }

  private async executeServerCommand(command: string, args: unknown[]): Promise<unknown> {
    const client = await this.server.require();
    if (!client) {
      return undefined;
    }
    return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
  }

  /** The server answers once the run ends (with the new IndexStatus); progress shows meanwhile. */
  async reindex(full: boolean): Promise<unknown> {
    try {
      const result = (await this.executeServerCommand(SERVER_REINDEX, [{ full }])) as IndexStatus | undefined;
      void this.server.refreshStatus();
      if (result && typeof result === 'object') {
        void vscode.window.showInformationMessage(
          `codekin: index ${result.state}: ${result.files} files, ${result.chunks} chunks.`,
        );
      }
      return result;
    } catch (err) {
      void vscode.window.showErrorMessage(`codekin: reindex failed: ${String((err as Error)?.message ?? err)}`);
      return undefined;
    }
  }

  async clearIndex(): Promise<unknown> {
    const ok = await vscode.window.showWarningMessage('codekin: delete the index of this workspace?', { modal: true }, 'Clear Index');
    if (ok !== 'Clear Index') {
      return undefined;
    }
    const result = await this.executeServerCommand(SERVER_CLEAR_INDEX, []);
    void this.server.refreshStatus();
    return result;
  }

  async showIndexStatus(): Promise<IndexStatus | undefined> {
    const client = await this.server.require();
    if (!client) {
      return undefined;
    }
    let status: IndexStatus;
    try {
      status = await client.sendRequest<IndexStatus>(INDEX_STATUS, {});
    } catch (err) {
      void vscode.window.showErrorMessage(`codekin: ${String((err as Error)?.message ?? err)}`);
      return undefined;
    }
    this.server.setStatus(status); // the status bar too: a `codekin eval` may have run meanwhile
    const lines = formatIndexStatus(status);
    this.server.output.info(['index status:', ...lines].join('\n  '));
    const drift = driftOf(status);
    const show = drift.length ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    const summary = [...lines.slice(0, 3), ...drift.map((w) => `warning: ${w}`)].join(' · ');
    void show(`codekin: ${summary}`, 'Reindex', 'Show Logs')
      .then((choice) => {
        if (choice === 'Reindex') {
          void this.reindex(false);
        } else if (choice === 'Show Logs') {
          this.server.output.show();
        }
      });
    return status;
  }
}
