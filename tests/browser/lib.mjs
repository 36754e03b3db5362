// Shared by the browser tests: where the binaries are, a free port, a
// polling wait, and a wxgated (Gate) started on 127.0.0.1 with its own
// state directory, which it always stops, even if the test dies.
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const execFileP = promisify(execFile);
export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..');
export const BUILDDIR = process.env.WXGATE_BUILDDIR || path.join(REPO, 'build-test');
export const WXGATED = path.join(BUILDDIR, 'wxgated');
export const WXGATECTL = path.join(BUILDDIR, 'wxgatectl');
export const CHROMIUM = '/usr/bin/chromium';
export const OUT = path.join(REPO, 'tests', 'out');
export const UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) ' +
  'AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 ' +
  'MicroMessenger/8.0.47(0x18002f2f) NetType/WIFI Language/zh_CN';

// The phone (in WeChat's user agent) and the desktop the pages are
// checked and photographed at.
export const PHONE = { viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2, isMobile: true, hasTouch: true, userAgent: UA };
export const DESKTOP = { viewport: { width: 1280, height: 800 },
  deviceScaleFactor: 1, isMobile: false, hasTouch: false };

const AXE = fs.readFileSync(createRequire(import.meta.url)
  .resolve('axe-core/axe.min.js'), 'utf8');

// WCAG 2.1 A and AA by axe-core, injected by CDP evaluation rather than
// an inline <script>, so the page's CSP stays strict.
export async function axe(page, what) {
  await page.evaluate(AXE);
  const r = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }).then((res) => res.violations.map((v) => ({
    id: v.id, nodes: v.nodes.map((n) => n.target.join(' ')),
  }))));
  assert.deepEqual(r, [], `${what}: axe violations`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function waitFor(what, fn, timeoutMs = 10000, stepMs = 50) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}` + (last ? `: ${last.message}` : ''));
    await sleep(stepMs);
  }
}

// One wxgated with its own state dir and config.
export class Gate {
  // prefix names the temp dir; workers, chunks and delayMs shape the
  // pool and the echo agent's stream; page is webchat.page (an object of
  // strings and a list, written as JSON, which YAML reads as is).
  // extra: more top-level YAML lines (bind_templates, bind).
  constructor({ prefix = 'wxgate-browser-', workers = 2, chunks = 4,
    delayMs = 200, page = null, extra = [] } = {}) {
    this.opts = { prefix, workers, chunks, delayMs, page, extra };
  }

  async start() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), this.opts.prefix));
    this.port = await freePort();
    this.sock = path.join(this.dir, 'control.sock');
    this.url = `http://127.0.0.1:${this.port}/`;
    const conf = path.join(this.dir, 'wxgate.yaml');
    fs.writeFileSync(conf, [
      `state_dir: ${this.dir}`,
      `store: ${path.join(this.dir, 'wxgate.db')}`,
      `control: ${this.sock}`,
      'log:',
      '  level: info',
      'supervisor:',
      '  heartbeat_ms: 200',
      '  restart_min_ms: 100',
      'webchat:',
      `  listen: 127.0.0.1:${this.port}`,
      `  workers: ${this.opts.workers}`,
      ...(this.opts.page ? ['  page:', ...Object.entries(this.opts.page)
        .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)] : []),
      'agents:',
      '  - name: default',
      '    type: echo',
      '    echo:',
      `      chunks: ${this.opts.chunks}`,
      `      delay_ms: ${this.opts.delayMs}`,
      ...this.opts.extra,
      '',
    ].join('\n'));
    this.logPath = path.join(this.dir, 'wxgated.log');
    const logFd = fs.openSync(this.logPath, 'a');
    this.proc = spawn(WXGATED, ['-f', conf], {
      cwd: this.dir, stdio: ['ignore', logFd, logFd],
    });
    fs.closeSync(logFd);
    this.exited = new Promise((r) => this.proc.once('exit', (code, sig) => r({ code, sig })));
    this.proc.once('exit', () => { this.proc = null; });
    // Never leave a wxgated behind, even if this process dies early.
    const pid = this.proc.pid;
    process.once('exit', () => {
      if (this.proc) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    });
    await waitFor('wxgated to serve the page', async () => {
      if (!this.proc) throw new Error('wxgated exited:\n' + this.log());
      const r = await fetch(this.url);
      return r.ok;
    }, 15000, 100);
  }

  log() {
    try { return fs.readFileSync(this.logPath, 'utf8'); } catch { return ''; }
  }

  async ctl(...args) {
    const { stdout } = await execFileP(WXGATECTL, ['-s', this.sock, ...args], { timeout: 10000 });
    return stdout;
  }

  // { 'webchat.0': {pid, state}, ... } from "wxgatectl status".
  async workers() {
    const out = await this.ctl('status');
    const w = {};
    for (const line of out.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 4 && /^\d+$/.test(f[2])) w[f[0]] = { pid: Number(f[2]), state: f[3] };
    }
    return w;
  }

  async stop() {
    if (!this.proc) return;
    const proc = this.proc;
    try { await this.ctl('stop'); } catch (e) {
      console.error('wxgatectl stop failed:', e.message);
    }
    const r = await Promise.race([this.exited, sleep(10000).then(() => null)]);
    if (!r && this.proc === proc) {
      console.error('wxgated did not stop; SIGKILL pid', proc.pid);
      proc.kill('SIGKILL');
      await this.exited;
    }
  }

  cleanup() {
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/*
 * A gate with a console on a free port (an admin, root-op, and a
 * viewer, watcher); head its YAML lines before the console block (more
 * agents), extra after it, the rest Gate's options.  Up when the
 * console worker runs; gate.consoleUrl is the console's address.
 */
export async function consoleGate({ head = [], extra = [], ...opts }) {
  const port = await freePort();
  const gate = new Gate({
    workers: 1,
    ...opts,
    extra: [
      ...head,
      'console:',
      `  listen: 127.0.0.1:${port}`,
      '  operators:',
      '    - name: root-op',
      '      scope: admin',
      '    - name: watcher',
      '      scope: viewer',
      ...extra,
    ],
  });
  gate.consoleUrl = `http://127.0.0.1:${port}/`;
  await gate.start();
  await waitFor('the console worker', async () =>
    (await gate.workers())['console.http']?.state === 'running', 10000, 100);
  fs.mkdirSync(OUT, { recursive: true });
  return gate;
}

// A chromium with its own profile, base and opts its context options;
// everything that went wrong on the page is collected: console errors, exceptions, dialogs (an alert would
// be an XSS), failed requests and HTTP answers >= 400.
export async function launchWatched(base, opts = {}) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxgate-chromium-'));
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update',
      '--disable-sync'],
    ...base,
    ...opts,
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const problems = [];
  const dialogs = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e}`));
  // A fetch still in flight when the page itself navigates away, or
  // when the test closes the browser, is cancelled by Chromium
  // (ERR_ABORTED); that is the test leaving the page, not a failure of
  // it. Every other failed request counts. A request belongs to the
  // document that was in the main frame when it was made: the count
  // moves when a new document commits (framenavigated), not when its
  // navigation starts, since the old page's timers still fetch while
  // the next page loads.  Chromium may report the old document's
  // cancelled fetch before the commit's framenavigated, so a fetch
  // aborted while a main-frame navigation is under way is the leaving
  // page's too.
  let nav = 0, closing = false, leaving = false;
  const born = new WeakMap();
  const mainNav = (r) => {
    try { return r.isNavigationRequest() && r.frame() === page.mainFrame(); } catch { return false; }
  };
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) { nav++; leaving = false; }
  });
  page.on('request', (r) => {
    born.set(r, nav);
    if (mainNav(r)) leaving = true;
  });
  page.on('requestfailed', (r) => {
    const why = r.failure()?.errorText;
    if (mainNav(r)) leaving = false;
    if (why === 'net::ERR_ABORTED' && !r.isNavigationRequest() &&
        (closing || leaving || born.get(r) < nav))
      return;
    problems.push(`requestfailed: ${r.url()} ${why}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  return {
    ctx, page, problems, dialogs,
    async close() {
      closing = true;
      try { await ctx.close(); } finally {
        fs.rmSync(userDataDir, { recursive: true, force: true });
      }
    },
  };
}
