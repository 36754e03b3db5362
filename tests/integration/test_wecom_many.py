"""Twenty WeCom AI bots in one wxgated (issue #12): twenty wecom_bot
workers against one fake server (fake_wecom.py, one record and one set
of frame checks per bot).  All subscribe and answer; a SIGKILLed
worker comes back with exactly one more subscribe while the other
nineteen go on answering and never reconnect; a takeover by another
client parks only the bot taken over.

Needs a build configured with --enable-test-hooks."""

import asyncio
import json
import os
import re
import signal
import time

import websockets

from conftest import plain_only, wait_for
from fake_wecom import FakeWecom

NBOTS = 20
HEARTBEAT_MS = 1000
BOTS = [("aibTESTmany%04d" % i, "s3cret-MANY-%04d" % i)
        for i in range(NBOTS)]


def name(i):
    return "bot%02d" % i


def worker(i):
    return "wecom_bot." + name(i)


def start(gate_factory, fake, tmp_path, supervisor=None):
    channels = []
    for i, (bot_id, secret) in enumerate(BOTS):
        path = os.path.join(str(tmp_path), "%s.secret" % name(i))
        with open(path, "w") as f:
            f.write(secret + "\n")
        os.chmod(path, 0o600)
        channels.append({
            "name": name(i), "type": "wecom_bot", "dm_policy": "open",
            "wecom_bot": {"url": fake.url, "bot_id": bot_id,
                          "secret_file": path,
                          "heartbeat_ms": HEARTBEAT_MS,
                          "stream_interval_ms": 100}})
    return gate_factory({
        "agents": [{"name": "default", "type": "echo",
                    "echo": {"chunks": 2, "delay_ms": 50}}],
        "supervisor": supervisor or {},
        "channels": channels})


def all_subscribed(gate, fake):
    wait_for(lambda: all(fake.ready(b) for b, _ in BOTS), 30, 0.1,
             "%d bots subscribed at the fake" % NBOTS)
    want = {worker(i): "subscribed" for i in range(NBOTS)}
    wait_for(lambda: gate.channels() == want, 10, 0.1,
             "wxgatectl status: %d subscribed" % NBOTS)


def once_unless_logged(gate, fake, ids, victim, what):
    """victim twice; every other bot once, or more only after a
    reconnect its worker logged (a heartbeat starved on a loaded test
    machine), never because of what happened to the victim."""
    n = per_bot(fake, what)
    log = gate.log()
    assert n[victim] == 2, (what, n)
    for i, b in enumerate(ids):
        if b != victim and n[b] != 1:
            assert re.search(r"wecom %s: .*; connecting again" %
                             re.escape(name(i)), log), (what, b, n)


def ask(fake, bots, user, text):
    """A DM to each bot in bots; returns {bot_id: expected answer}."""
    for b in bots:
        fake.msg(user, "%s %s" % (text, b), bot=b)
    return {b: "echo: %s %s" % (text, b) for b in bots}


def answered(fake, want, user):
    return all(want[b] in [a["text"] for a in fake.answers_to(user, bot=b)]
               for b in want)


def wait_answered(fake, want, user, what):
    wait_for(lambda: answered(fake, want, user), 20, 0.05, what)


def per_bot(fake, attr):
    return {b: getattr(fake.bot(b), attr) for b, _ in BOTS}


@plain_only
def test_twenty_bots_and_one_killed(gate_factory, tmp_path):
    fake = FakeWecom(heartbeat_ms=HEARTBEAT_MS, bots=BOTS).start()
    try:
        run_twenty(gate_factory, fake, tmp_path)
    finally:
        fake.stop()


def run_twenty(gate_factory, fake, tmp_path):
    ids = [b for b, _ in BOTS]
    # A killed worker waits 1.5 s before it is started again: the
    # nineteen are asked while it is down.
    gate = start(gate_factory, fake, tmp_path,
                 supervisor={"restart_min_ms": 1500})
    all_subscribed(gate, fake)
    want = ask(fake, ids, "zhangsan", "hello")
    wait_answered(fake, want, "zhangsan", "every bot's answer")
    # Each answer went to its own bot's connection, once.
    for b in ids:
        assert [a["text"] for a in fake.bot(b).answers] == [want[b]], b

    k = 7
    victim, others = ids[k], ids[:k] + ids[k + 1:]
    w = gate.worker(worker(k))
    os.kill(w["pid"], signal.SIGKILL)
    wait_for(lambda: gate.worker(worker(k))["state"] == "backoff", 10,
             0.02, "the killed worker waiting to restart")
    want = ask(fake, others, "lisi", "meanwhile")
    with fake.lock:
        asked = max(max(fake.bot(b).pushed.values()) for b in others)
    wait_answered(fake, want, "lisi", "the nineteen answering")
    wait_for(lambda: gate.worker(worker(k))["pid"] not in (0, w["pid"]) and
             fake.ready(victim), 20, 0.05, "the killed bot subscribed again")
    assert "SIGKILL" in gate.worker(worker(k))["last_exit"]
    want = ask(fake, [victim], "lisi", "back")
    wait_answered(fake, want, "lisi", "the killed bot answering")
    # They were asked before it subscribed again (the fake's clock).
    resub = [t for _, t, f in fake.bot(victim).frames
             if f.get("cmd") == "aibot_subscribe"]
    assert len(resub) == 2 and asked < resub[1], (asked, resub)

    # A few heartbeats more: a storm would show up as more subscribes.
    time.sleep(4 * HEARTBEAT_MS / 1000.0)
    once_unless_logged(gate, fake, ids, victim, "subscribes")
    once_unless_logged(gate, fake, ids, victim, "connections")
    # The new subscribe came after the old socket was gone: no takeover,
    # never two subscribed connections of one bot at once.
    assert per_bot(fake, "takeovers") == {b: 0 for b in ids}
    assert fake.connections == NBOTS + 1 and fake.refusals == 0
    st = gate.status()
    assert {n: st[worker(i)]["restarts"] for i, n in enumerate(ids)} == \
        {b: 1 if b == victim else 0 for b in ids}
    assert gate.channels() == {worker(i): "subscribed"
                               for i in range(NBOTS)}
    for b in ids:
        assert fake.bot(b).violations == [], (b, fake.bot(b).violations)
    assert fake.violations == [], fake.violations


async def take_over(url, bot_id, secret):
    """Another client subscribing as bot_id: what the server acks."""
    ws = await websockets.connect(url, ping_interval=None)
    await ws.send(json.dumps({"cmd": "aibot_subscribe",
                              "headers": {"req_id": "other_sub_1"},
                              "body": {"bot_id": bot_id,
                                       "secret": secret}}))
    ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
    return ws, ack


@plain_only
def test_a_takeover_parks_only_that_bot(gate_factory, tmp_path):
    """Another client subscribes as one of the twenty: the server tells
    the worker disconnected_event (A.5.4); it closes, parks as replaced
    and does not subscribe again, and the other nineteen are not
    touched."""
    fake = FakeWecom(heartbeat_ms=HEARTBEAT_MS, bots=BOTS).start()
    loop = asyncio.new_event_loop()
    other = None
    try:
        gate = start(gate_factory, fake, tmp_path)
        all_subscribed(gate, fake)
        k = 3
        victim, secret = BOTS[k]
        other, ack = loop.run_until_complete(
            take_over(fake.url, victim, secret))
        assert ack["errcode"] == 0, ack
        wait_for(lambda: gate.channels()[worker(k)] == "replaced", 10,
                 0.05, "the worker parked as replaced")
        gate.wait_log("parked as replaced")
        # Past the fake's grace for closing, and a few heartbeats.
        time.sleep(4 * HEARTBEAT_MS / 1000.0)
        ids = [b for b, _ in BOTS]
        assert per_bot(fake, "takeovers") == \
            {b: 1 if b == victim else 0 for b in ids}
        once_unless_logged(gate, fake, ids, victim, "subscribes")
        ch = gate.channels()
        assert ch == {worker(i): "replaced" if i == k else "subscribed"
                      for i in range(NBOTS)}, ch
        st = gate.worker(worker(k))
        assert st["state"] == "running" and st["restarts"] == 0
        want = ask(fake, ids[:k] + ids[k + 1:], "wangwu", "still")
        wait_answered(fake, want, "wangwu", "the nineteen answering")
        assert fake.violations == [], fake.violations
    finally:
        if other is not None:
            loop.run_until_complete(other.close())
        loop.close()
        fake.stop()
