"""Acceptance: a worker killed mid-reply comes back within a second, and
the client still sees exactly one complete reply.  "Within a second" is
read from what the supervisor scheduled (its first backoff step, 0.1 s
by default), not from a clock on a loaded test machine."""

import re

import contextlib
import os
import signal


from conftest import run, wait_for

TEXT = "please survive the crash of the process that streams this reply"
WANT = "echo: " + TEXT


def test_kill_webchat_worker_mid_stream(gate):
    async def go():
        c = await gate.connect()
        try:
            token = await c.open()
            # A first exchange so the session has history to keep.
            await c.chat("before", "k-0")
            res = await c.send(TEXT, "k-1")
            assert res["status"] == "accepted"
            await c.wait_delta("k-1")
            assert not c.dones("k-1"), "reply finished before the kill"

            pid, name = gate.conn_owner(c.local_port)
            others = {n: w["pid"] for n, w in gate.status().items()
                      if n != name}
            os.kill(pid, signal.SIGKILL)

            def back():
                w = gate.worker(name)
                return w if (w and w["state"] == "running" and
                             w["pid"] not in (0, pid)) else None
            w = wait_for(back, 5.0, 0.01, "%s to restart" % name)
            m = re.search(r"worker %s \(pid %d\) SIGKILL, "
                          r"restarting in (\d+)\.(\d)s" % (name, pid),
                          gate.log())
            assert m, gate.log()[-2000:]
            assert int(m.group(1)) * 1000 + int(m.group(2)) * 100 < 1000, \
                "%s scheduled back after %s.%ss" % (name, m.group(1),
                                                     m.group(2))
            assert w["restarts"] == 1, w
            assert "SIGKILL" in w["last_exit"], w
            # Nobody else was restarted.
            st = gate.status()
            assert {n: st[n]["pid"] for n in others} == others

            # The old connection died with its worker; whatever it
            # received before is counted too.
            await c.read_until_closed(5.0)
        finally:
            with contextlib.suppress(Exception):
                await c.ws.close()

        async with gate.client() as c2:
            res = await c2.resume(token)
            assert res.get("resumed") is True
            res = await c2.send(TEXT, "k-1")
            assert res["status"] in ("answering", "answered"), res
            done = await c2.wait_done("k-1")
            assert done["text"] == WANT
            # Nothing more for it may follow.
            await c2.drain(1.0)
            dones = c.dones("k-1") + c2.dones("k-1")
            assert len(dones) == 1, dones
            hist = await c2.ok("chat.history", {"limit": 10})
            assert hist["messages"][-2:] == [
                {"role": "user", "text": TEXT},
                {"role": "assistant", "text": WANT}]
        assert "worker %s" % name in gate.log()
    run(go())


def test_kill_agent_mid_stream(gate):
    async def go():
        async with gate.client() as c:
            await c.open()
            res = await c.send(TEXT, "a-1")
            assert res["status"] == "accepted"
            await c.wait_delta("a-1")
            agent = gate.worker("agent.default")
            os.kill(agent["pid"], signal.SIGKILL)

            done = await c.wait_done("a-1", timeout=10)
            assert done["text"] == WANT
            assert done["replayed"] is False
            await c.drain(1.0)
            assert len(c.dones("a-1")) == 1, c.dones("a-1")

            def back():
                w = gate.worker("agent.default")
                return w if (w["state"] == "running" and
                             w["pid"] != agent["pid"]) else None
            w = wait_for(back, 5.0, 0.02, "agent restart")
            assert w["restarts"] == 1 and "SIGKILL" in w["last_exit"], w

            # A resend now replays the one stored answer.
            res = await c.send(TEXT, "a-1")
            assert res["status"] == "answered"
            await c.wait_event(lambda e: e.get("event") == "chat.done" and
                               e.get("replayed") is True)
            assert [d["text"] for d in c.dones("a-1")] == [WANT, WANT]
            # And the restarted agent answers new messages.
            _, done = await c.chat("after the agent died", "a-2")
            assert done["text"] == "echo: after the agent died"
    run(go())


def test_resend_while_answering_attaches(gate):
    """A resend while the first request is still answering attaches to
    the running stream instead of asking the agent twice."""
    async def go():
        async with gate.client() as c:
            await c.open()
            await c.send(TEXT, "r-1")
            await c.wait_delta("r-1")
            res = await c.send(TEXT, "r-1")
            assert res["status"] == "answering"
            await c.wait_done("r-1")
            await c.drain(1.0)
            assert len(c.dones("r-1")) == 1
            assert c.dones("r-1")[0]["text"] == WANT
    run(go())
