"""Agent admission (supervisor/agentq.c): every queue in front of an
agent has a bound and every bound an answer.  Past the window and the
wait list a web chat client hears `busy` with retry_after at once; one
client holds only its share; a request past its deadline ends with
`timeout`, stored as its answer; a restarted agent and a restarted
daemon get their backlog a window at a time, each message answered
once."""

import os
import signal
import sqlite3

from conftest import run, wait_for

SLOW = {"name": "default", "type": "echo",
        "echo": {"chunks": 10, "delay_ms": 300}}
# The session's own bucket (burst 30) is not what these tests are about.
UNLIMITED = {"ratelimit": {"session": {"rate": "1000/s", "burst": 1000}}}


def db_rows(gate, sql, args=()):
    path = os.path.join(gate.state_dir, "wxgate.db")
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


async def send(c, text, cmid):
    return await c.call("chat.send", {"text": text, "client_msg_id": cmid},
                        timeout=10)


def test_full_agent_answers_busy_at_once(gate_factory):
    gate = gate_factory({"agents": [dict(SLOW, max_inflight=1,
                                         max_queued=1,
                                         client_share_pct=100)]})

    async def scenario():
        async with gate.client() as c:
            await c.open()
            assert (await c.send("one", "m1"))["status"] == "accepted"
            assert (await c.send("two", "m2"))["status"] == "accepted"
            r = await send(c, "three", "m3")
            assert r["ok"] is False, r
            assert r["error"]["code"] == "busy"
            assert r["error"]["retry_after_ms"] > 0
            await c.wait_done("m1", 15)
            await c.wait_done("m2", 15)
            # Refused means not stored: the same id is a new message.
            assert (await c.send("three", "m3"))["status"] == "accepted"
            await c.wait_done("m3", 15)
            assert len(c.dones("m1")) == len(c.dones("m2")) == 1
    run(scenario())
    assert db_rows(gate, "SELECT count(*) FROM messages")[0][0] == 3
    assert gate.worker("agent.default")["restarts"] == 0
    st = gate.stats()
    assert st["agent.default.busy"] == 1, st
    assert st["agent.default.inflight"] == st["agent.default.queued"] == 0


def test_one_client_holds_only_its_share(gate_factory):
    # A window of 2 and 8 waiting: a quarter is 2 per address or session.
    gate = gate_factory({
        "agents": [dict(SLOW, max_inflight=2, max_queued=8,
                        client_share_pct=25)],
        "policy": {"trusted_proxies": ["127.0.0.1"]},
    })

    def xff(addr):
        return {"extra_headers": {"X-Forwarded-For": addr}}

    async def scenario():
        a = await gate.connect(**xff("198.51.100.1"))
        a2 = await gate.connect(**xff("198.51.100.1"))
        b = await gate.connect(**xff("198.51.100.2"))
        try:
            for c in (a, a2, b):
                await c.open()
            await a.send("1", "a1")
            await a.send("2", "a2")
            r = await send(a, "3", "a3")
            assert r["error"]["code"] == "busy", r
            # Another session from the same address: the address's share.
            r = await send(a2, "1", "x1")
            assert r["error"]["code"] == "busy", r
            # Another address still gets in.
            assert (await b.send("1", "b1"))["status"] == "accepted"
            await b.wait_done("b1", 20)
        finally:
            for c in (a, a2, b):
                await c.ws.close()
    run(scenario())


def test_deadline_ends_with_timeout_stored_as_answer(gate_factory):
    gate = gate_factory({"agents": [SLOW], "webchat": {"deadline_s": 1}})

    async def scenario():
        async with gate.client() as c:
            await c.open()
            assert (await c.send("slow", "t1"))["status"] == "accepted"
            e = await c.wait_event(
                lambda e: e.get("event") == "chat.error" and
                e.get("client_msg_id") == "t1", 15, "timeout")
            assert e["code"] == "timeout"
            assert not c.dones("t1")
            # The same message again: its stored end, not a new request.
            assert (await c.send("slow", "t1"))["status"] == "answered"
            def errors():
                return [x for x in c.events
                        if x.get("event") == "chat.error" and
                        x.get("client_msg_id") == "t1"]
            await c.wait_event(lambda e: len(errors()) == 2, 10,
                               "the stored timeout replayed")
            assert errors()[1]["code"] == "timeout"
            await c.drain(1.0)
            assert not c.dones("t1")
    run(scenario())
    assert db_rows(gate, "SELECT state, error FROM messages") == \
        [(3, "timeout")]
    assert gate.stats()["agent.default.timeouts"] == 1


def test_restarted_agent_gets_its_backlog_a_window_at_a_time(gate_factory):
    """40 requests, a window of 2 and a send queue of 16: handing them
    all to the new agent at once would overflow its queue and kill it
    again.  Paced, it restarts once and answers each message once."""
    gate = gate_factory({
        "policy": UNLIMITED,
        "supervisor": {"queue_max": 16},
        "agents": [{"name": "default", "type": "echo",
                    "echo": {"chunks": 2, "delay_ms": 100},
                    "max_inflight": 2, "max_queued": 64,
                    "client_share_pct": 100}],
    })
    n = 40

    async def scenario():
        async with gate.client() as c:
            await c.open()
            for i in range(n):
                await c.send("m%d" % i, "m%d" % i)
            await c.wait_delta("m0", 10)
            os.kill(gate.worker("agent.default")["pid"], signal.SIGKILL)
            for i in range(n):
                await c.wait_done("m%d" % i, 60)
            await c.drain(1.0)
            assert all(len(c.dones("m%d" % i)) == 1 for i in range(n))
    run(scenario())
    w = gate.worker("agent.default")
    assert w["restarts"] == 1 and w["state"] == "running", w
    assert "send queue full" not in gate.log()
    assert db_rows(gate, "SELECT count(*) FROM messages WHERE state = 3")[
        0][0] == n


def test_daemon_restart_with_a_backlog(gate_factory):
    """The daemon is SIGKILLed with 30 messages unanswered.  Started
    again it serves a new visitor at once, and each old message is
    answered exactly once when its client comes back."""
    gate = gate_factory({
        "policy": UNLIMITED,
        "agents": [{"name": "default", "type": "echo",
                    "echo": {"chunks": 4, "delay_ms": 200},
                    "max_inflight": 2, "max_queued": 64,
                    "client_share_pct": 100}],
    })
    n = 30

    async def before():
        async with gate.client() as c:
            tok = await c.open()
            for i in range(n):
                await c.send("m%d" % i, "m%d" % i)
            return tok
    tok = run(before())
    gate.kill()
    gate.start()

    async def after():
        async with gate.client() as fresh:
            await fresh.open()
            await fresh.chat("hello", "new-1", timeout=30)
        async with gate.client() as c:
            await c.resume(tok)
            for i in range(n):
                r = await c.send("m%d" % i, "m%d" % i)
                assert r["status"] in ("answering", "answered"), r
            for i in range(n):
                await c.wait_done("m%d" % i, 60)
            await c.drain(1.0)
            assert all(len(c.dones("m%d" % i)) == 1 for i in range(n))
    run(after())
    rows = db_rows(gate, "SELECT client_msg_id, state, reply FROM messages"
                   " WHERE client_msg_id LIKE 'm%'")
    assert len(rows) == n and all(r[1] == 3 and r[2] for r in rows), rows



def test_supervisor_never_overflows_a_slow_worker(gate_factory):
    """A web chat worker stops reading while 48 long replies stream to
    it (more than the socket buffer holds) through a send queue of 16
    frames.  The supervisor holds the
    deltas back instead of filling the queue: the worker dies of its
    missed heartbeats, not of an overflow the supervisor caused."""
    gate = gate_factory({
        "policy": UNLIMITED,
        "supervisor": {"queue_max": 16, "heartbeat_timeout_ms": 6000},
        "webchat": {"workers": 1},
        "agents": [{"name": "default", "type": "echo",
                    "echo": {"chunks": 4, "delay_ms": 200},
                    "max_inflight": 8, "client_share_pct": 100}],
    })

    async def scenario():
        cs = [await gate.connect() for _ in range(48)]
        try:
            for i, c in enumerate(cs):
                await c.open()
                await c.send("x" * 16000, "s%d" % i)
            await cs[0].wait_delta("s0", 10)
            rc, out, err = gate.ctl("test", "webchat.0", "hang")
            assert rc == 0, (out, err)
            wait_for(lambda: gate.worker("webchat.0")["restarts"] == 1,
                     15, 0.1, "webchat.0 to be restarted")
        finally:
            for c in cs:
                await c.ws.close()
    run(scenario())
    w = gate.worker("webchat.0")
    assert "heartbeat" in w["last_exit"], w
    assert "send queue full" not in gate.log()
    assert gate.stats()["queue_overflows"] == 0
