import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { installCommand, locateServer, PYTHON_LAUNCH, scriptNextTo, shellQuote, whichIn, type LocatorInput } from '../../src/serverLocator';

function input(over: Partial<LocatorInput> & { files?: string[]; withCodekin?: string[]; onPath?: Record<string, string> }): LocatorInput {
  const files = new Set(over.files ?? []);
  return {
    configuredPath: '',
    args: ['serve'],
    platform: 'linux',
    homeDir: '/home/u',
    fileExists: async (p) => files.has(p),
    interpreterHasCodekin: async (py) => (over.withCodekin ?? []).includes(py),
    which: async (name) => over.onPath?.[name],
    ...over,
  };
}

test('an explicit codekin.server.path wins', async () => {
  const r = await locateServer(input({ configuredPath: '/opt/ck/bin/codekin', files: ['/opt/ck/bin/codekin'], interpreter: '/venv/bin/python', withCodekin: ['/venv/bin/python'] }));
  assert.deepEqual(r, { source: 'setting', command: '/opt/ck/bin/codekin', args: ['serve'] });
});

test('the explicit path may use ~ and bare names found on PATH', async () => {
  const home = await locateServer(input({ configuredPath: '~/bin/codekin', files: ['/home/u/bin/codekin'], args: ['serve', '--log-file', 'x'] }));
  assert.deepEqual(home, { source: 'setting', command: '/home/u/bin/codekin', args: ['serve', '--log-file', 'x'] });
  const bare = await locateServer(input({ configuredPath: 'codekin', onPath: { codekin: '/usr/bin/codekin' } }));
  assert.deepEqual(bare, { source: 'setting', command: '/usr/bin/codekin', args: ['serve'] });
});

test('a wrong explicit path is reported, not silently replaced', async () => {
  const r = await locateServer(input({ configuredPath: '/nope/codekin', onPath: { codekin: '/usr/bin/codekin' } }));
  assert.equal(r.source, 'missing');
  assert.match((r as { reason: string }).reason, /\/nope\/codekin does not exist/);
});

test('the selected interpreter: its codekin script, else python -c', async () => {
  const script = await locateServer(input({ interpreter: '/venv/bin/python', files: ['/venv/bin/codekin'], onPath: { codekin: '/usr/bin/codekin' } }));
  assert.deepEqual(script, { source: 'interpreter', command: '/venv/bin/codekin', args: ['serve'], interpreter: '/venv/bin/python' });
  const module = await locateServer(input({ interpreter: '/venv/bin/python', withCodekin: ['/venv/bin/python'] }));
  assert.deepEqual(module, { source: 'interpreter', command: '/venv/bin/python', args: ['-c', PYTHON_LAUNCH, 'serve'], interpreter: '/venv/bin/python' });
});

test('PATH is the last resort, then missing with the interpreter named', async () => {
  const onPath = await locateServer(input({ interpreter: '/venv/bin/python', onPath: { codekin: '/usr/local/bin/codekin' } }));
  assert.deepEqual(onPath, { source: 'path', command: '/usr/local/bin/codekin', args: ['serve'] });
  const missing = await locateServer(input({ interpreter: '/venv/bin/python' }));
  assert.equal(missing.source, 'missing');
  assert.equal((missing as { interpreter?: string }).interpreter, '/venv/bin/python');
  assert.match((missing as { reason: string }).reason, /not installed in the selected interpreter/);
  const none = await locateServer(input({}));
  assert.match((none as { reason: string }).reason, /no codekin.server.path/);
});

test('empty args default to serve; Windows script name', async () => {
  const r = await locateServer(input({ configuredPath: '/x/codekin', files: ['/x/codekin'], args: [] }));
  assert.deepEqual((r as { args: string[] }).args, ['serve']);
  assert.equal(scriptNextTo('C:/env/Scripts/python.exe', 'win32').replace(/\\/g, '/'), 'C:/env/Scripts/codekin.exe');
});

test('whichIn scans PATH in order', async () => {
  const files = new Set(['/b/codekin', '/c/codekin']);
  assert.equal(await whichIn('codekin', '/a::/b:/c', async (p) => files.has(p), ':'), '/b/codekin');
  assert.equal(await whichIn('codekin', undefined, async () => true, ':'), undefined);
});

test('installCommand and shellQuote', () => {
  assert.deepEqual(installCommand('/venv/bin/python'), { command: '/venv/bin/python', args: ['-m', 'pip', 'install', '--upgrade', 'codekin'] });
  assert.equal(shellQuote('/a/b-c.py'), '/a/b-c.py');
  assert.equal(shellQuote("it's here"), `'it'\\''s here'`);
});
