// Real-browser tests of the console's end-to-end encryption, e2e.js
// (issue 19, docs/e2e.md), on a page the console worker serves (a
// secure context: http://127.0.0.1): scrypt against RFC 7914's vectors,
// AES-256-GCM against the GCM specification's test cases 13 to 15, and
// the C side (tests/unit/relay/e2e_tool, ctl/relay/e2e.c) both ways:
// what one seals or wraps, the other opens.  Whatever is not strictly
// an envelope or a record, or fails its tag, is refused by both.
//
//   WXGATE_BUILDDIR=/path/to/build node --test tests/browser/e2e_crypto.test.mjs
//
// Prints "metric value unit" lines: scrypt's time at the RFC's N=16384
// and at the default cost, and a 1 KiB message's seal and open.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { BUILDDIR, consoleGate, launchWatched, DESKTOP } from './lib.mjs';

const TOOL = path.join(BUILDDIR, 'tests', 'unit', 'relay', 'e2e_tool');
// Cheap, so the tests stay fast; the default cost is timed once.
const CHEAP = { n: 1024, r: 8, p: 1 };

// e2e_tool with args and stdin: { code, out, err }.
function tool(args, input = '') {
  return new Promise((resolve, reject) => {
    const p = spawn(TOOL, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [], err = [];
    p.stdout.on('data', (d) => out.push(d));
    p.stderr.on('data', (d) => err.push(d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code,
      out: Buffer.concat(out).toString('utf8'),
      err: Buffer.concat(err).toString('utf8') }));
    p.stdin.on('error', () => { /* it may stop reading early */ });
    p.stdin.end(input);
  });
}

describe('e2e.js in chromium, against the C side', () => {
  let gate, b, p;

  before(async () => {
    assert.ok(fs.existsSync(TOOL), `${TOOL}: build it with make check`);
    gate = await consoleGate({ prefix: 'wxgate-e2e-', chunks: 1, delayMs: 0 });
    b = await launchWatched({ locale: 'en-US', ...DESKTOP });
    p = b.page;
    const url = (await gate.ctl('console-url', '--operator', 'root-op')).trim();
    assert.equal((await p.goto(url)).status(), 200);
    // Loaded as the chat page will load it: from the console, by
    // <script src>, which its CSP allows.
    await p.addScriptTag({ url: '/e2e.js' });
    await p.waitForFunction(() => typeof window.wxe2e === 'object');
    assert.equal(await p.evaluate(() => window.isSecureContext), true);
    await p.evaluate(() => {
      window.t = {
        hex: (u) => Array.from(u, (x) => x.toString(16).padStart(2, '0')).join(''),
        unhex: (h) => new Uint8Array(h.match(/../g)?.map((x) => parseInt(x, 16)) ?? []),
        utf8: (s) => new TextEncoder().encode(s),
        // The rejection's code and message, or 'opened'.
        why: (pr) => pr.then(() => 'opened', (e) => `${e.code}: ${e.message}`),
      };
    });
  });

  after(async () => {
    try {
      if (b) {
        assert.deepEqual(b.problems, []);
        await b.close();
      }
    } finally {
      if (gate) {
        await gate.stop();
        gate.cleanup();
      }
    }
  });

  test('scrypt: RFC 7914 section 12', { timeout: 60000 }, async () => {
    const v = [
      ['', '', 16, 1, 1,
        '77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442' +
        'fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906'],
      ['password', 'NaCl', 1024, 8, 16,
        'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162' +
        '2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640'],
      ['pleaseletmein', 'SodiumChloride', 16384, 8, 1,
        '7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2' +
        'd5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887'],
    ];
    for (const [pass, salt, n, r, pp, want] of v) {
      const got = await p.evaluate(async ([pass, salt, n, r, pp]) => {
        const t0 = performance.now();
        const dk = await wxe2e.scrypt(t.utf8(pass), t.utf8(salt), n, r, pp, 64);
        return { hex: t.hex(dk), ms: performance.now() - t0 };
      }, [pass, salt, n, r, pp]);
      assert.equal(got.hex, want, `scrypt N=${n} r=${r} p=${pp}`);
      if (n === 16384)
        console.log(`e2e_js_scrypt_rfc_n16384_ms ${got.ms.toFixed(0)} ms`);
    }
    // A cost out of any bound is refused, not run.
    assert.match(await p.evaluate(() => t.why(wxe2e.scrypt(t.utf8('x'),
      t.utf8('y'), 1000, 8, 1, 32))), /bad cost/);
  });

  test('AES-256-GCM: the GCM specification, test cases 13 to 15', async () => {
    const z = '00'.repeat(32);
    const cases = [
      [z, '00'.repeat(12), '', '', '530f8afbc74536b9a963b4f1c4cb738b'],
      [z, '00'.repeat(12), '00'.repeat(16), 'cea7403d4d606b6e074ec5d3baf39d18',
        'd0d1c8a799996bf0265b98b5d48ab919'],
      ['feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308',
        'cafebabefacedbaddecaf888',
        'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
        '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255',
        '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa' +
        '8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad',
        'b094dac5d93471bdec1a502270e3cc6c'],
    ];
    for (const [key, iv, pt, ct, tag] of cases) {
      const got = await p.evaluate(async ([key, iv, pt, ct, tag]) => {
        const k = await wxe2e.importKey(t.unhex(key));
        const sealed = t.hex(await wxe2e.sealWithNonce(k, '', t.unhex(iv),
          t.unhex(pt)));
        // And open() takes the known ciphertext in an envelope.
        const b64 = (u) => btoa(String.fromCharCode(...u));
        const env = `{"v":1,"n":"${b64(t.unhex(iv))}","c":"${b64(t.unhex(ct + tag))}"}`;
        const text = await wxe2e.open(k, '', env);
        return { sealed, text: t.hex(new TextEncoder().encode(text)) };
      }, [key, iv, pt, ct, tag]);
      assert.equal(got.sealed, ct + tag);
      // Case 15's text is not UTF-8, so only 13 and 14 come back whole.
      if (pt.length <= 32)
        assert.equal(got.text, pt);
    }
  });

  test('C seals, JS opens; JS seals, C opens', { timeout: 60000 }, async () => {
    const key = crypto.randomBytes(32).toString('hex');
    const texts = ['hello', '你好, agent 🙂', '', '\ufeffa BOM first',
      'x'.repeat(1024), 'line\nbreaks\r\nand "quotes" and \\ and \u0000'];
    for (const [i, text] of texts.entries()) {
      const ad = ['msg', 'thread-7', i % 2 ? 'agent' : 'operator', String(i)];
      const c = await tool(['seal', key, ...ad], text);
      assert.equal(c.code, 0, c.err);
      const opened = await p.evaluate(async ([key, ad, env]) => {
        const k = await wxe2e.importKey(t.unhex(key));
        return wxe2e.open(k, wxe2e.aad(...ad), env);
      }, [key, ad, c.out.trim()]);
      assert.equal(opened, text);

      const env = await p.evaluate(async ([key, ad, text]) => {
        const k = await wxe2e.importKey(t.unhex(key));
        return wxe2e.seal(k, wxe2e.aad(...ad), text);
      }, [key, ad, text]);
      assert.match(env, /^\{"v":1,"n":"[A-Za-z0-9+/]{16}","c":"[A-Za-z0-9+/=]+"\}$/);
      const o = await tool(['open', key, ...ad], env);
      assert.equal(o.code, 0, o.err);
      assert.equal(o.out, text);
      // Under another sequence number neither side opens it.
      const moved = await tool(['open', key, ...ad.slice(0, 3), String(i + 1)], env);
      assert.equal(moved.code, 1);
      assert.match(moved.err, /altered, moved or replayed/);
    }
    // 128 KiB of text is the most one envelope carries, on both sides.
    const big = 'y'.repeat(128 * 1024);
    const ad = ['msg', 't', 'agent', '1'];
    const c = await tool(['seal', key, ...ad], big);
    assert.equal(c.code, 0, c.err);
    assert.equal(await p.evaluate(async ([key, ad, env]) => {
      const k = await wxe2e.importKey(t.unhex(key));
      return (await wxe2e.open(k, wxe2e.aad(...ad), env)).length;
    }, [key, ad, c.out.trim()]), big.length);
    assert.match(await p.evaluate(async ([key, ad]) => {
      const k = await wxe2e.importKey(t.unhex(key));
      return t.why(wxe2e.seal(k, wxe2e.aad(...ad), 'y'.repeat(128 * 1024 + 1)));
    }, [key, ad]), /too long/);
  });

  test('C wraps, JS unwraps; JS wraps, C unwraps', { timeout: 60000 }, async () => {
    const key = crypto.randomBytes(32).toString('hex');
    const pass = 'correct horse 电池 staple';
    const c = await tool(['record-new', pass, 'root-op', String(CHEAP.n),
      String(CHEAP.r), String(CHEAP.p), key]);
    assert.equal(c.code, 0, c.err);
    const rec = c.out.trim();
    assert.match(rec, /^\{"v":1,"kdf":"scrypt","n":1024,"r":8,"p":1,"salt":"[^"]{24}","nonce":"[^"]{16}","wrapped":"[^"]{64}"\}$/);
    assert.equal(await p.evaluate(async ([rec, pass]) =>
      t.hex((await wxe2e.unwrap(rec, pass, 'root-op')).raw), [rec, pass]), key);

    const js = await p.evaluate(async ([pass, cost]) => {
      const r = await wxe2e.newRecord(pass, 'root-op', cost);
      return { record: r.record, raw: t.hex(r.raw) };
    }, [pass, CHEAP]);
    assert.match(js.record, /^\{"v":1,"kdf":"scrypt","n":1024,"r":8,"p":1,"salt":"[^"]{24}","nonce":"[^"]{16}","wrapped":"[^"]{64}"\}$/);
    const u = await tool(['record-unwrap', pass, 'root-op'], js.record);
    assert.equal(u.code, 0, u.err);
    assert.equal(u.out.trim(), js.raw);
    // The key a record gives seals what the other side opens.
    const env = await p.evaluate(async ([rec, pass]) => {
      const { key } = await wxe2e.unwrap(rec, pass, 'root-op');
      return wxe2e.seal(key, wxe2e.aad('sched', 's-1', 'operator', 0), 'every day');
    }, [js.record, pass]);
    const o = await tool(['open', js.raw, 'sched', 's-1', 'operator', '0'], env);
    assert.equal(o.out, 'every day');
    // The wrong passphrase, or another operator's name, fails in C too.
    assert.equal((await tool(['record-unwrap', pass + '!', 'root-op'], js.record)).code, 1);
    assert.equal((await tool(['record-unwrap', pass, 'watcher'], js.record)).code, 1);
  });

  test('a wrong passphrase is told apart from a bad record', { timeout: 60000 }, async () => {
    const r = await p.evaluate(async (cost) => {
      const { record } = await wxe2e.newRecord('pass one', 'root-op', cost);
      const o = JSON.parse(record);
      const edit = (f) => { const c = { ...o }; f(c); return JSON.stringify(c); };
      const bad = [
        record.slice(0, -1) + ',"x":1}',			// another key
        record.replace('"v":1,', ''),			// a key missing
        record.slice(0, -1) + ',"n":1024}',		// one twice
        record.replace('"n":1024', '"n":1024,"n":2048'),
        record.replace('"v":1', '"v":2'),
        record.replace('"v":1', '"v":1.0'),
        record.replace('"scrypt"', '"argon2id"'),
        edit((c) => { c.n = 1000; }),			// not a power of two
        edit((c) => { c.n = 512; }),
        edit((c) => { c.n = 1 << 20; }),		// 1 GiB at r 8
        edit((c) => { c.r = 33; }),
        edit((c) => { c.p = 5; }),
        edit((c) => { c.n = '1024'; }),
        edit((c) => { c.salt = c.salt.slice(0, -2); }),	// unpadded
        edit((c) => { c.salt = c.salt.slice(0, 20); }),	// 15 bytes
        edit((c) => { c.salt = c.salt.replace(/.==$/, 'B=='); }),	// bits left
        edit((c) => { c.nonce = c.nonce.slice(0, 12); }),
        edit((c) => { c.wrapped = c.wrapped.slice(0, 60); }),
        edit((c) => { c.wrapped = ' ' + c.wrapped.slice(1); }),
        record + 'x',
        record + ' '.repeat(wxe2e.RECORD_MAX),
        '[]', '', 'null',
      ];
      const out = [];
      for (const x of bad) out.push(await t.why(wxe2e.unwrap(x, 'pass one', 'root-op')));
      out.push(await t.why(wxe2e.unwrap(record, 'pass two', 'root-op')));
      out.push(await t.why(wxe2e.unwrap(record, 'pass one', 'watcher')));
      out.push(await t.why(wxe2e.unwrap(record, 'pass one', 'root-op')));
      out.push(await t.why(wxe2e.unwrap(record + '\n ', 'pass one', 'root-op')));
      return { out, bad };
    }, CHEAP);
    const n = r.bad.length;
    assert.deepEqual(r.out.slice(0, n), Array(n).fill('bad_record: not a key record'));
    assert.deepEqual(r.out.slice(n), ['wrong_passphrase: wrong passphrase',
      'wrong_passphrase: wrong passphrase', 'opened', 'opened']);
    // The C side refuses each of them too.
    for (const x of r.bad) {
      const c = await tool(['record-unwrap', 'pass one', 'root-op'], x);
      assert.equal(c.code, 1, `C took ${x}`);
      assert.match(c.err, /not a key record|input too long/);
    }
  });

  test('rewrap keeps the data key under a fresh salt and nonce', { timeout: 60000 }, async () => {
    const r = await p.evaluate(async (cost) => {
      const a = await wxe2e.newRecord('old', 'root-op', cost);
      const rec = await wxe2e.rewrap(a.raw, 'new', 'root-op', cost);
      const b = await wxe2e.unwrap(rec, 'new', 'root-op');
      const env = await wxe2e.seal(a.key, wxe2e.aad('msg', 't', 'agent', 1), 'kept');
      return { raw: t.hex(a.raw), back: t.hex(b.raw), a: JSON.parse(a.record),
        b: JSON.parse(rec), rec,
        opened: await wxe2e.open(b.key, wxe2e.aad('msg', 't', 'agent', 1), env),
        old: await t.why(wxe2e.unwrap(rec, 'old', 'root-op')) };
    }, CHEAP);
    assert.equal(r.back, r.raw);
    assert.equal(r.opened, 'kept');
    assert.notEqual(r.a.salt, r.b.salt);
    assert.notEqual(r.a.nonce, r.b.nonce);
    assert.equal(r.old, 'wrong_passphrase: wrong passphrase');
    const c = await tool(['record-unwrap', 'new', 'root-op'], r.rec);
    assert.equal(c.out.trim(), r.raw);
  });

  test('every character of an envelope changed, and other associated data: refused', { timeout: 60000 }, async () => {
    const r = await p.evaluate(async () => {
      const k = await wxe2e.importKey(crypto.getRandomValues(new Uint8Array(32)));
      const ad = wxe2e.aad('msg', 'thread-7', 'operator', 3);
      const env = await wxe2e.seal(k, ad, '你好, agent');
      const out = new Set();
      for (let i = 0; i < env.length; i++) {
        const c = env[i] === 'A' ? 'B' : 'A';
        out.add(await t.why(wxe2e.open(k, ad, env.slice(0, i) + c + env.slice(i + 1))));
      }
      const others = [];
      for (const a of [['msg', 'thread-8', 'operator', 3],
        ['msg', 'thread-7', 'operator', 4], ['msg', 'thread-7', 'agent', 3],
        ['sched', 'thread-7', 'operator', 3]])
        others.push(await t.why(wxe2e.open(k, wxe2e.aad(...a), env)));
      const other = await wxe2e.importKey(crypto.getRandomValues(new Uint8Array(32)));
      others.push(await t.why(wxe2e.open(other, ad, env)));
      return { out: [...out], others, back: await wxe2e.open(k, ad, env),
        n: env.length };
    });
    assert.equal(r.back, '你好, agent');
    assert.ok(!r.out.includes('opened'), r.out.join('; '));
    console.log(`# ${r.n} characters changed: ${r.out.join('; ')}`);
    assert.deepEqual(r.others, Array(5).fill(
      'altered: a message altered, moved or replayed, or another key'));
  });

  test('not an envelope: refused by both sides alike', { timeout: 60000 }, async () => {
    const key = crypto.randomBytes(32).toString('hex');
    const ad = ['msg', 't', 'operator', '1'];
    // 19 bytes with the tag: its base64 ends in "==".
    const good = (await tool(['seal', key, ...ad], 'hi!')).out.trim();
    const o = JSON.parse(good);
    const bad = [
      ['hello', 'not'], ['', 'not'], ['[]', 'not'], ['{}', 'not'],
      [good + 'x', 'not'], [good.slice(0, -1), 'not'],
      [good.slice(0, -1) + ',"x":1}', 'not'],		// another key
      [good.slice(0, -1) + ',"c":"' + o.c + '"}', 'not'],	// one twice
      [good.replace('"v":1,', '"v":1,"v":1,'), 'not'],
      [`{"v":1,"n":"${o.n}"}`, 'not'],			// one missing
      [good.replace('"v":1', '"v":2'), 'version'],
      [good.replace('"v":1', '"v":"1"'), 'not'],
      [good.replace('"v":1', '"v":1.0'), 'not'],
      [good.replace(o.n, o.n.slice(0, 12)), 'not'],	// 9 bytes
      [good.replace(o.n, o.n + 'AAAA'), 'not'],		// 15 bytes
      [good.replace(o.c, o.c.replace(/=+$/, '')), 'not'],	// unpadded
      [good.replace(o.c, ' ' + o.c), 'not'],		// white space inside
      [good.replace(o.c, '-' + o.c.slice(1)), 'not'],	// base64url
      [good.replace(o.c, 'AAAAAAAAAAAAAAAAAAAA'), 'not'],	// under a tag
      [`{"v":1,"n":"${o.n}","c":"${'A'.repeat(4 * 43690 + 256)}"}`, 'not'],	// too long
    ];
    const js = await p.evaluate(async ([key, ad, bad]) => {
      const k = await wxe2e.importKey(t.unhex(key));
      const out = [];
      for (const [x] of bad) out.push(await t.why(wxe2e.open(k, wxe2e.aad(...ad), x)));
      // The same text with white space between its tokens is one.
      out.push(await t.why(wxe2e.open(k, wxe2e.aad(...ad), bad[4][0].slice(0, -1)
        .replace(/,/g, ' ,\n\t').replace(/:/g, ' : '))));
      return out;
    }, [key, ad, bad]);
    for (const [i, [x, why]] of bad.entries()) {
      const want = why === 'version' ? 'bad_version: an encrypted message of another version'
        : 'bad_envelope: not an encrypted message';
      assert.equal(js[i], want, x.slice(0, 120));
      const c = await tool(['open', key, ...ad], x);
      assert.equal(c.code, 1, `C opened ${x.slice(0, 120)}`);
      assert.equal(c.err.trim(), `e2e_tool: ${want.replace(/^[a-z_]+: /, '')}`);
    }
    assert.equal(js[bad.length], 'opened');
  });

  test('timing: the default cost, and a 1 KiB message', { timeout: 120000 }, async () => {
    const r = await p.evaluate(async () => {
      let t0 = performance.now();
      const rec = await wxe2e.newRecord('a passphrase', 'root-op');
      const wrapMs = performance.now() - t0;
      t0 = performance.now();
      const back = await wxe2e.unwrap(rec.record, 'a passphrase', 'root-op');
      const unwrapMs = performance.now() - t0;
      const ad = wxe2e.aad('msg', 'thread-1', 'agent', 1);
      const text = 'z'.repeat(1024);
      const n = 500;
      t0 = performance.now();
      for (let i = 0; i < n; i++)
        await wxe2e.open(back.key, ad, await wxe2e.seal(back.key, ad, text));
      return { wrapMs, unwrapMs, cost: wxe2e.COST, record: rec.record,
        us: (performance.now() - t0) * 1000 / n,
        same: t.hex(rec.raw) === t.hex(back.raw) };
    });
    assert.ok(r.same);
    assert.match(r.record, new RegExp(`"n":${r.cost.n},"r":${r.cost.r},"p":${r.cost.p},`));
    console.log(`# default cost N=${r.cost.n} r=${r.cost.r} p=${r.cost.p} ` +
      `(${128 * r.cost.r * r.cost.n / 1048576} MiB)`);
    console.log(`e2e_js_scrypt_default_ms ${r.unwrapMs.toFixed(0)} ms`);
    console.log(`e2e_js_record_new_default_ms ${r.wrapMs.toFixed(0)} ms`);
    console.log(`e2e_js_seal_open_1k_us ${r.us.toFixed(1)} us`);
  });
});
