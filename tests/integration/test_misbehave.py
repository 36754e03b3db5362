"""Acceptance: a webchat worker that breaks the IPC protocol (test hooks
of --enable-test-hooks builds) is killed and restarted, and the other
worker's clients do not notice."""

import asyncio
import contextlib

import pytest

from conftest import run, wait_for

# action -> what the log and LAST-EXIT must say about the kill
VIOLATIONS = {
    "malformed": "protocol violation",
    "unknown": "unknown message type",
    "oversized": "oversized frame",
    "wrong_role": "agent.delta not allowed for webchat",
}


def wait_restarted(gate, name, old_pid, restarts=1, timeout=15.0):
    def back():
        w = gate.worker(name)
        return w if (w["state"] == "running" and w["pid"] != old_pid and
                     w["restarts"] == restarts) else None
    return wait_for(back, timeout, 0.02, "%s to be restarted" % name)


async def misbehave_while_other_chats(gate, action):
    """Run `wxgatectl test webchat.0 ACTION` while a client of webchat.1
    has a reply streaming; returns webchat.0's status afterwards."""
    before = gate.status()
    victim = before["webchat.0"]
    bystander = gate.worker("webchat.1")
    c = await gate.client_on("webchat.1")
    try:
        await c.open()
        await c.chat("warm up", "w-0")
        await c.send("streaming through the trouble", "w-1")
        await c.wait_delta("w-1")

        rc, out, err = gate.ctl("test", "webchat.0", action)
        assert rc == 0, (rc, out, err)
        w = wait_restarted(gate, "webchat.0", victim["pid"])

        # The bystander's reply finished normally, in one piece.
        done = await c.wait_done("w-1")
        assert done["text"] == "echo: streaming through the trouble"
        assert "".join(d["text"] for d in c.deltas("w-1")) == done["text"]
        # ...and it keeps chatting on the same connection.
        _, done = await c.chat("and after", "w-2")
        assert done["text"] == "echo: and after"
        assert len(c.dones("w-1")) == 1
    finally:
        with contextlib.suppress(Exception):
            await c.ws.close()

    st = gate.status()
    assert st["webchat.1"]["pid"] == bystander["pid"]
    assert st["webchat.1"]["restarts"] == 0
    assert st["agent.default"]["pid"] == before["agent.default"]["pid"]

    # New clients are served, by either worker (several, to reach both).
    news = [await gate.connect() for _ in range(6)]
    try:
        owners = {gate.conn_owner(n.local_port)[1] for n in news}

        async def one(i, n):
            await n.open()
            _, done = await n.chat("new %d" % i, "n-%d" % i)
            assert done["text"] == "echo: new %d" % i
        await asyncio.gather(*(one(i, n) for i, n in enumerate(news)))
    finally:
        for n in news:
            with contextlib.suppress(Exception):
                await n.ws.close()
    return w, owners


@pytest.mark.parametrize("action", sorted(VIOLATIONS))
def test_protocol_violation_kills_and_restarts(gate, action):
    w, _ = run(misbehave_while_other_chats(gate, action))
    assert w["restarts"] == 1, w
    assert "SIGKILL" in w["last_exit"], w
    assert "protocol violation" in w["last_exit"], w
    log = gate.log()
    assert "killing worker webchat.0" in log, log
    kill_lines = [l for l in log.splitlines()
                  if "killing worker webchat.0" in l]
    assert any("protocol violation" in l and VIOLATIONS[action] in l
               for l in kill_lines), kill_lines


def test_hang_is_killed_by_heartbeat(gate):
    w, _ = run(misbehave_while_other_chats(gate, "hang"))
    assert w["restarts"] == 1, w
    assert "SIGKILL" in w["last_exit"] and "heartbeat" in w["last_exit"], w
    assert any("killing worker webchat.0" in l and "heartbeat timeout" in l
               for l in gate.log().splitlines()), gate.log()


def test_test_hook_unknown_worker(gate):
    rc, _, err = gate.ctl("test", "webchat.9", "crash")
    assert rc == 1, err
    st = gate.status()
    assert all(w["restarts"] == 0 for w in st.values()), st
