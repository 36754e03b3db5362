/*
 * The Conversations page's thread view: a conversation's "Open" button
 * (drawn by console.js with the session's number) shows its messages
 * both ways from /api/thread, newest last, the delivery state of each
 * reply, the /new that reset the agent's context, and each message's
 * attachments; "Older messages" asks for the page before the cursor the
 * last answer gave.  An attachment the hub says is an image (by its
 * bytes) is an <img> of /api/media, same-origin; any other is a link
 * that downloads it; one over what the hub serves says so.  Every value
 * goes in with textContent, never as markup.
 */
"use strict";
(function () {
  var session = 0;      /* the conversation shown, 0: none */
  var older = null;     /* the cursor of the page before, null: none */
  var gen = 0;          /* a newer open wins over an older answer */
  var busy = false;     /* an older page asked for: a second click waits */

  var $ = wxc.$, el = wxc.el, get = wxc.get;

  function info(text) { $("thread-info").textContent = text; }

  function when(t) {
    return new Date(t * 1000).toISOString().slice(0, 19).replace("T", " ");
  }

  function bytes(n) {
    if (n < 1024) return n + " bytes";
    if (n < 1048576) return (n / 1024).toFixed(1) + " KiB";
    return (n / 1048576).toFixed(1) + " MiB";
  }

  function mediaPath(m, p) {
    return "/api/media?msg=" + m.id + "&seq=" + p.seq;
  }

  /* One attachment: a preview, a download, or why neither. */
  function part(m, p, peer) {
    var li = el("li");
    var what = p.kind + (p.name ? " " + p.name : "") + ", " + bytes(p.size);
    if (!p.fits) {
      li.appendChild(el("span", what + ": too large to preview", "toobig"));
      return li;
    }
    if (p.image) {
      var img = el("img", null, "preview");
      img.alt = "Image from " + peer + ", " + bytes(p.size);
      img.loading = "lazy";
      img.src = mediaPath(m, p);
      li.appendChild(img);
      return li;
    }
    var a = el("a", what);
    a.href = mediaPath(m, p);
    a.setAttribute("download", "");
    li.appendChild(a);
    return li;
  }

  function said(li, who, t, text) {
    li.appendChild(el("p", who + " · " + when(t), "who"));
    li.appendChild(el("p", text, "text"));
  }

  function message(m, peer) {
    var li = el("li", null, "msg" + (m.sent ? " sent" : ""));
    li.dataset.id = String(m.id);
    if (m.sent) {
      said(li, "Sent as the bot", m.time, m.reply);
    } else {
      said(li, m.sender || peer, m.time, m.text);
      if (m.parts.length > 0) {
        var ul = el("ul", null, "parts");
        ul.setAttribute("aria-label", "Attachments");
        m.parts.forEach(function (p) { ul.appendChild(part(m, p, peer)); });
        li.appendChild(ul);
      }
      if (m.reset)
        li.appendChild(el("p", "Context reset: the agent no longer sees " +
          "what came before this message.", "reset"));
      if (m.reply !== null)
        said(li, "Reply", m.answered || m.time, m.reply);
      else
        li.appendChild(el("p", "Not answered yet.", "state"));
    }
    if (m.reply !== null)
      li.appendChild(el("p", "Delivery: " + (m.delivery || "-"),
        "state delivery-" + String(m.delivery || "none").replace(/[^a-z]/g, "")));
    return li;
  }

  /* A page of messages, oldest first: at the top when older ones. */
  function draw(o, top) {
    var log = $("thread-log"), first = log.firstChild;
    o.messages.forEach(function (m) {
      var li = message(m, o.peer);
      if (top) log.insertBefore(li, first); else log.appendChild(li);
    });
    older = o.older;
    $("thread-older").hidden = older === null;
  }

  function open(sid) {
    var g = ++gen;
    session = sid;
    older = null;
    info("Loading…");
    return get("/api/thread?session=" + sid).then(function (o) {
      if (g !== gen) return;
      var log = $("thread-log");
      while (log.firstChild) log.removeChild(log.firstChild);
      $("h-thread").textContent = o.account + ": " + o.peer;
      draw(o, false);
      $("thread").hidden = false;
      info(o.messages.length === 0 ? "No messages." : "");
      log.scrollTop = log.scrollHeight;
      $("h-thread").focus();
    }).catch(function (e) {
      if (e.message !== "login") info("Could not load: " + e.message);
    });
  }

  /* The same cursor twice would draw its page twice. */
  function more() {
    var g = gen;
    if (older === null || busy) return;
    busy = true;
    get("/api/thread?session=" + session + "&before=" +
      encodeURIComponent(older)).then(function (o) {
      if (g === gen) draw(o, true);
    }).catch(function (e) {
      if (e.message !== "login") info("Could not load: " + e.message);
    }).then(function () { busy = false; });
  }

  function close() {
    gen++;
    session = 0;
    $("thread").hidden = true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    /* The table is redrawn every few seconds: listen on its body. */
    $("conversations").addEventListener("click", function (e) {
      var b = e.target.closest("button.open-thread");
      if (b) open(Number(b.dataset.session));
    });
    $("thread-older").addEventListener("click", more);
    $("thread-close").addEventListener("click", close);
  });
})();
