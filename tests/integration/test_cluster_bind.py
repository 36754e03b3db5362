"""Bound accounts on a cluster (issues #13 and #18): two nodes on one
PostgreSQL with a bind template.  An invitation made on n1 is opened and
opened through n2's web port (n2's working set never had it: it is
read from PostgreSQL); a second one's page is opened on n1 and its
login started on n2, whose bind.start reads it from PostgreSQL too.  The bound account is then leased like a file
account: exactly one node holds it and runs its worker, and a message to
it is answered once at the fake.  The node holding it is SIGKILLed: the
other takes it and answers the next message once.  The killed node comes
back and the account is still run once.

An invitation is spent once across the nodes: two logins from one link,
one on each node, are confirmed at the same moment; PostgreSQL grants
the last use to one of them and the other page is told the link is
used up.  A database that stops before a confirmation: the page is told
busy, and the link keeps its use.

Needs a build configured with --enable-test-hooks and Debian's
postgresql (scripts/deps.sh test); skipped only without the latter."""

import asyncio
import time

import pytest

from conftest import plain_only, run, wait_for
from fake_ilink import FakeIlink
from pgfix import pg  # noqa: F401 (a fixture)
from test_bind import OWNER, bind_through, create, sent_to, state_is
from test_cluster_pg import Node, held, runs_on

TTL_MS = 3000


@pytest.fixture
def fake():
    f = FakeIlink(longpoll_ms=1000, qr_script=("wait",)).start()
    yield f
    f.stop()


@pytest.fixture
def nodes(gate_factory):
    return lambda name, conf: gate_factory(conf, sub=name, cls=Node)


def conf(pg, fake, name):
    return {"store": pg.uri, "node": name,
            "cluster": {"password_file": pg.password_file,
                        "lease_ttl_ms": TTL_MS},
            "agents": [{"name": "default", "type": "echo",
                        "echo": {"chunks": 1, "delay_ms": 20}}],
            "bind_templates": [{
                "name": "staff", "dm_policy": "allowlist",
                "max_accounts": 5,
                "wechat": {"login_url": fake.url, "send_gap_ms": 0,
                           "poll_timeout_ms": 2000, "timeout_s": 5}}]}


def holder(pg, name):
    """The one node holding the account's live lease, or None."""
    h = [n for n, accts in held(pg).items() if name in accts]
    assert len(h) <= 1, h
    return h[0] if h else None


def answered(fake, text):
    return [s for s in sent_to(fake, OWNER) if s["text"] == text]


def once(fake, text, timeout=30):
    """text is answered at the fake, and after a settling second it is
    still there exactly once."""
    fake.inject(OWNER, text)
    want = "echo: " + text
    wait_for(lambda: answered(fake, want), timeout, 0.1, repr(want))
    time.sleep(1.5)
    got = answered(fake, want)
    assert len(got) == 1, got


def runs_alone(ns, at, name):
    """The account's worker runs on node at and on no other node."""
    return all(runs_on(n, [name] if m == at else [])
               for m, n in ns.items())


@plain_only
def test_a_binding_on_a_cluster_is_leased_once(pg, fake, nodes):
    ns = {m: nodes(m, conf(pg, fake, m)) for m in ("n1", "n2")}

    def made():
        # Until the node's first block of row ids comes, nothing is
        # written: the command fails and is run again.
        try:
            return create(ns["n1"])
        except AssertionError:
            return None
    tok = wait_for(made, 10, 0.1, "an invitation made")
    # The page from n2 (read from PostgreSQL first)...
    st, _, body = ns["n2"].http_get("/bind/" + tok)
    assert st == 200 and b"/bind.js" in body, (st, body[:200])
    # ... and, on a fresh link, its WebSocket on a node that never saw
    # the invitation: n2's bind.start reads it from PostgreSQL too.
    tok = wait_for(made, 10, 0.1, "a second invitation made")
    st, _, body = ns["n1"].http_get("/bind/" + tok)
    assert st == 200, st
    name = run(bind_through(ns["n2"], fake, tok))

    at = wait_for(lambda: holder(pg, name), TTL_MS / 1000.0 + 20, 0.2,
                  "a node holding %s" % name)
    wait_for(lambda: runs_alone(ns, at, name), 20, 0.1,
             "%s running on %s alone" % (name, at))
    assert pg.sql("SELECT state, owner FROM accounts WHERE name = '%s'"
                  % name) == [["active", OWNER]]
    once(fake, "one")

    # Removed only where it runs; elsewhere the node says so.
    other = "n1" if at == "n2" else "n2"
    rc, out, err = ns[other].ctl("channels", "remove", name)
    assert rc == 1 and "runs on another node" in err, (rc, out, err)

    # The holder dies: the other node takes the account.
    ns[at].kill()
    ns[at].stopped_by_test = True
    wait_for(lambda: holder(pg, name) == other, TTL_MS / 1000.0 + 20, 0.1,
             "%s taking %s" % (other, name))
    wait_for(lambda: runs_on(ns[other], [name]), 20, 0.1,
             "%s running on %s" % (name, other))
    once(fake, "two")

    # The dead node returns: the account is still run once.
    ns[at].stopped_by_test = False
    ns[at].start()
    end = time.monotonic() + 2 * TTL_MS / 1000.0 + 2
    while time.monotonic() < end:
        h = holder(pg, name)
        assert h is not None
        assert sum(runs_on(n, [name]) for n in ns.values()) <= 1
        time.sleep(0.2)
    h = holder(pg, name)
    wait_for(lambda: runs_alone(ns, h, name), 20, 0.1,
             "%s running on %s alone" % (name, h))
    once(fake, "three")
    assert fake.violations == [], fake.violations


ENDS = ("confirmed", "used", "failed", "busy", "timeout")


def ended(e):
    return e.get("event") == "bind.state" and e["state"] in ENDS


async def two_logins(ns, fake, tok):
    """A login from tok on each node, both showing their code before
    either is scanned, then both scanned at once: each page's last
    state."""
    async with ns["n1"].client() as c1, ns["n2"].client() as c2:
        cs = (c1, c2)
        res = await asyncio.gather(*(c.ok("bind.start", {"id": tok})
                                     for c in cs))
        assert res == [{"state": "starting"}] * 2, res
        await asyncio.gather(*(c.wait_event(state_is("scan"), 20,
                                            "a QR code") for c in cs))
        fake.qr_now(["scaned", "confirmed"])
        ends = await asyncio.gather(*(c.wait_event(ended, 20, "an end")
                                      for c in cs))
        return sorted(e["state"] for e in ends)


def invitation(pg, tok_id):
    return pg.sql("SELECT uses_left, used FROM invitations WHERE id = %d"
                  % tok_id)


def active(pg):
    return int(pg.sql("SELECT count(*) FROM accounts WHERE"
                      " state = 'active'")[0][0])


@plain_only
def test_an_invitation_is_spent_once_across_nodes(pg, fake, nodes):
    ns = {m: nodes(m, conf(pg, fake, m)) for m in ("n1", "n2")}

    def made(*args):
        def go():
            try:
                return create(ns["n1"], *args)
            except AssertionError:
                return None
        return wait_for(go, 10, 0.1, "an invitation made")

    def newest():
        return int(pg.sql("SELECT max(id) FROM invitations")[0][0])

    # One use, two logins at once on two nodes: one account.
    tok = made("--uses", "1")
    one = newest()
    assert run(two_logins(ns, fake, tok)) == ["confirmed", "used"]
    assert active(pg) == 1
    assert [list(map(int, r)) for r in invitation(pg, one)] == [[0, 1]]

    # Two uses: both logins bind, and the link is spent for good, on
    # either node.
    tok = made("--uses", "2")
    two = newest()
    assert run(two_logins(ns, fake, tok)) == ["confirmed", "confirmed"]
    assert active(pg) == 3
    assert [list(map(int, r)) for r in invitation(pg, two)] == [[0, 2]]

    async def again(n):
        async with ns[n].client() as c:
            return await c.ok("bind.start", {"id": tok})
    for n in ns:
        assert run(again(n)) == {"state": "used"}, n
    assert active(pg) == 3
    # The fake is one bot with one live token: each login replaces the
    # last one's, whose stop is then refused.  Anything else is wrong.
    bad = [v for v in fake.violations if "without a live token" not in v]
    assert bad == [], bad


@plain_only
def test_a_store_that_does_not_answer_spends_nothing(pg, fake, nodes):
    """The database stops between the code shown and its confirmation:
    the page is told busy and the link keeps its use, which binds once
    the database is back."""
    n1 = nodes("n1", conf(pg, fake, "n1"))

    def go():
        try:
            return create(n1)
        except AssertionError:
            return None
    tok = wait_for(go, 10, 0.1, "an invitation made")

    async def stalled():
        async with n1.client() as c:
            await c.ok("bind.start", {"id": tok})
            await c.wait_event(state_is("scan"), 20, "a QR code")
            pg.stop()
            fake.qr_now(["scaned", "confirmed"])
            e = await c.wait_event(ended, 40, "an end")
            return e["state"]
    try:
        assert run(stalled()) == "busy"
    finally:
        pg.start_again()
    assert pg.sql("SELECT uses_left, used FROM invitations") == \
        [["1", "0"]]

    async def again():
        # The node reconnects in its own time: busy until then.
        for _ in range(60):
            async with n1.client() as c:
                res = await c.ok("bind.start", {"id": tok}, timeout=15)
                if res["state"] == "busy" or res["state"] == "failed":
                    await asyncio.sleep(0.5)
                    continue
                assert res == {"state": "starting"}, res
                await c.wait_event(state_is("scan"), 20, "a QR code")
                fake.qr_now(["scaned", "confirmed"])
                return (await c.wait_event(ended, 20, "an end"))["state"]
        raise AssertionError("never started again")
    assert run(again()) == "confirmed"
    assert pg.sql("SELECT uses_left, used FROM invitations") == \
        [["0", "1"]]
    assert active(pg) == 1
