import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { resultOpened } from '../../src/feedback';
import type { SearchItem } from '../../src/protocol';

function hit(symbol: string, line: number): SearchItem {
  return {
    uri: `file:///work/ws/${symbol}.py`,
    range: { start: { line, character: 0 }, end: { line: line + 2, character: 10 } },
    score: 1,
    symbol,
    kind: 'function',
    language: 'python',
    preview: `def ${symbol}():`,
  };
}

const items = [hit('parse_config', 0), hit('load_config', 4), hit('render_page', 9)];

test('resultOpened: the picked item with its 1-based rank in the list it was picked from', () => {
  assert.deepEqual(resultOpened(true, 'parse a config file', items, items[1]), {
    query: 'parse a config file',
    uri: 'file:///work/ws/load_config.py',
    range: { start: { line: 4, character: 0 }, end: { line: 6, character: 10 } },
    rank: 2,
  });
  assert.equal(resultOpened(true, 'q', items, items[0])?.rank, 1);
});

test('resultOpened: nothing with feedback off, a blank query or an item the list did not show', () => {
  assert.equal(resultOpened(false, 'parse a config file', items, items[1]), null);
  assert.equal(resultOpened(true, '   ', items, items[1]), null);
  assert.equal(resultOpened(true, 'parse', items, hit('parse_config', 0)), null); // another object
  assert.equal(resultOpened(true, 'parse', [], items[0]), null);
});
