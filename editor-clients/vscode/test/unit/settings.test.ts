import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { affectsServer, serverSettings, SERVER_KEYS } from '../../src/settings';

test('serverSettings drops client-only and unknown keys', () => {
  const section = {
    model: 'm', exclude: ['*.md'], hybrid: false, server: { path: '/x' }, trace: { server: 'off' },
    search: { limit: 3 }, context: { tokenBudget: 9 }, nonsense: 1, maxFileBytes: 10, codeLensThreshold: 0.5,
  };
  assert.deepEqual(serverSettings(section), { model: 'm', exclude: ['*.md'], hybrid: false, maxFileBytes: 10, codeLensThreshold: 0.5 });
});

test('serverSettings keeps only explicitly set keys when asked', () => {
  const section = { model: 'default-model', hybrid: true, exclude: ['*.md'] };
  assert.deepEqual(serverSettings(section, (k) => k === 'exclude'), { exclude: ['*.md'] });
  assert.deepEqual(serverSettings(undefined), {});
  assert.deepEqual(serverSettings(null), {});
});

test('server keys mirror the server settings tree (camelCase)', () => {
  for (const key of SERVER_KEYS) {
    assert.match(key, /^[a-z][A-Za-z]*$/);
  }
  assert.ok(SERVER_KEYS.includes('maxFileBytes'));
  assert.ok(SERVER_KEYS.includes('codeLensThreshold'));
});

test('affectsServer ignores client-only settings', () => {
  assert.equal(affectsServer((s) => s === 'codekin.search.limit'), false);
  assert.equal(affectsServer((s) => s === 'codekin.exclude'), true);
});
