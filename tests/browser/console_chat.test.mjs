// Real-browser tests of the console's Chat section (issue 16): an admin
// opens a thread with the echo agent, sends a message, sees the reply
// grow while it is written (partial text before the final), and the
// reply's markdown drawn (bold, italic, code, a list, an https link)
// while a javascript: link and an XSS payload stay text; no console
// errors, no dialogs, axe clean; a branch opens a new thread holding
// the history; a viewer reads the thread and cannot write.
//
//   WXGATE_BUILDDIR=/path/to/build node --test tests/browser/console_chat.test.mjs
//
// Screenshots go to tests/out/browser-console-chat-*.png.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { OUT, waitFor, consoleGate, launchWatched, PHONE, DESKTOP,
  axe } from './lib.mjs';

const XSS = '<img src=x onerror=alert(1)>';
const TEXT = `**bold** and *it* and \`code\` ${XSS}\n- one\n` +
  '- [site](https://example.com/) and [bad](javascript:alert(2))';

describe('console chat', () => {
  let gate;

  before(async () => {
    gate = await consoleGate({
      prefix: 'wxgate-cchat-', chunks: 12, delayMs: 250,
      // An agent with models to pick (never asked: /model is wxgate's).
      head: ['  - name: pick', '    type: openai', '    openai:',
        '      url: http://127.0.0.1:9/v1/chat/completions',
        '      model: small', '      models: [small, large]'],
    });
  });

  after(async () => {
    if (gate) {
      await gate.stop();
      gate.cleanup();
    }
  });

  async function open(b, ...args) {
    const url = (await gate.ctl('console-url', ...args)).trim();
    assert.equal((await b.page.goto(url)).status(), 200);
    await b.page.waitForFunction(() =>
      document.querySelectorAll('#chat-agent option').length > 0, null,
    { timeout: 10000 });
  }

  const lastReply = (p) => p.evaluate(() => {
    const li = [...document.querySelectorAll('#chat-log li.msg')].pop();
    return li ? { state: li.dataset.state, text: li.querySelector('.reply').textContent } : null;
  });

  for (const [name, opts] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    test(`an admin's chat streams, markdown drawn, XSS as text: ${name}`, { timeout: 90000 }, async () => {
      const b = await launchWatched({ locale: 'en-US', ...opts });
      try {
        await open(b);
        const p = b.page;
        await p.selectOption('#chat-agent', 'default');
        const before = await p.$$eval('#chat-thread option[value]', (o) => o.length);
        await p.click('#chat-new');
        await p.waitForFunction((n) => document.querySelectorAll(
          '#chat-thread option[value]').length > n, before);
        await p.fill('#chat-text', TEXT);
        await p.click('#chat-send');
        const full = 'echo: ' + TEXT;
        // Part of the reply, while it is still being written.
        const partial = await waitFor('a partial reply', async () => {
          const r = await lastReply(p);
          return r && r.state === 'running' && r.text.length > 0 ? r : null;
        }, 20000, 50);
        assert.ok(partial.text.length < full.length, partial.text);
        assert.ok('echo: **bold** and *it*'.startsWith(partial.text) ||
          partial.text.startsWith('echo: '), partial.text);
        await p.waitForFunction(() => {
          const li = [...document.querySelectorAll('#chat-log li.msg')].pop();
          return li && li.dataset.state === 'answered';
        }, null, { timeout: 20000 });
        const r = await p.evaluate(() => {
          const reply = [...document.querySelectorAll('#chat-log li.msg')].pop()
            .querySelector('.reply');
          return {
            strong: [...reply.querySelectorAll('strong')].map((e) => e.textContent),
            em: [...reply.querySelectorAll('em')].map((e) => e.textContent),
            code: [...reply.querySelectorAll('code')].map((e) => e.textContent),
            items: [...reply.querySelectorAll('ul > li')].map((e) => e.textContent),
            links: [...reply.querySelectorAll('a')].map((a) => [a.textContent, a.getAttribute('href')]),
            imgs: document.querySelectorAll('#chat-log img').length,
            text: reply.textContent,
          };
        });
        assert.deepEqual(r.strong, ['bold']);
        assert.deepEqual(r.em, ['it']);
        assert.deepEqual(r.code, ['code']);
        assert.equal(r.items.length, 2);
        assert.deepEqual(r.links, [['site', 'https://example.com/']]);
        assert.equal(r.imgs, 0);
        assert.ok(r.text.includes(XSS), r.text);
        assert.ok(r.text.includes('[bad](javascript:alert(2))'), r.text);
        // The operator's own text is shown as sent.
        const mine = await p.evaluate(() => [...document.querySelectorAll('#chat-log li.msg .you')]
          .pop().textContent);
        assert.equal(mine, TEXT);
        await axe(p, `chat ${name}`);
        await p.locator('#chat').screenshot({ path: path.join(OUT,
          `browser-console-chat-${name}.png`) });

        // A branch off that message: a new thread with its history.
        await p.click('#chat-log li.msg:last-child button');
        await p.waitForFunction(() => document.querySelector('#chat-info')
          .textContent.startsWith('Branched from thread'));
        await p.waitForFunction(() => document.querySelectorAll('#chat-log li.msg').length === 1 &&
          document.querySelector('#chat-log li.msg').dataset.state === 'answered');
        assert.equal(await p.evaluate(() => document.querySelector('#chat-log li .you').textContent), TEXT);
        assert.deepEqual(b.problems, []);
        assert.deepEqual(b.dialogs, []);
      } finally {
        await b.close();
      }
    });
  }

  test('the model selector offers the agent\'s models and picks one', { timeout: 60000 }, async () => {
    const b = await launchWatched({ locale: 'en-US', ...DESKTOP });
    try {
      await open(b);
      const p = b.page;
      await p.selectOption('#chat-agent', 'pick');
      const before = await p.$$eval('#chat-thread option[value]', (o) => o.length);
      await p.click('#chat-new');
      await p.waitForFunction((n) => document.querySelectorAll(
        '#chat-thread option[value]').length > n, before);
      await p.waitForFunction(() => document.querySelectorAll('#chat-model option').length === 2);
      assert.deepEqual(await p.$$eval('#chat-model option', (os) => os.map((o) => o.value)),
        ['small', 'large']);
      assert.equal(await p.inputValue('#chat-model'), 'small');
      assert.equal(await p.isDisabled('#chat-model'), false);
      await p.selectOption('#chat-model', 'large');
      await p.waitForFunction(() => {
        const li = [...document.querySelectorAll('#chat-log li.msg')].pop();
        return li && li.querySelector('.reply').textContent === 'This chat now uses large.';
      }, null, { timeout: 10000 });
      assert.equal(await p.inputValue('#chat-model'), 'large');
      assert.deepEqual(b.problems, []);
    } finally {
      await b.close();
    }
  });

  test('a viewer reads threads and cannot write', { timeout: 60000 }, async () => {
    const b = await launchWatched({ locale: 'en-US', ...DESKTOP });
    try {
      await open(b, '--operator', 'watcher');
      const p = b.page;
      await p.waitForFunction(() => document.querySelectorAll('#chat-log li.msg').length > 0,
        null, { timeout: 10000 });
      assert.equal(await p.isDisabled('#chat-text'), true);
      assert.equal(await p.isDisabled('#chat-send'), true);
      assert.equal(await p.isDisabled('#chat-new'), true);
      assert.equal(await p.$$eval('#chat-log button', (bs) => bs.length), 0);
      assert.match(await p.textContent('#chat-info'), /viewer/);
      await axe(p, 'chat viewer');
      assert.deepEqual(b.problems, []);
      assert.deepEqual(b.dialogs, []);
    } finally {
      await b.close();
    }
  });
});
