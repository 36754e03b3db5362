// Real-browser test of the public chat page: Debian's chromium driven by
// playwright-core, a phone-sized viewport with WeChat's in-app user agent,
// against a wxgated this file starts itself on a free 127.0.0.1 port.
//
//   WXGATE_BUILDDIR=/path/to/build node --test tests/browser/
//
// Screenshots go to tests/out/browser-*.png.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import {
  execFileP, REPO, BUILDDIR, WXGATED, WXGATECTL, CHROMIUM, OUT, UA, sleep,
  freePort, waitFor, Gate,
} from './lib.mjs';

describe('web chat page in a phone browser (WeChat UA)', () => {
  const gate = new Gate({ prefix: 'wxgate-browser-', workers: 2, chunks: 4,
    delayMs: 200 });
  let ctx, page, userDataDir;
  const dialogs = [];
  const pageErrors = [];
  const sent = [];		// texts sent, in order

  const shot = (name) => page.screenshot({ path: path.join(OUT, `browser-${name}.png`) });
  const assistantTexts = () => page.$$eval('[data-testid="message-assistant"]',
    (els) => els.map((e) => e.textContent));
  const userTexts = () => page.$$eval('[data-testid="message-user"]',
    (els) => els.map((e) => e.textContent));
  const status = () => page.getAttribute('[data-testid="status"]', 'data-state');
  const waitOnline = () => page.waitForSelector('[data-testid="status"][data-state="online"]',
    { timeout: 15000 });

  // Record every state the status pill and every assistant bubble goes
  // through, so short-lived states are not missed by polling.
  async function installRecorder() {
    await page.evaluate(() => {
      const rec = window.__rec = { states: [], bubbles: [] };
      const st = document.querySelector('[data-testid="status"]');
      rec.states.push(st.getAttribute('data-state'));
      new MutationObserver(() => {
        const s = st.getAttribute('data-state');
        if (rec.states[rec.states.length - 1] !== s) rec.states.push(s);
      }).observe(st, { attributes: true, attributeFilter: ['data-state'] });
      const log = document.querySelector('[data-testid="log"]');
      const snap = () => {
        log.querySelectorAll('[data-testid="message-assistant"]').forEach((el) => {
          if (el.__idx === undefined) { el.__idx = rec.bubbles.length; rec.bubbles.push([]); }
          const seen = rec.bubbles[el.__idx];
          if (seen[seen.length - 1] !== el.textContent) seen.push(el.textContent);
        });
      };
      new MutationObserver(snap).observe(log,
        { childList: true, subtree: true, characterData: true });
    });
  }

  // A test that fails prints wxgated's log at the end.
  const step = (name, opts, fn) => test(name, opts, async (t) => {
    try { await fn(t); } catch (e) { gate.failed = true; throw e; }
  });

  async function sendViaUi(text) {
    await page.locator('[data-testid="input"]').fill(text);
    await page.locator('[data-testid="send"]').tap();
    sent.push(text);
  }

  before(async () => {
    try { await setUp(); } catch (e) { gate.failed = true; throw e; }
  });

  async function setUp() {
    assert.ok(fs.existsSync(WXGATED), `no ${WXGATED}: build first or set WXGATE_BUILDDIR`);
    assert.ok(fs.existsSync(CHROMIUM), `no ${CHROMIUM}: apt-get install -y chromium`);
    fs.mkdirSync(OUT, { recursive: true });
    await gate.start();
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxgate-chromium-'));
    // launchPersistentContext is playwright's way to pass --user-data-dir.
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
      locale: 'zh-CN',
    });
    page = ctx.pages()[0] || await ctx.newPage();
    page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  }

  after(async () => {
    try {
      if (ctx) await ctx.close();
    } finally {
      await gate.stop();
      if (process.env.WXGATE_KEEP_LOG || gate.failed) console.error(gate.log());
      gate.cleanup();
      if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
    }
  });

  step('page loads and goes online', { timeout: 30000 }, async () => {
    const resp = await page.goto(gate.url);
    assert.equal(resp.status(), 200);
    const csp = resp.headers()['content-security-policy'] || '';
    assert.match(csp, /script-src 'self'/);
    await waitOnline();
    // locale zh-CN: the page's strings are Chinese.
    assert.equal(await page.textContent('[data-testid="status"]'), '在线');
    await installRecorder();
    // Touch targets: at least 44 CSS px tall.
    for (const id of ['input', 'send']) {
      const box = await page.locator(`[data-testid="${id}"]`).boundingBox();
      assert.ok(box.height >= 44, `${id} is ${box.height}px tall`);
      assert.ok(box.y + box.height <= 844, `${id} is below the viewport`);
    }
    await shot('01-online');
  });

  step('a message streams back as echo', { timeout: 30000 }, async () => {
    const text = 'hello from WeChat 你好';
    const before = (await assistantTexts()).length;
    await sendViaUi(text);
    assert.equal(await page.inputValue('[data-testid="input"]'), '');
    const want = `echo: ${text}`;
    // An intermediate state: the reply bubble existed and was shorter.
    // The recorder saw it, however briefly; polling could miss it on a
    // loaded machine, so the screenshot may show more.
    await page.waitForFunction(([n, want]) => {
      const seen = window.__rec.bubbles[n];
      return seen && seen.some((s) => s.length > 0 && s.length < want.length);
    }, [before, want], { timeout: 20000 });
    await shot('02-streaming');
    await page.waitForFunction(([n, want]) => {
      const b = document.querySelectorAll('[data-testid="message-assistant"]')[n];
      return b && b.textContent === want;
    }, [before, want], { timeout: 20000 });
    const seen = await page.evaluate((n) => window.__rec.bubbles[n], before);
    assert.ok(seen.length >= 3, `saw only ${JSON.stringify(seen)}`);
    for (const s of seen.slice(0, -1)) {
      assert.ok(s.length < want.length && want.startsWith(s), `bad partial ${JSON.stringify(s)}`);
    }
    assert.equal(seen[seen.length - 1], want);
    assert.deepEqual((await userTexts()).slice(-1), [text]);
    // The user bubble is no longer pending once the reply is done.
    assert.equal(await page.locator('[data-testid="message-user"].pending').count(), 0);
    await shot('03-reply');
  });

  step('untrusted text stays text', { timeout: 30000 }, async () => {
    const text = '<img src=x onerror=alert(1)>';
    const before = (await assistantTexts()).length;
    await sendViaUi(text);
    const want = `echo: ${text}`;
    await page.waitForFunction(([n, want]) => {
      const b = document.querySelectorAll('[data-testid="message-assistant"]')[n];
      return b && b.textContent === want;
    }, [before, want], { timeout: 10000 });
    assert.ok((await assistantTexts()).includes(want));
    assert.ok((await userTexts()).includes(text));
    assert.equal(await page.locator('[data-testid="log"] img').count(), 0);
    // Only the page's own (hidden) share-link QR code; nothing injected.
    assert.equal(await page.locator('img:not([data-testid="share-qr"]):not([data-testid="avatar"])').count(), 0);
    await sleep(300);
    assert.deepEqual(dialogs, []);
    await shot('04-untrusted');
  });

  step('reply survives SIGKILL of the webchat workers mid-stream', { timeout: 60000 }, async () => {
    const text = 'this reply must survive a crash of the web chat workers';
    const want = `echo: ${text}`;
    const before = (await assistantTexts()).length;
    const userBefore = (await userTexts()).length;
    const w0 = await gate.workers();
    const pids = Object.entries(w0).filter(([n]) => n.startsWith('webchat.'))
      .map(([, v]) => v.pid);
    assert.equal(pids.length, 2, `webchat workers: ${JSON.stringify(w0)}`);
    await page.evaluate(() => { window.__rec.states = [document.querySelector('[data-testid="status"]').getAttribute('data-state')]; });

    await sendViaUi(text);
    // Kill once the reply has started streaming but is not complete.
    await page.waitForFunction(([n, want]) => {
      const b = document.querySelectorAll('[data-testid="message-assistant"]')[n];
      return b && b.textContent.length > 0 && b.textContent.length < want.length;
    }, [before, want], { timeout: 10000, polling: 'raf' });
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    const partial = (await assistantTexts())[before];
    assert.ok(partial.length < want.length, `already complete: ${partial}`);

    await page.waitForSelector('[data-testid="status"][data-state="reconnecting"]',
      { timeout: 10000, state: 'attached' }).catch(() => {});
    await shot('05-reconnecting');
    await waitOnline();
    const states = await page.evaluate(() => window.__rec.states);
    assert.ok(states.includes('reconnecting'), `states: ${states}`);
    assert.equal(states[states.length - 1], 'online');

    // The supervisor restarted both workers with new pids.
    await waitFor('webchat workers restarted', async () => {
      const w = await gate.workers();
      return ['webchat.0', 'webchat.1'].every((n) =>
        w[n] && w[n].state === 'running' && !pids.includes(w[n].pid));
    }, 10000, 100);

    await page.waitForFunction((want) =>
      [...document.querySelectorAll('[data-testid="message-assistant"]')]
        .some((b) => b.textContent === want), want, { timeout: 20000 });
    // Let anything late (a duplicate) arrive before counting.
    await sleep(1500);
    const a = await assistantTexts();
    const u = await userTexts();
    assert.equal(a.length, before + 1, `assistant bubbles: ${JSON.stringify(a.slice(before))}`);
    assert.equal(a[before], want);
    assert.equal(a.filter((t) => t === want).length, 1);
    assert.equal(u.length, userBefore + 1, `user bubbles: ${JSON.stringify(u.slice(userBefore))}`);
    assert.equal(u.filter((t) => t === text).length, 1);
    assert.equal(await page.locator('[data-testid="message-user"].pending').count(), 0);
    assert.equal(await page.locator('.msg.failed').count(), 0);
    assert.equal(await page.locator('[data-testid="message-error"]').count(), 0);
    await shot('06-recovered');
  });

  step('reload restores the history', { timeout: 30000 }, async () => {
    const a0 = await assistantTexts();
    const u0 = await userTexts();
    await page.reload();
    await waitOnline();
    await page.waitForFunction((n) =>
      document.querySelectorAll('[data-testid="message-assistant"]').length >= n,
    a0.length, { timeout: 10000 });
    await sleep(500);
    assert.deepEqual(await userTexts(), u0);
    assert.deepEqual(await assistantTexts(), a0);
    for (const t of sent) {
      assert.equal((await userTexts()).filter((x) => x === t).length, 1, t);
      assert.equal((await assistantTexts()).filter((x) => x === `echo: ${t}`).length, 1, t);
    }
    // Only the page's own (hidden) share-link QR code; nothing injected.
    assert.equal(await page.locator('img:not([data-testid="share-qr"]):not([data-testid="avatar"])').count(), 0);
    // The newest message is scrolled into view.
    const last = page.locator('[data-testid="message-assistant"]').last();
    assert.ok(await last.isVisible());
    const box = await last.boundingBox();
    const form = await page.locator('#form').boundingBox();
    assert.ok(box.y + box.height <= form.y + 1, 'last reply hidden under the input bar');
    await shot('07-reloaded');
    assert.deepEqual(dialogs, []);
    assert.deepEqual(pageErrors, []);
  });

  step('input stays above the keyboard; long text wraps', { timeout: 30000 }, async () => {
    // An on-screen keyboard shrinks the visual viewport (WeChat's iOS
    // webview and Android XWeb both resize it); mimic that.
    await page.setViewportSize({ width: 390, height: 450 });
    await page.locator('[data-testid="input"]').tap();
    const long = 'x'.repeat(300);
    await sendViaUi(long);
    await page.waitForFunction((want) =>
      [...document.querySelectorAll('[data-testid="message-assistant"]')]
        .some((b) => b.textContent === want), `echo: ${long}`, { timeout: 10000 });
    await page.locator('[data-testid="input"]').fill('第一行\n第二行\n第三行');
    await page.locator('[data-testid="input"]').dispatchEvent('input');
    await sleep(100);
    await shot('08-keyboard');
    const vh = await page.evaluate(() => window.visualViewport.height);
    for (const id of ['input', 'send']) {
      const box = await page.locator(`[data-testid="${id}"]`).boundingBox();
      assert.ok(box.y >= 0 && box.y + box.height <= vh + 1,
        `${id} at ${box.y}+${box.height} outside the ${vh}px viewport`);
    }
    const bar = await page.locator('[data-testid="status"]').boundingBox();
    assert.ok(bar.y >= 0, 'status scrolled out of view');
    const over = await page.$eval('[data-testid="log"]', (l) => l.scrollWidth - l.clientWidth);
    assert.ok(over <= 0, `log scrolls sideways by ${over}px`);
    const last = await page.locator('[data-testid="message-assistant"]').last().boundingBox();
    const form = await page.locator('#form').boundingBox();
    assert.ok(last.y + last.height <= form.y + 1,
      `newest reply (${last.y}+${last.height}) hidden under the input bar at ${form.y}`);
    await page.setViewportSize({ width: 390, height: 844 });
    assert.deepEqual(pageErrors, []);
  });
});
