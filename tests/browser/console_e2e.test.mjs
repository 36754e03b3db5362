// Real-browser tests of end-to-end encrypted console threads (issue 19,
// docs/e2e.md): the console page in Chromium seals with e2e.js, a real
// wxgate-relay opens and answers from a fake OpenAI server (a few lines
// of node here), and wxgated in between stores what it cannot read.
//
// One conversation, in order: a passphrase is chosen and the key made;
// a sealed thread answered, its plaintext only at the fake model and in
// the page, never in the store, its WAL or the log; a reload is locked,
// a wrong passphrase is told apart, the right one opens; a reply altered
// in the store shows the tamper warning and none of its text; a message
// replayed into another thread is refused the same way; the passphrase
// changed, and the new one opens the thread after a reload; no console
// errors, no dialogs, axe clean.  Then a sealed schedule (after the
// first test, so with its passphrase): made with the schedules page's
// form, run now, its prompt and the run's summary opened on the page
// and nowhere else in the clear; one too long for the list fetched
// alone and opened; locked, the page says so.
//
//   WXGATE_BUILDDIR=/path/to/build node --test tests/browser/console_e2e.test.mjs
//
// Screenshots go to tests/out/browser-console-e2e-*.png.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { BUILDDIR, OUT, waitFor, consoleGate, launchWatched, DESKTOP,
  axe, execFileP, freePort } from './lib.mjs';

const PASS = 'a long walk in the rain';
const PASS2 = 'another walk, sunnier';
const SECRET = 'the tangerine is under the third stone';
const SECRET2 = 'second thread, nothing to see';

// An OpenAI-compatible endpoint answering "echo: <last user message>";
// every request's messages are kept to check what the model saw.
function fakeModel() {
  const seen = [];
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const o = JSON.parse(body);
      seen.push(o.messages);
      const last = o.messages.filter((m) => m.role === 'user').pop();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ choices: [{ index: 0, finish_reason: 'stop',
        message: { role: 'assistant', content: 'echo: ' + last.content } }] }));
    });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () =>
    resolve({ srv, seen, url: `http://127.0.0.1:${srv.address().port}/v1/chat/completions` })));
}

// Every byte of every file under dir (the store, its WAL, the log).
function filesHold(dir, text) {
  const hits = [];
  for (const f of fs.readdirSync(dir, { recursive: true })) {
    const p = path.join(dir, String(f));
    if (fs.statSync(p).isFile() && fs.readFileSync(p).includes(Buffer.from(text)))
      hits.push(p);
  }
  return hits;
}

// The store changed behind wxgated's back, as someone with the disk could.
async function sql(gate, statement, ...args) {
  const py = 'import sqlite3, sys\n' +
    'db = sqlite3.connect(sys.argv[1], timeout=5)\n' +
    'db.execute(sys.argv[2], sys.argv[3:])\ndb.commit()\n';
  await execFileP('/usr/bin/python3', ['-c', py, path.join(gate.dir, 'wxgate.db'),
    statement, ...args.map(String)]);
}

describe('console end-to-end', () => {
  let gate, model, relay, relayDir;

  before(async () => {
    model = await fakeModel();
    const rport = await freePort();
    gate = await consoleGate({
      prefix: 'wxgate-ce2e-',
      head: ['  - name: home', '    type: relay', '    relay:',
        `      listen: 127.0.0.1:${rport}`, '      e2e: true'],
    });
    const tok = (await gate.ctl('relay', 'token', 'create', 'home')).trim();
    relayDir = fs.mkdtempSync(path.join(gate.dir, 'relay-'));
    const secret = (name, text) => {
      const p = path.join(relayDir, name);
      fs.writeFileSync(p, text + '\n', { mode: 0o600 });
      return p;
    };
    const conf = path.join(relayDir, 'relay.json');
    fs.writeFileSync(conf, JSON.stringify({
      server: `ws://127.0.0.1:${rport}/relay`,
      token_file: secret('token', tok),
      backend: { type: 'openai', url: model.url, model: 'm', stream: false,
        timeout_s: 5 },
      e2e: { passphrase_file: secret('passphrase', PASS) },
    }));
    const logFd = fs.openSync(path.join(relayDir, 'relay.log'), 'a');
    relay = spawn(path.join(BUILDDIR, 'wxgate-relay'), ['-f', conf],
      { stdio: ['ignore', logFd, logFd] });
    fs.closeSync(logFd);
    const relayLog = () => fs.readFileSync(path.join(relayDir, 'relay.log'), 'utf8');
    await waitFor('wxgate-relay welcomed', async () =>
      relayLog().includes('welcomed by'), 10000, 100);
    gate.relayLog = relayLog;
  });

  after(async () => {
    if (relay) relay.kill('SIGTERM');
    if (model) model.srv.close();
    if (gate) {
      const log = gate.relayLog ? gate.relayLog() : '';
      await gate.stop();
      gate.cleanup();
      assert.ok(!/Sanitizer|runtime error/.test(log), log.slice(-4000));
    }
  });

  async function open(b) {
    const url = (await gate.ctl('console-url')).trim();
    assert.equal((await b.page.goto(url)).status(), 200);
    await b.page.waitForFunction(() =>
      document.querySelectorAll('#chat-agent option').length > 0 &&
      !document.getElementById('e2e').hidden &&
      document.getElementById('e2e-state').textContent !== '', null,
    { timeout: 10000 });
  }

  const stateIs = (p, re) => p.waitForFunction((src) =>
    new RegExp(src).test(document.getElementById('e2e-state').textContent),
  re.source, { timeout: 30000 });

  const rows = (p) => p.$$eval('#chat-log li.msg', (ls) => ls.map((li) => ({
    state: li.dataset.state,
    you: li.querySelector('.you').textContent,
    reply: li.querySelector('.reply').textContent,
    tamper: li.querySelectorAll('.tamper').length,
  })));

  async function unlock(p, pass) {
    await p.fill('#e2e-pass', pass);
    await p.click('#e2e-unlock');
  }

  // Sent in the thread shown, and answered (the relay's reply opened).
  async function say(p, text) {
    await p.fill('#chat-text', text);
    await p.click('#chat-send');
    await p.waitForFunction(() => {
      const li = document.querySelector('#chat-log li.msg');
      return li && li.dataset.state === 'answered' &&
        li.querySelector('.reply').textContent.length > 0;
    }, null, { timeout: 30000 });
  }

  async function thread(p, id) {
    await p.selectOption('#chat-thread', String(id));
    await p.waitForFunction((n) => document.querySelectorAll('#chat-log li.msg').length >= n,
      1, { timeout: 10000 });
  }

  test('sealed in the browser, opened by the relay, unreadable between', { timeout: 180000 }, async () => {
    const b = await launchWatched({ locale: 'en-US', ...DESKTOP });
    let first, second;
    try {
      const p = b.page;
      await open(b);
      await stateIs(p, /No key yet/);
      assert.equal(await p.isVisible('#e2e-again'), true);
      // The two fields must agree; then the key is made and posted.
      await p.fill('#e2e-pass', PASS);
      await p.fill('#e2e-again', PASS + 'x');
      await p.click('#e2e-unlock');
      await stateIs(p, /differ/);
      await p.fill('#e2e-again', PASS);
      await p.click('#e2e-unlock');
      await stateIs(p, /made and unlocked/);
      await axe(p, 'console e2e unlocked');

      // A sealed thread, answered through the relay.
      await p.selectOption('#chat-agent', 'home');
      await p.click('#chat-new');
      await p.waitForFunction(() => /\(sealed\)/.test(
        document.getElementById('chat-thread').selectedOptions[0]?.textContent || ''));
      first = Number(await p.$eval('#chat-thread', (s) => s.value));
      await say(p, SECRET);
      let r = await rows(p);
      assert.deepEqual(r.map((x) => [x.you, x.reply.trim(), x.tamper]),
        [[SECRET, 'echo: ' + SECRET, 0]]);
      // No branch off a sealed thread.
      assert.equal(await p.$$eval('#chat-log li.msg button', (b) => b.length), 0);
      // The model saw the plaintext; the gateway kept none of it.
      assert.equal(model.seen.at(-1).at(-1).content, SECRET);
      assert.match(gate.relayLog(), /request \d+ \(sealed\)/);
      for (const dir of [gate.dir])
        for (const hit of filesHold(dir, 'tangerine'))
          assert.ok(hit.startsWith(relayDir), `plaintext in ${hit}`);
      await p.screenshot({ path: path.join(OUT, 'browser-console-e2e-thread.png'), fullPage: true });

      // A second thread, for the replay below.
      await p.click('#chat-new');
      await p.waitForFunction((n) => Number(document.getElementById('chat-thread').value) !== n, first);
      second = Number(await p.$eval('#chat-thread', (s) => s.value));
      await say(p, SECRET2);

      // A reload is locked: nothing shows until the passphrase is given.
      await open(b);
      await stateIs(p, /Locked/);
      await thread(p, first);
      r = await rows(p);
      assert.ok(!r[0].you.includes('tangerine') && /unlock/.test(r[0].you), r[0].you);
      await unlock(p, 'not my passphrase');
      await stateIs(p, /^Wrong passphrase\.$/);
      await unlock(p, PASS);
      await stateIs(p, /^Unlocked/);
      await thread(p, first);
      await p.waitForFunction(() => document.querySelector('#chat-log li.msg .you')
        ?.textContent.includes('tangerine'), null, { timeout: 10000 });
    } finally {
      await b.close();
    }
    assert.deepEqual(b.problems, []);
    assert.deepEqual(b.dialogs, []);

    // Altered in the store: a reply's ciphertext, one character.
    const tampered = await launchWatched({ locale: 'en-US', ...DESKTOP });
    try {
      await sql(gate, "UPDATE messages SET reply = substr(reply, 1, 20) || " +
        "CASE substr(reply, 21, 1) WHEN 'A' THEN 'B' ELSE 'A' END || " +
        'substr(reply, 22) WHERE session_id = (SELECT session_id FROM ' +
        'console_threads WHERE id = ?)', first);
      // Moved: the second thread's message is now the first thread's.
      await sql(gate, 'UPDATE messages SET text = (SELECT m.text FROM messages m ' +
        'JOIN console_threads t ON t.session_id = m.session_id WHERE t.id = ?) ' +
        'WHERE session_id = (SELECT session_id FROM console_threads WHERE id = ?)',
      first, second);
      const p = tampered.page;
      await open(tampered);
      await unlock(p, PASS);
      await stateIs(p, /^Unlocked/);
      await thread(p, first);
      await p.waitForFunction(() => document.querySelector('#chat-log .reply .tamper'),
        null, { timeout: 10000 });
      let r = await rows(p);
      assert.equal(r[0].you, SECRET);
      assert.ok(!r[0].reply.includes('echo'), r[0].reply);
      assert.match(r[0].reply, /Altered, moved or replayed/);
      await thread(p, second);
      await p.waitForFunction(() => document.querySelector('#chat-log .you .tamper'),
        null, { timeout: 10000 });
      r = await rows(p);
      assert.ok(!r[0].you.includes('tangerine'), r[0].you);
      assert.match(r[0].you, /Altered, moved or replayed/);
      // Its own reply still opens: only the moved message is refused.
      assert.equal(r[0].reply.trim(), 'echo: ' + SECRET2);
      await p.screenshot({ path: path.join(OUT, 'browser-console-e2e-tamper.png'), fullPage: true });

      // A new passphrase wraps the same key: the thread still opens.
      await p.fill('#e2e-new', PASS2);
      await p.click('#e2e-rewrap');
      await stateIs(p, /Passphrase changed/);
      await open(tampered);
      await unlock(p, PASS);
      await stateIs(p, /^Wrong passphrase\.$/);
      await unlock(p, PASS2);
      await stateIs(p, /^Unlocked/);
      await thread(p, first);
      await p.waitForFunction(() => document.querySelector('#chat-log li.msg .you')
        ?.textContent.includes('tangerine'), null, { timeout: 10000 });
      await axe(p, 'console e2e tamper warnings');
    } finally {
      await tampered.close();
    }
    assert.deepEqual(tampered.problems, []);
    assert.deepEqual(tampered.dialogs, []);
    // The log holds no plaintext either (checked above with the store).
    assert.ok(!gate.log().includes('tangerine'));
  });

  test('a sealed schedule, made, run and read on the page', { timeout: 120000 }, async () => {
    const PROMPT = 'count the kumquats in the cellar';
    const row = '#schedules tr:has-text("nightly")';
    const b = await launchWatched({ locale: 'en-US', ...DESKTOP });
    try {
      const p = b.page;
      await open(b);
      await unlock(p, PASS2);
      await stateIs(p, /^Unlocked/);
      assert.equal(await p.isVisible('#sched-seal'), true);
      await p.fill('#sched-seal-name', 'nightly');
      await p.fill('#sched-seal-when', '1d');
      await p.selectOption('#sched-seal-agent', 'home');
      await p.fill('#sched-seal-prompt', PROMPT);
      await p.click('#sched-seal button[type=submit]');
      await p.waitForFunction(() => /Made sealed schedule nightly/.test(
        document.getElementById('sched-seal-state').textContent), null, { timeout: 30000 });
      // Its prompt, opened here, after the page's next refresh.
      await p.waitForSelector(`${row} :text("${PROMPT}")`, { timeout: 15000 });
      await p.click(`${row} button:has-text("Run now")`);
      await p.waitForSelector(`${row} .summary:has-text("summary: echo: ${PROMPT}")`,
        { timeout: 30000 });
      assert.deepEqual(model.seen.at(-1).filter((m) => m.role !== 'system')
        .map((m) => m.content), [PROMPT]);
      for (const hit of filesHold(gate.dir, 'kumquats'))
        assert.ok(hit.startsWith(relayDir), `plaintext in ${hit}`);
      assert.ok(!gate.log().includes('kumquats'));
      // Too long for the list ("long"): the page fetches the prompt and
      // the summary alone (GET /api/schedule/sealed) and opens them.
      const LONG = Array.from({ length: 700 }, (_, i) => `persimmon row ${i}`).join('\n');
      const lrow = '#schedules tr:has-text("weekly")';
      await p.fill('#sched-seal-name', 'weekly');
      await p.fill('#sched-seal-prompt', LONG);
      await p.click('#sched-seal button[type=submit]');
      await p.waitForFunction(() => /Made sealed schedule weekly/.test(
        document.getElementById('sched-seal-state').textContent), null, { timeout: 30000 });
      await p.waitForSelector(`${lrow} :text("persimmon row 699")`, { timeout: 15000 });
      await p.click(`${lrow} button:has-text("Run now")`);
      await p.waitForSelector(`${lrow} .summary:has-text("persimmon row 699")`,
        { timeout: 30000 });
      assert.ok((await p.textContent(lrow)).includes(`summary: echo: ${LONG}`));
      assert.equal(model.seen.at(-1).filter((m) => m.role !== 'system')[0].content, LONG);
      for (const hit of filesHold(gate.dir, 'persimmon'))
        assert.ok(hit.startsWith(relayDir), `plaintext in ${hit}`);
      await axe(p, 'console sealed schedule');
      await p.screenshot({ path: path.join(OUT, 'browser-console-e2e-schedule.png'), fullPage: true });
      // Locked, the page says where to unlock, and shows nothing more.
      await open(b);
      await p.waitForSelector(`${row} :text("sealed: unlock in Chat")`, { timeout: 15000 });
      assert.ok(!(await p.textContent('#schedules')).includes('kumquats'));
      assert.ok(!(await p.textContent('#schedules')).includes('persimmon'));
    } finally {
      await b.close();
    }
    assert.deepEqual(b.problems, []);
    assert.deepEqual(b.dialogs, []);
  });
});
