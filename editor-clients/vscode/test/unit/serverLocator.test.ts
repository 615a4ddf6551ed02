import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  installCommand,
  locateServer,
  PROBE_IMPORT,
  PROBE_MODULE,
  PYTHON_LAUNCH,
  scriptNextTo,
  scriptsFor,
  shellQuote,
  whichIn,
  type LocatorInput,
} from '../../src/serverLocator';

type Over = Partial<LocatorInput> & { files?: string[]; withCodekin?: string[]; onPath?: Record<string, string>; probes?: string[][] };

/** A fake machine: `files` exist, `withCodekin` programs pass any probe, `onPath` is PATH. */
function input(over: Over): LocatorInput {
  const files = new Set(over.files ?? []);
  return {
    configuredPath: '',
    args: ['serve'],
    platform: 'linux',
    homeDir: '/home/u',
    fileExists: async (p) => files.has(p),
    runs: async (command, args) => {
      over.probes?.push([command, ...args]);
      return (over.withCodekin ?? []).includes(command);
    },
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
  assert.equal(scriptNextTo('C:\\env\\Scripts\\python.exe', 'win32'), 'C:\\env\\Scripts\\codekin.exe');
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

// --- Windows -------------------------------------------------------------------------------
const win = (over: Over) => input({ platform: 'win32', homeDir: 'C:\\Users\\alice', ...over });

test('Windows: the selected venv interpreter and its Scripts\\codekin.exe', async () => {
  const python = 'C:\\Users\\alice\\shop\\.venv\\Scripts\\python.exe';
  const r = await locateServer(win({ interpreter: python, files: ['C:\\Users\\alice\\shop\\.venv\\Scripts\\codekin.exe'] }));
  assert.deepEqual(r, { source: 'interpreter', command: 'C:\\Users\\alice\\shop\\.venv\\Scripts\\codekin.exe', args: ['serve'], interpreter: python });
});

test('Windows: a base install or conda env keeps scripts in Scripts\\ below python.exe', async () => {
  const python = 'C:\\Users\\alice\\miniconda3\\envs\\ck\\python.exe';
  assert.deepEqual(scriptsFor(python, 'win32'), [
    'C:\\Users\\alice\\miniconda3\\envs\\ck\\codekin.exe',
    'C:\\Users\\alice\\miniconda3\\envs\\ck\\Scripts\\codekin.exe',
  ]);
  const r = await locateServer(win({ interpreter: python, files: ['C:\\Users\\alice\\miniconda3\\envs\\ck\\Scripts\\codekin.exe'] }));
  assert.equal((r as { command: string }).command, 'C:\\Users\\alice\\miniconda3\\envs\\ck\\Scripts\\codekin.exe');
  assert.deepEqual(scriptsFor('C:\\env\\Scripts\\python.exe', 'win32'), ['C:\\env\\Scripts\\codekin.exe']);
});

test('Windows: a workspace .venv is found without a selected interpreter', async () => {
  const r = await locateServer(win({ workspaceFolders: ['c:\\Users\\alice\\shop'], files: ['c:\\Users\\alice\\shop\\.venv\\Scripts\\codekin.exe'] }));
  assert.deepEqual(r, {
    source: 'venv',
    command: 'c:\\Users\\alice\\shop\\.venv\\Scripts\\codekin.exe',
    args: ['serve'],
    interpreter: 'c:\\Users\\alice\\shop\\.venv\\Scripts\\python.exe',
  });
  const viaPython = await locateServer(
    win({ workspaceFolders: ['C:\\shop'], files: ['C:\\shop\\venv\\Scripts\\python.exe'], withCodekin: ['C:\\shop\\venv\\Scripts\\python.exe'] }),
  );
  assert.deepEqual(viaPython, {
    source: 'venv',
    command: 'C:\\shop\\venv\\Scripts\\python.exe',
    args: ['-c', PYTHON_LAUNCH, 'serve'],
    interpreter: 'C:\\shop\\venv\\Scripts\\python.exe',
  });
});

test('Windows: codekin.exe on PATH, then the py launcher with -m codekin', async () => {
  const onPath = await locateServer(win({ onPath: { 'codekin.exe': 'C:\\Python312\\Scripts\\codekin.exe', 'py.exe': 'C:\\Windows\\py.exe' } }));
  assert.deepEqual(onPath, { source: 'path', command: 'C:\\Python312\\Scripts\\codekin.exe', args: ['serve'] });
  const probes: string[][] = [];
  const py = await locateServer(win({ onPath: { 'py.exe': 'C:\\Windows\\py.exe' }, withCodekin: ['C:\\Windows\\py.exe'], probes }));
  assert.deepEqual(py, { source: 'launcher', command: 'C:\\Windows\\py.exe', args: ['-3', '-m', 'codekin', 'serve'] });
  assert.deepEqual(probes, [['C:\\Windows\\py.exe', '-3', '-c', PROBE_MODULE]]);
});

test('Windows: the Microsoft Store python stub fails the probe: missing, naming py -3 -m codekin', async () => {
  const stub = 'C:\\Users\\alice\\AppData\\Local\\Microsoft\\WindowsApps\\python.exe';
  const probes: string[][] = [];
  const r = await locateServer(win({ onPath: { 'python.exe': stub }, probes }));
  assert.equal(r.source, 'missing');
  assert.match((r as { reason: string }).reason, /py -3 -m codekin fails/);
  assert.deepEqual(probes, [[stub, '-c', PROBE_MODULE]]);
});

test('Windows: server.path as a bare name, with ~, or a .cmd shim (run through a shell)', async () => {
  const bare = await locateServer(win({ configuredPath: 'codekin', onPath: { 'codekin.exe': 'C:\\tools\\codekin.exe' } }));
  assert.deepEqual(bare, { source: 'setting', command: 'C:\\tools\\codekin.exe', args: ['serve'] });
  const home = await locateServer(win({ configuredPath: '~\\bin\\codekin.exe', files: ['C:\\Users\\alice\\bin\\codekin.exe'] }));
  assert.equal((home as { command: string }).command, 'C:\\Users\\alice\\bin\\codekin.exe');
  const shim = await locateServer(win({ configuredPath: 'C:\\tools\\codekin.cmd', files: ['C:\\tools\\codekin.cmd'] }));
  assert.deepEqual(shim, { source: 'setting', command: 'C:\\tools\\codekin.cmd', args: ['serve'], shell: true });
});

test('Windows: whichIn splits on ; and unquotes entries', async () => {
  const files = new Set(['C:\\Program Files\\codekin\\codekin.exe']);
  const found = await whichIn('codekin.exe', 'C:\\Windows;"C:\\Program Files\\codekin";', async (p) => files.has(p), ';', 'win32');
  assert.equal(found, 'C:\\Program Files\\codekin\\codekin.exe');
});

// --- macOS ---------------------------------------------------------------------------------
const mac = (over: Over) => input({ platform: 'darwin', homeDir: '/Users/alice', ...over });

test('macOS: venv, Homebrew and python.org interpreters have bin/codekin beside python', async () => {
  for (const python of [
    '/Users/alice/shop/.venv/bin/python',
    '/opt/homebrew/bin/python3',
    '/Library/Frameworks/Python.framework/Versions/3.12/bin/python3',
  ]) {
    const script = python.replace(/python3?$/, 'codekin');
    const r = await locateServer(mac({ interpreter: python, files: [script] }));
    assert.deepEqual(r, { source: 'interpreter', command: script, args: ['serve'], interpreter: python });
  }
});

test('macOS: a workspace .venv/bin/codekin, then PATH, then python3 -m codekin', async () => {
  const venv = await locateServer(mac({ workspaceFolders: ['/Users/alice/shop'], files: ['/Users/alice/shop/.venv/bin/codekin'], onPath: { codekin: '/usr/local/bin/codekin' } }));
  assert.deepEqual(venv, { source: 'venv', command: '/Users/alice/shop/.venv/bin/codekin', args: ['serve'], interpreter: '/Users/alice/shop/.venv/bin/python' });
  const onPath = await locateServer(mac({ workspaceFolders: ['/Users/alice/shop'], onPath: { codekin: '/usr/local/bin/codekin' } }));
  assert.equal(onPath.source, 'path');
  const probes: string[][] = [];
  const launcher = await locateServer(mac({ onPath: { python3: '/opt/homebrew/bin/python3' }, withCodekin: ['/opt/homebrew/bin/python3'], probes }));
  assert.deepEqual(launcher, { source: 'launcher', command: '/opt/homebrew/bin/python3', args: ['-m', 'codekin', 'serve'] });
  assert.deepEqual(probes, [['/opt/homebrew/bin/python3', '-c', PROBE_MODULE]]);
});

test('the order: setting, interpreter, workspace venv, PATH, launcher', async () => {
  const everything = {
    workspaceFolders: ['/w'],
    files: ['/w/.venv/bin/codekin', '/sel/bin/codekin'],
    onPath: { codekin: '/usr/bin/codekin', python3: '/usr/bin/python3' },
    withCodekin: ['/usr/bin/python3'],
  };
  assert.equal((await locateServer(input({ ...everything, interpreter: '/sel/bin/python' }))).source, 'interpreter');
  assert.equal((await locateServer(input({ ...everything, interpreter: '/other/bin/python' }))).source, 'venv');
  assert.equal((await locateServer(input({ ...everything, workspaceFolders: [] }))).source, 'path');
  assert.equal((await locateServer(input({ ...everything, workspaceFolders: [], onPath: { python3: '/usr/bin/python3' } }))).source, 'launcher');
  const probes: string[][] = [];
  await locateServer(input({ interpreter: '/sel/bin/python', withCodekin: ['/sel/bin/python'], probes }));
  assert.deepEqual(probes, [['/sel/bin/python', '-c', PROBE_IMPORT]]);
});
