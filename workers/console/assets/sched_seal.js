/*
 * Sealed schedules on the schedules page (docs/e2e.md), on seal.js:
 * the prompt is sealed here for the schedule's id, so making one takes
 * two posts (the definition, which answers the id; then the prompt);
 * a prompt and each run's summary are opened here with the key the
 * Chat section unlocked.  What fails to open shows the same warning as
 * a chat message, never its text.  One too long for the list comes as
 * "long" and is fetched alone (GET /api/schedule/sealed).  console.js
 * calls draw() as it fills the table; everything is textContent.
 */
"use strict";
var wxsched = (function () {
  var $ = wxc.$, el = wxc.el;
  var csrf = "";
  var LOCKED = "sealed: unlock in Chat";
  /*
   * Long summaries fetched, kept: a run's answer does not change once
   * it is there, and the table is drawn again every few seconds.  A
   * prompt can be sealed again, so it is fetched each time (and its
   * opening is seal.js's cache's).  The oldest go first past LONG_MAX.
   */
  var LONG_MAX = 50;
  var fetched = new Map();

  /* The whole envelope of schedule id's prompt (run 0) or run's summary. */
  function fetchLong(id, run) {
    var q = "/api/schedule/sealed?id=" + encodeURIComponent(id) +
      (run ? "&run=" + encodeURIComponent(run) : "");
    var p = fetched.get(q);
    if (p !== undefined) return p;
    p = wxc.get(q).then(function (o) { return o.sealed; });
    if (run) {
      fetched.set(q, p);
      p.catch(function () { fetched.delete(q); });
      if (fetched.size > LONG_MAX) fetched.delete(fetched.keys().next().value);
    }
    return p;
  }

  /*
   * An envelope into node, once it is open (or why it is not); "long"
   * is fetched first, as schedule id's prompt or run's summary.
   */
  function into(node, label, kind, scope, sender, env, id, run) {
    if (env === null || env === undefined) { node.textContent = label + "none yet"; return; }
    if (!wxseal.unlocked()) { node.textContent = label + LOCKED; return; }
    node.textContent = label + "…";
    (env === "long" ? fetchLong(id, run) : Promise.resolve(env)).then(function (e) {
      return wxseal.openAs(kind, scope, sender, 0, e);
    }).then(function (r) {
      node.textContent = label + (r.text !== undefined ? r.text : r.why);
      if (r.why) node.className += " warn";
    }, function () {
      node.textContent = label + "sealed, and too long to list; fetching it failed";
      node.className += " warn";
    });
  }

  /* A sealed schedule's prompt in td, each run's summary in its li. */
  function draw(s, td, items) {
    var id = String(s.id);
    td.textContent = "";
    td.appendChild(el("span", "agent " + (s.agent || "") + " (sealed by " + (s.owner || "?") + "): "));
    var p = el("span", "", "sealed");
    td.appendChild(p);
    if (s.owner !== wxseal.owner()) p.textContent = "sealed with operator " + s.owner + "'s key";
    else into(p, "", "sched", id, "operator", s.prompt, id, 0);
    (items || []).forEach(function (x) {
      var d = el("div", "", "summary");
      x.li.appendChild(d);
      if (s.owner !== wxseal.owner()) { d.textContent = "summary sealed with operator " + s.owner + "'s key"; return; }
      if (x.run.state !== "done" && !x.run.summary) return;
      into(d, "summary: ", "run", id + "@" + x.run.slot, "agent", x.run.summary, id, x.run.id);
    });
  }

  function say(text) { $("sched-seal-state").textContent = text; }

  /* Both steps; a prompt that fails to go leaves the schedule paused. */
  function create(e) {
    e.preventDefault();
    var when = $("sched-seal-when").value.trim(), text = $("sched-seal-prompt").value;
    if (!wxseal.unlocked()) { say("Unlock your key in the Chat section first."); return; }
    if (text.trim() === "") { say("Write the prompt."); return; }
    var def = { name: $("sched-seal-name").value.trim(), agent: $("sched-seal-agent").value };
    if (/\s/.test(when)) def.cron = when; else def.every = when;
    def.tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    say("Making it…");
    wxc.post("/api/schedule/seal", csrf, JSON.stringify(def)).then(function (r) {
      if (r.status !== 200) throw new Error(r.body.error || r.status);
      var id = String(r.body.id);
      return wxseal.sealAs("sched", id, "operator", 0, text).then(function (env) {
        return wxc.post("/api/schedule/prompt?id=" + id, csrf, env);
      }).then(function (r2) {
        if (r2.status !== 200) throw new Error((r2.body.error || r2.status) + " (the schedule stays paused)");
        $("sched-seal-prompt").value = "";
        say("Made sealed schedule " + def.name + ".");
      });
    }).catch(function (err) { say("Refused: " + err.message); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wxc.get("/api/session").then(function (s) {
      csrf = s.csrf;
      if (s.scope !== "admin") return null;
      return wxc.get("/api/chat");
    }).then(function (o) {
      if (o === null) return;
      var sel = $("sched-seal-agent");
      o.agents.filter(function (a) { return a.e2e; }).forEach(function (a) {
        sel.appendChild(el("option", a.name)).value = a.name;
      });
      if (sel.options.length === 0) return;
      $("sched-seal").hidden = false;
      $("sched-seal").addEventListener("submit", create);
    }).catch(function () {});
  });

  return { draw: draw };
})();
