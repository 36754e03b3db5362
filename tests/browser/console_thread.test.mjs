// Real-browser tests of the Conversations page's thread view (issue 16):
// a WeChat conversation at the fake iLink server
// (tests/integration/fake_ilink.py) with a photo, a file whose name is
// an XSS payload and more messages than one page opens from its "Open"
// button; the newest page shows the photo decoded from /api/media
// (naturalWidth > 0), the file as a download link whose name is text,
// the /new reset marked; "Older messages" brings the rest, each once,
// oldest first; no console errors, no failed request, no dialog, axe
// clean; screenshots at phone and desktop width.
//
//   WXGATE_BUILDDIR=/path/to/build node --test tests/browser/console_thread.test.mjs
//
// Screenshots go to tests/out/browser-console-thread-*.png.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawn } from 'node:child_process';
import { OUT, REPO, freePort, waitFor, sleep, consoleGate, launchWatched,
  PHONE, DESKTOP, axe } from './lib.mjs';

const FRIEND = 'friend_0002@im.wechat';
const XSS = '<img src=x onerror=alert(1)><script>alert(2)</script>';
// A file's name: the worker makes '/' of a stored name '_'.
const NAME = '<img src=x onerror=alert(3)>.pdf';
// Messages before the one with the attachments: more than a page (20).
const EARLIER = 22;

// A PNG of w x h pixels, so the browser has something to decode.
function png(w, h) {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b) => {
    let c = 0xffffffff;
    for (const x of b) c = table[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]),
    Buffer.alloc(w * 3, Buffer.from([0x0b, 0x5d, 0x2e]))]);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0))]);
}

describe('console thread view', () => {
  let gate, fake, fakeUrl, tokDir;

  before(async () => {
    const token = crypto.randomBytes(16).toString('hex');
    const fport = await freePort();
    fakeUrl = `http://127.0.0.1:${fport}`;
    fake = spawn('/usr/bin/python3', [
      path.join(REPO, 'tests', 'integration', 'fake_ilink.py'),
      '--port', String(fport), '--longpoll-ms', '1500', '--token', token,
    ], { stdio: ['ignore', 'ignore', 'inherit'] });
    const pid = fake.pid;
    process.once('exit', () => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } });
    await waitFor('the fake iLink server', async () => {
      try { return (await fetch(fakeUrl + '/_test/state')).ok; } catch { return false; }
    }, 15000, 100);
    tokDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxgate-thread-tok-'));
    const tokFile = path.join(tokDir, 'alice.token');
    fs.writeFileSync(tokFile, token + '\n', { mode: 0o600 });
    gate = await consoleGate({
      prefix: 'wxgate-thread-', chunks: 1, delayMs: 0,
      extra: [
        'channels:', '  - name: alice', '    type: wechat',
        '    dm_policy: open',
        '    ratelimit:',
        '      peer: { rate: 100/s, burst: 100 }',
        '      account: { rate: 100/s, burst: 100 }',
        '    wechat:', `      login_url: ${fakeUrl}`,
        `      cdn_url: ${fakeUrl}/c2c`, '      send_gap_ms: 0',
        '      poll_timeout_ms: 3000', `      token_file: ${tokFile}`,
      ],
    });

    const post = async (p, body) => {
      const r = await fetch(fakeUrl + p, { method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body) });
      assert.ok(r.ok, `${p}: ${r.status}`);
      return r.json();
    };
    const replies = async () => (await (await fetch(fakeUrl + '/_test/sent'))
      .json()).filter((s) => s.to === FRIEND && s.outcome === 'ok').length;
    // One at a time: a burst's replies would all go under the newest
    // context token, past iLink's ten per token (§7.2), and wait.
    for (let i = 0; i < EARLIER; i++) {
      await post('/_test/inject', { from: FRIEND,
        text: i === 5 ? '/new' : i === 9 ? XSS : `message ${i}` });
      await waitFor(`the reply to message ${i}`, async () =>
        await replies() > i, 20000, 20);
    }
    const item = async (kind, data, name) => post('/_test/media_item',
      { kind, data: data.toString('hex'), name });
    await post('/_test/inject', { from: FRIEND, text: '', item_list: [
      { type: 1, text_item: { text: 'a photo and a file' } },
      await item('image', png(48, 32)),
      await item('file', Buffer.from('%PDF-1.4\n' + 'x'.repeat(500)), NAME),
    ] });
    await waitFor('every message answered', async () =>
      await replies() === EARLIER + 1, 30000, 100);
  });

  after(async () => {
    try {
      if (gate) {
        await gate.stop();
        gate.cleanup();
      }
    } finally {
      if (fake) fake.kill('SIGTERM');
      if (tokDir) fs.rmSync(tokDir, { recursive: true, force: true });
    }
  });

  for (const [name, opts] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    test(`a viewer opens the thread, previews, pages older: ${name}`, { timeout: 90000 }, async () => {
      const b = await launchWatched({ locale: 'en-US', ...opts });
      try {
        const p = b.page;
        const url = (await gate.ctl('console-url', '--operator', 'watcher')).trim();
        assert.equal((await p.goto(url)).status(), 200);
        // The table is redrawn every 5 s: click by selector, not handle.
        await p.waitForSelector('#conversations button.open-thread',
          { timeout: 15000 });
        await p.click('#conversations button.open-thread');
        await p.waitForSelector('#thread:not([hidden])', { timeout: 10000 });
        assert.equal(await p.textContent('#h-thread'), `alice: ${FRIEND}`);
        const texts = () => p.$$eval('#thread-log li.msg',
          (lis) => lis.map((li) => li.querySelector('p.text').textContent));
        let t = await texts();
        assert.equal(t.length, 20);
        assert.match(t[19], /^a photo and a file\n\[attachment: image/);

        // The photo is an image of /api/media, decoded by the browser.
        const img = await p.waitForSelector('#thread-log img.preview');
        await p.waitForFunction((el) => el.complete && el.naturalWidth > 0,
          img, { timeout: 10000 });
        assert.deepEqual(await img.evaluate((el) => [el.naturalWidth,
          el.naturalHeight, new URL(el.src).pathname]), [48, 32, '/api/media']);
        // The file is a download whose name is text, never markup.
        const a = await p.$eval('#thread-log ul.parts a', (el) =>
          [el.textContent, el.hasAttribute('download'), new URL(el.href).pathname]);
        assert.deepEqual(a, [`file ${NAME}, 509 bytes`, true, '/api/media']);
        assert.equal(await p.$$eval('#thread-log script, #thread-log img:not(.preview)',
          (els) => els.length), 0);

        await axe(p, `thread ${name}`);
        await p.screenshot({ path: path.join(OUT,
          `browser-console-thread-${name}.png`), fullPage: true });
        // The thread alone, at the width the page gave it.
        await p.locator('#thread').screenshot({ path: path.join(OUT,
          `browser-console-thread-${name}-view.png`) });

        // The older page goes on top, each message once, oldest first,
        // even when its button is clicked twice before it comes.
        await p.dblclick('#thread-older');
        await p.waitForFunction((n) => document.querySelectorAll(
          '#thread-log li.msg').length === n, EARLIER + 1, { timeout: 10000 });
        await sleep(500);
        assert.equal(await p.isHidden('#thread-older'), true);
        t = await texts();
        assert.equal(t.length, EARLIER + 1);
        assert.deepEqual(t.slice(0, EARLIER), Array.from({ length: EARLIER },
          (_, i) => (i === 5 ? '/new' : i === 9 ? XSS : `message ${i}`)));
        // The /new is marked, and only it; the replies say delivered.
        const marks = await p.$$eval('#thread-log li.msg', (lis) =>
          lis.map((li) => li.querySelector('p.reset') !== null));
        assert.deepEqual(marks.map((m, i) => (m ? i : -1)).filter((i) => i >= 0), [5]);
        assert.equal(await p.$$eval('#thread-log p.state', (ps) =>
          ps.every((s) => s.textContent === 'Delivery: sent')), true);
        await axe(p, `thread older ${name}`);
        assert.deepEqual(b.problems, []);
        assert.deepEqual(b.dialogs, []);
      } finally {
        await b.close();
      }
    });
  }
});
