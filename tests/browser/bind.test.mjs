// The binding invitation in a real browser (Debian chromium, a phone's
// viewport): open the link, see the WeChat QR code, scan and confirm it
// on the fake iLink server (tests/integration/fake_ilink.py, on
// 127.0.0.1), see "ready"; the new account answers a DM sent through
// the fake; the used link then says "already used", and an expired one
// "expired".  Issue #13.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import {
  CHROMIUM, Gate, OUT, REPO, UA, WXGATED, freePort, sleep, waitFor,
} from './lib.mjs';

const OWNER = 'o9cq80_FAKEuSeRiD0000000000@im.wechat';
const LINK = /^http:\/\/127\.0\.0\.1:\d+\/bind\/([A-Za-z0-9_-]{22})$/;

describe('binding invitation', () => {
  let fake, fakeUrl, gate, ctx, page, userDataDir;
  const pageErrors = [];

  const step = (name, opts, fn) => test(name, opts, async (t) => {
    try { await fn(t); } catch (e) { gate.failed = true; throw e; }
  });

  async function fakePost(p, body) {
    const r = await fetch(fakeUrl + p, { method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body) });
    assert.ok(r.ok, `${p}: ${r.status}`);
    return r.json();
  }

  async function invite(...args) {
    const out = await gate.ctl('bind', 'create', '--template', 'staff',
      ...args);
    const m = LINK.exec(out.split('\n')[0]);
    assert.ok(m, `no link in ${out}`);
    return out.split('\n')[0];
  }

  const shot = (name) => page.screenshot({ path: path.join(OUT, `bind-${name}.png`) });
  const status = () => page.locator('[data-testid="bind-status"]');

  before(async () => {
    try { await setUp(); } catch (e) { if (gate) gate.failed = true; throw e; }
  });

  async function setUp() {
    assert.ok(fs.existsSync(WXGATED), `no ${WXGATED}: build first or set WXGATE_BUILDDIR`);
    assert.ok(fs.existsSync(CHROMIUM), `no ${CHROMIUM}: apt-get install -y chromium`);
    fs.mkdirSync(OUT, { recursive: true });
    // The fake's QR codes wait until the test scans them.
    const port = await freePort();
    fakeUrl = `http://127.0.0.1:${port}`;
    fake = spawn('/usr/bin/python3', [
      path.join(REPO, 'tests', 'integration', 'fake_ilink.py'),
      '--port', String(port), '--longpoll-ms', '1500', '--qr-script', 'wait',
    ], { stdio: ['ignore', 'ignore', 'inherit'] });
    const pid = fake.pid;
    process.once('exit', () => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } });
    await waitFor('the fake iLink server', async () =>
      (await fetch(fakeUrl + '/_test/state')).ok, 15000, 100);
    gate = new Gate({ prefix: 'wxgate-bind-', extra: [
      'bind:',
      '  ttl_min_s: 1',
      'bind_templates:',
      '  - name: staff',
      '    dm_policy: allowlist',
      '    wechat:',
      `      login_url: ${fakeUrl}`,
      '      send_gap_ms: 0',
      '      poll_timeout_ms: 3000',
    ] });
    await gate.start();
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxgate-chromium-'));
    ctx = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
        '--disable-background-networking', '--disable-component-update',
        '--disable-sync'],
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      userAgent: UA,
      locale: 'en-US',
    });
    page = ctx.pages()[0] || await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  }

  after(async () => {
    try {
      if (ctx) await ctx.close();
    } finally {
      if (gate) {
        await gate.stop();
        if (process.env.WXGATE_KEEP_LOG || gate.failed) console.error(gate.log());
        gate.cleanup();
      }
      if (fake) fake.kill('SIGTERM');
      if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
    }
  });

  let link;

  step('the link shows a WeChat QR code', { timeout: 60000 }, async () => {
    link = await invite();
    const resp = await page.goto(link);
    assert.equal(resp.status(), 200);
    assert.match(resp.headers()['content-security-policy'] || '', /script-src 'self'/);
    await page.waitForSelector('[data-testid="bind-status"][data-state="scan"]',
      { timeout: 20000 });
    assert.match(await status().textContent(), /Scan this QR code with WeChat/);
    // The image is the worker's SVG, drawn and sized for a phone.
    const qr = page.locator('[data-testid="bind-qr"]');
    await qr.waitFor({ state: 'visible' });
    assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml/);
    const ok = await page.evaluate(() => {
      const i = document.querySelector('[data-testid="bind-qr"]');
      return i.complete && i.naturalWidth > 0;
    });
    assert.ok(ok, 'the QR image did not render');
    const box = await qr.boundingBox();
    assert.ok(box.width >= 150 && box.x >= 0 && box.x + box.width <= 390,
      JSON.stringify(box));
    const out = await gate.ctl('channels', 'list');
    assert.match(out, /\bb[0-9a-f]{8}\s+wechat\s+bound\s+staff\s+pending\b/);
    await shot('01-qr');
  });

  step('scan, then confirm on the phone', { timeout: 30000 }, async () => {
    await fakePost('/_test/qr_now', { script: ['scaned'] });
    await page.waitForSelector('[data-testid="bind-status"][data-state="scanned"]',
      { timeout: 10000 });
    assert.match(await status().textContent(), /Scanned .* confirm on your phone/);
    await shot('02-scanned');
    await fakePost('/_test/qr_now', { script: ['confirmed'] });
    await page.waitForSelector('[data-testid="bind-status"][data-state="confirmed"]',
      { timeout: 10000 });
    assert.match(await status().textContent(), /your bot is ready: write to it in WeChat/);
    assert.equal(await page.locator('[data-testid="bind-qr"]').isVisible(), false);
    await shot('03-ready');
  });

  step('the new account answers a DM', { timeout: 30000 }, async () => {
    const out = await gate.ctl('channels', 'list');
    assert.match(out, new RegExp(`\\bb[0-9a-f]{8}\\s+wechat\\s+bound\\s+staff\\s+running\\s+${OWNER.replace(/[.@]/g, '\\$&')}`));
    await fakePost('/_test/inject', { from: OWNER, text: 'hello, my own bot' });
    await waitFor('the reply', async () => {
      const sent = await (await fetch(fakeUrl + '/_test/sent')).json();
      return sent.some((s) => s.to === OWNER && s.outcome === 'ok' &&
        s.text === 'echo: hello, my own bot');
    }, 20000, 100);
  });

  step('the used link says "already used"', { timeout: 20000 }, async () => {
    const resp = await page.goto(link);
    assert.equal(resp.status(), 410);
    assert.match(await page.textContent('[data-testid="bind-gone"]'), /already used/);
    await shot('04-used');
  });

  step('an expired link says "expired"', { timeout: 30000 }, async () => {
    const old = await invite('--ttl', '1s');
    await sleep(2100);
    const resp = await page.goto(old);
    assert.equal(resp.status(), 410);
    assert.match(await page.textContent('[data-testid="bind-gone"]'), /expired/);
    await shot('05-expired');
    assert.deepEqual(pageErrors, []);
  });
});
