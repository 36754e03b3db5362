"""Untrusted traffic cannot take the gateway down (issue #10's flood):
48 client addresses behind a trusted proxy, each inside its own session
and address rate limits, flood a slow agent while a bystander on its own
address sends one message a second.  No worker fails or restarts; every
bystander message is answered or refused with busy, never left without
an answer; afterwards a new client chats; a daemon killed right after
the flood serves a new client at once.

flood() is also the body of tests/bench/bench_flood.py, which runs it
longer and prints the latencies this test does not assert."""

import asyncio
import time

from conftest import plain_only, run

ADDRS = 48
# Five seconds an answer: the window of 64 fills in well under a second.
SLOW = {"name": "default", "type": "echo",
        "echo": {"chunks": 5, "delay_ms": 1000}}
CONF = {
    "agents": [SLOW],
    "policy": {
        "trusted_proxies": ["127.0.0.1"],
        "ratelimit": {"session": {"rate": "4/s", "burst": 4},
                      "address": {"rate": "4/s", "burst": 4}},
    },
}


def xff(addr):
    return {"extra_headers": {"X-Forwarded-For": addr}}


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def flood(gate, seconds, rate=3.0):
    """Run the flood; returns what was measured."""
    out = {"flood_sent": 0, "flood_busy": 0, "flood_other": 0,
           "by_sent": 0, "by_done": 0, "by_busy": 0, "by_lat": [],
           "busy_lat": [], "by_missing": []}
    stop = asyncio.Event()

    async def flooder(i):
        c = await gate.connect(**xff("203.0.113.%d" % (i + 1)))
        try:
            await c.open()
            n = 0
            while not stop.is_set():
                t0 = time.monotonic()
                r = await c.call("chat.send", {
                    "text": "flood %d" % n,
                    "client_msg_id": "f%d-%d" % (i, n)}, timeout=30)
                n += 1
                out["flood_sent"] += 1
                if not r["ok"]:
                    code = r["error"]["code"]
                    if code == "busy":
                        out["flood_busy"] += 1
                        out["busy_lat"].append(time.monotonic() - t0)
                    elif code != "rate_limited":
                        out["flood_other"] += 1
                await asyncio.sleep(1.0 / rate)
        finally:
            await c.ws.close()

    async def bystander():
        c = await gate.connect(**xff("198.51.100.7"))
        accepted = []
        try:
            await c.open()
            n = 0
            while not stop.is_set():
                cmid = "by-%d" % n
                n += 1
                t0 = time.monotonic()
                r = await c.call("chat.send", {
                    "text": "hello %d" % n, "client_msg_id": cmid},
                    timeout=30)
                out["by_lat"].append(time.monotonic() - t0)
                out["by_sent"] += 1
                if r["ok"]:
                    accepted.append(cmid)
                else:
                    assert r["error"]["code"] == "busy", r
                    out["by_busy"] += 1
                await asyncio.sleep(1.0)
            # Every accepted message is answered (or times out, told so).
            for cmid in accepted:
                try:
                    await c.wait_event(
                        lambda e, m=cmid: e.get("client_msg_id") == m and
                        e.get("event") in ("chat.done", "chat.error"),
                        180, "the answer to " + cmid)
                    out["by_done"] += 1
                except AssertionError:
                    out["by_missing"].append(cmid)
        finally:
            await c.ws.close()

    tasks = [asyncio.ensure_future(flooder(i)) for i in range(ADDRS)]
    tasks.append(asyncio.ensure_future(bystander()))
    await asyncio.sleep(seconds)
    out["webchat_rss_kib"] = sum(
        rss_kib(w["pid"]) for n, w in gate.status().items()
        if n.startswith("webchat."))
    stop.set()
    await asyncio.gather(*tasks)
    return out


async def new_visitor(gate, addr, deadline_s):
    """A new client's first message, honouring busy; (tries, done)."""
    c = await gate.connect(**xff(addr))
    try:
        await c.open()
        end = time.monotonic() + deadline_s
        tries = 0
        while True:
            tries += 1
            r = await c.call("chat.send", {"text": "hi",
                                           "client_msg_id": "new"})
            if r["ok"]:
                break
            assert r["error"]["code"] == "busy", r
            assert time.monotonic() < end, "still busy"
            await asyncio.sleep(r["error"]["retry_after_ms"] / 1000.0)
        return tries, await c.wait_done("new", deadline_s)
    finally:
        await c.ws.close()


@plain_only
def test_flood_from_48_addresses(gate_factory):
    gate = gate_factory(CONF)
    out = run(flood(gate, 12))
    print("\nflood: %(flood_sent)d sent, %(flood_busy)d busy; bystander "
          "%(by_sent)d sent, %(by_busy)d busy, %(by_done)d answered" % out)
    assert out["flood_busy"] > 0, "the flood never filled the agent"
    assert out["flood_other"] == 0
    assert out["by_missing"] == []
    assert out["by_done"] + out["by_busy"] == out["by_sent"]
    st = gate.status()
    assert all(w["state"] == "running" for w in st.values()), st
    assert st["agent.default"]["restarts"] == 0, st
    assert all(w["restarts"] == 0 for w in st.values()), st
    tries, done = run(new_visitor(gate, "192.0.2.1", 120))
    assert done["text"] == "echo: hi"


@plain_only
def test_daemon_restart_right_after_a_flood(gate_factory):
    gate = gate_factory(CONF)
    run(flood(gate, 4))
    gate.kill()
    gate.start()
    # The backlog waits in the store; a new client is let in at once.
    tries, done = run(new_visitor(gate, "192.0.2.2", 60))
    assert tries == 1
    assert done["text"] == "echo: hi"
