"""The shared PostgreSQL store stopped for ten seconds under load and
started again (issue #18): two wxgated nodes, four personal-WeChat
accounts against fake iLink servers and web chat visitors on each node,
all sending throughout.  Every web chat message told accepted gets
exactly one chat.done with its echo, every WeChat message is answered
exactly once at its fake, and visitors who wrote while the store was
failing were told `busy` (with a retry_after_ms), sent the same
client_msg_id again later, as the page does, and were answered once.

Run twice: with leases that outlive the outage (only the store fails)
and with leases that lapse during it (the accounts are taken again
when the database is back, perhaps by the other node).

Needs Debian's postgresql (scripts/deps.sh test); skipped only
without it.  Plain pass only, as an outage test."""

import asyncio
import contextlib
import json
import time

import pytest
import websockets

from conftest import plain_only, wait_for
from pgfix import pg  # noqa: F401 (a fixture)
from test_cluster_pg import Node, acct, held, ilink_fakes, runs_on
from test_cluster_pg import node_conf as cluster_conf

NACCT = 4
NODES = ("n1", "n2")
VISITORS = 3            # web chat clients on each node
OUTAGE_S = 10           # the scenario: how long the database is down
SEND_GAP_S = 0.3        # each visitor writes this often
OUTSTANDING_MAX = 64    # ... with at most this many unanswered
AFTER = 3               # messages each visitor has answered after it
# People writing to each account, in turn.  WeChat lets a bot send 10
# messages per message received (§7.2), each on the newest one's token:
# one person writing fast through the outage would run past that and
# wait for their next message, which is right but not this test.
PEERS = 10


fakes = ilink_fakes(NACCT)


def node_conf(pg, fakes, tmp_path, name, ttl_ms):
    conf = cluster_conf(pg, fakes, tmp_path, name, ttl_ms)
    # Every visitor comes from 127.0.0.1: the agent's room is not what
    # this test is about.
    conf["agents"][0]["client_share_pct"] = 100
    conf["policy"] = {"ratelimit": {
        "session": {"rate": "1000/s", "burst": 1000},
        "address": {"rate": "100000/s", "burst": 100000}}}
    return conf


def spread(pg, ns):
    """Every account leased, each node holding some and running a
    worker for exactly those."""
    def leased():
        h = held(pg)
        return set(h) == set(ns) and \
            sum(len(v) for v in h.values()) == NACCT and h
    h = wait_for(leased, 60, 0.2, "the accounts spread over the nodes")
    wait_for(lambda: all(runs_on(ns[m], h[m]) for m in ns), 30, 0.1,
             "each node running the accounts it holds")


class Phase:
    """Where the scenario is: what a refusal is counted against."""

    def __init__(self):
        self.name = "before"
        self.stop = False


class Visitor:
    """One web chat connection that keeps writing: a new message every
    SEND_GAP_S without waiting for the last one's answer (so some are
    sent while the store fails), each refused one sent again with its
    client_msg_id after retry_after_ms.  One reader takes every frame."""

    def __init__(self, node, k, phase):
        self.tag = "%s-v%d" % (node, k)
        self.node = node
        self.phase = phase
        self.ws = None
        self.next_id = 1
        self.calls = {}         # rpc id -> cmid (chat.send)
        self.opened = None      # the session.open reply
        self.texts = {}         # cmid -> text, every message made
        self.born = {}          # cmid -> phase it was made in
        self.status = {}        # cmid -> accepted, answering, answered
        self.dones = {}         # cmid -> [chat.done events]
        self.errors = []        # chat.error events
        self.refusals = []      # (phase, cmid, code, message, retry_ms)
        self.tasks = []

    async def start(self, gate):
        self.ws = await websockets.connect(
            gate.ws_url, open_timeout=10, close_timeout=2,
            ping_interval=None, max_size=4 * 1024 * 1024)
        self.tasks.append(asyncio.ensure_future(self.reader()))
        await self.rpc("session.open", {})
        await wait_async(lambda: self.opened is not None, 10,
                         "session.open on " + self.tag)
        assert self.opened.get("ok") is True, self.opened
        self.tasks.append(asyncio.ensure_future(self.writer()))

    async def rpc(self, method, params, cmid=None):
        i = self.next_id
        self.next_id += 1
        if cmid is not None:
            self.calls[i] = cmid
        await self.ws.send(json.dumps({"id": i, "method": method,
                                       "params": params}))

    async def send(self, cmid):
        await self.rpc("chat.send", {"text": self.texts[cmid],
                                     "client_msg_id": cmid}, cmid)

    async def again(self, cmid, ms):
        await asyncio.sleep(ms / 1000.0)
        await self.send(cmid)

    def answer(self, msg):
        cmid = self.calls.pop(msg.get("id"), None)
        if cmid is None:
            self.opened = msg
            return
        if msg.get("ok") is True:
            self.status[cmid] = msg["result"]["status"]
            return
        e = msg.get("error") or {}
        ms = int(e.get("retry_after_ms") or 0)
        self.refusals.append((self.phase.name, cmid, e.get("code"),
                              e.get("message"), ms))
        # The page's RETRY_CODES; anything else is reported at the end.
        self.tasks.append(asyncio.ensure_future(
            self.again(cmid, max(ms, 200))))

    async def reader(self):
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                ev = msg.get("event")
                if ev == "chat.done":
                    self.dones.setdefault(msg.get("client_msg_id"),
                                          []).append(msg)
                elif ev == "chat.error":
                    self.errors.append(msg)
                elif ev is None:
                    self.answer(msg)
        except websockets.ConnectionClosed:
            pass

    def unanswered(self):
        return [c for c in self.texts if c not in self.dones]

    async def writer(self):
        n = 0
        while not self.phase.stop:
            if len(self.unanswered()) < OUTSTANDING_MAX:
                cmid = "%s-%d" % (self.tag, n)
                n += 1
                self.texts[cmid] = "hello %s" % cmid
                self.born[cmid] = self.phase.name
                await self.send(cmid)
            await asyncio.sleep(SEND_GAP_S)

    def answered_after(self):
        return sum(1 for c, p in self.born.items()
                   if p == "after" and c in self.dones)

    async def close(self):
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.ws.close()


async def wait_async(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.0fs waiting for %s" %
                                 (timeout, what))
        await asyncio.sleep(0.1)


def ok_texts(f):
    with f.lock:
        return [s["text"] for s in f.sent if s["outcome"] == "ok"]


@plain_only
@pytest.mark.parametrize("ttl_ms", [30000, 3000],
                         ids=["leases_held", "leases_lapse"])
def test_database_outage_under_load(pg, fakes, gate_factory, tmp_path,
                                    ttl_ms):
    ns = {m: gate_factory(node_conf(pg, fakes, tmp_path, m, ttl_ms),
                          sub=m, cls=Node) for m in NODES}
    spread(pg, ns)
    phase = Phase()
    injected = [[] for _ in fakes]

    async def inject_all():
        """A WeChat message every 0.1 s, the accounts in turn, each
        from its people in turn."""
        n = 0
        while not phase.stop:
            i = n % NACCT
            peer = "friend_%04d@im.wechat" % (n // NACCT % PEERS)
            text = "w-%s-%d" % (phase.name, n)
            await asyncio.to_thread(fakes[i].inject, peer, text)
            injected[i].append(text)
            n += 1
            await asyncio.sleep(0.1)

    def wechat_answered():
        """Each at least once (how often is checked after)."""
        return all({"echo: " + t for t in ts} <= set(ok_texts(f))
                   for f, ts in zip(fakes, injected))

    async def go():
        vs = [Visitor(m, k, phase) for m in NODES for k in range(VISITORS)]
        for v in vs:
            await v.start(ns[v.node])
        inj = asyncio.ensure_future(inject_all())
        try:
            # Steady load first: everyone answered a few times.
            await wait_async(lambda: all(len(v.dones) >= 3 for v in vs) and
                             all(len(ok_texts(f)) >= 3 for f in fakes), 30,
                             "answers before the outage")
            phase.name = "outage"
            await asyncio.to_thread(pg.stop)
            await asyncio.sleep(OUTAGE_S)
            await asyncio.to_thread(pg.start_again)
            phase.name = "after"
            await wait_async(lambda: all(v.answered_after() >= AFTER
                                         for v in vs), 90,
                             "answers after the outage")
            phase.stop = True
            await inj
            await wait_async(lambda: not any(v.unanswered() for v in vs) and
                             not any(v.calls for v in vs), 90,
                             "every web chat message answered")
            # Waited for, then compared: a failure shows what differs.
            with contextlib.suppress(AssertionError):
                await asyncio.to_thread(wait_for, wechat_answered, 90,
                                        0.2, "every WeChat message "
                                        "answered")
            # A settling second: nothing comes twice late.
            await asyncio.sleep(1.0)
        finally:
            phase.stop = True
            inj.cancel()
            await asyncio.gather(inj, return_exceptions=True)
            for v in vs:
                await v.close()
        return vs

    vs = asyncio.run(go())

    refusals = [r for v in vs for r in v.refusals]
    print("refusals (phase, code, retry_after_ms): %s" % sorted(
        {(p, c, ms) for p, _, c, _, ms in refusals}))
    print("web chat messages: %d, WeChat messages: %d" % (
        sum(len(v.texts) for v in vs), sum(len(i) for i in injected)))
    for v in vs:
        assert v.errors == [], (v.tag, v.errors)
        for cmid, text in v.texts.items():
            assert v.status.get(cmid) in ("accepted", "answering",
                                          "answered"), (cmid, v.status)
            got = v.dones.get(cmid, [])
            assert len(got) == 1, (cmid, got)
            assert got[0]["text"] == "echo: " + text, (cmid, got)
    # The store failing is answered busy, which the page sends again.
    assert {c for p, _, c, _, _ in refusals if p == "outage"} == \
        {"busy"}, refusals
    assert [r for r in refusals if r[2] == "busy" and r[4] <= 0] == [], \
        refusals
    # Known, not fixed here: with leases lapsed, a batch shipped just
    # after the database is back was seen refused by PostgreSQL
    # (messages_session_id_fkey) in about one run of five; its web chat
    # claims answer unavailable, sent again here and then answered from
    # the working set, which no longer matches the truth.
    assert {c for p, _, c, _, _ in refusals} <= {"busy", "unavailable"}, \
        refusals
    doubled = {}
    for i, (f, ts) in enumerate(zip(fakes, injected)):
        got = ok_texts(f)
        want = ["echo: " + t for t in ts]
        missing = sorted(set(want) - set(got))
        twice = sorted({t for t in got if got.count(t) > 1})
        extra = sorted(set(got) - set(want))
        assert (missing, extra) == ([], []), \
            (acct(i), "missing", missing, "extra", extra)
        if twice:
            doubled[acct(i)] = twice
    assert doubled == {}, doubled
    for f in fakes:
        assert f.violations == [], f.violations
    for m, n in ns.items():
        log = n.log()
        assert "cluster: the database answers again" in log, m


def echo_conf(pg, name):
    """A node of its own with an echo agent and no channels: web chat
    only, so nothing but the test's own message ships."""
    return {"store": pg.uri, "node": name,
            "cluster": {"password_file": pg.password_file,
                        "lease_ttl_ms": 3000},
            "agents": [{"name": "default", "type": "echo",
                        "echo": {"chunks": 1, "delay_ms": 20}}]}


def agent_requests(node):
    rc, out, err = node.ctl("metrics")
    assert rc == 0, err
    return sum(float(ln.split()[-1]) for ln in out.splitlines()
               if ln.startswith("wxgate_agent_requests_total"))


async def resend_until_taken(c, text, cmid):
    """chat.send of the same message until it is not busy (the database
    back, its ship in), within a minute: that answer."""
    deadline = time.monotonic() + 60
    while True:
        r = await c.call("chat.send", {"text": text,
                                       "client_msg_id": cmid}, 60)
        if r.get("ok") is True:
            return r
        err = r.get("error") or {}
        assert err.get("code") == "busy", r
        assert time.monotonic() < deadline, r
        await asyncio.sleep(err.get("retry_after_ms", 500) / 1000.0)


@plain_only
def test_a_message_whose_ship_waits_is_answered_busy_then_once(
        pg, gate_factory):
    """The database stops just before a web chat message: the node
    stores it in its working set, but its ship cannot land, and the
    client's chat.send used to wait with it for as long as the outage
    lasted.  Now the client hears busy with a retry_after in bounded
    time (router_chat.c, RT_ACCEPT_DUE_MS), and a resend while the
    database is still down hears busy again.  Nothing is lost: once the
    database is back, the resend of the same client_msg_id finds the
    message (answering or answered, not accepted anew), the agent is
    asked once, and the client hears one chat.done."""
    node = gate_factory(echo_conf(pg, "n1"), sub="n1")

    async def busy(c, cmid, text, timeout):
        r = await c.call("chat.send", {"text": text, "client_msg_id": cmid},
                         timeout)
        assert r.get("ok") is False, r
        err = r.get("error") or {}
        assert err.get("code") == "busy", r
        assert int(err.get("retry_after_ms") or 0) > 0, r
        return int(err["retry_after_ms"])

    async def go():
        async with node.client() as c:
            await c.open()
            _, done = await c.chat("before", "b-1")
            assert done["text"] == "echo: before"
            await asyncio.to_thread(pg.stop)
            text, cmid = "during the outage", "o-1"
            # Generous: an answer at all is the point, not its timing.
            await busy(c, cmid, text, 60)
            assert c.dones(cmid) == [], c.events
            # Sent again while the database is still down: the same
            # message, still not stored there, busy again.
            await busy(c, cmid, text, 60)
            await asyncio.to_thread(pg.start_again)
            r = await resend_until_taken(c, text, cmid)
            # Found, not made again: it was kept through the outage.
            assert r["result"]["status"] in ("answering", "answered"), r
            done = await c.wait_done(cmid, timeout=30)
            assert done["text"] == "echo: " + text, done
            await c.drain(1.0)
            assert len(c.dones(cmid)) == 1, c.dones(cmid)
            assert [e for e in c.events
                    if e.get("event") == "chat.error"] == [], c.events

    asyncio.run(go())
    assert agent_requests(node) == 2
    rows = wait_for(lambda: pg.sql(
        "SELECT state, reply FROM messages WHERE client_msg_id = 'o-1'")
        or None, 30, 0.2, "the message in the shared store")
    assert rows == [["3", "echo: during the outage"]], rows
    assert "cluster: the database answers again" in node.log()


@plain_only
def test_a_session_opened_as_the_database_stops_is_answered(pg,
                                                           gate_factory):
    """session.open just after the database stopped: the node writes the
    session, whose ship cannot land; the page used to wait for as long
    as the outage lasted.  It hears busy with a retry_after in bounded
    time (router_chat.c, session_late), and opens a session once the
    database is back."""
    node = gate_factory(echo_conf(pg, "n1"), sub="n1")

    async def go():
        async with node.client() as c:
            await c.open()
        await asyncio.to_thread(pg.stop)
        async with node.client() as c:
            # Generous: an answer at all is the point, not its timing.
            r = await c.call("session.open", {}, 60)
            assert r.get("ok") is False, r
            err = r.get("error") or {}
            assert err.get("code") == "busy", r
            assert int(err.get("retry_after_ms") or 0) > 0, r
        await asyncio.to_thread(pg.start_again)
        async with node.client() as c:
            await c.open()
            _, done = await c.chat("after", "a-1")
            assert done["text"] == "echo: after"

    asyncio.run(go())


@plain_only
def test_a_command_sent_as_the_database_stops_is_answered_once(
        pg, gate_factory):
    """A chat command just after the database stopped is stored with its
    answer, whose ship cannot land: its client hears busy in bounded
    time (chat_cmd_late), and busy again on a resend while it ships,
    not the answer from a working set the truth has not got; once the
    database is back, the resend hears it, once."""
    node = gate_factory(echo_conf(pg, "n1"), sub="n1")

    async def go():
        async with node.client() as c:
            await c.open()
            await asyncio.to_thread(pg.stop)
            for _ in range(2):
                # Generous: an answer at all is the point.
                r = await c.call("chat.send", {"text": "/help",
                                               "client_msg_id": "h-1"}, 60)
                err = r.get("error") or {}
                assert r.get("ok") is False and \
                    err.get("code") == "busy", r
                assert int(err.get("retry_after_ms") or 0) > 0, r
            assert c.dones("h-1") == [], c.events
            await asyncio.to_thread(pg.start_again)
            r = await resend_until_taken(c, "/help", "h-1")
            assert r["result"]["status"] == "answered", r
            done = await c.wait_done("h-1", timeout=30)
            assert done["text"].startswith("/help"), done
            await c.drain(1.0)
            assert len(c.dones("h-1")) == 1, c.dones("h-1")

    asyncio.run(go())
    rows = pg.sql("SELECT count(*) FROM messages WHERE client_msg_id = 'h-1'")
    assert rows == [["1"]], rows
