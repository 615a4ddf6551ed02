import { test, mock } from 'node:test';
import * as assert from 'node:assert/strict';
import { debounce, LatestOnly } from '../../src/debounce';

test('debounce runs once with the last arguments', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const calls: string[] = [];
    const d = debounce((q: string) => calls.push(q), 200);
    d('a');
    mock.timers.tick(100);
    d('ab');
    mock.timers.tick(100);
    d('abc');
    assert.deepEqual(calls, []);
    mock.timers.tick(199);
    assert.deepEqual(calls, []);
    mock.timers.tick(1);
    assert.deepEqual(calls, ['abc']);
    mock.timers.tick(1000);
    assert.deepEqual(calls, ['abc']);
  } finally {
    mock.timers.reset();
  }
});

test('debounce cancel and flush', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const calls: number[] = [];
    const d = debounce((n: number) => calls.push(n), 50);
    d(1);
    d.cancel();
    mock.timers.tick(100);
    assert.deepEqual(calls, []);
    d(2);
    d.flush();
    assert.deepEqual(calls, [2]);
    d.flush();
    mock.timers.tick(100);
    assert.deepEqual(calls, [2]);
  } finally {
    mock.timers.reset();
  }
});

test('LatestOnly drops answers to older requests', () => {
  const l = new LatestOnly();
  const a = l.next();
  const b = l.next();
  assert.equal(l.isCurrent(a), false);
  assert.equal(l.isCurrent(b), true);
  l.invalidate();
  assert.equal(l.isCurrent(b), false);
});
