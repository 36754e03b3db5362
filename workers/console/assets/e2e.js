/*
 * End-to-end encryption in the console's own script (issue #19): the
 * format is docs/e2e.md's, the other side ctl/relay/e2e.c in
 * wxgate-relay.  AES-256-GCM is WebCrypto's; scrypt is written here,
 * since WebCrypto has none (PBKDF2-HMAC-SHA256 for its two ends is
 * WebCrypto's).  WebCrypto needs a secure context: https, or
 * http://127.0.0.1.  Every function returns a promise but aad().
 *
 * What is read from the server is read as strictly as e2e.c reads it:
 * a bound before parsing, every key once and no other, base64 per
 * RFC 4648 section 4; and nothing that fails its tag is ever text.
 */
"use strict";
var wxe2e = (function () {
  var PREFIX = "wxgate-e2e/1";
  var KEY_LEN = 32, NONCE_LEN = 12, TAG_LEN = 16, SALT_LEN = 16;
  var AAD_MAX = 512;		/* with C's NUL: at most 511 bytes */
  var TEXT_MAX = 128 * 1024;
  var ENVELOPE_MAX = Math.floor(TEXT_MAX / 3) * 4 + 256;
  var RECORD_MAX = 1024;
  /* e2e.h's E2E_COST_DEFAULT_*: see docs/e2e.md "Keys". */
  var COST = Object.freeze({ n: 65536, r: 8, p: 1 });
  /* How long scrypt holds the page before it lets it draw. */
  var SLICE_MS = 40;
  var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  var subtle = window.crypto && window.crypto.subtle;
  var utf8 = new TextEncoder();
  /* A BOM at the start of a message is the message's. */
  var unutf8 = new TextDecoder("utf-8", { ignoreBOM: true });

  /* The messages are e2e.c's, for a user to read. */
  var NOT_ENVELOPE = "not an encrypted message";
  var OTHER_VERSION = "an encrypted message of another version";
  var ALTERED = "a message altered, moved or replayed, or another key";

  function fail(code, msg) {
    var e = new Error(msg);
    e.code = code;
    return e;
  }

  /* A promise of f()'s value: a throw becomes a rejection. */
  function attempt(f) {
    return new Promise(function (ok) { ok(f()); });
  }

  function need() {
    if (!subtle)
      throw fail("no_crypto", "encryption needs a secure page (https)");
  }

  function bytes(x) {
    if (typeof x === "string") return utf8.encode(x);
    if (x instanceof Uint8Array) return x;
    if (x instanceof ArrayBuffer) return new Uint8Array(x);
    throw new TypeError("bytes or a string");
  }

  function random(n) {
    return window.crypto.getRandomValues(new Uint8Array(n));
  }

  function b64(u) {
    var s = "", i;
    for (i = 0; i < u.length; i += 8192)
      s += String.fromCharCode.apply(null, u.subarray(i, i + 8192));
    return btoa(s);
  }

  /*
   * b64.c's reading: a multiple of 4, '=' only at the end, the bits
   * the padding leaves over zero; so one spelling per byte string.
   * The bytes, or null.
   */
  function unb64(s) {
    var n = s.length, pad = 0, acc = 0, bits = 0, o = 0, i, v, out;

    if (n === 0 || n % 4 !== 0) return null;
    if (s.charAt(n - 1) === "=") pad = s.charAt(n - 2) === "=" ? 2 : 1;
    out = new Uint8Array(n / 4 * 3);
    for (i = 0; i < n - pad; i++) {
      if ((v = B64.indexOf(s.charAt(i))) < 0) return null;
      acc = (acc << 6) | v;
      if ((bits += 6) >= 8) {
        bits -= 8;
        out[o++] = acc >>> bits;
        acc &= (1 << bits) - 1;
      }
    }
    if (bits !== 2 * pad || acc !== 0) return null;
    return out.subarray(0, o);
  }

  /*
   * A flat JSON object, read as jansson reads it with
   * JSON_REJECT_DUPLICATES (JSON.parse keeps the last of two keys
   * silently): each key once, each value a string or an integer, which
   * is all an envelope or a record holds.  { key: value }, or null.
   */
  function flat(s) {
    var i = 0, n = s.length, o = Object.create(null), k, v;

    function ws() {
      var c;
      while (i < n && ((c = s.charCodeAt(i)) === 32 || c === 9 ||
          c === 10 || c === 13))
        i++;
    }
    function str() {
      var start = i, c;
      if (s.charAt(i) !== "\"") return null;
      for (i++; i < n; i++) {
        c = s.charCodeAt(i);
        if (c === 34) {
          i++;
          return JSON.parse(s.slice(start, i));
        }
        if (c < 32) return null;
        if (c === 92) {
          c = s.charAt(++i);
          if (c === "u") {
            if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 1, i + 5))) return null;
            i += 4;
          } else if ("\"\\/bfnrt".indexOf(c) < 0 || c === "") {
            return null;
          }
        }
      }
      return null;
    }
    /* An integer; a fraction or an exponent makes a real, not one. */
    function int() {
      var start = i;
      if (s.charAt(i) === "-") i++;
      if (s.charAt(i) === "0") i++;
      else if (s.charAt(i) >= "1" && s.charAt(i) <= "9")
        while (s.charAt(i) >= "0" && s.charAt(i) <= "9") i++;
      else return null;
      if (/[.eE0-9]/.test(s.charAt(i)) || i - start > 18) return null;
      return Number(s.slice(start, i));
    }

    ws();
    if (s.charAt(i++) !== "{") return null;
    ws();
    if (s.charAt(i) === "}") i++;
    else {
      for (;;) {
        ws();
        if ((k = str()) === null || k in o) return null;
        ws();
        if (s.charAt(i++) !== ":") return null;
        ws();
        if ((v = s.charAt(i) === "\"" ? str() : int()) === null) return null;
        o[k] = v;
        ws();
        if (s.charAt(i) === "}") { i++; break; }
        if (s.charAt(i++) !== ",") return null;
      }
    }
    ws();
    return i === n ? o : null;
  }

  /* o has exactly these keys, each of this type ("s" or "i"). */
  function shaped(o, shape) {
    var k, want = 0, have = 0;
    if (o === null) return false;
    for (k in shape) {
      want++;
      if (!(k in o) || (shape[k] === "s" ? typeof o[k] !== "string" :
          typeof o[k] !== "number"))
        return false;
    }
    for (k in o) have++;
    return have === want;
  }

  /* ---- scrypt (RFC 7914) ---- */

  function pbkdf2(pass, salt, len) {
    return subtle.importKey("raw", pass, "PBKDF2", false, ["deriveBits"])
      .then(function (k) {
        return subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256",
          salt: salt, iterations: 1 }, k, len * 8);
      }).then(function (b) { return new Uint8Array(b); });
  }

  /*
   * Salsa20/8 of T xor the 16 words of S at s, into T and into D at d.
   * Locals rather than an array: this is where the time goes.
   */
  function salsa(T, S, s, D, d) {
    var j0 = T[0] ^ S[s], j1 = T[1] ^ S[s + 1], j2 = T[2] ^ S[s + 2],
      j3 = T[3] ^ S[s + 3], j4 = T[4] ^ S[s + 4], j5 = T[5] ^ S[s + 5],
      j6 = T[6] ^ S[s + 6], j7 = T[7] ^ S[s + 7], j8 = T[8] ^ S[s + 8],
      j9 = T[9] ^ S[s + 9], j10 = T[10] ^ S[s + 10],
      j11 = T[11] ^ S[s + 11], j12 = T[12] ^ S[s + 12],
      j13 = T[13] ^ S[s + 13], j14 = T[14] ^ S[s + 14],
      j15 = T[15] ^ S[s + 15];
    var x0 = j0, x1 = j1, x2 = j2, x3 = j3, x4 = j4, x5 = j5, x6 = j6,
      x7 = j7, x8 = j8, x9 = j9, x10 = j10, x11 = j11, x12 = j12,
      x13 = j13, x14 = j14, x15 = j15, u, i;

    for (i = 0; i < 8; i += 2) {
      /* Columns. */
      u = x0 + x12; x4 ^= u << 7 | u >>> 25;
      u = x4 + x0; x8 ^= u << 9 | u >>> 23;
      u = x8 + x4; x12 ^= u << 13 | u >>> 19;
      u = x12 + x8; x0 ^= u << 18 | u >>> 14;
      u = x5 + x1; x9 ^= u << 7 | u >>> 25;
      u = x9 + x5; x13 ^= u << 9 | u >>> 23;
      u = x13 + x9; x1 ^= u << 13 | u >>> 19;
      u = x1 + x13; x5 ^= u << 18 | u >>> 14;
      u = x10 + x6; x14 ^= u << 7 | u >>> 25;
      u = x14 + x10; x2 ^= u << 9 | u >>> 23;
      u = x2 + x14; x6 ^= u << 13 | u >>> 19;
      u = x6 + x2; x10 ^= u << 18 | u >>> 14;
      u = x15 + x11; x3 ^= u << 7 | u >>> 25;
      u = x3 + x15; x7 ^= u << 9 | u >>> 23;
      u = x7 + x3; x11 ^= u << 13 | u >>> 19;
      u = x11 + x7; x15 ^= u << 18 | u >>> 14;
      /* Rows. */
      u = x0 + x3; x1 ^= u << 7 | u >>> 25;
      u = x1 + x0; x2 ^= u << 9 | u >>> 23;
      u = x2 + x1; x3 ^= u << 13 | u >>> 19;
      u = x3 + x2; x0 ^= u << 18 | u >>> 14;
      u = x5 + x4; x6 ^= u << 7 | u >>> 25;
      u = x6 + x5; x7 ^= u << 9 | u >>> 23;
      u = x7 + x6; x4 ^= u << 13 | u >>> 19;
      u = x4 + x7; x5 ^= u << 18 | u >>> 14;
      u = x10 + x9; x11 ^= u << 7 | u >>> 25;
      u = x11 + x10; x8 ^= u << 9 | u >>> 23;
      u = x8 + x11; x9 ^= u << 13 | u >>> 19;
      u = x9 + x8; x10 ^= u << 18 | u >>> 14;
      u = x15 + x14; x12 ^= u << 7 | u >>> 25;
      u = x12 + x15; x13 ^= u << 9 | u >>> 23;
      u = x13 + x12; x14 ^= u << 13 | u >>> 19;
      u = x14 + x13; x15 ^= u << 18 | u >>> 14;
    }
    D[d] = T[0] = x0 + j0; D[d + 1] = T[1] = x1 + j1;
    D[d + 2] = T[2] = x2 + j2; D[d + 3] = T[3] = x3 + j3;
    D[d + 4] = T[4] = x4 + j4; D[d + 5] = T[5] = x5 + j5;
    D[d + 6] = T[6] = x6 + j6; D[d + 7] = T[7] = x7 + j7;
    D[d + 8] = T[8] = x8 + j8; D[d + 9] = T[9] = x9 + j9;
    D[d + 10] = T[10] = x10 + j10; D[d + 11] = T[11] = x11 + j11;
    D[d + 12] = T[12] = x12 + j12; D[d + 13] = T[13] = x13 + j13;
    D[d + 14] = T[14] = x14 + j14; D[d + 15] = T[15] = x15 + j15;
  }

  /* BlockMix of the 2r blocks of S at s into D (not S), shuffled. */
  function blockMix(S, s, D, T, r) {
    var i, k, last = s + (2 * r - 1) * 16;
    for (k = 0; k < 16; k++) T[k] = S[last + k];
    for (i = 0; i < 2 * r; i++)
      salsa(T, S, s + i * 16, D, ((i & 1) * r + (i >> 1)) * 16);
  }

  /* Yield to the page without setTimeout's 4 ms clamp. */
  var later = (function () {
    var q = [], ch;
    if (typeof MessageChannel === "undefined")
      return function (f) { setTimeout(f, 0); };
    ch = new MessageChannel();
    ch.port1.onmessage = function () { q.shift()(); };
    return function (f) { q.push(f); ch.port2.postMessage(0); };
  })();

  /* ROMix on X in place, in slices of SLICE_MS so the page still draws. */
  function romix(X, Y, T, V, r, N) {
    var w = 32 * r, last = (2 * r - 1) * 16, i = 0;
    return new Promise(function (done) {
      function slice() {
        var end = Date.now() + SLICE_MS, j, k;
        for (; i < 2 * N; i++) {
          if ((i & 63) === 0 && Date.now() > end) { later(slice); return; }
          if (i < N) {
            V.set(X, i * w);
            blockMix(V, i * w, X, T, r);
          } else {
            j = (X[last] & (N - 1)) * w;
            for (k = 0; k < w; k++) Y[k] = X[k] ^ V[j + k];
            blockMix(Y, 0, X, T, r);
          }
        }
        done();
      }
      slice();
    });
  }

  /*
   * scrypt(pass, salt, N, r, p, dkLen): any cost the RFC's vectors use,
   * up to 1 GiB; the records' own bounds are kdfValid()'s.
   */
  function scrypt(pass, salt, N, r, p, dkLen) {
    return attempt(function () {
      need();
      pass = bytes(pass);
      salt = bytes(salt);
      if (!isInt(N) || N < 2 || N > 1 << 24 || (N & (N - 1)) !== 0 ||
          !isInt(r) || r < 1 || !isInt(p) || p < 1 || r * p >= 1 << 30 ||
          128 * r * N > 1024 * 1024 * 1024 || !isInt(dkLen) || dkLen < 1 ||
          dkLen > 65536)
        throw new RangeError("scrypt: bad cost");
      return pbkdf2(pass, salt, p * 128 * r);
    }).then(function (B) {
      var w = 32 * r, X = new Uint32Array(w), Y = new Uint32Array(w),
        T = new Uint32Array(16), V = new Uint32Array(w * N), n = 0;

      function next() {
        var o = n * 128 * r, k;
        if (n === p) {
          V.fill(0); X.fill(0); Y.fill(0); T.fill(0);
          return pbkdf2(pass, B, dkLen).then(function (dk) {
            B.fill(0);
            return dk;
          });
        }
        for (k = 0; k < w; k++)
          X[k] = B[o + 4 * k] | B[o + 4 * k + 1] << 8 |
            B[o + 4 * k + 2] << 16 | B[o + 4 * k + 3] << 24;
        return romix(X, Y, T, V, r, N).then(function () {
          for (k = 0; k < w; k++) {
            B[o + 4 * k] = X[k];
            B[o + 4 * k + 1] = X[k] >>> 8;
            B[o + 4 * k + 2] = X[k] >>> 16;
            B[o + 4 * k + 3] = X[k] >>> 24;
          }
          n++;
          return next();
        });
      }
      return next();
    });
  }

  function isInt(x) {
    return typeof x === "number" && x % 1 === 0 && x >= 0 &&
      x <= 9007199254740991;
  }

  /* e2e_kdf_valid(): the costs a record may carry. */
  function kdfValid(n, r, p) {
    return isInt(n) && n >= 1024 && n <= 1 << 20 && (n & (n - 1)) === 0 &&
      isInt(r) && r >= 1 && r <= 32 && isInt(p) && p >= 1 && p <= 4 &&
      128 * r * n <= 256 * 1024 * 1024;
  }

  /* ---- messages ---- */

  /*
   * "wxgate-e2e/1|kind|scope|sender|seq", as e2e_aad() makes it: no part
   * empty or holding '|', so no two tuples give one string; seq a
   * number from 0, or its decimal digits.
   */
  function aad(kind, scope, sender, seq) {
    var parts = [kind, scope, sender], i, s;
    for (i = 0; i < 3; i++)
      if (typeof parts[i] !== "string" || parts[i] === "" ||
          /[|\u0000]/.test(parts[i]))
        throw new Error("associated data: an empty part, or one with '|'");
    if (typeof seq === "number" && isInt(seq)) seq = String(seq);
    if (typeof seq !== "string" || !/^(0|[1-9][0-9]{0,19})$/.test(seq))
      throw new Error("associated data: the sequence is not a number");
    s = [PREFIX, kind, scope, sender, seq].join("|");
    if (utf8.encode(s).length >= AAD_MAX)
      throw new Error("associated data too long");
    return s;
  }

  function gcm(nonce, ad) {
    return { name: "AES-GCM", iv: nonce, additionalData: utf8.encode(ad),
      tagLength: TAG_LEN * 8 };
  }

  function envelope(nonce, ct) {
    return "{\"v\":1,\"n\":\"" + b64(nonce) + "\",\"c\":\"" + b64(ct) +
      "\"}";
  }

  /*
   * The ciphertext and tag of bytes under a given nonce: for the
   * known-answer tests only.  One nonce twice under one key gives both
   * messages away; seal() draws a fresh one every time.
   */
  function sealWithNonce(key, ad, nonce, data) {
    return attempt(function () {
      need();
      data = bytes(data);
      if (nonce.length !== NONCE_LEN || data.length > TEXT_MAX)
        throw new RangeError("seal: bad nonce or too long");
      return subtle.encrypt(gcm(nonce, ad), key, data);
    }).then(function (c) { return new Uint8Array(c); });
  }

  /* The envelope of text (a string) under key with associated data ad. */
  function seal(key, ad, text) {
    var nonce;
    return attempt(function () {
      var pt;
      need();
      if (typeof text !== "string") throw new TypeError("seal: text");
      if ((pt = utf8.encode(text)).length > TEXT_MAX)
        throw fail("too_long", "a message too long to encrypt");
      nonce = random(NONCE_LEN);
      return sealWithNonce(key, ad, nonce, pt);
    }).then(function (ct) { return envelope(nonce, ct); });
  }

  /*
   * The text of an envelope from the server, or a rejection whose
   * message a user may read (and .code: bad_envelope, bad_version or
   * altered).  Bounded before it is parsed.
   */
  function open(key, ad, env) {
    return attempt(function () {
      var o, nonce, ct;
      need();
      if (typeof env !== "string" || env.length > ENVELOPE_MAX ||
          !shaped(o = flat(env), { v: "i", n: "s", c: "s" }))
        throw fail("bad_envelope", NOT_ENVELOPE);
      if (o.v !== 1) throw fail("bad_version", OTHER_VERSION);
      if ((nonce = unb64(o.n)) === null || nonce.length !== NONCE_LEN ||
          (ct = unb64(o.c)) === null || ct.length < TAG_LEN)
        throw fail("bad_envelope", NOT_ENVELOPE);
      return subtle.decrypt(gcm(nonce, ad), key, ct).then(
        function (pt) { return unutf8.decode(pt); },
        function () { throw fail("altered", ALTERED); });
    });
  }

  /* ---- the wrapped key ---- */

  /* A non-extractable AES-GCM key of 32 raw bytes. */
  function importKey(raw) {
    return attempt(function () {
      need();
      raw = bytes(raw);
      if (raw.length !== KEY_LEN) throw new RangeError("a key is 32 bytes");
      return subtle.importKey("raw", raw, { name: "AES-GCM" }, false,
        ["encrypt", "decrypt"]);
    });
  }

  /* The passphrase's key (a CryptoKey) under salt at a record's cost. */
  function kek(pass, salt, n, r, p) {
    return scrypt(utf8.encode(pass), salt, n, r, p, KEY_LEN)
      .then(function (k) {
        return importKey(k).then(function (key) {
          k.fill(0);
          return key;
        });
      });
  }

  /* raw under passphrase, with a salt and nonce of its own: a record. */
  function rewrap(raw, pass, owner, cost) {
    var c = cost || COST, salt, nonce, ad;
    return attempt(function () {
      need();
      raw = bytes(raw);
      if (raw.length !== KEY_LEN) throw new RangeError("a key is 32 bytes");
      if (typeof pass !== "string") throw new TypeError("a passphrase");
      if (!kdfValid(c.n, c.r, c.p))
        throw fail("bad_cost", "a cost outside the records' bounds");
      ad = aad("key", owner, "-", 0);
      salt = random(SALT_LEN);
      nonce = random(NONCE_LEN);
      return kek(pass, salt, c.n, c.r, c.p);
    }).then(function (k) {
      return subtle.encrypt(gcm(nonce, ad), k, raw);
    }).then(function (w) {
      return "{\"v\":1,\"kdf\":\"scrypt\",\"n\":" + c.n + ",\"r\":" + c.r +
        ",\"p\":" + c.p + ",\"salt\":\"" + b64(salt) + "\",\"nonce\":\"" +
        b64(nonce) + "\",\"wrapped\":\"" + b64(new Uint8Array(w)) + "\"}";
    });
  }

  /* A new random data key and its record: { record, key, raw }. */
  function newRecord(pass, owner, cost) {
    var raw;
    return attempt(function () {
      need();
      raw = random(KEY_LEN);
      return rewrap(raw, pass, owner, cost);
    }).then(function (record) {
      return importKey(raw).then(function (key) {
        return { record: record, key: key, raw: raw };
      });
    });
  }

  /*
   * The data key of a record: { key, raw }, or a rejection with .code
   * bad_record (not strictly a record, or a cost out of bounds) or
   * wrong_passphrase (the tag failed: the passphrase, or the owner).
   */
  function unwrap(record, pass, owner) {
    var o, salt, nonce, w, ad;
    return attempt(function () {
      need();
      if (typeof record !== "string" || record.length > RECORD_MAX ||
          !shaped(o = flat(record), { v: "i", kdf: "s", n: "i", r: "i",
            p: "i", salt: "s", nonce: "s", wrapped: "s" }) ||
          o.v !== 1 || o.kdf !== "scrypt" || !kdfValid(o.n, o.r, o.p) ||
          (salt = unb64(o.salt)) === null || salt.length !== SALT_LEN ||
          (nonce = unb64(o.nonce)) === null || nonce.length !== NONCE_LEN ||
          (w = unb64(o.wrapped)) === null || w.length !== KEY_LEN + TAG_LEN)
        throw fail("bad_record", "not a key record");
      if (typeof pass !== "string") throw new TypeError("a passphrase");
      ad = aad("key", owner, "-", 0);
      return kek(pass, salt, o.n, o.r, o.p);
    }).then(function (k) {
      return subtle.decrypt(gcm(nonce, ad), k, w).then(null, function () {
        throw fail("wrong_passphrase", "wrong passphrase");
      });
    }).then(function (dk) {
      var raw = new Uint8Array(dk);
      return importKey(raw).then(function (key) {
        return { key: key, raw: raw };
      });
    });
  }

  return { scrypt: scrypt, aad: aad, seal: seal, open: open,
    sealWithNonce: sealWithNonce, importKey: importKey,
    newRecord: newRecord, unwrap: unwrap, rewrap: rewrap,
    kdfValid: kdfValid, COST: COST, ENVELOPE_MAX: ENVELOPE_MAX,
    RECORD_MAX: RECORD_MAX };
})();
