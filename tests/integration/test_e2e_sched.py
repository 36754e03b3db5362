"""Sealed schedules (issue #19, docs/e2e.md): a schedule whose prompt the
operator's browser sealed, asked of a relay agent with e2e, whose answers
stay sealed in the run's history.  The browser is played by e2e_tool, as
in test_e2e.py; the relay is the real wxgate-relay against a fake OpenAI
server, the only place the plaintext may arrive.

Checked: made in two steps through the console (the definition, then the
prompt sealed for the id it got); the model sees the prompt, the run's
summary opens as the run's and as nothing else; the store, its WAL and
the log hold neither the prompt nor the answer, and no outbox row is
made; a prompt and a summary too long for the list come whole from
/api/schedule/sealed and open; a prompt moved from another sealed
schedule fails the run before the model; plaintext, targets, an agent without e2e, another operator
and a viewer are refused (the viewer audited)."""

import json
import subprocess

from conftest import audit_rows, wait_for
from fake_openai import Fake
from test_console import OPERATORS, login, page, request, with_cookie
from test_console_chat import poster_body
from test_e2e import KEY, TOOL, nowhere_in_clear, relay, tool, with_key
from test_e2e import gate_with_relay as e2e_gate
from test_relay import crelays  # noqa: F401 (fixture)

ADMINS = OPERATORS + [{"name": "other-op", "scope": "admin"}]


def gate_with_relay(gate_factory):
    return e2e_gate(gate_factory, operators=ADMINS)


def seal_prompt(sid, text):
    return tool("seal", KEY, "sched", sid, "operator", 0, data=text).strip()


def open_summary(sid, slot, env):
    return tool("open", KEY, "run", "%d@%d" % (sid, slot), "agent", 0,
                data=env)


def make(post, name, agent="home", **more):
    d = {"name": name, "every": "1h", "agent": agent}
    d.update(more)
    st, _, body = post("/api/schedule/seal", json.dumps(d).encode())
    return st, json.loads(body)


def sealed(gate, admin, post, name, text):
    """A sealed schedule with its prompt: its id."""
    st, o = make(post, name)
    assert st == 200, o
    sid = o["id"]
    st, _, body = post("/api/schedule/prompt?id=%d" % sid,
                       seal_prompt(sid, text).encode())
    assert st == 200, body
    return sid


def fetch_sealed(gate, session, query):
    """GET /api/schedule/sealed?QUERY: (status, the JSON body)."""
    st, _, body = request(gate.console_port, "GET",
                          "/api/schedule/sealed?" + query,
                          with_cookie(session))
    return st, json.loads(body)


def listed(gate, admin, name):
    (s,) = [s for s in page(gate, admin, "schedules")["schedules"]
            if s["name"] == name]
    return s


def ended(gate, admin, name, n):
    """The schedule once its n-th run has ended."""
    def ok():
        s = listed(gate, admin, name)
        return s if len(s["runs"]) >= n and \
            s["runs"][n - 1]["state"] in ("done", "failed") else None
    return wait_for(ok, 20, 0.1, "run %d of %s ended" % (n, name))


def test_sealed_schedule_reaches_the_model_and_nobody_else(gate_factory,
                                                           tmp_path, crelays):
    fake = Fake(chunks=3, delay=0.01).start()
    try:
        gate = gate_with_relay(gate_factory)
        admin = login(gate)
        post = poster_body(gate, admin)
        # No key yet: the page makes one before a sealed schedule.
        st, o = make(post, "vault")
        assert st == 409 and "passphrase" in o["error"], o
        with_key(gate, admin, post)
        r = relay(gate, fake, tmp_path, crelays)
        st, o = make(post, "vault")
        assert st == 200, o
        sid = o["id"]
        s = listed(gate, admin, "vault")
        assert (s["id"], s["sealed"], s["owner"], s["paused"],
                s["prompt"], s["text"]) == (sid, True, "root-op", True,
                                            None, None), s
        # Without its prompt it neither runs nor resumes.
        rc, out, err = gate.ctl("schedule", "run", "vault")
        assert rc != 0 and "no sealed prompt" in out + err, (out, err)
        st, _, body = post("/api/schedule/resume?name=vault")
        assert st == 409 and b"no sealed prompt" in body, body

        secret = "list the vault codes of 4711"
        env = seal_prompt(sid, secret)
        st, _, body = post("/api/schedule/prompt?id=%d" % sid,
                           env.encode())
        assert st == 200, body
        s = listed(gate, admin, "vault")
        assert s["paused"] is False and s["prompt"] == env, s
        assert s["next_run"] > 0

        n = len(fake.requests)
        rc, out, err = gate.ctl("schedule", "run", "vault")
        assert rc == 0, (out, err)
        run = ended(gate, admin, "vault", 1)["runs"][0]
        assert run["state"] == "done", run
        # The model saw the prompt, alone: no history, no other turn.
        assert len(fake.requests) == n + 1
        last = fake.requests[-1]["messages"]
        assert [t["content"] for t in last if t["role"] != "system"] == \
            [secret], last
        # The summary opens as this run's, and as nothing else.
        slot = run["slot"]
        assert (slot,) == gate.rows("SELECT slot FROM schedule_runs "
                                    "WHERE id = ?", (run["id"],))[0]
        assert open_summary(sid, slot, run["summary"]) == "echo: " + secret
        for args in (["run", "%d@%d" % (sid, slot + 1), "agent", "0"],
                     ["sched", str(sid), "operator", "0"],
                     ["run", "%d@%d" % (sid + 1, slot), "agent", "0"]):
            p = subprocess.run([TOOL, "open", KEY] + args,
                               input=run["summary"].encode(),
                               capture_output=True)
            assert p.returncode == 1, args
        # A second run: its own slot, its own summary.
        rc, out, err = gate.ctl("schedule", "run", "vault")
        assert rc == 0, (out, err)
        run2 = ended(gate, admin, "vault", 2)["runs"][1]
        assert run2["state"] == "done", run2
        assert open_summary(sid, run2["slot"], run2["summary"]) == \
            "echo: " + secret
        assert [t["content"] for t in fake.requests[-1]["messages"]
                if t["role"] != "system"] == [secret]
        # wxgatectl lists it and its runs (the prompt as ciphertext).
        rc, out, err = gate.ctl("schedule", "list")
        assert rc == 0 and "vault" in out and secret not in out, (out, err)
        rc, out, err = gate.ctl("schedule", "history", "vault")
        assert rc == 0 and out.count("done") == 2, (out, err)
        # The Conversations page says the run's texts are sealed.
        conv = [c for c in page(gate, admin, "conversations")
                ["conversations"] if c["peer"] == "vault"]
        assert conv and all(m["text"] == m["reply"] ==
                            "(sealed end to end)" for c in conv
                            for m in c["messages"]), conv
        # Nothing for a platform, nothing in the clear anywhere.
        assert gate.rows("SELECT count(*) FROM outbox") == [(0,)]
        assert gate.rows("SELECT count(*) FROM run_targets") == [(0,)]
        nowhere_in_clear(gate, secret, "4711")
        assert "sealed" in r.log()
        r.stop()
    finally:
        fake.stop()


def test_a_moved_prompt_fails_the_run_before_the_model(gate_factory,
                                                        tmp_path, crelays):
    fake = Fake(chunks=2, delay=0.01).start()
    try:
        gate = gate_with_relay(gate_factory)
        admin = login(gate)
        post = poster_body(gate, admin)
        with_key(gate, admin, post)
        r = relay(gate, fake, tmp_path, crelays)
        a = sealed(gate, admin, post, "a", "the first prompt")
        sealed(gate, admin, post, "b", "the second prompt")
        n = len(fake.requests)
        # b's prompt replaced by a's, as the server could.
        with gate.store_rw() as db:
            db.execute("UPDATE schedules SET body = (SELECT body FROM "
                       "schedules WHERE id = ?) WHERE name = 'b'", (a,))
        rc, out, err = gate.ctl("schedule", "run", "b")
        assert rc == 0, (out, err)
        run = ended(gate, admin, "b", 1)["runs"][0]
        assert run["state"] == "failed" and run["summary"] is None, run
        assert len(fake.requests) == n, "a moved prompt reached the model"
        assert "altered, moved or replayed" in r.log()
        # a's own still runs.
        assert gate.ctl("schedule", "run", "a")[0] == 0
        assert ended(gate, admin, "a", 1)["runs"][0]["state"] == "done"
        assert len(fake.requests) == n + 1
        r.stop()
    finally:
        fake.stop()


def test_what_a_sealed_schedule_refuses(gate_factory):
    gate = gate_with_relay(gate_factory)
    admin = login(gate)
    post = poster_body(gate, admin)
    with_key(gate, admin, post)
    # Targets: a platform would get ciphertext.
    st, o = make(post, "x", to=["hook:group"])
    assert st == 400 and "targets" in o["error"], o
    # An agent that cannot open it.
    st, o = make(post, "x", agent="default")
    assert st == 400 and "not end-to-end" in o["error"], o
    st, o = make(post, "x", agent="nobody")
    assert st == 400 and "no agent" in o["error"], o
    # The definition as wxgatectl's is checked.
    st, o = make(post, "x", every="never")
    assert st == 400 and "every" in o["error"], o
    st, o = make(post, "Bad Name")
    assert st == 400 and "name" in o["error"], o
    assert post("/api/schedule/seal", b"not json")[0] == 400
    st, o = make(post, "x")
    assert st == 200, o
    sid = o["id"]
    assert make(post, "x")[0] == 409
    # Plaintext, or not quite an envelope, is not a prompt.
    env = seal_prompt(sid, "hello")
    for bad in [b"hello", b'{"v":1,"n":"AAAA","c":"AAAA"}',
                env.replace('}', ',"x":1}').encode()]:
        st, _, body = post("/api/schedule/prompt?id=%d" % sid, bad)
        assert st == 400, (bad, body)
    assert post("/api/schedule/prompt?id=%d" % (sid + 9),
                env.encode())[0] == 404
    assert post("/api/schedule/prompt?id=x", env.encode())[0] == 404
    # Another admin's prompt for it is not its owner's.
    other = login(gate, "--operator", "other-op")
    st, _, body = poster_body(gate, other)(
        "/api/schedule/prompt?id=%d" % sid, env.encode())
    assert st == 403 and b"owner" in body, body
    # A viewer: refused by the hub, audited.
    viewer = login(gate, "--operator", "watcher")
    vpost = poster_body(gate, viewer)
    for path, method in [("/api/schedule/seal", "schedule.seal_new"),
                         ("/api/schedule/prompt?id=%d" % sid,
                          "schedule.seal_prompt")]:
        st, _, body = vpost(path, env.encode())
        assert st == 403 and b"viewer" in body, (path, body)
        wait_for(lambda: [r for r in audit_rows(
            gate, "role = 'console' AND method = ?", (method,))
            if "watcher is a viewer" in r["detail"]],
            5, 0.05, "the viewer's %s audited" % method)
    # None of it stored a prompt; the owner's envelope is taken.  A
    # console write answers in the hub's turn, before the group commit
    # that another connection reads: wait for the row (CI's ASan pass
    # read it first once).
    def row(want):
        wait_for(lambda: gate.rows(
            "SELECT body, paused FROM schedules WHERE id = ?",
            (sid,)) == want, 10, 0.05, "schedule row %r" % (want,))
    row([("", 1)])
    assert post("/api/schedule/prompt?id=%d" % sid, env.encode())[0] == 200
    row([(env, 0)])
    # The owner's creation is audited too.
    assert any(r["detail"] == "x" for r in audit_rows(
        gate, "method = ?", ("schedule.seal_new",)))


def test_long_sealed_texts_come_whole_from_their_own_route(gate_factory,
                                                           tmp_path,
                                                           crelays):
    """An envelope past the list's inline bound (12 KiB) is listed as
    "long"; GET /api/schedule/sealed gives the prompt, and a run's
    summary, whole, and both open."""
    fake = Fake(chunks=2, delay=0.01).start()
    try:
        gate = gate_with_relay(gate_factory)
        admin = login(gate)
        post = poster_body(gate, admin)
        with_key(gate, admin, post)
        r = relay(gate, fake, tmp_path, crelays)
        # About 20 KiB of text: an envelope of 27 KiB, under the 32 KiB
        # a prompt may be, and an echo of it that is as long.
        secret = "".join("line %05d of the long sealed brief\n" % i
                         for i in range(600))
        sid = sealed(gate, admin, post, "longish", secret)
        s = listed(gate, admin, "longish")
        assert s["prompt"] == "long", s["prompt"][:80]
        st, o = fetch_sealed(gate, admin, "id=%d" % sid)
        assert st == 200, o
        assert (o["id"], o["run"]) == (sid, 0), o
        assert len(o["sealed"]) > 12 * 1024
        assert tool("open", KEY, "sched", sid, "operator", 0,
                    data=o["sealed"]) == secret
        assert gate.ctl("schedule", "run", "longish")[0] == 0
        run = ended(gate, admin, "longish", 1)["runs"][0]
        assert run["state"] == "done" and run["summary"] == "long", \
            (run["state"], str(run["summary"])[:80])
        st, o = fetch_sealed(gate, admin, "id=%d&run=%d" % (sid, run["id"]))
        assert st == 200, o
        assert open_summary(sid, run["slot"], o["sealed"]) == \
            "echo: " + secret
        # Any session may fetch the ciphertext, as the list gives it.
        viewer = login(gate, "--operator", "watcher")
        assert fetch_sealed(gate, viewer, "id=%d" % sid)[1]["sealed"] == \
            fetch_sealed(gate, admin, "id=%d" % sid)[1]["sealed"]
        # Only a sealed schedule's own texts.
        other = sealed(gate, admin, post, "short", "a short one")
        for q, want in [("id=%d" % (sid + 99), 404),
                        ("id=%d&run=%d" % (other, run["id"]), 404),
                        ("id=%d&run=%d" % (sid, run["id"] + 99), 404),
                        ("id=x", 400), ("id=%d&run=y" % sid, 400),
                        ("run=%d" % run["id"], 400), ("", 400)]:
            st, o = fetch_sealed(gate, admin, q)
            assert st == want and "error" in o, (q, st, o)
        # A schedule in the clear has no sealed text to give: its
        # prompt is the list's, not this route's.
        with gate.store_rw() as db:
            plain = db.execute(
                "INSERT INTO schedules (name, every, tz, agent, body,"
                " targets, catch_up, paused, last_slot, created) VALUES"
                " ('plain', '1h', 'UTC', 'default', 'in the clear', '',"
                " 'latest', 1, 0, 0)").lastrowid
        st, o = fetch_sealed(gate, admin, "id=%d" % plain)
        assert st == 404 and "error" in o and "sealed" not in o, (st, o)
        # A short one comes from it too.
        st, o = fetch_sealed(gate, admin, "id=%d" % other)
        assert st == 200 and o["sealed"] == listed(gate, admin,
                                                   "short")["prompt"]
        nowhere_in_clear(gate, "line 00042 of the long sealed brief")
        r.stop()
    finally:
        fake.stop()
