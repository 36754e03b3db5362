// Real-browser test of seal.js's cache of opened texts (docs/e2e.md):
// it keeps at most wxseal.OPEN_MAX openings and drops the least
// recently used first, and a text it dropped opens again, whole, when
// it is asked for again.  On the console page (a secure context), with
// a key made through the page's own form; the openings are counted by
// wrapping wxe2e.open, which seal.js calls only on a miss.
//
//   WXGATE_BUILDDIR=/path/to/build node --test tests/browser/seal_cache.test.mjs
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { consoleGate, launchWatched, DESKTOP } from './lib.mjs';

describe('seal.js opened-text cache', () => {
  let gate, b, p;

  before(async () => {
    gate = await consoleGate({ prefix: 'wxgate-sealcache-', chunks: 1, delayMs: 0 });
    b = await launchWatched({ locale: 'en-US', ...DESKTOP });
    p = b.page;
    const url = (await gate.ctl('console-url', '--operator', 'root-op')).trim();
    assert.equal((await p.goto(url)).status(), 200);
    await p.waitForFunction(() => typeof window.wxseal === 'object' &&
      /No key yet/.test(document.getElementById('e2e-state').textContent),
    null, { timeout: 10000 });
    // No sealed thread is open, so the form is hidden: submitted as the
    // page's own button would.
    await p.evaluate(() => {
      document.getElementById('e2e-pass').value = 'cache test passphrase';
      document.getElementById('e2e-again').value = 'cache test passphrase';
      document.getElementById('e2e-form').requestSubmit();
    });
    await p.waitForFunction(() => wxseal.unlocked(), null, { timeout: 30000 });
    // Every real opening, counted.
    await p.evaluate(() => {
      window.opens = 0;
      const open = wxe2e.open;
      wxe2e.open = (...a) => { window.opens++; return open(...a); };
    });
  });

  after(async () => {
    try {
      if (b) {
        assert.deepEqual(b.problems, []);
        assert.deepEqual(b.dialogs, []);
        await b.close();
      }
    } finally {
      if (gate) {
        await gate.stop();
        gate.cleanup();
      }
    }
  });

  test('at most OPEN_MAX openings kept, least recently used dropped first', { timeout: 60000 }, async () => {
    const r = await p.evaluate(async () => {
      const max = wxseal.OPEN_MAX;
      const n = max + 100;
      const envs = [];
      for (let i = 0; i < n; i++)
        envs.push(await wxseal.sealAs('sched', String(i), 'operator', 0, `prompt ${i}`));
      // Opens i..j-1: the texts, and how many were opened anew.
      const sweep = async (ids) => {
        const before = window.opens;
        const texts = [];
        for (const i of ids)
          texts.push((await wxseal.openAs('sched', String(i), 'operator', 0, envs[i])).text);
        return { texts, opened: window.opens - before };
      };
      const range = (a, z) => Array.from({ length: z - a }, (_, k) => a + k);
      const out = { max, n };
      out.first = await sweep(range(0, n));
      // The newest max are all still there.
      out.newest = await sweep(range(n - max, n));
      // Used again just now: the oldest of them becomes the youngest.
      out.touched = await sweep([n - max]);
      // The 100 dropped open again, and push out the 100 least used,
      // which are not n - max (used above) but the 100 after it.
      out.dropped = await sweep(range(0, 100));
      out.kept = await sweep([n - max]);
      out.pushed = await sweep(range(n - max + 1, n - max + 101));
      // A text that fails to open is cached as its warning, bounded alike.
      const bad = envs[1].replace(/"c":"./, (m) => m.slice(0, -1) + (m.at(-1) === 'A' ? 'B' : 'A'));
      out.bad = await wxseal.openAs('sched', '1', 'operator', 0, bad);
      out.wrongScope = await wxseal.openAs('sched', '2', 'operator', 0, envs[1]);
      return out;
    });
    assert.equal(r.max, 400);
    const want = (ids) => ids.map((i) => `prompt ${i}`);
    const range = (a, z) => Array.from({ length: z - a }, (_, k) => a + k);
    assert.deepEqual(r.first.texts, want(range(0, r.n)));
    assert.equal(r.first.opened, r.n);
    assert.deepEqual(r.newest.texts, want(range(r.n - r.max, r.n)));
    assert.equal(r.newest.opened, 0, 'the newest OPEN_MAX should all be cached');
    assert.equal(r.touched.opened, 0);
    // Dropped ones are opened again, and open to the same texts.
    assert.deepEqual(r.dropped.texts, want(range(0, 100)));
    assert.equal(r.dropped.opened, 100, 'more than OPEN_MAX openings were kept');
    assert.equal(r.kept.opened, 0, 'a recently used opening was dropped');
    assert.deepEqual(r.pushed.texts, want(range(r.n - r.max + 1, r.n - r.max + 101)));
    assert.equal(r.pushed.opened, 100, 'the least recently used were not the ones dropped');
    assert.match(r.bad.why, /Altered, moved or replayed/);
    assert.equal(r.bad.text, undefined);
    assert.match(r.wrongScope.why, /Altered, moved or replayed/);
  });
});
