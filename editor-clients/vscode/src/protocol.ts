// Wire types of codekin's LSP extensions (docs/lsp-extensions.md). Plain data: no vscode import.

export const SEARCH = 'codekin/search';
export const SIMILAR = 'codekin/similar';
export const CONTEXT = 'codekin/context';
export const INDEX_STATUS = 'codekin/indexStatus';
export const INDEX_STATUS_CHANGED = 'codekin/indexStatusChanged';
/** Client -> server notification: the user opened a search result (sent with `feedback` on). */
export const RESULT_OPENED = 'codekin/resultOpened';
/** Server-side commands (workspace/executeCommand); the extension's own ids are `codekin.<verb>`. */
export const SERVER_REINDEX = 'codekin.server.reindex';
export const SERVER_CLEAR_INDEX = 'codekin.server.clearIndex';
/** The command of the server's "N similar" code lenses; the extension handles it itself. */
export const SERVER_OPEN_SIMILAR = 'codekin.server.openSimilar';

export interface SimilarLensArgument {
  uri: string;
  position: LspPosition;
  locations: Array<{ uri: string; range: LspRange }>;
}

export interface LspPosition {
  line: number;
  character: number;
}
export interface LspRange {
  start: LspPosition;
  end: LspPosition;
}

export interface SearchParams {
  query: string;
  limit?: number;
  languages?: string[];
  paths?: string[];
  /** One item per file (its best chunk). */
  files?: boolean;
}

export interface SimilarParams {
  textDocument: { uri: string };
  position?: LspPosition;
  range?: LspRange;
  limit?: number;
}

export interface ContextParams {
  textDocument?: { uri: string };
  position?: LspPosition;
  query?: string;
  tokenBudget: number;
}

export interface SearchItem {
  uri: string;
  range: LspRange;
  /** The ranking's score: never rises down a result list. */
  score: number;
  /** Cosine similarity of query and chunk (a detail). */
  cosine?: number;
  symbol: string;
  kind: string;
  language: string;
  preview: string;
}

export interface SearchResult {
  items: SearchItem[];
  partial: boolean;
}

export interface ContextItem {
  uri: string;
  range: LspRange;
  score: number;
  cosine?: number;
  symbol: string;
  kind: string;
  language: string;
  text: string;
  tokens?: number;
}

export interface ContextResult {
  items: ContextItem[];
  tokens?: number;
  partial?: boolean;
}

export interface ResultOpenedParams {
  query: string;
  uri: string;
  range: LspRange;
  /** 1-based place of the item in the list it was picked from. */
  rank: number;
}

export type IndexState = 'indexing' | 'ready' | 'error' | string;

/** The latest `codekin eval` run on a folder's index and its drift warnings. */
export interface EvaluationStatus {
  model: string;
  k: number;
  mrr: number;
  bestMrr: number;
  queries: number;
  dataset: string;
  time: number;
  warnings: string[];
}

export interface IndexStatus {
  state: IndexState;
  files: number;
  chunks: number;
  model: string;
  lastUpdated: number | string | null;
  errors: Array<string | { message?: string }> | number;
  partial?: boolean;
  watcher?: string;
  folders?: Array<{ uri: string; state: IndexState; files: number; chunks: number; evaluation?: EvaluationStatus | null }>;
  /** Every folder's evaluation warnings (absent from older servers). */
  drift?: string[];
}
