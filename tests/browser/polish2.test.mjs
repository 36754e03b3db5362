// Real-browser tests of the public page polish (issue 16): no console
// errors and no failed requests in light and dark mode, zh and en; the
// favicon; webchat.page applied as text (title, agent name, welcome,
// suggestions that send, accent, footer, lang), with XSS payloads in the
// config and in messages; the read-only share banner and its "start your
// own chat" button; WCAG AA contrast measured from computed styles, and
// axe-core's WCAG 2.1 A/AA rules with no violations.  Two wxgated: one
// with a webchat.page full of markup, one without any.
//
//   WXGATE_BUILDDIR=/path/to/build node --test tests/browser/polish2.test.mjs
//
// Screenshots go to tests/out/browser-polish2-*.png, phone and desktop.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  execFileP, WXGATED, WXGATECTL, CHROMIUM, OUT, UA, waitFor, Gate,
  launchWatched, PHONE, DESKTOP, axe } from './lib.mjs';

// webchat.page with markup everywhere: all of it must show as text.
const PAGE = {
  title: 'Help <img src=x onerror=alert(1)> & <b>co</b>',
  agent_name: '<script>alert(2)</script>Bot',
  welcome: 'Hello <img src=x onerror=alert(3)>\nAsk away.',
  suggestions: ['What is <b>this</b>?', 'Opening hours'],
  accent: '#0b5cad',
  footer: 'Privacy: <a href="javascript:alert(4)">we keep nothing</a>',
  lang: 'zh',
};

// The agent's avatar: a 16x16 PNG of one colour, made here.
function png(size, rgb) {
  const chunk = (type, data) => {
    const b = Buffer.alloc(12 + data.length);
    b.writeUInt32BE(data.length, 0);
    b.write(type, 4, 'latin1');
    data.copy(b, 8);
    b.writeUInt32BE(zlib.crc32(b.subarray(4, 8 + data.length)), 8 + data.length);
    return b;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;                          // 8 bits a sample, RGB
  ihdr[9] = 2;
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(size * 3)
    .map((_, i) => rgb[i % 3])]);
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.concat(
      Array(size).fill(row)))), chunk('IEND', Buffer.alloc(0))]);
}
const AVATAR_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'wxgate-avatar-'));
const AVATAR = path.join(AVATAR_DIR, 'bot.png');
fs.writeFileSync(AVATAR, png(16, [11, 92, 173]));

const launch = (opts = {}) =>
  launchWatched({ locale: 'zh-CN', ...PHONE }, opts);

const waitOnline = (page) => page.waitForSelector(
  '[data-testid="status"][data-state="online"]', { timeout: 15000 });
const shot = (page, name) =>
  page.screenshot({ path: path.join(OUT, `browser-polish2-${name}.png`) });
const texts = (page, sel) => page.$$eval(sel, (els) => els.map((e) => e.textContent));

// The page's own config has arrived once the header says so.
const waitPage = (page, title) => page.waitForFunction((want) =>
  document.getElementById('title').textContent === want, title, { timeout: 10000 });

// Markup that ran or was parsed would have left elements behind.
async function noInjected(page) {
  const n = await page.evaluate(() => ({
    img: document.querySelectorAll('img:not(#share-qr):not(#avatar)').length,
    script: document.querySelectorAll('body script').length,
    b: document.querySelectorAll('#app b').length,
    jsLink: document.querySelectorAll('a[href^="javascript:"]').length,
  }));
  assert.deepEqual(n, { img: 0, script: 0, b: 0, jsLink: 0 });
}

// Every text the page shows, with its colour and the background it sits
// on (the first opaque ancestor background, translucent layers blended),
// and the WCAG 2.1 contrast ratio of the pair.  Runs in the page.
function measureContrast() {
  const parse = (c) => {
    const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/.exec(c);
    if (!m) throw new Error(`colour ${c}`);
    return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
  };
  const over = (top, under) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat(1);
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => p - q);
    return (y + 0.05) / (x + 0.05);
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] === 1) break;
    }
    let bg = [255, 255, 255, 1];	// the canvas, if nothing is opaque
    if (layers.length && layers[layers.length - 1][3] === 1) bg = layers.pop();
    while (layers.length) bg = over(layers.pop(), bg);
    return bg;
  };
  const items = [
    ['send', '#send'], ['stop', '#stop'], ['status', '#status'],
    ['title', '#title'], ['user', '.msg.user'],
    ['assistant', '.msg.assistant:not(.welcome)'], ['welcome', '.msg.welcome'],
    ['error', '.msg.error'], ['link', '.msg a'], ['suggestion', '#suggest .btn'],
    ['footer', '#footer'], ['banner', '#banner-text'], ['own-chat', '#own-chat'],
    ['copy-link', '#copy-link'], ['input', '#input'],
  ];
  const out = [];
  const add = (name, el, pseudo) => {
    const cs = getComputedStyle(el, pseudo);
    if (/::(before|after)/.test(pseudo || '') &&
        (cs.content === 'none' || cs.content === 'normal')) return;
    const bg = background(el);
    const fg = over(parse(cs.color), bg);
    out.push({ name, fg: cs.color, bg: `rgb(${bg.slice(0, 3).map(Math.round).join(', ')})`,
      ratio: Math.round(ratio(fg, bg) * 100) / 100 });
  };
  for (const [name, sel] of items) {
    for (const el of document.querySelectorAll(sel)) {
      if (!el.getClientRects().length) continue;	// not shown
      add(name, el, null);
    }
  }
  for (const el of document.querySelectorAll('.msg.assistant[data-name]'))
    add('agent-name', el, '::before');
  for (const el of document.querySelectorAll('.msg.stopped'))
    add('stopped-note', el, '::after');
  add('placeholder', document.getElementById('input'), '::placeholder');
  return out;
}

async function checkContrast(page, what) {
  const got = await page.evaluate(measureContrast);
  const names = new Set(got.map((g) => g.name));
  const low = got.filter((g) => !(g.ratio >= 4.5));
  assert.deepEqual(low, [], `${what}: under 4.5:1`);
  return names;
}

async function shareLink(gate, ...args) {
  const { stdout } = await execFileP(WXGATECTL,
    ['-s', gate.sock, 'share', 'create', ...args], { timeout: 10000 });
  const m = stdout.match(/http:\/\/\S+\/s\/[0-9a-f]+/);
  assert.ok(m, `no link in: ${stdout}`);
  return m[0].replace(/^http:\/\/[^/]+/, `http://127.0.0.1:${gate.port}`);
}

describe('public page polish', () => {
  const plain = new Gate({ prefix: 'wxgate-polish2p-', workers: 1, chunks: 2,
    delayMs: 50 });
  const styled = new Gate({ prefix: 'wxgate-polish2s-', workers: 1, chunks: 2,
    delayMs: 50, page: { ...PAGE, avatar: AVATAR } });

  before(async () => {
    assert.ok(fs.existsSync(WXGATED), `no ${WXGATED}: build first or set WXGATE_BUILDDIR`);
    assert.ok(fs.existsSync(CHROMIUM), `no ${CHROMIUM}: apt-get install -y chromium`);
    fs.mkdirSync(OUT, { recursive: true });
    await plain.start();
    await styled.start();
  });

  after(async () => {
    fs.rmSync(AVATAR_DIR, { recursive: true, force: true });
    for (const g of [plain, styled]) {
      await g.stop();
      if (process.env.WXGATE_KEEP) console.error('kept', g.dir);
      else g.cleanup();
    }
  });

  test('favicon, description, /page.json', async () => {
    for (const p of ['favicon.ico', 'favicon.svg']) {
      const r = await fetch(plain.url + p);
      assert.equal(r.status, 200, p);
      assert.equal(r.headers.get('content-type'), 'image/svg+xml');
      assert.match(await r.text(), /^<svg /);
    }
    const html = await (await fetch(plain.url)).text();
    assert.match(html, /<meta name="description" content="[^"]{20,}">/);
    assert.match(html, /<link rel="icon" href="\/favicon.svg"/);
    // Without webchat.page the page keeps its own: an empty object.
    const r = await fetch(plain.url + 'page.json');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assert.deepEqual(await r.json(), {});
    // With it, exactly what was configured, as data.
    assert.deepEqual(await (await fetch(styled.url + 'page.json')).json(),
      { ...PAGE, avatar: true });
    const a = await fetch(styled.url + 'avatar');
    assert.equal(a.status, 200);
    assert.equal(a.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await a.arrayBuffer()), fs.readFileSync(AVATAR));
    assert.equal((await fetch(plain.url + 'avatar')).status, 404);
  });

  for (const scheme of ['light', 'dark']) {
    for (const [lang, locale] of [['zh', 'zh-CN'], ['en', 'en-US']]) {
      test(`no errors, contrast and axe clean: ${scheme}, ${lang}`, { timeout: 60000 }, async () => {
        const b = await launch({ locale, colorScheme: scheme });
        try {
          const { page } = b;
          const resp = await page.goto(plain.url);
          assert.equal(resp.status(), 200);
          await waitOnline(page);
          assert.equal(await page.getAttribute('html', 'lang'), lang === 'zh' ? 'zh-CN' : 'en');
          assert.equal(await page.textContent('#send'), lang === 'zh' ? '\u53d1\u9001' : 'Send');
          // A conversation with a link in the reply, a stopped note and
          // a notice, so every kind of text is on screen to measure.
          await page.locator('#input').fill('see https://example.com/x');
          await page.locator('#send').tap();
          await page.waitForSelector('.msg.assistant a', { timeout: 15000 });
          await page.waitForSelector('.msg.user:not(.pending)', { timeout: 15000 });
          await page.evaluate(() => {
            document.getElementById('stop').hidden = false;
            const e = document.createElement('div');
            e.className = 'msg error';
            e.textContent = 'a notice';
            document.getElementById('log').appendChild(e);
          });
          const seen = await checkContrast(page, `${scheme} ${lang}`);
          for (const n of ['send', 'stop', 'status', 'user', 'assistant', 'link',
            'error', 'placeholder', 'input', 'title'])
            assert.ok(seen.has(n), `${n} not measured`);
          // The status pill's other states, and a disabled Send.
          for (const st of ['connecting', 'reconnecting', 'error']) {
            await page.$eval('#status', (e, v) => e.setAttribute('data-state', v), st);
            await checkContrast(page, `${scheme} ${lang} status ${st}`);
          }
          await page.$eval('#status', (e) => e.setAttribute('data-state', 'online'));
          await page.$eval('#send', (e) => { e.disabled = true; });
          await checkContrast(page, `${scheme} ${lang} send disabled`);
          await page.$eval('#send', (e) => { e.disabled = false; });
          await axe(page, `${scheme} ${lang}`);
          await shot(page, `phone-${scheme}-${lang}`);
          assert.deepEqual(b.problems, []);
          assert.deepEqual(b.dialogs, []);
        } finally { await b.close(); }
      });
    }
  }

  test('webchat.page applied as text; suggestions send; welcome not stored', { timeout: 60000 }, async () => {
    // fr-FR: neither zh nor en, so webchat.page.lang (zh) decides.
    const b = await launch({ locale: 'fr-FR' });
    try {
      const { page } = b;
      await page.goto(styled.url);
      await waitOnline(page);
      await waitPage(page, PAGE.agent_name);
      assert.equal(await page.title(), PAGE.title);
      assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
      assert.equal(await page.textContent('#send'), '\u53d1\u9001');
      assert.equal(await page.textContent('[data-testid="welcome"]'), PAGE.welcome);
      assert.equal(await page.getAttribute('[data-testid="welcome"]', 'data-name'),
        PAGE.agent_name);
      assert.equal(await page.textContent('[data-testid="footer"]'), PAGE.footer);
      // The avatar, decoded, beside the name; decorative, so alt="".
      await page.waitForFunction(() => {
        const i = document.querySelector('[data-testid="avatar"]');
        return !i.hidden && i.complete && i.naturalWidth === 16;
      });
      assert.equal(await page.getAttribute('[data-testid="avatar"]', 'alt'), '');
      assert.deepEqual(await texts(page, '[data-testid="suggestion"]'), PAGE.suggestions);
      // Shown once the (empty) history has come: waited for, as CI
      // once looked before it had.
      await page.waitForSelector('[data-testid="suggestions"]:not([hidden])',
        { timeout: 15000 });
      // The accent reaches the buttons through the custom property.
      assert.equal(await page.$eval('#send', (e) => getComputedStyle(e).backgroundColor),
        'rgb(11, 92, 173)');
      assert.equal(await page.$eval('[data-testid="suggestion"]',
        (e) => getComputedStyle(e).color), 'rgb(11, 92, 173)');
      await noInjected(page);
      await checkContrast(page, 'styled');
      await axe(page, 'styled');
      await shot(page, 'phone-styled');

      // A suggestion sends itself and the suggestions go.
      await page.locator('[data-testid="suggestion"]').first().tap();
      await page.waitForFunction((want) => [...document.querySelectorAll(
        '.msg.assistant:not(.welcome)')].some((e) => e.textContent === want),
      `echo: ${PAGE.suggestions[0]}`, { timeout: 15000 });
      assert.deepEqual(await texts(page, '.msg.user'), [PAGE.suggestions[0]]);
      assert.equal(await page.isVisible('[data-testid="suggestions"]'), false);
      // Replies carry the agent's name, as an attribute (text).
      assert.equal(await page.getAttribute('.msg.assistant:not(.welcome)', 'data-name'),
        PAGE.agent_name);

      // XSS payloads in messages render as text too.
      const evil = '<img src=x onerror=alert(5)> [x](javascript:alert(6)) <b>b</b>';
      await page.locator('#input').fill(evil);
      await page.locator('#send').tap();
      await page.waitForFunction((want) => [...document.querySelectorAll(
        '.msg.assistant')].some((e) => e.textContent === want), `echo: ${evil}`,
      { timeout: 15000 });
      await noInjected(page);

      // After a reload: one welcome (the page's, not history), then the
      // stored conversation, and no suggestions once one was sent.
      await page.reload();
      await waitOnline(page);
      await page.waitForFunction(() =>
        document.querySelectorAll('.msg.user').length === 2, null, { timeout: 15000 });
      await waitPage(page, PAGE.agent_name);
      assert.equal(await page.locator('[data-testid="welcome"]').count(), 1);
      assert.equal(await page.$eval('#log', (l) => l.firstElementChild.getAttribute('data-testid')),
        'welcome');
      assert.equal(await page.locator('.msg.assistant:not(.welcome)').count(), 2);
      assert.equal(await page.isVisible('[data-testid="suggestions"]'), false);
      await noInjected(page);
      assert.deepEqual(b.problems, []);
      assert.deepEqual(b.dialogs, []);
    } finally { await b.close(); }
  });

  test('dark mode and en with webchat.page; desktop width', { timeout: 60000 }, async () => {
    const b = await launch({ locale: 'en-US', colorScheme: 'dark', ...DESKTOP });
    try {
      const { page } = b;
      await page.goto(styled.url);
      await waitOnline(page);
      await waitPage(page, PAGE.agent_name);
      // The browser's English wins over webchat.page.lang.
      assert.equal(await page.textContent('#send'), 'Send');
      await checkContrast(page, 'styled dark en');
      await axe(page, 'styled dark en');
      await shot(page, 'desktop-dark-en');
      assert.deepEqual(b.problems, []);
      assert.deepEqual(b.dialogs, []);
    } finally { await b.close(); }
  });

  test('a read-only shared thread: banner, and a chat of your own', { timeout: 60000 }, async () => {
    // Session 1 is the styled page's first visitor's.
    const link = await shareLink(styled, '--read-only', '--ttl', '1h', '--session', '1');
    for (const [scheme, locale, size] of [['light', 'zh-CN', PHONE], ['dark', 'en-US', DESKTOP]]) {
      const b = await launch({ locale, colorScheme: scheme, ...size });
      try {
        const { page } = b;
        await page.goto(link);
        await page.waitForSelector('[data-testid="read-only-banner"]:not([hidden])',
          { timeout: 15000 });
        await page.waitForSelector('.msg.user', { timeout: 15000 });
        await waitPage(page, PAGE.agent_name);
        assert.equal(await page.textContent('#banner-text'), locale === 'en-US' ?
          'This shared conversation is read-only.' :
          '\u8fd9\u662f\u5206\u4eab\u7684\u5bf9\u8bdd\uff0c\u53ea\u80fd\u67e5\u770b\u3002');
        assert.equal(await page.isDisabled('#input'), true);
        // Someone else's thread: no welcome, no suggestions.
        assert.equal(await page.locator('[data-testid="welcome"]').count(), 0);
        assert.equal(await page.isVisible('[data-testid="suggestions"]'), false);
        assert.equal(await page.isVisible('[data-testid="copy-link"]'), true);
        // The QR code has loaded, so it is not a failed request.
        await page.waitForFunction(() => document.getElementById('share-qr').complete &&
          document.getElementById('share-qr').naturalWidth > 0, null, { timeout: 10000 });
        const seen = await checkContrast(page, `read-only ${scheme}`);
        for (const n of ['banner', 'own-chat', 'copy-link'])
          assert.ok(seen.has(n), `${n} not measured`);
        await axe(page, `read-only ${scheme}`);
        await shot(page, `read-only-${scheme}`);
        // "Start your own chat": / without the share link, a fresh chat.
        assert.equal(await page.getAttribute('#own-chat', 'href'), '/');
        await page.locator('[data-testid="own-chat"]').click();
        await page.waitForURL(styled.url, { timeout: 10000 });
        await waitOnline(page);
        assert.equal(await page.isVisible('[data-testid="read-only-banner"]'), false);
        assert.equal(await page.isDisabled('#input'), false);
        await page.waitForSelector('[data-testid="suggestions"]:not([hidden])', { timeout: 10000 });
        assert.equal(await page.locator('.msg.user').count(), 0);
        assert.deepEqual(b.problems, []);
        assert.deepEqual(b.dialogs, []);
      } finally { await b.close(); }
    }
  });
});
