"""wxgatectl account pause / resume (issue #16): a paused account's
worker is stopped by the root parent and stays stopped (a restart of
the daemon included); what is sent to it meanwhile waits in the outbox
and goes once after resume.  The test-only loopback kind writes first
and logs what it delivers."""

from conftest import wait_for
from test_ctl_send import lines, loopback

NAME = "loopback.t"
SENT = "loopback t: to alice: while paused"


def state(gate):
    w = gate.worker(NAME) or {}
    return w.get("state"), w.get("pid", 0)


def stopped(gate):
    st, pid = state(gate)
    return st == "stopped" and pid <= 0


def test_pause_holds_sends_across_a_restart_then_resume_sends_once(
        gate_factory):
    gate = loopback(gate_factory)
    rc, out, err = gate.ctl("account", "pause", "t")
    assert rc == 0, (out, err)
    wait_for(lambda: stopped(gate), 10, 0.05, "the worker stopped")
    rc, out, err = gate.ctl("send", "t", "alice", "while paused")
    assert rc == 0, (out, err)
    (rid, st, _), = lines(out)
    assert st == "queued", out
    # A restart by name does not start a paused account either.
    gate.ctl("restart", NAME)
    assert gate.rows("SELECT state FROM outbox WHERE id = ?",
                     (rid,)) == [("queued",)]
    assert SENT not in gate.log()
    # The whole daemon: the account comes back paused, the row waits.
    assert gate.stop() == 0
    gate.all_running = lambda names=None: True
    gate.start()
    wait_for(lambda: stopped(gate), 15, 0.05, "paused after the restart")
    rc, out, err = gate.ctl("channels", "list")
    assert rc == 0 and any(ln.split()[:1] == ["t"] and "paused" in
                           ln.split() for ln in out.splitlines()), out
    assert gate.rows("SELECT state FROM outbox WHERE id = ?",
                     (rid,)) == [("queued",)]
    assert SENT not in gate.log()
    rc, out, err = gate.ctl("account", "resume", "t")
    assert rc == 0, (out, err)
    wait_for(lambda: state(gate)[0] == "running", 15, 0.05, "running again")
    gate.wait_log(SENT, 15)
    wait_for(lambda: gate.rows("SELECT state FROM outbox WHERE id = ?",
                               (rid,)) == [("sent",)], 10, 0.05, "sent")
    assert gate.log().count(SENT) == 1
    assert gate.rows("SELECT count(*) FROM account_pauses") == [(0,)]


def test_pause_refuses_what_it_cannot_pause(gate_factory):
    gate = loopback(gate_factory)
    rc, out, err = gate.ctl("account", "pause", "nosuch")
    assert rc != 0 and "no channel account nosuch" in out + err, (out, err)
    rc, out, err = gate.ctl("account", "pause")
    assert rc == 2, (rc, out, err)
    # Twice is once; resume of a running one is nothing.
    for _ in range(2):
        assert gate.ctl("account", "pause", "t")[0] == 0
    assert gate.rows("SELECT account FROM account_pauses") == [("t",)]
    wait_for(lambda: stopped(gate), 10, 0.05, "the worker stopped")
    for _ in range(2):
        assert gate.ctl("account", "resume", "t")[0] == 0
    wait_for(lambda: state(gate)[0] == "running", 15, 0.05, "running again")


def test_console_pauses_and_resumes_an_admin_only(gate_factory):
    from conftest import audit_rows
    from test_console import (account, login, page, poster,
                              refused_and_audited, start)
    gate = start(gate_factory, extra={
        "channels": [{"name": "t", "type": "loopback"}]})
    admin, viewer = login(gate), login(gate, "--operator", "watcher")
    a = account(page(gate, admin, "accounts"), "t")
    assert a["paused"] is False, a
    refused_and_audited(gate, poster(gate, viewer),
                        "/api/account/pause?name=t", "account.pause")
    assert gate.rows("SELECT count(*) FROM account_pauses") == [(0,)]
    post = poster(gate, admin)
    st, _, body = post("/api/account/pause?name=t")
    assert st == 200, (st, body)
    wait_for(lambda: stopped(gate), 10, 0.05, "the worker stopped")
    a = account(page(gate, viewer, "accounts"), "t")
    assert a["paused"] is True and a["state"] == "paused", a
    rows = audit_rows(gate, "method = 'account.pause' AND detail = "
                      "'operator root-op'")
    assert len(rows) == 1, rows
    assert post("/api/account/pause?name=nosuch")[0] == 404
    st, _, body = post("/api/account/resume?name=t")
    assert st == 200, (st, body)
    wait_for(lambda: state(gate)[0] == "running", 15, 0.05, "running again")
    assert account(page(gate, admin, "accounts"), "t")["paused"] is False


def test_a_bound_account_pauses_across_a_restart(gate_factory):
    """A bound account's worker is the hub's own (hub.spawn): paused, it
    is unspawned and not started after a restart; resumed, it is
    spawned, and what waited is sent once."""
    from conftest import run
    from fake_ilink import FakeIlink
    from test_bind import (OWNER, bind_through, conf, create, sent_to,
                           wait_reply)
    fake = FakeIlink(longpoll_ms=1500, qr_script=("wait",)).start()
    try:
        gate = gate_factory(conf(fake))
        name = run(bind_through(gate, fake, create(gate)))
        wname = "wechat." + name
        fake.inject(OWNER, "hi")
        wait_reply(fake, OWNER, "echo: hi")
        assert gate.ctl("account", "pause", name)[0] == 0
        wait_for(lambda: gate.worker(wname) is None, 10, 0.05,
                 "its worker gone")
        rc, out, err = gate.ctl("send", name, OWNER, "held for you")
        assert rc == 0, (out, err)
        assert gate.stop() == 0
        gate.start()
        assert gate.worker(wname) is None
        assert not [s for s in sent_to(fake, OWNER)
                    if s["text"] == "held for you"]
        assert gate.ctl("account", "resume", name)[0] == 0
        wait_reply(fake, OWNER, "held for you", timeout=20)
        assert len([s for s in sent_to(fake, OWNER)
                    if s["text"] == "held for you"]) == 1
        assert gate.worker(wname)["state"] == "running"
    finally:
        fake.stop()



def test_a_reload_that_changes_a_paused_account_keeps_it_down(
        gate_factory, tmp_path):
    """A changed slice restarts a worker on reload; not a paused one,
    which starts with the new slice on resume."""
    import copy
    from fake_ilink import FakeIlink
    from test_channel_wechat import channel
    fake = FakeIlink(longpoll_ms=1500).start()
    try:
        gate = gate_factory({"channels": [channel(fake, tmp_path)]})
        wname = "wechat.alice"
        assert gate.ctl("account", "pause", "alice")[0] == 0
        wait_for(lambda: (gate.worker(wname) or {}).get("state") ==
                 "stopped", 10, 0.05, "the worker stopped")
        conf = copy.deepcopy(gate.conf)
        conf["channels"][0]["wechat"]["poll_timeout_ms"] = 2500
        assert gate.reload(conf)
        assert "reload: restarting " + wname in gate.log()
        w = gate.worker(wname)
        assert w["state"] == "stopped" and w["pid"] <= 0, w
        assert gate.ctl("account", "resume", "alice")[0] == 0
        wait_for(lambda: gate.worker(wname)["state"] == "running", 15,
                 0.05, "running again")
    finally:
        fake.stop()
