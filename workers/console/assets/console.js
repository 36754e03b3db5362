/*
 * The operator console's page: it reads /api/session, /api/overview and
 * /api/pairings with its cookie and writes with the session's CSRF
 * token.  Every value from the server goes in with textContent, never
 * as markup, so a name someone else chose stays text.
 */
"use strict";
(function () {
  var csrf = "";
  var scope = "";

  function $(id) { return document.getElementById(id); }

  function say(text) { $("status").textContent = text; }

  function toLogin() { window.location.assign("/"); }

  function get(path) {
    return fetch(path, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.status === 401) { toLogin(); throw new Error("login"); }
        if (!r.ok) throw new Error(path + ": " + r.status);
        return r.json();
      });
  }

  function post(path) {
    return fetch(path, { method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf } })
      .then(function (r) {
        return r.json().then(function (b) { return { status: r.status, body: b }; });
      });
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function duration(ms) {
    var s = Math.floor(ms / 1000);
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor(s % 3600 / 60) + " min";
    return Math.floor(s / 86400) + " d " + Math.floor(s % 86400 / 3600) + " h";
  }

  function fill(id, rows, draw, none) {
    var tb = $(id);
    while (tb.firstChild) tb.removeChild(tb.firstChild);
    if (rows.length === 0) {
      var tr = document.createElement("tr");
      var td = cell(tr, none, "none");
      td.colSpan = tb.parentNode.querySelectorAll("th").length;
      tb.appendChild(tr);
      return;
    }
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      draw(tr, r);
      tb.appendChild(tr);
    });
  }

  function overview(o) {
    fill("workers", o.workers, function (tr, w) {
      cell(tr, w.name);
      cell(tr, w.kind);
      cell(tr, w.state, "state-" + String(w.state).replace(/[^a-z]/g, ""));
      cell(tr, w.pid > 0 ? duration(w.uptime_ms) : "-", "num");
      cell(tr, String(w.restarts), "num");
      cell(tr, w.last_exit || "-");
      cell(tr, String(w.queue), "num");
      cell(tr, String(w.msgs_in), "num");
      cell(tr, String(w.msgs_out), "num");
    }, "No workers.");
    fill("channels", o.channels, function (tr, c) {
      cell(tr, c.name);
      cell(tr, String(c.received), "num");
      cell(tr, String(c.sent), "num");
      cell(tr, String(c.failed), "num");
    }, "No channels configured.");
  }

  function decide(code, approve) {
    post("/api/pairing/" + (approve ? "approve" : "deny") + "?code=" +
      encodeURIComponent(code)).then(function (r) {
      var msg = r.status === 200 ? (approve ? "Approved " : "Denied ") + code :
        "Refused: " + (r.body.error || r.status);
      /* Said after the refresh, which would say "Updated" over it. */
      return refresh().then(function () { say(msg); });
    });
  }

  function when(t) {
    return t > 0 ? new Date(t * 1000).toISOString().replace("T", " ").slice(0, 16) : "-";
  }

  function button(label, name, fn) {
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "btn";
    btn.textContent = label;
    btn.setAttribute("aria-label", label + " " + name);
    btn.addEventListener("click", fn);
    return btn;
  }

  function revoke(account, peer) {
    post("/api/peer/revoke?account=" + encodeURIComponent(account) +
      "&peer=" + encodeURIComponent(peer)).then(function (r) {
      var msg = r.status === 200 ? "Revoked " + peer :
        "Refused: " + (r.body.error || r.status);
      return refresh().then(function () { say(msg); });
    });
  }

  function pairings(p) {
    fill("pairings", p.pairings, function (tr, r) {
      cell(tr, r.code);
      cell(tr, r.account || "");
      cell(tr, r.peer || "");
      cell(tr, when(r.expires));
      var td = cell(tr, "");
      [["Approve", true], ["Deny", false]].forEach(function (b) {
        td.appendChild(button(b[0], r.code, function () { decide(r.code, b[1]); }));
      });
    }, "No pairing requests waiting.");
    fill("allowed", p.allowed, function (tr, r) {
      cell(tr, r.account || "");
      cell(tr, r.peer || "");
      cell(tr, when(r.approved));
      cell(tr, "").appendChild(button("Revoke", r.peer || "", function () {
        revoke(r.account, r.peer);
      }));
    }, "No senders allowed yet.");
    $("allowed-more").hidden = !p.more;
  }

  function refresh() {
    return Promise.all([get("/api/overview"), get("/api/pairings")])
      .then(function (v) {
        overview(v[0]);
        pairings(v[1]);
        say("Updated " + new Date().toLocaleTimeString());
      }).catch(function (e) {
        if (e.message !== "login") say("Could not load: " + e.message);
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("logout").addEventListener("click", function () {
      post("/api/logout").then(toLogin);
    });
    get("/api/session").then(function (s) {
      csrf = s.csrf;
      scope = s.scope;
      $("who").textContent = s.operator + " (" + scope + ")";
      return refresh();
    }).then(function () {
      setInterval(refresh, 5000);
    }).catch(function (e) {
      if (e.message !== "login") say("Could not load: " + e.message);
    });
  });
})();
