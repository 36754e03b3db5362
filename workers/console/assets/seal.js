/*
 * Sealed console threads, the page's side (docs/e2e.md), on e2e.js's
 * crypto: the operator's passphrase unwraps the data key this browser
 * made and the gateway keeps wrapped (GET /api/e2e); a message is sealed
 * here before it is posted and opened here before it is drawn, with its
 * thread, sender and number as associated data.  The key lives in this
 * page's memory only: a reload asks for the passphrase again.  Nothing
 * that fails to open is ever shown as text, only a warning.
 */
"use strict";
var wxseal = (function () {
  var MIN_PASS = 8;
  /*
   * Openings kept, the least recently used dropped first: a page left
   * open for days on a busy thread or a long run history would else
   * keep every text it ever drew.  A few screens of messages and runs;
   * one dropped is opened again when it is drawn again.
   */
  var OPEN_MAX = 400;
  var $ = wxc.$;
  var owner = "", record = null, key = null, raw = null, csrf = "";
  var changed = function () {};
  /* Associated data and envelope: the promise of its opening, oldest first. */
  var cache = new Map();

  var WHY = {
    locked: "Sealed: unlock with your passphrase to read it.",
    tamper: "\u26a0 Altered, moved or replayed, or sealed with another key: not shown.",
    plain: "\u26a0 Not sealed, in a sealed thread: not shown.",
    cut: "Sealed, and too long to show here.",
    gap: "\u26a0 The sealed message before this one is missing."
  };

  function state(text) { $("e2e-state").textContent = text; }

  /* Create (no record yet) or unlock; change once unlocked. */
  function forms() {
    var create = record === null;
    $("e2e-pass-label").textContent = create ? "Choose a passphrase" : "Passphrase";
    $("e2e-pass").setAttribute("autocomplete", create ? "new-password" : "current-password");
    $("e2e-again").hidden = $("e2e-again-label").hidden = !create;
    $("e2e-unlock").textContent = create ? "Set passphrase" : "Unlock";
    $("e2e-form").hidden = key !== null;
    $("e2e-change").hidden = key === null;
  }

  function unlocked(k, r, text) {
    key = k;
    raw = r;
    cache = new Map();
    $("e2e-pass").value = $("e2e-again").value = "";
    forms();
    state(text);
    changed();
  }

  function create(pass) {
    if (pass !== $("e2e-again").value) { state("The two passphrases differ."); return; }
    state("Making your key (this takes a moment)…");
    wxe2e.newRecord(pass, owner).then(function (k) {
      return wxc.post("/api/e2e/key", csrf, k.record).then(function (r) {
        if (r.status !== 200) { state("Refused: " + (r.body.error || r.status)); return; }
        record = k.record;
        unlocked(k.key, k.raw, "Your key is made and unlocked in this page.");
      });
    }).catch(function (e) { state("Could not make the key: " + e.message); });
  }

  function unlock(pass) {
    state("Unlocking (this takes a moment)…");
    wxe2e.unwrap(record, pass, owner).then(function (k) {
      unlocked(k.key, k.raw, "Unlocked: sealed threads open in this page.");
    }).catch(function (e) {
      state(e.code === "wrong_passphrase" ? "Wrong passphrase." :
        "Your stored key cannot be read: " + e.message);
    });
  }

  /* The same data key under a new passphrase: no thread is lost. */
  function rewrap(pass) {
    if (pass.length < MIN_PASS) { state("A passphrase has at least " + MIN_PASS + " characters."); return; }
    state("Changing the passphrase…");
    wxe2e.rewrap(raw, pass, owner).then(function (rec) {
      return wxc.post("/api/e2e/key", csrf, rec).then(function (r) {
        if (r.status !== 200) { state("Refused: " + (r.body.error || r.status)); return; }
        record = rec;
        $("e2e-new").value = "";
        state("Passphrase changed; every sealed thread still opens.");
      });
    }).catch(function (e) { state("Could not change it: " + e.message); });
  }

  function init(token, needed, onchange) {
    csrf = token;
    changed = onchange;
    $("e2e-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var pass = $("e2e-pass").value;
      if (pass.length < MIN_PASS) { state("A passphrase has at least " + MIN_PASS + " characters."); return; }
      if (record === null) create(pass); else unlock(pass);
    });
    $("e2e-change").addEventListener("submit", function (e) {
      e.preventDefault();
      rewrap($("e2e-new").value);
    });
    return wxc.get("/api/e2e").then(function (o) {
      owner = o.owner;
      record = o.record === undefined ? null : o.record;
      forms();
      $("e2e").hidden = !needed;
      state(record === null ? "No key yet: choose a passphrase to make one." :
        "Locked: sealed threads need your passphrase.");
    });
  }

  function show(needed) { if (needed) $("e2e").hidden = false; }

  /* {text} or {why}: one sealed message opened, or why it is not shown. */
  function open1(thread, sender, seq, env) {
    return openAs("msg", String(thread.id), sender, seq, env);
  }

  /*
   * Each message's view: m.view = { text, reply } of {text} or {why},
   * and m.gap when its number does not follow the last one seen.
   * A running reply is not opened: it is whole only when done.
   */
  function prepare(thread, msgs, lastSeq) {
    var mine = thread.operator === owner;
    return Promise.all(msgs.map(function (m) {
      var v = { text: null, reply: null };
      m.view = v;
      if (m.command) {
        v.text = { text: m.text };
        v.reply = { text: m.reply || "" };
        return Promise.resolve();
      }
      if (m.seq > 0) {
        m.gap = lastSeq >= 0 && m.seq !== lastSeq + 1;
        lastSeq = m.seq;
      }
      if (m.seq <= 0) { v.text = { why: WHY.plain }; return Promise.resolve(); }
      if (!mine) {
        v.text = { why: "Sealed with operator " + thread.operator + "'s key." };
        return Promise.resolve();
      }
      if (key === null) { v.text = { why: WHY.locked }; return Promise.resolve(); }
      if (m.cut) { v.text = { why: WHY.cut }; return Promise.resolve(); }
      var jobs = [open1(thread, "operator", m.seq, m.text || "").then(function (r) { v.text = r; })];
      if (m.state === "answered" && m.reply)
        jobs.push(open1(thread, "agent", m.seq, m.reply).then(function (r) { v.reply = r; }));
      return Promise.all(jobs);
    })).then(function () { return lastSeq; });
  }

  /* The envelope of text as the thread's message number seq. */
  function seal(thread, seq, text) {
    if (key === null) return Promise.reject(new Error("unlock with your passphrase first"));
    return wxe2e.seal(key, wxe2e.aad("msg", String(thread.id), "operator", seq), text);
  }

  /*
   * Any other kind (a sealed schedule's prompt, a run's summary):
   * {text} or {why}, and the envelope of text, by associated data.
   */
  function openAs(kind, scope, sender, seq, env) {
    if (key === null) return Promise.resolve({ why: WHY.locked });
    var aad = wxe2e.aad(kind, scope, sender, seq);
    var k = aad + "\n" + env;
    var p = cache.get(k);
    if (p !== undefined) {
      /* Used again: to the young end of the Map's order. */
      cache.delete(k);
      cache.set(k, p);
      return p;
    }
    p = wxe2e.open(key, aad, env).then(function (text) {
      return { text: text };
    }, function () { return { why: WHY.tamper }; });
    cache.set(k, p);
    if (cache.size > OPEN_MAX) cache.delete(cache.keys().next().value);
    return p;
  }

  function sealAs(kind, scope, sender, seq, text) {
    if (key === null) return Promise.reject(new Error("unlock with your passphrase first"));
    return wxe2e.seal(key, wxe2e.aad(kind, scope, sender, seq), text);
  }

  return { init: init, show: show, prepare: prepare, seal: seal, WHY: WHY,
    OPEN_MAX: OPEN_MAX,
    openAs: openAs, sealAs: sealAs, owner: function () { return owner; },
    unlocked: function () { return key !== null; } };
})();
