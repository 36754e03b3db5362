// Real-browser tests of the operator console's accounts (issue 16):
// the accounts page shows a WeChat account's login QR code, and after
// the fake iLink server (tests/integration/fake_ilink.py) is told the
// code was scanned and confirmed, the account logged in; a bound
// account's owner (an XSS payload the fake names as the scanner) is
// text; a message from the fake appears live in Conversations, and an
// admin sends one as the bot; a viewer's revoke of a binding invitation
// is refused, an admin's done; an admin pauses and resumes an account.
//
//   WXGATE_BUILDDIR=/path/to/build node --test tests/browser/console_accounts.test.mjs
//
// Screenshots go to tests/out/browser-console-*.png, phone and desktop.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { OUT, REPO, freePort, waitFor, consoleGate, launchWatched, PHONE,
  DESKTOP, axe } from './lib.mjs';

const launch = (opts = {}) =>
  launchWatched({ locale: 'en-US', ...DESKTOP }, opts);

describe('operator console, accounts', () => {
  const OWNER = '<img src=x onerror=alert(3)><script>alert(4)</script>';
  const INVITE = /^http:\/\/127\.0\.0\.1:\d+\/bind\/[A-Za-z0-9_-]{22}$/;
  let gate, fake, fakeUrl;

  before(async () => {
    // The fake's QR codes wait until a test scans them.
    const fport = await freePort();
    fakeUrl = `http://127.0.0.1:${fport}`;
    fake = spawn('/usr/bin/python3', [
      path.join(REPO, 'tests', 'integration', 'fake_ilink.py'),
      '--port', String(fport), '--longpoll-ms', '1500', '--qr-script', 'wait',
      '--user-id', OWNER,
    ], { stdio: ['ignore', 'ignore', 'inherit'] });
    const pid = fake.pid;
    process.once('exit', () => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } });
    await waitFor('the fake iLink server', async () => {
      try { return (await fetch(fakeUrl + '/_test/state')).ok; } catch { return false; }
    }, 15000, 100);
    // alice logs in at the fake, as a bound account does.
    const wechat = ['    wechat:', `      login_url: ${fakeUrl}`,
      '      send_gap_ms: 0', '      poll_timeout_ms: 3000'];
    gate = await consoleGate({ prefix: 'wxgate-console-acct-', extra: [
      'channels:',
      '  - name: alice',
      '    type: wechat',
      ...wechat,
      '  - name: t',
      '    type: loopback',
      'bind:',
      '  ttl_min_s: 1',
      'bind_templates:',
      '  - name: staff',
      ...wechat,
    ] });
  });

  after(async () => {
    try {
      if (gate) {
        await gate.stop();
        gate.cleanup();
      }
    } finally {
      if (fake) fake.kill('SIGTERM');
    }
  });

  async function fakePost(p, body) {
    const r = await fetch(fakeUrl + p, { method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body) });
    assert.ok(r.ok, `${p}: ${r.status}`);
  }

  async function open(b, ...args) {
    const url = (await gate.ctl('console-url', ...args)).trim();
    const resp = await b.page.goto(url);
    assert.equal(resp.status(), 200);
    assert.equal(b.page.url(), gate.consoleUrl);
    await b.page.waitForFunction(() => [...document.querySelectorAll(
      '#accounts tr td:first-child')].some((td) => td.textContent === 't'),
    null, { timeout: 10000 });
  }

  // The last look at a page: its screenshot, then nothing went wrong.
  async function shotClean(b, file) {
    await b.page.screenshot({ path: path.join(OUT, file), fullPage: true });
    assert.deepEqual(b.problems, []);
    assert.deepEqual(b.dialogs, []);
  }

  const rowOf = (p, name) => p.$$eval('#accounts tr', (trs, n) => trs
    .map((tr) => [...tr.cells].map((td) => td.textContent))
    .find((cells) => cells[0] === n), name);

  test('a WeChat QR login completes from the accounts page', { timeout: 90000 }, async () => {
    const b = await launch(DESKTOP);
    try {
      await open(b);
      const p = b.page;
      // The code the worker fetched, drawn by the hub, as an image.
      const qr = p.locator('#accounts img.qr[alt="Login QR code for alice"]');
      await qr.waitFor({ state: 'visible', timeout: 20000 });
      assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml,/);
      assert.ok(await p.evaluate(() => {
        const i = document.querySelector('#accounts img.qr');
        return i.complete && i.naturalWidth > 0;
      }), 'the QR image did not render');
      assert.equal((await rowOf(p, 'alice'))[2], 'login_required');
      const t = await rowOf(p, 't');
      assert.deepEqual(t.slice(1, 5), ['', 'running', 'loopback', 'config']);
      await axe(p, 'accounts, a QR code');
      await p.screenshot({ path: path.join(OUT,
        'browser-console-accounts-qr-desktop.png'), fullPage: true });
      // On a phone the code is on the first screen, not scrolled away.
      const ph = await launch(PHONE);
      try {
        await open(ph);
        const q = ph.page.locator('#accounts img.qr');
        await q.waitFor({ state: 'visible', timeout: 20000 });
        const box = await q.boundingBox();
        assert.ok(box.width >= 150 && box.x >= 0 && box.x + box.width <= 390,
          JSON.stringify(box));
        await shotClean(ph, 'browser-console-accounts-qr-phone.png');
      } finally {
        await ph.close();
      }
      // The phone scans and confirms; the page follows by itself.
      await fakePost('/_test/qr_now', { script: ['scaned', 'confirmed'] });
      await p.waitForFunction(() => [...document.querySelectorAll('#accounts tr')]
        .some((tr) => tr.cells[0].textContent === 'alice' &&
          tr.cells[2].textContent === 'running' &&
          tr.cells[1].textContent === 'Logged in'), null, { timeout: 30000 });
      assert.equal(await p.locator('#accounts img.qr').count(), 0);
      await shotClean(b, 'browser-console-accounts-done-desktop.png');
    } finally {
      await b.close();
    }
  });

  // After the QR login above: alice's owner talks to the echo agent.
  test('conversations: a message from the fake appears live, as text', { timeout: 90000 }, async () => {
    // The owner's id is markup too (OWNER): both must stay text.
    const XSS = '<img src=x onerror=alert(1)><script>alert(2)</script>';
    const convRow = (p, text) => p.$$eval('#conversations tr', (trs, t) => trs
      .map((tr) => [...tr.cells].map((td) => td.textContent))
      .find((cells) => cells[3] === t), text);
    const b = await launch(DESKTOP);
    try {
      await open(b, '--operator', 'watcher');
      const p = b.page;
      // Opened before the message: the page's refresh brings it.
      await fakePost('/_test/inject', { from: OWNER, text: XSS });
      await p.waitForFunction((t) => [...document.querySelectorAll('#conversations tr')]
        .some((tr) => tr.cells.length === 7 && tr.cells[3].textContent === t &&
          tr.cells[5].textContent === 'sent'), XSS, { timeout: 30000 })
        .catch(async (e) => {
          throw new Error(e.message + ' ' + JSON.stringify(await p.$$eval(
            '#conversations tr', (trs) => trs.map((tr) => tr.textContent))) +
            await p.textContent('#status'));
        });
      const row = await convRow(p, XSS);
      assert.deepEqual([row[0], row[1], row[4]], ['alice', OWNER, 'echo: ' + XSS]);
      assert.equal(await p.locator('#conversations img, #conversations script').count(), 0);
      // A search that misses empties the table; one that hits finds it.
      await p.fill('#conv-text', 'nothing-like-it');
      await p.click('#conv-search button');
      await p.waitForFunction(() => document.querySelector('#conversations td.none'),
        null, { timeout: 10000 });
      await p.fill('#conv-text', '');
      await p.fill('#conv-peer', 'onerror');
      await p.click('#conv-search button');
      await p.waitForFunction((t) => [...document.querySelectorAll('#conversations tr')]
        .some((tr) => tr.cells[3]?.textContent === t), XSS, { timeout: 10000 });
      await axe(p, 'conversations');
      await shotClean(b, 'browser-console-conversations-desktop.png');
      const ph = await launch(PHONE);
      try {
        await open(ph);
        await ph.page.waitForFunction((t) => [...document.querySelectorAll(
          '#conversations tr')].some((tr) => tr.cells[3]?.textContent === t),
        XSS, { timeout: 10000 });
        await shotClean(ph, 'browser-console-conversations-phone.png');
      } finally {
        await ph.close();
      }
    } finally {
      await b.close();
    }
  });

  // After the message above: an admin writes into it as the bot.
  test('conversations: an admin sends as the bot, delivered once, shown with its state', { timeout: 90000 }, async () => {
    const MSG = 'the operator here: 你好 <b>bold</b>';
    const b = await launch(DESKTOP);
    try {
      await open(b);
      const p = b.page;
      await p.locator('#conv-send').waitFor({ state: 'visible', timeout: 15000 });
      await p.selectOption('#conv-to', { label: 'alice: ' + OWNER });
      await p.fill('#conv-msg', MSG);
      await p.click('#conv-send button');
      await p.waitForFunction((t) => [...document.querySelectorAll('#conversations tr')]
        .some((tr) => tr.cells.length === 7 && tr.cells[3].textContent === '(sent as the bot)' &&
          tr.cells[4].textContent === t && tr.cells[5].textContent === 'sent'),
      MSG, { timeout: 30000 });
      assert.equal(await p.inputValue('#conv-msg'), '');
      assert.equal(await p.locator('#conversations b').count(), 0);
      const sent = await (await fetch(fakeUrl + '/_test/sent')).json();
      assert.equal(sent.filter((x) => x.text === MSG && x.outcome === 'ok').length, 1,
        JSON.stringify(sent));
      await axe(p, 'conversations take-over');
      await shotClean(b, 'browser-console-conversations-send-desktop.png');
    } finally {
      await b.close();
    }
  });

  test('invitations and a bound owner as text, a viewer refused, an admin revokes', { timeout: 90000 }, async () => {
    const links = [];
    for (let i = 0; i < 2; i++) {
      const out = (await gate.ctl('bind', 'create', '--template', 'staff')).split('\n')[0];
      assert.match(out, INVITE);
      links.push(out);
    }
    // The first one bound on its page: the fake names OWNER as scanner.
    const g = await launch(PHONE);
    try {
      await g.page.goto(links[0]);
      await g.page.waitForSelector('[data-testid="bind-status"][data-state="scan"]',
        { timeout: 20000 });
      await fakePost('/_test/qr_now', { script: ['scaned', 'confirmed'] });
      await g.page.waitForSelector('[data-testid="bind-status"][data-state="confirmed"]',
        { timeout: 20000 });
    } finally {
      await g.close();
    }
    const v = await launch(PHONE);
    try {
      await open(v, '--operator', 'watcher');
      const p = v.page;
      await p.waitForFunction((o) => [...document.querySelectorAll('#accounts tr')]
        .some((tr) => tr.cells[5]?.textContent === o), OWNER, { timeout: 15000 });
      assert.equal(await p.$$eval('#accounts img:not(.qr), #accounts script',
        (n) => n.length), 0);
      const live = await p.$$eval('#invites tr', (trs) => trs
        .map((tr) => [...tr.cells].map((td) => td.textContent)));
      assert.deepEqual(live.map((r) => [r[0], r[1], r[2]]),
        [['1', 'staff', 'used up'], ['2', 'staff', 'live']]);
      await axe(p, 'accounts, phone');
      await p.screenshot({ path: path.join(OUT,
        'browser-console-accounts-phone.png'), fullPage: true });
      await p.click('button[aria-label="Revoke invitation 2"]');
      await p.waitForFunction(() =>
        /^Refused: viewers cannot do this/.test(document.getElementById('status').textContent));
      assert.deepEqual(v.problems.filter((x) => !/HTTP 403: .*\/api\/invite\/revoke/.test(x) &&
        !/status of 403/.test(x)), []);
      assert.deepEqual(v.dialogs, []);
      assert.match(await gate.ctl('audit'), /invite\.revoke/);
    } finally {
      await v.close();
    }
    const a = await launch(DESKTOP);
    try {
      await open(a);
      await a.page.click('button[aria-label="Revoke invitation 2"]');
      await a.page.waitForFunction(() =>
        document.getElementById('status').textContent === 'Revoked invitation 2');
      assert.equal((await a.page.$$eval('#invites tr', (trs) => trs
        .map((tr) => tr.cells[2].textContent)))[1], 'revoked');
      await axe(a.page, 'accounts, desktop');
      await shotClean(a, 'browser-console-accounts-desktop.png');
    } finally {
      await a.close();
    }
  });
  test('accounts: an admin pauses an account, the page says paused, then resumes it', { timeout: 60000 }, async () => {
    const b = await launch(DESKTOP);
    try {
      await open(b);
      const p = b.page;
      const stateOf = async () => (await rowOf(p, 't')).slice(2, 3).concat((await rowOf(p, 't'))[6]);
      await waitFor('t running', async () => (await stateOf()).join() === 'running,Pause', 15000, 100);
      await p.click('#accounts button[aria-label="Pause t"]');
      await waitFor('t paused', async () => (await stateOf()).join() === 'paused,Resume', 15000, 100);
      await waitFor('its worker stopped', async () =>
        (await gate.workers())['loopback.t']?.state === 'stopped', 15000, 100);
      await axe(p, 'accounts, paused');
      await shotClean(b, 'browser-console-accounts-paused-desktop.png');
      await p.click('#accounts button[aria-label="Resume t"]');
      await waitFor('t running again', async () =>
        (await gate.workers())['loopback.t']?.state === 'running', 15000, 100);
      await waitFor('the page says so', async () => (await stateOf()).join() === 'running,Pause', 15000, 100);
    } finally {
      await b.close();
    }
  });
});
