/*
 * The console's Chat section: threads with the configured agents, read
 * from /api/chat and written with chat.new, chat.send (the message is
 * the POST's body) and chat.branch.  While a reply is being written the
 * thread is polled: the console worker answers one request per
 * connection, so there is no stream to read.  A poll says how much of
 * the running reply it has ("have"), and the hub holds it until there
 * is more or the reply ends (a long poll); one it did not hold is
 * followed by another after POLL_MS.  An agent's reply is
 * drawn from a small markdown subset with createElement and textContent
 * only, never markup: paragraphs, fenced code, inline code, bold,
 * italic, lists, and links whose address is http or https.
 * A sealed thread (an agent marked end-to-end, docs/e2e.md) is opened
 * and written through seal.js: its messages are sealed before they are
 * posted to /api/chat/seal with their number, and opened before they
 * are drawn; commands, words to the gateway, go in the clear.
 */
"use strict";
(function () {
  var POLL_MS = 300;
  var csrf = "";
  var admin = false;
  var cur = 0;          /* the thread shown, 0: none */
  var since = 0;        /* messages up to here are final and drawn */
  var have = -1;        /* bytes of the running reply shown, -1: none */
  var gen = 0;          /* a newer thread's polls win */
  var timer = null;
  var inflight = false;
  var again = false;
  var shown = {};       /* message id: its <li> */
  var note = "";        /* what #chat-info says when nothing else */
  var thread = null;    /* the thread shown, as the last poll said */
  var seqSince = 0;     /* the sealed number of the messages to since */
  var seqMax = 0;       /* the highest sealed number drawn */
  var COMMAND = /^\s*\/(?:(?:help|new|stop|unbind)|model(?:\s+\S+)?)\s*$/i;

  var $ = wxc.$, el = wxc.el, get = wxc.get;

  function info(text) { $("chat-info").textContent = text; }

  function post(path, body) { return wxc.post(path, csrf, body); }

  /* Inline markdown: `code`, **bold**, *italic*, [text](http...). */
  var INLINE = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|(\*[^*\s][^*\n]*\*|_[^_\s][^_\n]*_)|(\[[^\]\n]+\]\([^)\s]+\))/;

  function inline(parent, text) {
    var m, t, a, close, url;
    while (text.length > 0 && (m = INLINE.exec(text)) !== null) {
      if (m.index > 0) parent.appendChild(document.createTextNode(text.slice(0, m.index)));
      t = m[0];
      if (m[1]) parent.appendChild(el("code", t.slice(1, -1)));
      else if (m[2]) parent.appendChild(el("strong", t.slice(2, -2)));
      else if (m[3]) parent.appendChild(el("em", t.slice(1, -1)));
      else {
        close = t.indexOf("](");
        url = t.slice(close + 2, -1);
        if (/^https?:\/\/[^\s]+$/i.test(url)) {
          a = el("a", t.slice(1, close));
          a.setAttribute("href", url);
          a.setAttribute("rel", "noopener noreferrer nofollow");
          parent.appendChild(a);
        } else {
          parent.appendChild(document.createTextNode(t));
        }
      }
      text = text.slice(m.index + t.length);
    }
    if (text.length > 0) parent.appendChild(document.createTextNode(text));
  }

  /* Blocks: ``` fences, "- " or "1. " lists, paragraphs between blank lines. */
  function markdown(src) {
    var out = document.createDocumentFragment();
    var lines = src.split("\n");
    var i = 0, p = null, list = null, code, li, m;
    function endPara() { p = null; }
    function endList() { list = null; }
    while (i < lines.length) {
      var line = lines[i];
      if (/^\s*```/.test(line)) {
        endPara(); endList();
        code = [];
        for (i++; i < lines.length && !/^\s*```/.test(lines[i]); i++) code.push(lines[i]);
        var pre = el("pre");
        pre.appendChild(el("code", code.join("\n")));
        out.appendChild(pre);
        i++;
        continue;
      }
      if ((m = /^\s*(?:([-*])|(\d+)[.)])\s+(.*)$/.exec(line)) !== null) {
        endPara();
        var kind = m[1] ? "ul" : "ol";
        if (list === null || list.tagName.toLowerCase() !== kind) {
          list = el(kind);
          out.appendChild(list);
        }
        li = el("li");
        inline(li, m[3]);
        list.appendChild(li);
      } else if (/^\s*$/.test(line)) {
        endPara(); endList();
      } else {
        endList();
        if (p === null) { p = el("p"); out.appendChild(p); }
        else p.appendChild(el("br"));
        inline(p, line);
      }
      i++;
    }
    return out;
  }

  function stateText(m) {
    if (m.state === "running") return "writing…";
    if (m.state === "waiting") return "waiting for the agent…";
    if (m.state === "failed") return "no reply: " + (m.error || "failed");
    return "";
  }

  /* A sealed text's view: what it says, or why it is not shown. */
  function why(div, v) {
    div.appendChild(el("p", v.why, v.why.charAt(0) === "\u26a0" ? "tamper" : "sealed"));
  }

  function draw(m, agent) {
    var li = shown[m.id];
    if (!li) {
      li = el("li", null, "msg");
      li.setAttribute("data-id", String(m.id));
      li.appendChild(el("p", "You", "who"));
      li.appendChild(el("div", null, "you"));
      li.appendChild(el("p", agent, "who"));
      li.appendChild(el("div", null, "reply"));
      li.appendChild(el("p", null, "state"));
      $("chat-log").appendChild(li);
      shown[m.id] = li;
    }
    var you = li.querySelector(".you"), v = m.view;
    while (you.firstChild) you.removeChild(you.firstChild);
    if (m.gap) why(you, { why: wxseal.WHY.gap });
    if (v && v.text.why) why(you, v.text);
    else you.appendChild(document.createTextNode(v ? v.text.text : m.text));
    var reply = li.querySelector(".reply");
    while (reply.firstChild) reply.removeChild(reply.firstChild);
    if (v && v.reply && v.reply.why) why(reply, v.reply);
    else if (v && !v.reply) { /* not answered yet, or not opened */ }
    else if (m.command) reply.appendChild(el("div", m.reply || "", "plain"));
    else reply.appendChild(markdown(v ? v.reply.text : m.reply || ""));
    li.setAttribute("data-state", m.state);
    li.querySelector(".state").textContent = stateText(m) + (m.cut ? " (cut: too long to show whole)" : "");
    /* A sealed thread does not branch: its numbers bind its id. */
    if (admin && m.state === "answered" && !(thread && thread.e2e) &&
        !li.querySelector("button")) {
      var b = el("button", "Branch from here", "btn");
      b.type = "button";
      b.addEventListener("click", function () { branch(m.id); });
      li.appendChild(b);
    }
  }

  function models(t) {
    var s = $("chat-model");
    while (s.firstChild) s.removeChild(s.firstChild);
    t.models.forEach(function (name) {
      var o = el("option", name);
      o.value = name;
      if (name === t.model) o.selected = true;
      s.appendChild(o);
    });
    if (t.models.length === 0) s.appendChild(el("option", "the agent's own"));
    /* One model: nothing to pick (and /model would say so). */
    s.disabled = !admin || t.models.length < 2;
  }

  /* One poll at a time: one asked meanwhile runs when it is done. */
  function poll() {
    var g = gen;
    if (timer !== null) { clearTimeout(timer); timer = null; }
    if (!cur) return Promise.resolve();
    if (inflight) { again = true; return Promise.resolve(); }
    inflight = true;
    again = false;
    var o;
    return get("/api/chat?thread=" + cur + "&since=" + since +
      (have >= 0 ? "&have=" + have : "")).then(function (got) {
      o = got;
      return o.thread.e2e ? wxseal.prepare(o.thread, o.messages, seqSince) : 0;
    }).then(function () {
      inflight = false;
      if (g !== gen || again) { poll(); return; }
      var open = false;
      have = -1;
      thread = o.thread;
      models(o.thread);
      if (o.thread.e2e) wxseal.show(true);
      o.messages.forEach(function (m) {
        draw(m, o.thread.agent);
        if (m.seq > seqMax) seqMax = m.seq;
        if (m.state === "running" && have < 0) have = m.length;
        if (m.state === "running" || m.state === "waiting") open = true;
        else if (!open) {
          since = m.id;
          if (m.seq > 0) seqSince = m.seq;
        }
      });
      info((o.thread.parent ? "Branched from thread " + o.thread.parent + ". " : "") + note);
      if (o.more || o.running) timer = setTimeout(poll, o.more || o.held ? 0 : POLL_MS);
    }).catch(function (e) {
      inflight = false;
      if (e.message !== "login") info("Could not load the thread: " + e.message);
    });
  }

  function open(id) {
    gen++;
    cur = id;
    since = 0;
    have = -1;
    shown = {};
    thread = null;
    seqSince = seqMax = 0;
    var log = $("chat-log");
    while (log.firstChild) log.removeChild(log.firstChild);
    $("chat-thread").value = String(id);
    return poll();
  }

  function threads(select) {
    return get("/api/chat").then(function (o) {
      var a = $("chat-agent"), t = $("chat-thread");
      var keep = a.value;
      while (a.firstChild) a.removeChild(a.firstChild);
      var sealed = false;
      o.agents.forEach(function (ag) {
        var op = el("option", ag.name + (ag.e2e ? " (end-to-end)" : ""));
        sealed = sealed || ag.e2e;
        op.value = ag.name;
        a.appendChild(op);
      });
      if (keep) a.value = keep;
      while (t.firstChild) t.removeChild(t.firstChild);
      if (o.threads.length === 0) t.appendChild(el("option", "No threads yet"));
      o.threads.forEach(function (th) {
        var op = el("option", "#" + th.id + " " + th.agent + ": " +
          (th.e2e ? "(sealed)" : th.title || "(empty)"));
        sealed = sealed || th.e2e;
        op.value = String(th.id);
        t.appendChild(op);
      });
      t.disabled = o.threads.length === 0;
      wxseal.show(sealed);
      if (select) return open(select);
      if (!cur && o.threads.length > 0) return open(o.threads[0].id);
      if (cur) t.value = String(cur);
    });
  }

  function answer(r, ok) {
    if (r.status === 200) { ok(r.body); return; }
    info("Refused: " + (r.body.error || r.status));
  }

  function branch(id) {
    post("/api/chat/branch?msg=" + id).then(function (r) {
      answer(r, function (b) { threads(b.thread); });
    });
  }

  function sent(r) {
    answer(r, function () {
      $("chat-text").value = "";
      info(note);
      threads(0).then(poll);
    });
    /* Another message came first: read the thread again, then resend. */
    if (r.status === 409 && thread && thread.e2e) open(cur);
  }

  /* Sealed, a message is its envelope; a command goes in the clear. */
  function send(text) {
    if (!(thread && thread.e2e) || COMMAND.test(text))
      return post("/api/chat/send?thread=" + cur, text).then(sent);
    var seq = seqMax + 1;
    return wxseal.seal(thread, seq, text).then(function (env) {
      if (new Blob([env]).size > 32768) {
        info("Too long for one sealed message: send it in parts.");
        return;
      }
      return post("/api/chat/seal?at=" + cur + ":" + seq, env).then(sent);
    }).catch(function (e) { info("Not sent: " + e.message); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("chat-new").addEventListener("click", function () {
      post("/api/chat/new?agent=" + encodeURIComponent($("chat-agent").value))
        .then(function (r) { answer(r, function (b) { threads(b.thread); }); });
    });
    $("chat-thread").addEventListener("change", function () {
      open(Number($("chat-thread").value));
    });
    $("chat-model").addEventListener("change", function () {
      send("/model " + $("chat-model").value);
    });
    $("chat-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var text = $("chat-text").value;
      if (!cur) { info("Open a thread first: pick an agent, then New thread."); return; }
      if (text.trim() !== "") send(text);
    });
    get("/api/session").then(function (s) {
      csrf = s.csrf;
      admin = s.scope === "admin";
      ["chat-new", "chat-text", "chat-send"].forEach(function (id) { $(id).disabled = !admin; });
      if (!admin) info(note = "A viewer reads threads; only an admin may write in them.");
      return wxseal.init(csrf, false, function () { if (cur) open(cur); }).then(function () {
        return threads(0);
      });
    }).catch(function (e) {
      if (e.message !== "login") info("Could not load the chat: " + e.message);
    });
  });
})();
