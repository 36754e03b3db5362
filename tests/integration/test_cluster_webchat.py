"""Public web chat over several wxgated nodes on one PostgreSQL store
(issue #18): behind a load balancer a visitor's next request may land on
any node.  Here it does so on purpose, on every request: the session
resumes everywhere with one history, and a reply still being written on
the node the visitor left is told on the node they came to, once,
without the agent being asked again.

Needs Debian's postgresql (scripts/deps.sh test); skipped without it."""

import json
import os
import re
import subprocess
import time

import pytest

import pgfix
from conftest import ctl_link, deep_merge, plain_only, run, wait_for
from pgfix import pg  # noqa: F401 (a fixture)

HERE = os.path.dirname(os.path.abspath(__file__))
LAG = os.path.join(HERE, "agent_lag.py")
NODES = ["n1", "n2", "n3"]
URL_RE = re.compile(r"^http://127\.0\.0\.1:(\d+)/s/([0-9a-f]{32})$")


def node_conf(pg, name):
    return {"store": pg.uri, "node": name,
            "cluster": {"password_file": pg.password_file,
                        "lease_ttl_ms": 3000},
            "agents": [{"name": "default", "type": "command",
                        "command": {"argv": ["/usr/bin/python3", LAG, "4"],
                                    "timeout_s": 30}}]}


@pytest.fixture
def cluster(pg, gate_factory):
    return {m: gate_factory(node_conf(pg, m), sub=m) for m in NODES}


def asked(node):
    """Requests this node's hub sent to its agent."""
    rc, out, err = node.ctl("metrics")
    assert rc == 0, err
    return sum(float(ln.split()[-1]) for ln in out.splitlines()
               if ln.startswith("wxgate_agent_requests_total"))


def turns(history):
    return [(t["role"], t["text"]) for t in history["messages"]]


@plain_only
def test_a_visitor_moves_between_nodes_on_every_request(cluster):
    want = []

    async def visit(node, token, i):
        """One request on one node: resume, the history so far, one
        message and its reply."""
        async with cluster[node].client() as c:
            if token is None:
                token = await c.open()
            else:
                res = await c.resume(token)
                assert res.get("resumed") is True, (node, res)
            hist = await c.ok("chat.history", {"limit": 50})
            assert turns(hist) == want, (node, i, turns(hist))
            status, done = await c.chat("m%d" % i, "c%d" % i)
            assert status == "accepted", (node, i, status)
            assert done["text"] == "echo: m%d" % i
            want.extend([("user", "m%d" % i),
                         ("assistant", "echo: m%d" % i)])
        return token

    async def go():
        token = None
        for i in range(2 * len(NODES)):
            token = await visit(NODES[i % len(NODES)], token, i)
        # Every node now shows the same history.
        for m in NODES:
            async with cluster[m].client() as c:
                await c.resume(token)
                hist = await c.ok("chat.history", {"limit": 50})
                assert turns(hist) == want, (m, turns(hist))

    run(go())
    assert sum(asked(cluster[m]) for m in NODES) == 2 * len(NODES)


@plain_only
def test_a_reply_written_on_the_node_left_behind_is_told_once(cluster):
    """The visitor sends on n1 and leaves before the (slow) reply; on n2
    the page sends the message again, as it does with everything that
    had no chat.done: n2 awaits n1's answer in the shared store and
    tells it, and no node asks the agent a second time."""
    rounds = 2

    async def go():
        async with cluster["n1"].client() as c:
            token = await c.open()
        for r in range(rounds):
            text, cmid = "lag %d" % r, "lag-%d" % r
            async with cluster["n1"].client() as c:
                await c.resume(token)
                res = await c.send(text, cmid)
                assert res["status"] == "accepted", res
            async with cluster["n2"].client() as c:
                await c.resume(token)
                res = await c.send(text, cmid)
                # The reply takes seconds on n1: still being written.
                assert res["status"] == "answering", res
                done = await c.wait_done(cmid, timeout=30)
                assert done["text"] == "echo: " + text
                assert done.get("replayed") is True, done
                await c.drain(0.5)
                assert len(c.dones(cmid)) == 1, c.dones(cmid)
            async with cluster["n3"].client() as c:
                await c.resume(token)
                hist = await c.ok("chat.history", {"limit": 50})
                assert turns(hist)[-2:] == [("user", text),
                                            ("assistant", "echo: " + text)]
        return token

    run(go())
    assert asked(cluster["n1"]) == rounds
    assert asked(cluster["n2"]) == 0
    assert asked(cluster["n3"]) == 0


@plain_only
def test_a_share_link_made_on_one_node_opens_on_every_node(cluster):
    """A link the operator made on n1 opens on n2 and n3 (GET /s/<id>
    and share.open), and a visitor of a link that gives each visitor a
    conversation keeps theirs as they move."""
    def made():
        # Until the node's first block of row ids comes, nothing is
        # written: the command fails and is run again.
        try:
            return ctl_link(cluster["n1"], URL_RE, "share", "create")
        except AssertionError:
            return None
    sid = wait_for(made, 10, 0.1, "a share link made").group(2)
    for m in NODES:
        st, _, body = cluster[m].http_get("/s/" + sid)
        assert st == 200, (m, st)
    mine, want = None, []

    async def go():
        nonlocal mine
        for i, m in enumerate(NODES + NODES[:1]):
            async with cluster[m].client() as c:
                args = {"id": sid}
                if mine is not None:
                    args["visitor"] = mine
                res = await c.ok("share.open", args)
                assert res["read_only"] is False
                if mine is None:
                    mine = res["token"]
                else:
                    assert "token" not in res, (m, res)
                hist = await c.ok("chat.history", {"limit": 50})
                assert turns(hist) == want, (m, turns(hist))
                await c.chat("s%d" % i, "sc%d" % i)
                want.extend([("user", "s%d" % i),
                             ("assistant", "echo: s%d" % i)])

    run(go())


@plain_only
def test_a_session_spread_over_the_nodes_gets_one_limit(pg, gate_factory):
    """A session's bucket is kept in the database: a visitor on one node
    gets the whole burst there (not a third of it), and once a sync has
    told every node, the others refuse what that node spent."""
    burst = 6
    conf = {"policy": {"ratelimit": {
        "session": {"rate": "1/hour", "burst": burst},
        "address": {"rate": "1000/s", "burst": 1000}}}}
    ns = {m: gate_factory(dict(node_conf(pg, m), **conf), sub=m)
          for m in NODES}
    for m in NODES:
        wait_for(lambda: set(ns[m].ctl("cluster")[1].split()) >=
                 set(NODES), 20, 0.2, "the nodes seeing each other")

    async def send(m, token, i):
        async with ns[m].client() as c:
            await c.resume(token)
            r = await c.call("chat.send", {"text": "r%d" % i,
                                           "client_msg_id": "r%d" % i})
            if "error" in r:
                assert r["error"]["code"] == "rate_limited", r
                return False
            await c.wait_done("r%d" % i)
            return True

    async def go():
        async with ns["n1"].client() as c:
            token = await c.open()
        # One node alone: the whole burst but one, back to back.
        for i in range(burst - 1):
            assert await send("n1", token, i), i
        taken, refused = burst - 1, set()
        for i in range(burst - 1, 3 * burst):
            # Past a sync (RATE_SYNC_MS): every node knows the level.
            time.sleep(0.6)
            m = NODES[i % len(NODES)]
            if await send(m, token, i):
                taken += 1
            else:
                refused.add(m)
        return taken, refused

    taken, refused = run(go())
    assert refused == set(NODES)
    assert taken == burst, taken
    # The bucket is the database's: a row per session key, spent.
    rows = pg.sql("SELECT key, tokens FROM ratelimits WHERE key LIKE 's:%'")
    assert len(rows) == 1 and float(rows[0][1]) < 1, rows


@plain_only
def test_a_visitor_gone_during_a_session_read_holds_no_place(pg,
                                                              gate_factory):
    """session.resume on a node that reads the session from the shared
    store, and the visitor gone before the read comes back: nothing is
    bound.  The node once bound the session to the closed connection, a
    record nothing freed that held one of the worker's max_conns places
    for good, so that an anonymous visitor could fill them all.  Here the
    read is held by a lock on the table; two such visits would leave a
    worker of max_conns 2 no room for a third visitor."""
    n2 = gate_factory(node_conf(pg, "n2"), sub="n2")
    n1 = gate_factory(deep_merge(node_conf(pg, "n1"), {
        "webchat": {"workers": 1, "max_conns": 2},
        # One connection: the live resume below is read after the two
        # held ones, so they have come back by its answer.
        "cluster": {"pool": 1}}), sub="n1")

    async def tokens(n):
        out = []
        for _ in range(n):
            async with n2.client() as c:
                out.append(await c.open())
        return out

    # Sessions n1 never saw: a resume there reads the shared store.
    gone, live = run(tokens(2)), run(tokens(1))[0]
    locker = subprocess.Popen(
        [pgfix._psql(), "-h", pg.dir, "-p", str(pg.port), "-U", "wxgate",
         "-d", "wxgate", "-XAtq", "-c",
         "BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE;"
         " SELECT pg_sleep(2); COMMIT;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: pg.sql(
            "SELECT count(*) FROM pg_locks WHERE mode ="
            " 'AccessExclusiveLock' AND relation = 'sessions'::regclass")
            == [["1"]], 10, 0.05, "the lock on sessions")

        async def leave(token):
            async with n1.client() as c:
                await c.send_raw(json.dumps({
                    "id": 1, "method": "session.resume",
                    "params": {"token": token}}))

        async def go():
            for t in gone:
                await leave(t)
        run(go())
    finally:
        assert locker.wait(30) == 0, locker.stderr.read()

    async def stay():
        async with n1.client() as c:
            r = await c.call("session.resume", {"token": live}, timeout=15)
            assert r.get("ok") is True, r
            assert r["result"].get("resumed") is True, r
            async with n1.client() as d:
                await d.open()
    run(stay())
