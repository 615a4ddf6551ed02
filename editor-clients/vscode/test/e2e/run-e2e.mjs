#!/usr/bin/env node
// End-to-end test of the codekin extension in a real VS Code (code-server) driven through
// Debian's Chromium with playwright-core. It installs the built .vsix into a fresh
// extensions dir, opens a copy of the fixture workspace, waits for the real server to index it,
// then runs Semantic Search, Find Files, Find Similar Code (both ranked QuickPicks whose scores
// must never rise down the list), Copy Context for Assistant and Show Index Status through the
// command palette and asserts on what the page shows.
//
// Environment (all required unless noted):
//   CODEKIN_CODE_SERVER   code-server executable (run under Node 24: put it first on PATH)
//   CODEKIN_CHROMIUM      chromium executable (default /usr/bin/chromium)
//   CODEKIN_VSIX          the built extension
//   CODEKIN_SERVER        the `codekin` executable the extension is pointed at
//   CODEKIN_FIXTURE_WS    the fixture workspace to copy (default ../../../tests/editors/fixtures/ws)
//   CODEKIN_E2E_OUT       directory for screenshots and logs (default ./test-results)
//   CODEKIN_E2E_PORT      port (default: a free one)
// Prints one line per check and "N passed, N failed"; exit status 0 only when all pass.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const extRoot = path.resolve(here, '../..');
const env = process.env;
const need = (k) => {
  if (!env[k]) {
    console.error(`run-e2e: ${k} is not set`);
    process.exit(2);
  }
  return env[k];
};
const CODE_SERVER = need('CODEKIN_CODE_SERVER');
const CHROMIUM = env.CODEKIN_CHROMIUM || '/usr/bin/chromium';
const VSIX = need('CODEKIN_VSIX');
const SERVER = need('CODEKIN_SERVER');
const FIXTURE = env.CODEKIN_FIXTURE_WS || path.resolve(extRoot, '../../tests/editors/fixtures/ws');
const OUT = path.resolve(env.CODEKIN_E2E_OUT || path.join(extRoot, 'test-results'));
const INDEX_TIMEOUT = Number(env.CODEKIN_E2E_INDEX_TIMEOUT || 180000);
fs.mkdirSync(OUT, { recursive: true });

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'codekin-e2e-'));
const ws = path.join(tmp, 'ws');
fs.cpSync(FIXTURE, ws, { recursive: true });
const ud = path.join(tmp, 'user-data');
const ed = path.join(tmp, 'extensions');
fs.mkdirSync(path.join(ud, 'User'), { recursive: true });
fs.mkdirSync(ed, { recursive: true });
fs.writeFileSync(
  path.join(ud, 'User', 'settings.json'),
  JSON.stringify(
    {
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoUpdate': false,
      'extensions.autoCheckUpdates': false,
      'extensions.ignoreRecommendations': true,
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'workbench.tips.enabled': false,
      'chat.disableAIFeatures': true,
      'codekin.server.path': SERVER,
      'codekin.search.debounceMs': 150,
      'codekin.feedback': true,
    },
    null,
    2,
  ),
);
// The server path also goes into the folder's settings (a machine-overridable setting; in a
// remote window such as code-server's, machine settings from the browser-side user settings
// may not apply) and into the remote machine settings.
const serverSettingsJson = JSON.stringify({ 'codekin.server.path': SERVER }, null, 2);
fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), serverSettingsJson);
fs.mkdirSync(path.join(ud, 'Machine'), { recursive: true });
fs.writeFileSync(path.join(ud, 'Machine', 'settings.json'), serverSettingsJson);
// keep code-server and Chromium out of $HOME
const childEnv = {
  ...env,
  XDG_CONFIG_HOME: path.join(tmp, 'xdg-config'),
  XDG_DATA_HOME: path.join(tmp, 'xdg-data'),
  XDG_CACHE_HOME: path.join(tmp, 'xdg-cache'),
  HF_HUB_OFFLINE: '1',
};

let passed = 0;
let failed = 0;
let page;
const log = (s) => process.stdout.write(s + '\n');
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    log(`ok - ${name} (${Date.now() - t0} ms)`);
  } catch (err) {
    failed++;
    log(`FAIL - ${name}: ${err?.stack || err}`);
    if (page) {
      const file = path.join(OUT, `vscode-failure-${failed}.png`);
      await page.screenshot({ path: file }).catch(() => undefined);
      log(`# screenshot of the failure: ${file}`);
    }
  }
}
function assert(cond, msg) {
  if (!cond) {
    throw new Error(msg);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

const csArgs = ['--user-data-dir', ud, '--extensions-dir', ed];
let cs;
let browser;
const t0 = Date.now();
try {
  // 1. install the .vsix ------------------------------------------------------------------
  await check('the .vsix installs into code-server', async () => {
    const inst = spawnSync(CODE_SERVER, [...csArgs, '--install-extension', VSIX, '--force'], { env: childEnv, encoding: 'utf8' });
    assert(inst.status === 0, `install failed: ${inst.stdout}\n${inst.stderr}`);
    const list = spawnSync(CODE_SERVER, [...csArgs, '--list-extensions', '--show-versions'], { env: childEnv, encoding: 'utf8' });
    const pkg = JSON.parse(fs.readFileSync(path.join(extRoot, 'package.json'), 'utf8'));
    assert(list.stdout.includes(`codekin.codekin@${pkg.version}`), `not listed: ${list.stdout}`);
  });

  // 2. start code-server --------------------------------------------------------------------
  const port = Number(env.CODEKIN_E2E_PORT || (await freePort()));
  const cfg = path.join(tmp, 'cs.yaml');
  fs.writeFileSync(cfg, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const csLog = fs.openSync(path.join(OUT, 'code-server.log'), 'w');
  cs = spawn(
    CODE_SERVER,
    [
      '--config', cfg, ...csArgs, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
      '--disable-getting-started-override', '--ignore-last-opened', '--reconnection-grace-time', '1',
    ],
    { env: childEnv, detached: true, stdio: ['ignore', csLog, csLog] },
  );
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) break;
    } catch {}
    if (i > 300) throw new Error('code-server did not answer /healthz within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }

  // 3. open the workspace in Chromium ---------------------------------------------------------
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    env: childEnv,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  page = await context.newPage();
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
  await page.goto(`${base}/?folder=${encodeURIComponent(ws)}`);
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60000 });
  await page.getByRole('treeitem', { name: 'geometry.py' }).waitFor({ timeout: 60000 });

  const quickOpen = async (name) => {
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(name);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor();
    await page.keyboard.press('Enter');
    await page.locator(`.tab.active[data-resource-name="${name}"], .tab.active:has-text("${name}")`).first().waitFor();
  };
  const runCommand = async (title) => {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${title}`);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
    await page.keyboard.press('Enter');
  };
  const gotoLine = async (line) => {
    await page.keyboard.press('Control+G');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`:${line}`);
    await page.waitForTimeout(150);
    await page.keyboard.press('Enter');
    await page.locator('.statusbar-item', { hasText: `Ln ${line},` }).first().waitFor({ timeout: 5000 });
  };
  const statusItem = page.locator('.statusbar-item', { hasText: 'codekin' }).first();
  // A result row reads "<symbol><path>:<line> · <score> · cos <cosine><preview>": the scores in
  // the order shown must never rise (the server's order is kept).
  const rowScores = (texts) =>
    texts.map((t) => {
      const m = / · (-?\d+\.\d{3})(?: · cos (-?\d+\.\d{2}))?/.exec(t);
      assert(m, `row without a score: ${t}`);
      assert(m[2] !== undefined, `row without a cosine: ${t}`);
      return Number(m[1]);
    });
  const assertRanked = (texts) => {
    const scores = rowScores(texts);
    for (let i = 1; i < scores.length; i++) {
      assert(scores[i] <= scores[i - 1], `scores out of order at row ${i + 1}: ${scores.join(', ')}`);
    }
    return scores;
  };

  await quickOpen('geometry.py');

  await check('the status bar shows the index once the server has indexed the workspace', async () => {
    await statusItem.waitFor({ timeout: 60000 });
    const tIndex = Date.now();
    const deadline = Date.now() + INDEX_TIMEOUT;
    let text = '';
    let sawProgress = false;
    while (Date.now() < deadline) {
      text = (await statusItem.innerText().catch(() => '')).trim();
      const aria = (await statusItem.getAttribute('aria-label').catch(() => '')) || '';
      if (/codekin \d+%/.test(text) || /indexing/i.test(aria)) sawProgress = true;
      if (/^codekin \d+$/.test(text) && Number(text.split(' ')[1]) > 0) break;
      await page.waitForTimeout(200);
    }
    assert(/^codekin \d+$/.test(text), `status bar text is "${text}"`);
    log(`# index ready after ${((Date.now() - tIndex) / 1000).toFixed(1)} s; status bar "${text}"; progress seen: ${sawProgress}`);
    const n = Number(text.split(' ')[1]);
    assert(n >= 4, `files in status bar: ${n}`);
  });

  await check('Semantic Search shows live, ranked results and opens the chosen one', async () => {
    await runCommand('Codekin: Semantic Search');
    await page.locator('.quick-input-title', { hasText: 'Codekin: Semantic Search' }).waitFor();
    await page.locator('.quick-input-widget input').pressSequentially('area of a circle', { delay: 30 });
    const rows = page.locator('.quick-input-list .monaco-list-row');
    await rows.filter({ hasText: 'circle_area' }).first().waitFor({ timeout: 20000 });
    await page.waitForTimeout(300);
    const texts = await rows.allInnerTexts();
    log('# search rows: ' + texts.map((t) => t.replace(/\s+/g, ' ').trim()).join(' | '));
    assert(texts.length >= 2, `rows: ${texts.length}`);
    assert(/circle_area|circleArea/.test(texts[0]), `first row: ${texts[0]}`);
    assert(texts.some((t) => t.includes('geometry.py:6')), 'a row shows geometry.py:6');
    assert(texts.some((t) => t.includes('shapes.js:3')), 'a row shows shapes.js:3');
    assert(texts.some((t) => t.includes('def circle_area(radius):')), 'the preview of the chunk is shown');
    log('# search scores: ' + assertRanked(texts).join(', '));
    await page.screenshot({ path: path.join(OUT, 'vscode-semantic-search.png') });
    // open the geometry.py result
    const target = rows.filter({ hasText: 'geometry.py:6' }).first();
    await target.click();
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    await page.locator('.tab.active', { hasText: 'geometry.py' }).waitFor();
    await page.locator('.statusbar-item', { hasText: 'Ln 6,' }).first().waitFor({ timeout: 5000 });
    // codekin.feedback is on: the server logged the opened result, query and all
    const logFile = path.join(ws, '.codekin', 'feedback.jsonl');
    let opened = [];
    for (let i = 0; i < 50 && !opened.length; i++) {
      opened = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
      if (!opened.length) await page.waitForTimeout(100);
    }
    log('# feedback log: ' + JSON.stringify(opened));
    assert(opened.length === 1, `opened results logged: ${opened.length}`);
    const [o] = opened;
    assert(o.query === 'area of a circle' && o.path === 'geometry.py' && o.start_line === 6 && o.rank >= 1, JSON.stringify(o));
    assert(o.rank === texts.findIndex((t) => t.includes('geometry.py:6')) + 1, `rank ${o.rank} is the row's place`);
  });

  await check('Find Files lists each file once', async () => {
    await runCommand('Codekin: Find Files');
    await page.locator('.quick-input-title', { hasText: 'Codekin: Find Files' }).waitFor();
    await page.locator('.quick-input-widget input').pressSequentially('area of a circle', { delay: 30 });
    const rows = page.locator('.quick-input-list .monaco-list-row');
    await rows.filter({ hasText: 'circle' }).first().waitFor({ timeout: 20000 });
    await page.waitForTimeout(300);
    const texts = await rows.allInnerTexts();
    log('# files rows: ' + texts.map((t) => t.replace(/\s+/g, ' ').trim()).join(' | '));
    // a row reads "<symbol><file>:<line> · <score>…"; each circle file must be on exactly one row
    for (const file of ['geometry.py:', 'shapes.js:']) {
      const n = texts.filter((t) => t.includes(file)).length;
      assert(n === 1, `${file} on ${n} rows`);
    }
    assert(/circle_area|circleArea/.test(texts[0]), `first row: ${texts[0]}`);
    log('# files scores: ' + assertRanked(texts).join(', '));
    await page.keyboard.press('Escape');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  });

  await check('Find Similar Code lists ranked results in order and opens the chosen one', async () => {
    await quickOpen('geometry.py');
    await gotoLine(8);
    await runCommand('Codekin: Find Similar Code');
    await page.locator('.quick-input-title', { hasText: 'Codekin: Similar to geometry.py:8' }).waitFor({ timeout: 20000 });
    const rows = page.locator('.quick-input-list .monaco-list-row');
    const twin = rows.filter({ hasText: 'shapes.js:3' }).first();
    await twin.waitFor({ timeout: 10000 });
    await page.waitForTimeout(300);
    const texts = await rows.allInnerTexts();
    log('# similar rows: ' + texts.map((t) => t.replace(/\s+/g, ' ').trim()).join(' | '));
    assert(texts.length >= 2, `rows: ${texts.length}`);
    assert(texts.some((t) => /circleArea/.test(t) && t.includes('shapes.js:3')), 'the JavaScript twin is listed');
    assert(!texts.some((t) => t.includes('geometry.py:6 ·')), 'the chunk itself is not listed');
    log('# similar scores: ' + assertRanked(texts).join(', '));
    assert((await page.locator('.peekview-widget:visible').count()) === 0, 'no peek view');
    await page.screenshot({ path: path.join(OUT, 'vscode-find-similar.png') });
    await twin.click();
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    await page.locator('.tab.active', { hasText: 'shapes.js' }).waitFor();
    await page.locator('.statusbar-item', { hasText: 'Ln 3,' }).first().waitFor({ timeout: 5000 });
    await page.locator('.tab', { hasText: 'geometry.py' }).first().click();
    await page.locator('.tab.active', { hasText: 'geometry.py' }).waitFor();
  });

  await check('Copy Context for Assistant copies chunks to the clipboard', async () => {
    await gotoLine(8);
    await runCommand('Codekin: Copy Context for Assistant');
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'codekin: copied' }).first();
    await toast.waitFor({ timeout: 20000 });
    const msg = (await toast.innerText()).replace(/\s+/g, ' ');
    log('# toast: ' + msg);
    assert(/copied \d+ chunks?/.test(msg), msg);
    const clip = await page.evaluate(() => navigator.clipboard.readText()).catch((e) => `ERR ${e}`);
    log('# clipboard: ' + clip.split('\n')[0]);
    assert(/```python|```javascript/.test(clip), 'clipboard holds fenced code: ' + clip.slice(0, 200));
  });

  await check('Show Index Status reports state and counts', async () => {
    await runCommand('Codekin: Show Index Status');
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'state:' }).first();
    await toast.waitFor({ timeout: 20000 });
    const msg = (await toast.innerText()).replace(/\s+/g, ' ');
    log('# toast: ' + msg);
    assert(/state: ready/.test(msg) && /files: \d+, chunks: \d+/.test(msg), msg);
    await page.screenshot({ path: path.join(OUT, 'vscode-index-status.png') });
  });

  await check('a drift warning from codekin eval shows in the status bar and the index status', async () => {
    // two `codekin eval` runs on the same queries, the latest much worse (what `codekin status` warns about)
    const now = Date.now() / 1000;
    const run = (model, mrr, time) => JSON.stringify({
      time, model, model_hash: 'h', generation: 1, files: 4, chunks: 10, mode: 'chunks', dataset: 'queries.jsonl',
      k: 10, queries: 20, mrr, ndcg: mrr, recall_at_k: mrr,
    });
    const history = path.join(ws, '.codekin', 'eval-history.jsonl');
    fs.writeFileSync(history, run('codekin-encoder', 0.9, now - 60) + '\n' + run('worse-model', 0.4, now) + '\n');
    await runCommand('Notifications: Clear All Notifications');
    await runCommand('Codekin: Show Index Status');
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'search quality fell' }).first();
    await toast.waitFor({ timeout: 20000 });
    const msg = (await toast.innerText()).replace(/\s+/g, ' ');
    log('# drift toast: ' + msg);
    assert(/warning: search quality fell: MRR@10 0\.400 with worse-model, against 0\.900 with codekin-encoder/.test(msg), msg);
    await statusItem.locator('.codicon-warning').waitFor({ timeout: 10000 });
    const aria = (await statusItem.getAttribute('aria-label')) || '';
    log('# status bar with drift: ' + aria.replace(/\s+/g, ' '));
    await page.screenshot({ path: path.join(OUT, 'vscode-drift.png') });
    fs.rmSync(history);
    await runCommand('Notifications: Clear All Notifications');
  });

  await check('Reindex Workspace runs the server command and reports the result', async () => {
    // earlier toasts (with buttons) stay up; VS Code shows only a few at once
    await runCommand('Notifications: Clear All Notifications');
    await runCommand('Codekin: Reindex Workspace');
    const done = /codekin: index (ready|error|indexing):/;
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: done }).first();
    const center = page.locator('.notifications-center .notification-list-item', { hasText: done }).first();
    let msg = '';
    for (let i = 0; i < 60 && !msg; i++) {
      if (await toast.isVisible()) {
        msg = await toast.innerText();
      } else if (i % 5 === 4) {
        await runCommand('Notifications: Show Notifications'); // hidden toasts are listed there
        await page.waitForTimeout(300);
        if (await center.isVisible()) msg = await center.innerText();
        await page.keyboard.press('Escape');
      }
      if (!msg) await page.waitForTimeout(1000);
    }
    msg = msg.replace(/\s+/g, ' ');
    log('# toast: ' + msg);
    assert(/codekin: index ready: \d+ files, \d+ chunks/.test(msg), msg);
  });

  await check('Show Logs opens the codekin output channel', async () => {
    await runCommand('Codekin: Show Logs');
    const panel = page.locator('.part.panel');
    await panel.waitFor({ state: 'visible', timeout: 10000 });
    // the channel shows its end: go to its first line, where the server was started
    await panel.locator('.view-lines').first().click();
    await page.keyboard.press('Control+Home');
    await panel.locator('.view-lines', { hasText: 'starting codekin server' }).first().waitFor({ timeout: 10000 });
  });

  fs.writeFileSync(path.join(OUT, 'browser-console.log'), consoleLines.join('\n'));
} catch (err) {
  failed++;
  log(`FAIL - e2e harness: ${err?.stack || err}`);
} finally {
  if (browser) {
    await browser.close().catch(() => undefined);
  }
  if (cs?.pid) {
    try {
      process.kill(-cs.pid, 'SIGTERM');
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
    try {
      process.kill(-cs.pid, 'SIGKILL');
    } catch {}
  }
  fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
}
log(`# e2e wall time ${((Date.now() - t0) / 1000).toFixed(1)} s; artefacts in ${OUT}`);
log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
