"""The channel interface (issue #11): a test-only channel kind,
workers/loopback (built with --enable-test-hooks), is one folder, a row
in worker.c's kind table and one in config_channel.c's channel types,
and nothing in the router or channel.c.  A message its "user" writes is
admitted by the same policy, answered by the agent, stored and
delivered back once, and the worker runs in the same sandbox."""

import os
import sqlite3

from conftest import wait_for

FAST_ECHO = [{"name": "default", "type": "echo",
              "echo": {"chunks": 2, "delay_ms": 0}}]


def rows(gate, sql):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(
        gate.state_dir, "wxgate.db"), uri=True, timeout=5)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def say(gate, peer, text):
    rc, out, err = gate.ctl("test", "loopback.t", "say:%s:%s" % (peer, text))
    assert rc == 0, (out, err)


def delivered(gate, peer, text):
    return gate.log().count("loopback t: to %s: %s" % (peer, text))


def test_loopback_kind_inbound_to_reply(gate_factory):
    gate = gate_factory({
        "agents": FAST_ECHO,
        "channels": [{"name": "t", "type": "loopback",
                      "dm_policy": "allowlist", "allow_from": ["friend"]}],
    })
    w = gate.worker("loopback.t")
    assert w["kind"] == "loopback" and w["state"] == "running", w
    with open("/proc/%d/status" % w["pid"]) as f:
        st = dict(line.rstrip("\n").split(":\t", 1) for line in f
                  if ":\t" in line)
    assert st["Seccomp"] == "2" and st["NoNewPrivs"] == "1", st

    say(gate, "friend", "hello")
    wait_for(lambda: delivered(gate, "friend", "echo: hello") == 1, 10,
             0.05, "the reply delivered back")
    # Policy applies as to any channel: a stranger is denied and audited.
    say(gate, "stranger", "let me in")
    gate.wait_log("loopback t: inbound 2: denied", 10)
    # Each message once: the row answered, the outbox emptied by the ack.
    assert rows(gate, "SELECT account, sender, state, reply FROM messages"
                " WHERE account = 't'") == \
        [("t", "friend", 3, "echo: hello")]
    wait_for(lambda: rows(gate, "SELECT count(*) FROM outbox")[0][0] == 0,
             10, 0.05, "the outbox to empty")
    assert delivered(gate, "friend", "echo: hello") == 1
