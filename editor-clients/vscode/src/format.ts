// Pure formatting of codekin results for the UI: QuickPick rows, context text, status texts.
import * as path from 'path';
import { fileURLToPath } from 'url';
import type { ContextResult, IndexStatus, SearchItem } from './protocol';

/** File-system path of a `file:` URI (other schemes are returned as they are). */
export function uriToPath(uri: string): string {
  if (uri.startsWith('file:')) {
    try {
      return fileURLToPath(uri);
    } catch {
      return uri;
    }
  }
  return uri;
}

/** `uri` relative to the first root that holds it, with `/` separators; else its full path. */
export function relativeTo(uri: string, roots: readonly string[]): string {
  const p = uriToPath(uri);
  for (const root of roots) {
    const rel = path.relative(root, p);
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) {
      return rel.split(path.sep).join('/');
    }
  }
  return p;
}

const KIND_ICONS: Record<string, string> = {
  function: 'symbol-function',
  method: 'symbol-method',
  class: 'symbol-class',
  interface: 'symbol-interface',
  struct: 'symbol-struct',
  enum: 'symbol-enum',
  trait: 'symbol-interface',
  impl: 'symbol-class',
  module: 'symbol-module',
  window: 'symbol-file',
};

/** Codicon for a chunk kind. */
export function kindIcon(kind: string): string {
  return KIND_ICONS[kind] ?? 'symbol-misc';
}

/** First non-blank line of a preview, trimmed. */
export function firstLine(text: string): string {
  for (const line of (text ?? '').split('\n')) {
    if (line.trim()) {
      return line.trim();
    }
  }
  return '';
}

/** Like `str.slice(0, max)` with an ellipsis when cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, Math.max(0, max - 1)) + '…';
}

export interface PickRow {
  label: string;
  description: string;
  detail: string;
}

/**
 * A QuickPick row for a result: the symbol (or the chunk's first line) with its kind's icon,
 * the place (`path:line`), the ranking's score and the cosine, and the chunk preview as detail.
 */
export function pickRow(item: SearchItem, roots: readonly string[]): PickRow {
  const name = item.symbol || clip(firstLine(item.preview), 60) || '(chunk)';
  const where = `${relativeTo(item.uri, roots)}:${item.range.start.line + 1}`;
  const preview = (item.preview ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ⏎ ');
  return {
    label: `$(${kindIcon(item.kind)}) ${name}`,
    description: [where, formatScore(item.score), formatCosine(item.cosine)].filter(Boolean).join(' · '),
    detail: clip(preview, 160),
  };
}

/** The ranking's score, which orders the list (it can exceed 1). */
export function formatScore(score: number): string {
  return Number.isFinite(score) ? score.toFixed(3) : '';
}

/** The cosine similarity, a detail beside the score (absent from older servers). */
export function formatCosine(cosine: number | undefined): string {
  return typeof cosine === 'number' && Number.isFinite(cosine) ? `cos ${cosine.toFixed(2)}` : '';
}

/**
 * Text for an assistant's prompt: one fenced block per chunk, headed by its place and symbol.
 */
export function formatContext(result: ContextResult | null | undefined, roots: readonly string[]): string {
  const parts: string[] = [];
  for (const it of result?.items ?? []) {
    const where = `${relativeTo(it.uri, roots)}:${it.range.start.line + 1}-${it.range.end.line + 1}`;
    const symbol = it.symbol ? ` (${it.symbol})` : '';
    const fence = (it.text ?? '').includes('```') ? '````' : '```';
    parts.push(`${where}${symbol}\n${fence}${it.language ?? ''}\n${it.text ?? ''}\n${fence}`);
  }
  return parts.join('\n\n');
}

/** "codekin: indexing ws" -> "indexing ws" (the server's progress titles carry the name). */
export function stripPrefix(title: string): string {
  return title.replace(/^codekin:\s*/i, '');
}

export interface StatusBarView {
  text: string;
  tooltip: string;
}

export interface ProgressView {
  title?: string;
  message?: string;
  percentage?: number;
}

function errorCount(s: IndexStatus): number {
  if (Array.isArray(s.errors)) {
    return s.errors.length;
  }
  return typeof s.errors === 'number' ? s.errors : 0;
}

/** Status bar text and tooltip for the current state. */
export function statusBarView(
  running: 'starting' | 'running' | 'stopped' | 'missing',
  status?: IndexStatus | null,
  progress?: ProgressView | null,
): StatusBarView {
  if (running === 'missing') {
    return { text: '$(warning) codekin', tooltip: 'codekin: server not found — click to set it up' };
  }
  if (running === 'stopped') {
    return { text: '$(circle-slash) codekin', tooltip: 'codekin: server stopped — click to show the logs' };
  }
  if (progress) {
    const pct = typeof progress.percentage === 'number' ? ` ${Math.round(progress.percentage)}%` : '';
    const what = [progress.title && stripPrefix(progress.title), progress.message].filter(Boolean).join(': ') || 'indexing';
    return { text: `$(sync~spin) codekin${pct}`, tooltip: `codekin: ${what}` };
  }
  if (running === 'starting' || !status) {
    return { text: '$(loading~spin) codekin', tooltip: 'codekin: starting the server' };
  }
  const tooltip = ['codekin', ...formatIndexStatus(status)].join('\n');
  if (status.state === 'error' || errorCount(status) > 0 && status.state !== 'ready') {
    return { text: '$(error) codekin', tooltip };
  }
  if (status.state === 'indexing') {
    return { text: '$(sync~spin) codekin', tooltip };
  }
  const warn = errorCount(status) > 0 || driftOf(status).length > 0 ? ' $(warning)' : '';
  return { text: `$(search) codekin ${status.files}${warn}`, tooltip };
}

/** The drift warnings of a status (`codekin status` words them; older servers send none). */
export function driftOf(s: IndexStatus): string[] {
  return Array.isArray(s.drift) ? s.drift.filter((w) => typeof w === 'string') : [];
}

/** Human lines describing an index status. */
export function formatIndexStatus(s: IndexStatus, now: Date = new Date()): string[] {
  const lines = [
    `state: ${s.state}`,
    `files: ${s.files ?? 0}, chunks: ${s.chunks ?? 0}`,
    `model: ${s.model || '?'}`,
  ];
  if (s.lastUpdated !== null && s.lastUpdated !== undefined && s.lastUpdated !== '') {
    lines.push(`last updated: ${formatWhen(s.lastUpdated, now)}`);
  }
  if (s.watcher) {
    lines.push(`watcher: ${s.watcher}`);
  }
  for (const folder of s.folders ?? []) {
    const e = folder.evaluation;
    if (e && typeof e.mrr === 'number') {
      const where = (s.folders?.length ?? 0) > 1 ? `${relativeTo(folder.uri, [])}: ` : '';
      lines.push(
        `evaluation: ${where}MRR@${e.k} ${e.mrr.toFixed(3)} (best ${e.bestMrr.toFixed(3)}), ${e.queries} queries, ${e.model}`,
      );
    }
  }
  for (const w of driftOf(s)) {
    lines.push(`warning: ${w}`);
  }
  const n = errorCount(s);
  if (n > 0) {
    lines.push(`errors: ${n}`);
    if (Array.isArray(s.errors)) {
      for (const e of s.errors.slice(0, 5)) {
        lines.push(`  ${typeof e === 'string' ? e : e.message ?? JSON.stringify(e)}`);
      }
    }
  }
  return lines;
}

/** "12 s ago" style age of an epoch time (seconds or milliseconds) or ISO string. */
export function formatWhen(when: number | string, now: Date = new Date()): string {
  let ms: number;
  if (typeof when === 'number') {
    ms = when > 1e12 ? when : when * 1000;
  } else {
    ms = Date.parse(when);
    if (Number.isNaN(ms)) {
      return when;
    }
  }
  const age = Math.max(0, Math.round((now.getTime() - ms) / 1000));
  if (age < 60) {
    return `${age} s ago`;
  }
  if (age < 3600) {
    return `${Math.floor(age / 60)} min ago`;
  }
  if (age < 86400) {
    return `${Math.floor(age / 3600)} h ago`;
  }
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}
