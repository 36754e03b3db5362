/*
 * The operator console's page: it reads /api/session, /api/overview,
 * /api/accounts, /api/pairings, /api/shares, /api/schedules,
 * /api/conversations and /api/log with its cookie (thread.js reads a
 * conversation's /api/thread) and writes with the
 * session's CSRF token (a message to send as the body).  Every value from
 * the server goes in with textContent, never as markup, so a name
 * someone else chose stays text.
 */
"use strict";
(function () {
  var csrf = "";
  var scope = "";
  /* The last log line read, and which filters it was read for. */
  var logSince = 0;
  var logGen = 0;
  /* Lines kept on screen: the hub's answer holds at most 500 too. */
  var LOG_SHOWN = 500;

  var $ = wxc.$, get = wxc.get;

  function say(text) { $("status").textContent = text; }

  function toLogin() { window.location.assign("/"); }

  /* body: a message to send, as the request's text. */
  function post(path, body) { return wxc.post(path, csrf, body); }

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

  /*
   * A write, then the page again, then what the hub said (after the
   * refresh, which would say "Updated" over it).
   */
  function act(path, done) {
    post(path).then(function (r) {
      var msg = r.status === 200 ? done :
        "Refused: " + (r.body.error || r.status);
      return refresh().then(function () { say(msg); });
    });
  }

  /* A new link's address and QR code: the one time they can be shown. */
  function shareCreate(e) {
    e.preventDefault();
    post("/api/share/create?days=" +
      encodeURIComponent($("share-days").value)).then(function (r) {
      var msg = "Refused: " + (r.body.error || r.status);
      if (r.status === 200) {
        $("share-url").value = r.body.url;
        if (r.body.qr)
          $("share-qr").src = "data:image/svg+xml," + encodeURIComponent(r.body.qr);
        $("share-qr").hidden = !r.body.qr;
        $("share-new").hidden = false;
        msg = "Created a link; it is shown this once";
      }
      return refresh().then(function () { say(msg); });
    });
  }

  function shareCopy() {
    var u = $("share-url");
    u.select();
    if (navigator.clipboard)
      navigator.clipboard.writeText(u.value).then(function () {
        say("Copied the link");
      }, function () { say("Select the link and copy it"); });
  }

  function decide(code, approve) {
    act("/api/pairing/" + (approve ? "approve" : "deny") + "?code=" +
      encodeURIComponent(code), (approve ? "Approved " : "Denied ") + code);
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
    act("/api/peer/revoke?account=" + encodeURIComponent(account) +
      "&peer=" + encodeURIComponent(peer), "Revoked " + peer);
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

  function shares(o) {
    $("share-base").textContent = o.base;
    fill("shares", o.links, function (tr, l) {
      cell(tr, l.id, "mono");
      cell(tr, l.state, "state-" + l.state);
      cell(tr, l.read_only ? "read-only" : "chat");
      cell(tr, l.session > 0 ? String(l.session) : "new per visitor");
      cell(tr, when(l.created));
      cell(tr, l.expires > 0 ? when(l.expires) : "never");
      var td = cell(tr, l.state === "revoked" ? when(l.revoked) : "");
      if (l.state !== "revoked")
        td.appendChild(button("Revoke", "link " + l.id, function () {
          act("/api/share/revoke?id=" + encodeURIComponent(l.id),
            "Revoked link " + l.id);
        }));
    }, "No share links.");
    $("shares-more").hidden = !o.more;
  }

  /*
   * The hub draws a login's QR code as an SVG document; an <img> shows
   * it from a data: URL, so it is an image, never the page's markup.
   */
  function login(td, a) {
    if (a.login === "done") {
      td.textContent = "Logged in";
      return;
    }
    if (a.login !== "scan") return;
    if (a.qr) {
      var img = document.createElement("img");
      img.className = "qr";
      img.alt = "Login QR code for " + a.name;
      img.src = "data:image/svg+xml," + encodeURIComponent(a.qr);
      td.appendChild(img);
    }
    var p = document.createElement("p");
    p.textContent = a.qr ? "Scan it in WeChat on the owner's phone." :
      "Waiting for a scan: wxgatectl login " + a.name + " shows the code.";
    td.appendChild(p);
  }

  function accounts(o) {
    fill("accounts", o.accounts, function (tr, a) {
      /* The code near the name, on a phone's first screen too. */
      cell(tr, a.name);
      login(cell(tr, "", "login"), a);
      var st = a.paused ? "paused" : a.state;
      cell(tr, st, "state-" + String(st).replace(/[^a-z]/g, ""));
      cell(tr, a.kind);
      cell(tr, a.source + (a.template ? " (" + a.template + ")" : ""));
      cell(tr, a.owner || "-", "wrap");
      var q = "?name=" + encodeURIComponent(a.name);
      cell(tr, "").appendChild(a.paused ? button("Resume", a.name, function () {
        act("/api/account/resume" + q, "Resumed " + a.name);
      }) : button("Pause", a.name, function () {
        act("/api/account/pause" + q, "Paused " + a.name);
      }));
    }, "No channel accounts.");
    $("accounts-more").hidden = !o.more;
    fill("invites", o.invites, function (tr, i) {
      var n = String(i.id);
      cell(tr, n, "num");
      cell(tr, i.template || "");
      cell(tr, i.state, "state-" + i.state.replace(/[^a-z]/g, ""));
      cell(tr, when(i.created));
      cell(tr, when(i.expires));
      cell(tr, String(i.uses_left), "num");
      cell(tr, String(i.used), "num");
      var td = cell(tr, i.state === "revoked" ? when(i.revoked) : "");
      if (i.state === "live")
        td.appendChild(button("Revoke", "invitation " + n, function () {
          act("/api/invite/revoke?id=" + n, "Revoked invitation " + n);
        }));
    }, "No binding invitations. Make one with wxgatectl bind create.");
    $("invites-more").hidden = !o.invites_more;
  }

  /* items: a sealed schedule's runs and their li, for wxsched. */
  function runs(list, items) {
    var ul = document.createElement("ul");
    ul.className = "runs";
    list.slice().reverse().forEach(function (r) {
      var li = document.createElement("li");
      if (items) items.push({ run: r, li: li });
      li.textContent = when(r.started) + " " + r.state +
        (r.manual ? " (run now)" : "") + (r.error ? ": " + r.error : "");
      if (r.targets.length > 0) {
        var tl = document.createElement("ul");
        r.targets.forEach(function (t) {
          var ti = document.createElement("li");
          ti.textContent = (t.channel || "") + ":" + (t.target || "") + " " +
            t.state + (t.detail ? ": " + t.detail : "");
          tl.appendChild(ti);
        });
        li.appendChild(tl);
      }
      ul.appendChild(li);
    });
    return ul;
  }

  function schedules(o) {
    fill("schedules", o.schedules, function (tr, s) {
      var q = "?name=" + encodeURIComponent(s.name);
      cell(tr, s.name);
      cell(tr, s.cron ? s.cron + " " + (s.tz || "") : "every " + s.every);
      var what = cell(tr, s.sealed ? "" : (s.agent ? "agent " + s.agent + ": " : "") + s.text, "wrap");
      cell(tr, s.sealed ? "none (sealed)" : s.targets.split("\n").join(", "), "wrap");
      cell(tr, when(s.next_run));
      cell(tr, (s.paused ? "paused" : "active") +
        (s.from_config ? " (file)" : ""),
        "state-" + (s.paused ? "paused" : "active"));
      var td = cell(tr, s.runs.length > 0 ? "" : "never run");
      var items = s.sealed ? [] : null;
      if (s.runs.length > 0) td.appendChild(runs(s.runs, items));
      if (s.sealed && window.wxsched) wxsched.draw(s, what, items);
      td = cell(tr, "");
      /* On a cluster, changes are the scheduler node's alone. */
      if (o.elsewhere) return;
      td.appendChild(button("Run now", s.name, function () {
        act("/api/schedule/run" + q, "Started " + s.name);
      }));
      /* The file's schedules are changed in the file: the hub says so. */
      if (!s.from_config)
        td.appendChild(s.paused ? button("Resume", s.name, function () {
          act("/api/schedule/resume" + q, "Resumed " + s.name);
        }) : button("Pause", s.name, function () {
          act("/api/schedule/pause" + q, "Paused " + s.name);
        }));
    }, "No schedules. Add one with wxgatectl schedule add or in the configuration file.");
    $("schedules-more").hidden = !o.more;
    /* A node of a cluster that does not run them: the cluster's list. */
    $("schedules-where").hidden = !o.elsewhere;
    $("schedules-where").textContent = o.elsewhere ?
      "This node shows the cluster's schedules; " + o.elsewhere +
      " to run, pause or resume one." : "";
  }

  /* Worker names from the overview, keeping the one selected. */
  function logWorkers(list) {
    var sel = $("log-worker");
    var names = ["", "hub"].concat(list.map(function (w) { return w.name; }));
    var have = [].map.call(sel.options, function (o) { return o.value; });
    if (names.join("\n") === have.join("\n")) return;
    var keep = sel.value;
    while (sel.firstChild) sel.removeChild(sel.firstChild);
    names.forEach(function (n) {
      var o = document.createElement("option");
      o.value = n;
      o.textContent = n === "" ? "All" : n;
      sel.appendChild(o);
    });
    /* A worker gone from the list keeps its lines until reselected. */
    if (names.indexOf(keep) === -1) {
      var o = document.createElement("option");
      o.value = keep;
      o.textContent = keep;
      sel.appendChild(o);
    }
    sel.value = keep;
  }

  /*
   * The search as the hub takes it: the peer a lower-case word, the
   * text as typed, in any language (the hub folds ASCII case).
   */
  function convPath() {
    var q = [];
    ["peer", "text"].forEach(function (k) {
      var v = $("conv-" + k).value.trim();
      if (k === "peer") v = v.toLowerCase();
      if (v !== "") q.push(k + "=" + encodeURIComponent(v));
    });
    return "/api/conversations" + (q.length ? "?" + q.join("&") : "");
  }

  /*
   * One row per message, the conversation's newest last; its first row
   * has the button thread.js opens the whole conversation with.
   */
  function conversations(o) {
    var rows = [];
    o.conversations.forEach(function (c) {
      c.messages.forEach(function (m, i) {
        rows.push({ c: c, m: m, first: i === 0 });
      });
    });
    fill("conversations", rows, function (tr, r) {
      cell(tr, r.c.account);
      cell(tr, r.c.peer);
      cell(tr, new Date(r.m.time * 1000).toISOString().slice(0, 19).replace("T", " "));
      cell(tr, r.m.sent ? "(sent as the bot)" : r.m.text, "text");
      cell(tr, r.m.reply === null ? "-" : r.m.reply, "text");
      cell(tr, r.m.delivery === null ? "-" : r.m.delivery);
      var td = cell(tr, "");
      if (r.first) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "btn open-thread";
        b.textContent = "Open";
        b.setAttribute("aria-label", "Open the conversation with " + r.c.peer);
        b.dataset.session = String(r.c.session);
        td.appendChild(b);
      }
    }, "No conversations" + (convPath() === "/api/conversations" ?
      " yet." : " match the search."));
    $("conversations-more").hidden = !o.more;
    sendTargets(o.conversations);
  }

  /*
   * The take-over form lists the conversations the hub says may be
   * written to now ("send": the characters a message holds there);
   * none, no form.  The choice and the text survive a refresh.
   */
  function sendTargets(list) {
    var sel = $("conv-to"), keep = sel.value;
    var open = list.filter(function (c) { return c.send > 0; });
    while (sel.firstChild) sel.removeChild(sel.firstChild);
    open.forEach(function (c) {
      var o = document.createElement("option");
      o.value = JSON.stringify([c.account, c.peer]);
      o.textContent = c.account + ": " + c.peer;
      sel.appendChild(o);
    });
    if (open.some(function (c) { return JSON.stringify([c.account, c.peer]) === keep; }))
      sel.value = keep;
    $("conv-send").hidden = open.length === 0;
  }

  function sendMessage(e) {
    e.preventDefault();
    var to = JSON.parse($("conv-to").value), text = $("conv-msg").value;
    post("/api/conv/send?account=" + encodeURIComponent(to[0]) +
      "&peer=" + encodeURIComponent(to[1]), text).then(function (r) {
      if (r.status === 200) $("conv-msg").value = "";
      var msg = r.status === 200 ? "Sent to " + to[1] :
        "Refused: " + (r.body.error || r.status);
      return refresh().then(function () { say(msg); });
    });
  }

  function logPath() {
    var q = "?since=" + logSince + "&level=" +
      encodeURIComponent($("log-level").value);
    if ($("log-worker").value !== "")
      q += "&worker=" + encodeURIComponent($("log-worker").value);
    return "/api/log" + q;
  }

  function logClear() {
    var tb = $("log");
    while (tb.firstChild) tb.removeChild(tb.firstChild);
    logSince = 0;
    $("log-more").hidden = true;
  }

  /* New lines at the bottom, following them if the view was there. */
  function logLines(o) {
    var box = $("log-box"), tb = $("log");
    var atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
    /* Below what we read: a new hub, counting from 1 again. */
    if (o.seq < logSince) logClear();
    if (logSince > 0 && o.more) $("log-more").hidden = false;
    o.lines.forEach(function (l) {
      /* Two reads in flight for the same filters: each line once. */
      if (l.seq <= logSince) return;
      var tr = document.createElement("tr");
      /* The time of day fits a phone; the date is in its title. */
      var at = new Date(l.time).toISOString();
      cell(tr, at.slice(11, 19)).title = at.slice(0, 10);
      cell(tr, l.level, "lvl-" + l.level);
      cell(tr, l.worker);
      cell(tr, l.text, "line");
      tb.appendChild(tr);
    });
    while (tb.rows.length > LOG_SHOWN) tb.removeChild(tb.firstChild);
    logSince = Math.max(logSince, o.seq);
    if (atEnd) box.scrollTop = box.scrollHeight;
  }

  function logRead() {
    var gen = logGen;
    return get(logPath()).then(function (o) {
      /* Read for filters since changed: the next read redoes it. */
      if (gen === logGen) logLines(o);
    });
  }

  function logFilter() {
    logGen++;
    logClear();
    logRead().catch(function (e) {
      if (e.message !== "login") say("Could not load: " + e.message);
    });
  }

  function refresh() {
    return Promise.all([get("/api/overview"), get("/api/pairings"),
      get("/api/shares"), get("/api/schedules"), get("/api/accounts"),
      get(convPath())])
      .then(function (v) {
        overview(v[0]);
        logWorkers(v[0].workers);
        pairings(v[1]);
        shares(v[2]);
        schedules(v[3]);
        accounts(v[4]);
        conversations(v[5]);
        return logRead();
      }).then(function () {
        say("Updated " + new Date().toLocaleTimeString());
      }).catch(function (e) {
        if (e.message !== "login") say("Could not load: " + e.message);
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("logout").addEventListener("click", function () {
      post("/api/logout").then(toLogin);
    });
    $("log-level").addEventListener("change", logFilter);
    $("log-worker").addEventListener("change", logFilter);
    $("conv-send").addEventListener("submit", sendMessage);
    $("share-create").addEventListener("submit", shareCreate);
    $("share-copy").addEventListener("click", shareCopy);
    $("conv-search").addEventListener("submit", function (e) {
      e.preventDefault();
      get(convPath()).then(conversations).catch(function (e) {
        if (e.message !== "login") say("Could not load: " + e.message);
      });
    });
    get("/api/session").then(function (s) {
      csrf = s.csrf;
      scope = s.scope;
      $("share-create").hidden = scope !== "admin";
      $("who").textContent = s.operator + " (" + scope + ")";
      return refresh();
    }).then(function () {
      setInterval(refresh, 5000);
    }).catch(function (e) {
      if (e.message !== "login") say("Could not load: " + e.message);
    });
  });
})();
