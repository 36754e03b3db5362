// Real-browser tests of the operator console (issue 16), its first
// slices: log in with the one-time link from `wxgatectl console-url`,
// the overview renders the workers with no console errors and no
// failed requests, axe-core's WCAG 2.1 A/AA rules find nothing in light
// and dark mode, a cross-site POST from another origin does not end the
// session, and a revoked session is sent to log in; the share links and
// schedules pages show what wxgatectl made as text, refuse a viewer's
// buttons and do an admin's, and an admin makes a share link and sees
// its QR code once; the log shows its lines as text, and its worker and
// level selects show only what they name.  The accounts page is
// console_accounts.test.mjs's, so the two run side by side.
//
//   WXGATE_BUILDDIR=/path/to/build node --test tests/browser/console.test.mjs
//
// Screenshots go to tests/out/browser-console-*.png, phone and desktop.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { OUT, execFileP, waitFor, consoleGate, launchWatched, PHONE,
  DESKTOP, axe } from './lib.mjs';

const launch = (opts = {}) =>
  launchWatched({ locale: 'en-US', ...DESKTOP }, opts);

describe('operator console', () => {
  let gate;
  let consoleUrl;

  before(async () => {
    gate = await consoleGate({ prefix: 'wxgate-console-', extra: [
      'channels:',
      '  - name: t',
      '    type: loopback',
    ] });
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
