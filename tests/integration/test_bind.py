"""Self-service binding (issue #13): invitations made with wxgatectl
bind, the bound wechat accounts they make, listed and removed with
wxgatectl channels, kept across restarts and reloads, unbound by their
owner with /unbind; against a fake iLink server on 127.0.0.1.

Needs a build configured with --enable-test-hooks."""

import os
import re
import sqlite3
import time

import pytest

from conftest import check_config, ctl_link, run, wait_for
from fake_ilink import FakeIlink
from test_hub import hub_pid

URL_RE = re.compile(r"^http://127\.0\.0\.1:(\d+)/bind/([A-Za-z0-9_-]{22})$")
OWNER = "o9cq80_FAKEuSeRiD0000000000@im.wechat"


@pytest.fixture
def fake():
    f = FakeIlink(longpoll_ms=1500, qr_script=("wait",)).start()
    yield f
    f.stop()


def template(fake, **over):
    t = {"name": "staff", "dm_policy": "allowlist", "max_accounts": 5,
         "wechat": {"login_url": fake.url, "send_gap_ms": 0,
                    "poll_timeout_ms": 3000, "timeout_s": 5}}
    t.update(over)
    return t


def conf(fake, bind=None, **over):
    c = {"bind_templates": [template(fake, **over)]}
    if bind is not None:
        c["bind"] = bind
    return c


def create(gate, *args):
    return ctl_link(gate, URL_RE, "bind", "create", "--template", "staff",
                    *args).group(2)


def invites(gate):
    rc, out, err = gate.ctl("bind", "list")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["ID", "TEMPLATE", "CREATED", "EXPIRES"]
    rows = []
    for ln in lines[1:]:
        f = ln.split()
        rows.append({"id": int(f[0]), "template": f[1], "left": int(f[4]),
                     "used": int(f[5]), "revoked": f[6]})
    return rows


def channels(gate):
    rc, out, err = gate.ctl("channels", "list")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "SOURCE", "TEMPLATE",
                                "STATE", "OWNER"]
    rows = {}
    for ln in lines[1:]:
        f = ln.split()
        rows[f[0]] = {"kind": f[1], "source": f[2], "template": f[3],
                      "state": f[4], "owner": f[5]}
    return rows


def db_dump(gate):
    with open(os.path.join(gate.state_dir, "wxgate.db"), "rb") as f:
        return f.read().decode("latin-1")


def test_invitations_are_made_listed_and_revoked(gate_factory, fake):
    gate = gate_factory(conf(fake))
    tok = create(gate, "--ttl", "2h", "--uses", "3")
    create(gate)
    rows = invites(gate)
    assert [(r["id"], r["template"], r["left"], r["used"]) for r in rows] \
        == [(1, "staff", 3, 0), (2, "staff", 1, 0)]
    assert all(r["revoked"] == "-" for r in rows)
    # Only the token's hash is kept, and the listing never shows it.
    assert tok not in db_dump(gate)
    assert tok not in gate.ctl("bind", "list")[1]
    assert tok not in gate.log()
    rc, out, err = gate.ctl("bind", "revoke", "2")
    assert rc == 0 and "revoked" in out
    assert invites(gate)[1]["revoked"] != "-"
    rc, out, err = gate.ctl("bind", "revoke", "2")
    assert rc == 1 and "no such live invitation" in err
    rc, out, err = gate.ctl("bind", "create", "--template", "nobody")
    assert rc == 1 and 'no template "nobody"' in err
    # Shorter than bind.ttl_min_s (60 s by default): refused.
    rc, out, err = gate.ctl("bind", "create", "--template", "staff",
                            "--ttl", "5s")
    assert rc == 1 and "bind.ttl_min_s" in err


def test_channels_list_shows_the_files_accounts(gate_factory, fake,
                                                tmp_path):
    path = os.path.join(str(tmp_path), "alice.token")
    with open(path, "w") as f:
        f.write(fake.token + "\n")
    os.chmod(path, 0o600)
    c = conf(fake)
    c["channels"] = [{"name": "alice", "type": "wechat",
                      "wechat": {"login_url": fake.url, "token_file": path,
                                 "poll_timeout_ms": 3000}}]
    gate = gate_factory(c)
    rows = channels(gate)
    assert rows["alice"]["source"] == "config"
    assert rows["alice"]["kind"] == "wechat"
    assert rows["alice"]["state"] == "running"
    assert rows["alice"]["template"] == "-"
    rc, out, err = gate.ctl("channels", "remove", "alice")
    assert rc == 1 and "configuration file" in err
    rc, out, err = gate.ctl("channels", "remove", "nobody")
    assert rc == 1 and "no channel account nobody" in err


@pytest.mark.parametrize("tmpl,bind,field,what", [
    ({"name": "Bad Name"}, None, "bind_templates[0].name", "a-z"),
    ({"name": "t", "agent": "nobody"}, None, "bind_templates[0].agent",
     'no agent named "nobody"'),
    ({"name": "t", "dm_policy": "maybe"}, None,
     "bind_templates[0].dm_policy", "maybe"),
    ({"name": "t", "max_accounts": 0}, None,
     "bind_templates[0].max_accounts", ""),
    ({"name": "t", "wechat": {"token_file": "/etc/passwd"}}, None,
     "bind_templates[0].wechat.token_file", "QR code"),
    ({"name": "t", "wechat": {"stream_mode": "fast"}}, None,
     "bind_templates[0].wechat.stream_mode", "fast"),
    ({"name": "t"}, {"pending_max": 0}, "bind.pending_max", ""),
    ({"name": "t"}, {"ttl_min_s": 0}, "bind.ttl_min_s", ""),
])
def test_bad_templates_name_the_field(tmpl, bind, field, what):
    c = {"bind_templates": [tmpl]}
    if bind is not None:
        c["bind"] = bind
    rc, out = check_config(c)
    assert rc != 0 and field in out and what in out, out


def test_a_good_template_checks(fake):
    rc, out = check_config(conf(fake, bind={"pending_max": 4}))
    assert rc == 0 and "configuration OK" in out, out
    rc, out = check_config({"bind_templates": [template(fake),
                                               template(fake)]})
    assert rc != 0 and "duplicate template name" in out, out


# -- the binding itself, driven as the page drives it ------------------

def sent_to(fake, peer):
    with fake.lock:
        return [s for s in fake.sent if s["to"] == peer and
                s["outcome"] == "ok"]


def wait_reply(fake, peer, text, timeout=15):
    return wait_for(lambda: any(s["text"] == text
                                for s in sent_to(fake, peer)),
                    timeout, 0.05, "%r to %s" % (text, peer))


def bound(gate):
    return {n: r for n, r in channels(gate).items() if r["source"] == "bound"}


def state_is(want):
    return lambda e: e.get("event") == "bind.state" and e["state"] == want


async def bind_through(gate, fake, tok, confirm=True):
    """Start a binding as the page does, scan and confirm it: the new
    account's name."""
    async with gate.client() as c:
        res = await c.ok("bind.start", {"id": tok})
        assert res == {"state": "starting"}, res
        e = await c.wait_event(state_is("scan"), 20, "a QR code")
        assert e["svg"].startswith("<svg") and "<path" in e["svg"]
        assert e["url"].startswith("https://liteapp.weixin.qq.com/q/")
        acc = list(bound(gate))
        assert len(acc) == 1 and bound(gate)[acc[0]]["state"] == "pending"
        assert re.fullmatch(r"b[0-9a-f]{8}", acc[0]), acc
        if not confirm:
            return acc[0]
        fake.qr_now(["scaned", "confirmed"])
        await c.wait_event(state_is("scanned"), 10, "scanned")
        await c.wait_event(state_is("confirmed"), 10, "confirmed")
        return acc[0]


def account_rows(gate, name):
    """Every row the store keeps under the account's name."""
    n = {}
    for t in ("kv", "peers", "pairings", "media", "outbox", "run_targets",
              "messages", "sessions"):
        n[t] = gate.rows("SELECT count(*) FROM %s WHERE account = ?" % t,
                         (name,))[0][0]
    n["accounts"] = gate.rows("SELECT count(*) FROM accounts WHERE "
                              "name = ?", (name,))[0][0]
    return n


def test_bind_then_chat_then_the_link_is_spent(gate_factory, fake):
    gate = gate_factory(conf(fake))
    tok = create(gate)
    st, hdrs, body = gate.http_get("/bind/" + tok)
    assert st == 200 and b"/bind.js" in body
    assert "default-src 'self'" in hdrs["Content-Security-Policy"]
    name = run(bind_through(gate, fake, tok))
    row = bound(gate)[name]
    assert row["state"] == "running" and row["owner"] == OWNER
    assert row["template"] == "staff" and row["kind"] == "wechat"
    assert gate.rows("SELECT state, owner FROM accounts WHERE name = ?",
                     (name,)) == [("active", OWNER)]
    assert [(r["left"], r["used"]) for r in invites(gate)] == [(0, 1)]
    # The scanner owns it and may talk to it (dm_policy allowlist).
    fake.inject(OWNER, "hello bot")
    wait_reply(fake, OWNER, "echo: hello bot")
    # Spent: the page says so, and bind.start is refused.
    st, hdrs, body = gate.http_get("/bind/" + tok)
    assert st == 410 and b"already used" in body
    async def again():
        async with gate.client() as c:
            return await c.ok("bind.start", {"id": tok})
    assert run(again()) == {"state": "used"}
    assert tok not in gate.log() and tok not in db_dump(gate)


def test_bound_account_survives_a_restart_and_a_reload(gate_factory, fake):
    gate = gate_factory(conf(fake))
    name = run(bind_through(gate, fake, create(gate)))
    fake.inject(OWNER, "one")
    wait_reply(fake, OWNER, "echo: one")
    gate.stop()
    gate.start()
    wait_for(lambda: (gate.worker("wechat." + name) or {}).get("state")
             == "running", 15, 0.1, "the bound account's worker")
    fake.inject(OWNER, "two")
    wait_reply(fake, OWNER, "echo: two")
    # A reload rebuilds it from its template; a template gone stops it.
    gate.reload()
    assert bound(gate)[name]["state"] == "running"
    c = conf(fake)
    c["bind_templates"][0]["name"] = "other"
    gate.reload(c)
    gate.wait_log('template "staff" is gone', timeout=10)
    wait_for(lambda: bound(gate)[name]["state"] == "stopped", 10, 0.1,
             "stopped")
    wait_for(lambda: gate.worker("wechat." + name) is None, 10, 0.1,
             "its worker gone")
    assert account_rows(gate, name)["kv"] > 0   # its data stays
    gate.reload(conf(fake))
    wait_for(lambda: (gate.worker("wechat." + name) or {}).get("state")
             == "running", 15, 0.1, "started again")


def test_unbind_deletes_the_account_and_its_data(gate_factory, fake):
    gate = gate_factory(conf(fake))
    name = run(bind_through(gate, fake, create(gate)))
    fake.inject(OWNER, "remember me")
    wait_reply(fake, OWNER, "echo: remember me")
    before = account_rows(gate, name)
    assert before["kv"] > 0 and before["peers"] > 0 and \
        before["messages"] > 0 and before["sessions"] > 0
    fake.inject(OWNER, "/unbind")
    wait_reply(fake, OWNER, "Send /unbind again within 60 s to delete "
               "this bot and everything it keeps.")
    assert account_rows(gate, name)["accounts"] == 1
    fake.inject(OWNER, "/unbind")
    wait_for(lambda: all(v == 0 for v in account_rows(gate, name).values()),
             15, 0.1, "every row of %s deleted" % name)
    wait_for(lambda: gate.worker("wechat." + name) is None, 10, 0.1,
             "its worker gone")
    assert name not in channels(gate)
    gate.wait_log("removed (unbound by its owner)", timeout=5)


def test_operator_removes_a_bound_account(gate_factory, fake):
    gate = gate_factory(conf(fake))
    name = run(bind_through(gate, fake, create(gate)))
    fake.inject(OWNER, "hi")
    wait_reply(fake, OWNER, "echo: hi")
    rc, out, err = gate.ctl("channels", "remove", name)
    assert rc == 0 and "deleted" in out, err
    # The answer may leave before the turn's commit lands.
    wait_for(lambda: all(v == 0 for v in account_rows(gate, name).values()),
             5, 0.05, "every row of %s deleted" % name)
    wait_for(lambda: gate.worker("wechat." + name) is None, 10, 0.1,
             "its worker gone")
    rc, out, err = gate.ctl("channels", "remove", name)
    assert rc == 1
    # Not started again after a restart.
    gate.stop()
    gate.start()
    assert gate.worker("wechat." + name) is None


def test_a_closed_page_spends_nothing(gate_factory, fake):
    gate = gate_factory(conf(fake))
    tok = create(gate)
    name = run(bind_through(gate, fake, tok, confirm=False))
    wait_for(lambda: account_rows(gate, name)["accounts"] == 0, 10, 0.1,
             "the pending account removed")
    wait_for(lambda: gate.worker("wechat." + name) is None, 10, 0.1,
             "its worker gone")
    assert [(r["left"], r["used"]) for r in invites(gate)] == [(1, 0)]
    # The link still works.
    fake.qr_script = ["wait"]
    assert gate.http_get("/bind/" + tok)[0] == 200
    run(bind_through(gate, fake, tok))
    assert [(r["left"], r["used"]) for r in invites(gate)] == [(0, 1)]


def test_one_login_per_invitation_and_pending_max(gate_factory, fake):
    gate = gate_factory(conf(fake, bind={"pending_max": 1}))
    a = create(gate, "--uses", "5")
    b = create(gate)
    async def scenario():
        async with gate.client() as c1, gate.client() as c2:
            assert (await c1.ok("bind.start", {"id": a}))["state"] == \
                "starting"
            # The same invitation: one login at a time.
            assert (await c2.ok("bind.start", {"id": a}))["state"] == "busy"
            # Another one: past bind.pending_max.
            assert (await c2.ok("bind.start", {"id": b}))["state"] == "busy"
            r = await c2.call("bind.start", {"id": "x" * 22})
            assert r["ok"] and r["result"]["state"] == "invalid", r
    run(scenario())


def test_expired_and_revoked_links_say_so(gate_factory, fake):
    gate = gate_factory(conf(fake, bind={"ttl_min_s": 1}))
    old = create(gate, "--ttl", "1s")
    gone = create(gate)
    gate.ctl("bind", "revoke", "2")
    wait_for(lambda: gate.http_get("/bind/" + old)[0] == 410, 10, 0.2,
             "the link to expire")
    st, hdrs, body = gate.http_get("/bind/" + old)
    assert b"This link has expired" in body
    assert hdrs["Content-Type"].startswith("text/html")
    st, hdrs, body = gate.http_get("/bind/" + gone)
    assert st == 410 and b"This link was revoked" in body
    # Not a token, or nobody's: 404, a page that says so.
    for path in ("/bind/" + "A" * 22, "/bind/nope", "/bind/%00"):
        st, hdrs, body = gate.http_get(path)
        assert st == 404 and b"This link is not valid" in body, path
    async def start(tok):
        async with gate.client() as c:
            return (await c.ok("bind.start", {"id": tok}))["state"]
    assert run(start(old)) == "expired"
    assert run(start(gone)) == "revoked"
    assert bound(gate) == {}


def test_an_expired_code_is_replaced_and_removal_ends_the_page(
        gate_factory, fake):
    gate = gate_factory(conf(fake))
    tok = create(gate)
    async def scenario():
        async with gate.client() as c:
            assert (await c.ok("bind.start", {"id": tok}))["state"] == \
                "starting"
            first = await c.wait_event(state_is("scan"), 20, "a QR code")
            name = list(bound(gate))[0]
            # Not for wxgatectl login: the code is the page's.
            rc, out, err = gate.ctl("login", "--no-wait", name)
            assert first["url"] not in out
            # The code expires unscanned: the worker fetches a new one.
            fake.qr_now(["expired"])
            fake.qr_script = ["wait"]
            second = await c.wait_event(
                lambda e: state_is("scan")(e) and e["url"] != first["url"],
                20, "a new QR code")
            assert second["svg"] != first["svg"]
            # The operator removes the pending account: the page hears.
            rc, out, err = gate.ctl("channels", "remove", name)
            assert rc == 0, err
            await c.wait_event(state_is("failed"), 10, "failed")
            return name
    name = run(scenario())
    wait_for(lambda: all(v == 0 for v in account_rows(gate, name).values()),
             5, 0.05, "every row of %s deleted" % name)
    assert [(r["left"], r["used"]) for r in invites(gate)] == [(1, 0)]


def test_a_new_hub_keeps_bound_accounts_and_drops_pending_ones(
        gate_factory, fake):
    """SIGKILL of the hub: the active account's worker is taken over (not
    started twice) and answers; a binding in progress is dropped with its
    account, its use unspent, and the same link then binds from the
    start."""
    import signal
    gate = gate_factory(conf(fake))
    name = run(bind_through(gate, fake, create(gate)))
    pid = gate.worker("wechat." + name)["pid"]
    fake.qr_script = ["wait"]
    pending_tok = create(gate)
    async def half():
        c = await gate.connect()
        await c.ok("bind.start", {"id": pending_tok})
        await c.wait_event(state_is("scan"), 20, "a QR code")
        return c
    async def scenario():
        c = await half()
        pending = [n for n in bound(gate) if n != name][0]
        hub = hub_pid(gate)
        os.kill(hub, signal.SIGKILL)
        wait_for(lambda: hub_pid(gate) not in (None, hub), 10, 0.05,
                 "a new hub")
        gate.wait_log("a binding left unfinished: removed", timeout=10)
        await c.ws.close()
        return pending
    pending = run(scenario())
    wait_for(lambda: account_rows(gate, pending)["accounts"] == 0, 10, 0.1,
             "the pending account gone")
    wait_for(lambda: gate.worker("wechat." + pending) is None, 10, 0.1,
             "its worker gone")
    assert gate.worker("wechat." + name)["pid"] == pid
    fake.inject(OWNER, "after the hub")
    wait_reply(fake, OWNER, "echo: after the hub")
    assert [(r["left"], r["used"]) for r in invites(gate)] == \
        [(0, 1), (1, 0)]

    async def again():
        async with gate.client() as c:
            assert await c.ok("bind.start", {"id": pending_tok}) == \
                {"state": "starting"}
            await c.wait_event(state_is("scan"), 20, "a new QR code")
            fake.qr_now(["scaned", "confirmed"])
            await c.wait_event(state_is("confirmed"), 10, "confirmed")
    run(again())
    assert [(r["left"], r["used"]) for r in invites(gate)] == \
        [(0, 1), (0, 1)]


def test_a_dead_web_chat_worker_ends_its_bindings(gate_factory, fake):
    import signal
    gate = gate_factory(conf(fake))
    tok = create(gate)
    async def scenario():
        c = await gate.connect()
        await c.ok("bind.start", {"id": tok})
        await c.wait_event(state_is("scan"), 20, "a QR code")
        name = list(bound(gate))[0]
        os.kill(gate.conn_owner(c.local_port)[0], signal.SIGKILL)
        return name
    name = run(scenario())
    gate.wait_log("account %s: the binding page's worker is gone" % name,
                  timeout=10)
    wait_for(lambda: account_rows(gate, name)["accounts"] == 0, 10, 0.1,
             "the pending account gone")
    wait_for(lambda: gate.worker("wechat." + name) is None, 10, 0.1,
             "its worker gone")
    assert [(r["left"], r["used"]) for r in invites(gate)] == [(1, 0)]
