// Real-browser tests of the operator console (issue 16), its first
// slices: log in with the one-time link from `wxgatectl console-url`,
// the overview renders the workers with no console errors and no
// failed requests, axe-core's WCAG 2.1 A/AA rules find nothing in light
// and dark mode, a cross-site POST from another origin does not end the
// session, and a revoked session is sent to log in; the share links and
// schedules pages show what wxgatectl made as text, refuse a viewer's
// buttons and do an admin's; the log shows its lines as text, and its
// worker and level selects show only what they name.  The accounts
// page shows a WeChat account's login QR code, and after the fake iLink
// server (tests/integration/fake_ilink.py) is told the code was scanned
// and confirmed, the account logged in; a bound account's owner (an
// XSS payload the fake names as the scanner) is text; a viewer's
// revoke of a binding invitation is refused, an admin's done.
//
//   WXGATE_BUILDDIR=/path/to/build node --test tests/browser/console.test.mjs
//
// Screenshots go to tests/out/browser-console-*.png, phone and desktop.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { OUT, REPO, UA, execFileP, freePort, waitFor, Gate, launchWatched,
  PHONE, DESKTOP, axe } from './lib.mjs';

const launch = (opts = {}) =>
  launchWatched({ locale: 'en-US', ...DESKTOP }, opts);

/*
 * A gate with a console on a free port (an admin, root-op, and a
 * viewer, watcher), extra its other YAML lines; up when the console
 * worker runs.  gate.consoleUrl is the console's address.
 */
async function consoleGate(prefix, extra) {
  const port = await freePort();
  const gate = new Gate({
    prefix,
    workers: 1,
    extra: [
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

describe('operator console', () => {
  let gate;
  let consoleUrl;

  before(async () => {
    gate = await consoleGate('wxgate-console-', [
      'channels:',
      '  - name: t',
      '    type: loopback',
    ]);
    consoleUrl = gate.consoleUrl;
  });

  after(async () => {
    if (gate) {
      await gate.stop();
      gate.cleanup();
    }
  });

  async function link(...args) {
    const out = (await gate.ctl('console-url', ...args)).trim();
    assert.match(out, /^http:\/\/127\.0\.0\.1:\d+\/login\?token=[0-9a-f]{32}$/);
    assert.ok(out.startsWith(consoleUrl));
    return out;
  }

  // Log in and wait for the overview to list the workers.
  async function open(b, ...args) {
    const resp = await b.page.goto(await link(...args));
    assert.equal(resp.status(), 200);
    assert.equal(b.page.url(), consoleUrl);
    await b.page.waitForFunction(() => {
      const names = [...document.querySelectorAll('#workers tr td:first-child')]
        .map((td) => td.textContent);
      return names.includes('console.http') && names.includes('webchat.0');
    }, null, { timeout: 10000 });
  }

  for (const [name, opts] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    for (const scheme of ['light', 'dark']) {
      test(`log in, overview, no errors, axe clean: ${name} ${scheme}`, { timeout: 60000 }, async () => {
        const b = await launch({ ...opts, colorScheme: scheme });
        try {
          await open(b);
          const p = b.page;
          assert.equal(await p.textContent('#who'), 'root-op (admin)');
          const row = await p.$$eval('#workers tr', (trs) => trs
            .map((tr) => [...tr.cells].map((c) => c.textContent))
            .find((c) => c[0] === 'console.http'));
          assert.equal(row[1], 'console');
          assert.equal(row[2], 'running');
          assert.match(await p.textContent('#status'), /^Updated /);
          // The cookie is not the page's to read.
          assert.equal(await p.evaluate(() => document.cookie), '');
          await axe(p, `${name} ${scheme}`);
          await p.screenshot({ path: path.join(OUT,
            `browser-console-overview-${name}-${scheme}.png`), fullPage: true });
          assert.deepEqual(b.problems, []);
          assert.deepEqual(b.dialogs, []);
        } finally {
          await b.close();
        }
      });
    }
  }

  // The store as a channel leaves it: pending pairing rows (the way
  // tests/integration/test_ctl_pairing.py writes them).
  async function sql(query, ...args) {
    const { stdout } = await execFileP('/usr/bin/python3', ['-c', `
import sqlite3, sys, json
db = sqlite3.connect(sys.argv[1], timeout=5)
with db:
    rows = db.execute(sys.argv[2], json.loads(sys.argv[3])).fetchall()
print(json.dumps(rows))
`, path.join(gate.dir, 'wxgate.db'), query, JSON.stringify(args)]);
    return JSON.parse(stdout);
  }

  const XSS = '<img src=x onerror=alert(1)><script>alert(2)</script>';

  test('pairings: names as text, a viewer refused, an admin approves', { timeout: 60000 }, async () => {
    const now = Math.floor(Date.now() / 1000);
    await sql('INSERT INTO pairings (account, peer, code, created, expires)' +
      ' VALUES (?, ?, ?, ?, ?)', 'wecom', XSS, 'K7Q2M9', now, now + 600);
    await sql('INSERT INTO pairings (account, peer, code, created, expires)' +
      ' VALUES (?, ?, ?, ?, ?)', 'wecom', 'bob', 'P4X8D3', now, now + 600);
    const rowOf = (p, code) => p.$$eval('#pairings tr', (trs, c) => trs
      .map((tr) => [...tr.cells].map((td) => td.textContent))
      .find((cells) => cells[0] === c), code);
    const v = await launch(PHONE);
    try {
      await open(v, '--operator', 'watcher');
      await v.page.waitForFunction(() =>
        document.querySelectorAll('#pairings tr').length === 2);
      assert.equal((await rowOf(v.page, 'K7Q2M9'))[2], XSS);
      assert.equal(await v.page.$$eval('#pairings img, #pairings script',
        (n) => n.length), 0);
      await v.page.click('button[aria-label="Approve K7Q2M9"]');
      await v.page.waitForFunction(() =>
        /^Refused: viewers cannot do this/.test(document.getElementById('status').textContent));
      // The one failure on the page is that refusal.
      assert.deepEqual(v.problems.filter((x) => !/HTTP 403: .*\/api\/pairing\/approve/.test(x) &&
        !/status of 403/.test(x)), []);
      assert.deepEqual(v.dialogs, []);
      assert.match(await gate.ctl('audit'), /pairing\.approve/);
      assert.deepEqual(await sql('SELECT count(*) FROM peers WHERE allowed'), [[0]]);
    } finally {
      await v.close();
    }
    const a = await launch(DESKTOP);
    try {
      await open(a);
      await a.page.waitForFunction(() =>
        document.querySelectorAll('#pairings tr').length === 2);
      await a.page.screenshot({ path: path.join(OUT,
        'browser-console-pairings-desktop.png'), fullPage: true });
      await a.page.click('button[aria-label="Approve K7Q2M9"]');
      await a.page.waitForFunction(() =>
        document.getElementById('status').textContent === 'Approved K7Q2M9');
      await a.page.waitForFunction(() =>
        document.querySelectorAll('#pairings tr').length === 1);
      assert.equal(await rowOf(a.page, 'K7Q2M9'), undefined);
      await waitFor('the peer allowed', async () =>
        (await sql('SELECT peer FROM peers WHERE allowed'))[0]?.[0] === XSS);
      // Now an allowed sender, shown as text, that the admin revokes.
      await a.page.waitForFunction((x) => [...document.querySelectorAll(
        '#allowed tr td:nth-child(2)')].some((td) => td.textContent === x), XSS);
      assert.equal(await a.page.$$eval('#allowed img, #allowed script',
        (n) => n.length), 0);
      await axe(a.page, 'pairings');
      await a.page.screenshot({ path: path.join(OUT,
        'browser-console-allowed-desktop.png'), fullPage: true });
      await a.page.locator('#allowed tr', { hasText: 'wecom' })
        .getByRole('button', { name: /^Revoke/ }).click();
      await a.page.waitForFunction((x) =>
        document.getElementById('status').textContent === 'Revoked ' + x, XSS);
      // The store commits by turns.
      await waitFor('the sender revoked', async () =>
        (await sql('SELECT count(*) FROM peers WHERE allowed'))[0][0] === 0);
      assert.equal(await a.page.textContent('#allowed td'), 'No senders allowed yet.');
      assert.deepEqual(a.problems, []);
      assert.deepEqual(a.dialogs, []);
    } finally {
      await a.close();
    }
  });

  test('share links and schedules: as text, a viewer refused, an admin acts', { timeout: 90000 }, async () => {
    const cells = (p, id) => p.$$eval(`#${id} tr`, (trs) => trs
      .map((tr) => [...tr.cells].map((td) => td.textContent)));
    const status = (p, re) => p.waitForFunction((src) => new RegExp(src)
      .test(document.getElementById('status').textContent), re.source);
    // Nothing yet: each page says so.
    const e = await launch(DESKTOP);
    try {
      await open(e);
      await e.page.waitForFunction(() => document.querySelector('#schedules td'));
      assert.match(await e.page.textContent('#schedules td'), /^No schedules\./);
      assert.equal(await e.page.textContent('#shares td'), 'No share links.');
      assert.deepEqual(e.problems, []);
    } finally {
      await e.close();
    }
    await gate.ctl('share', 'create');
    const id = (await gate.ctl('share', 'list')).split('\n')[1].split(/\s+/)[0];
    assert.match(id, /^[0-9a-f]{12}$/);
    await gate.ctl('schedule', 'add', 'digest', '--every', '1h', '--text',
      XSS, '--to', 't:alice');
    const v = await launch(PHONE);
    try {
      await open(v, '--operator', 'watcher');
      await v.page.waitForFunction(() => [...document.querySelectorAll(
        '#schedules td:first-child')].some((td) => td.textContent === 'digest'));
      const row = (await cells(v.page, 'schedules'))[0];
      assert.deepEqual(row.slice(0, 4), ['digest', 'every 1h', XSS, 't:alice']);
      assert.equal(row[6], 'never run');
      assert.equal((await cells(v.page, 'shares'))[0][0], id);
      assert.equal(await v.page.isHidden('[data-testid=share-create]'), true);
      assert.equal(await v.page.$$eval('#schedules img, #schedules script, ' +
        '#shares img, #shares script', (n) => n.length), 0);
      await axe(v.page, 'shares and schedules, phone');
      await v.page.locator('[data-testid=schedules]').scrollIntoViewIfNeeded();
      await v.page.screenshot({ path: path.join(OUT,
        'browser-console-schedules-phone.png'), fullPage: true });
      for (const label of ['Pause digest', 'Run now digest', `Revoke link ${id}`]) {
        await v.page.click(`button[aria-label="${label}"]`);
        await status(v.page, /^Refused: viewers cannot do this/);
        await v.page.evaluate(() => { document.getElementById('status').textContent = ''; });
      }
      assert.deepEqual(v.problems.filter((x) => !/HTTP 403: .*\/api\/(schedule|share)\//.test(x) &&
        !/status of 403/.test(x)), []);
      assert.deepEqual(v.dialogs, []);
      const audit = await gate.ctl('audit');
      for (const m of ['schedule.pause', 'schedule.run', 'share.revoke'])
        assert.match(audit, new RegExp(m.replace('.', '\\.')));
      assert.equal(await gate.ctl('schedule', 'history', 'digest'), '');
    } finally {
      await v.close();
    }
    const a = await launch(DESKTOP);
    try {
      await open(a);
      await a.page.waitForSelector('button[aria-label="Run now digest"]');
      await a.page.click('button[aria-label="Run now digest"]');
      await status(a.page, /^Started digest$/);
      await a.page.waitForFunction(() => /\(run now\)/.test(
        document.querySelector('#schedules ul.runs')?.textContent || ''));
      assert.match(await a.page.textContent('#schedules ul.runs ul'), /^t:alice /);
      assert.match(await gate.ctl('schedule', 'history', 'digest'), / manual/);
      await a.page.click('button[aria-label="Pause digest"]');
      await status(a.page, /^Paused digest$/);
      await a.page.waitForSelector('button[aria-label="Resume digest"]');
      assert.match(await gate.ctl('schedule', 'list'), /digest\s+-\s+\S+\s+\S+\s+paused/);
      await a.page.click(`button[aria-label="Revoke link ${id}"]`);
      await status(a.page, new RegExp(`^Revoked link ${id}$`));
      assert.equal((await cells(a.page, 'shares'))[0][1], 'revoked');
      assert.doesNotMatch((await gate.ctl('share', 'list')).split('\n')[1], /\s-\s*$/);
      // A new link, its address and QR code shown this once.
      await a.page.selectOption('#share-days', '1');
      await a.page.click('[data-testid=share-create] button');
      await status(a.page, /^Created a link/);
      const url = await a.page.inputValue('[data-testid=share-url]');
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/s\/[0-9a-f]{32}$/);
      await a.page.waitForFunction(() => {
        const i = document.getElementById('share-qr');
        return i.complete && i.naturalWidth > 0;
      });
      assert.deepEqual((await cells(a.page, 'shares')).map((r) => r[1]),
        ['revoked', 'live']);
      assert.equal((await gate.ctl('share', 'list')).trim().split('\n').length, 3);
      assert.equal(await a.page.$$eval('#schedules img, #schedules script',
        (n) => n.length), 0);
      await axe(a.page, 'shares and schedules, desktop');
      await a.page.screenshot({ path: path.join(OUT,
        'browser-console-schedules-desktop.png'), fullPage: true });
      assert.deepEqual(a.problems, []);
      assert.deepEqual(a.dialogs, []);
    } finally {
      await a.close();
    }
  });

  test('log: lines as text, filtered by worker and level, any scope', { timeout: 90000 }, async () => {
    // The operator's text reaches the loopback worker's log line.
    await gate.ctl('schedule', 'add', 'shout', '--every', '1h', '--text',
      XSS, '--to', 't:alice');
    await gate.ctl('schedule', 'run', 'shout');
    const line = 'loopback t: to alice: ' + XSS;
    await waitFor('the loopback line', () => gate.log().includes(line));
    const rows = (p) => p.$$eval('#log tr', (trs) => trs
      .map((tr) => [...tr.cells].map((td) => td.textContent)));
    const settle = (p, test, arg) => p.waitForFunction(test, arg,
      { timeout: 10000 });
    for (const [name, opts, who] of [['desktop', DESKTOP, ['--operator', 'watcher']],
      ['phone', PHONE, []]]) {
      const b = await launch(opts);
      try {
        await open(b, ...who);
        const p = b.page;
        await settle(p, (x) => [...document.querySelectorAll('#log td.line')]
          .some((td) => td.textContent === x), line);
        let all = await rows(p);
        assert.ok(new Set(all.map((r) => r[2])).size > 2, 'lines of many workers');
        assert.ok(all.some((r) => r[2] === 'hub'));
        const mine = all.filter((r) => r[3] === line);
        assert.equal(mine[0][2], 'loopback.t');
        assert.equal(mine[0][1], 'info');
        assert.equal(await p.$$eval('#log img, #log script', (n) => n.length), 0);
        await axe(p, `log, ${name}`);

        // The worker select lists the overview's workers.
        await settle(p, () => [...document.querySelectorAll('#log-worker option')]
          .some((o) => o.value === 'loopback.t'));
        await p.selectOption('#log-worker', 'loopback.t');
        await settle(p, () => {
          const w = [...document.querySelectorAll('#log tr td:nth-child(3)')];
          return w.length > 0 && w.every((td) => td.textContent === 'loopback.t');
        });
        all = await rows(p);
        assert.ok(all.some((r) => r[3] === line));
        assert.ok(all.every((r) => r[2] === 'loopback.t'), JSON.stringify(all));
        await p.locator('[data-testid=log]').scrollIntoViewIfNeeded();
        await p.screenshot({ path: path.join(OUT,
          `browser-console-log-${name}.png`), fullPage: true });

        // The hub's warnings only: a used login link makes one.
        const r = await p.request.get(consoleUrl + 'login?token=' + '0'.repeat(32),
          { maxRedirects: 0 });
        assert.equal(r.status(), 401);
        await p.selectOption('#log-worker', 'hub');
        await p.selectOption('#log-level', 'warn');
        await settle(p, () => [...document.querySelectorAll('#log td.line')]
          .some((td) => /unknown or used link/.test(td.textContent)));
        all = await rows(p);
        assert.ok(all.every((r) => r[2] === 'hub' && r[1] === 'warn'),
          JSON.stringify(all));
        assert.deepEqual(b.problems, []);
        assert.deepEqual(b.dialogs, []);
      } finally {
        await b.close();
      }
    }
  });

  test('a used link, a cross-site POST and a revoked session', { timeout: 60000 }, async () => {
    const b = await launch();
    try {
      const url = await link('--operator', 'watcher');
      await b.page.goto(url);
      await b.page.waitForSelector('#workers tr');
      assert.equal(await b.page.textContent('#who'), 'watcher (viewer)');
      // The same link again (a second browser would have to): refused.
      const again = await b.page.request.get(url, { maxRedirects: 0 });
      assert.equal(again.status(), 401);
      b.problems.length = 0;
      // Another site (localhost is not 127.0.0.1) submits a form to the
      // console: the cookie is SameSite=Strict and the Origin is not the
      // console's.  (Its fetch() the browser itself would refuse to send
      // to a loopback address; a form still goes.)  The other page is
      // served by the browser itself.
      const evil = 'http://localhost:9/evil';
      await b.ctx.route(evil, (r) => r.fulfill({ status: 200,
        contentType: 'text/html', body: '<!doctype html><title>x</title>' }));
      const other = await b.ctx.newPage();
      await other.goto(evil);
      const [posted] = await Promise.all([
        other.waitForNavigation(),
        other.evaluate((u) => {
          const f = document.createElement('form');
          f.method = 'POST';
          f.action = u + 'api/logout';
          document.body.appendChild(f);
          f.submit();
        }, consoleUrl),
      ]);
      assert.equal(posted.status(), 403);
      await other.close();
      const ok = await b.page.evaluate(async () =>
        (await fetch('/api/session')).status);
      assert.equal(ok, 200, 'the session outlived the cross-site POST');
      // The worker's log line reaches the file through the parent.
      await waitFor('the refusal logged', () =>
        /a cross-site logout from 127\.0\.0\.1 refused/.test(gate.log()));
      // revoke-all: the next visit is sent to log in.
      await gate.ctl('console', 'revoke-all');
      const resp = await b.page.reload();
      assert.equal(resp.status(), 401);
      assert.match(await b.page.textContent('[data-testid=login-help]'),
        /wxgatectl console-url/);
      await b.page.screenshot({ path: path.join(OUT, 'browser-console-login.png') });
      assert.deepEqual(b.dialogs, []);
    } finally {
      await b.close();
    }
  });
});

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
    gate = await consoleGate('wxgate-console-acct-', [
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
    ]);
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
