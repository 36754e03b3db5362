"""The channel interface (issue #11): a test-only channel kind,
workers/loopback (built with --enable-test-hooks), is one folder, a row
in worker.c's kind table and one in supervisor/kinds.c's, and nothing in
the router, channel.c or reload.c.  A message its "user" writes is
admitted by the same policy, answered by the agent, stored and
delivered back once, and the worker runs in the same sandbox."""

import copy

from conftest import QUEUED, audit_rows, check_config, wait_for

FAST_ECHO = [{"name": "default", "type": "echo",
              "echo": {"chunks": 2, "delay_ms": 0}}]



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
    assert gate.rows("SELECT account, sender, state, reply FROM messages"
                " WHERE account = 't'") == \
        [("t", "friend", 3, "echo: hello")]
    wait_for(lambda: gate.rows(QUEUED)[0][0] == 0,
             10, 0.05, "the outbox to empty")
    assert delivered(gate, "friend", "echo: hello") == 1


# A command agent whose every answer is 300 distinct characters.
LONG = "".join("%03d," % i for i in range(75))
LONG_AGENT = [{"name": "default", "type": "command", "command": {"argv": [
    "/usr/bin/python3", "-c",
    "import json, sys\n"
    "for line in sys.stdin:\n"
    "    r = json.loads(line)\n"
    "    if 'messages' in r:\n"
    "        t = ''.join('%03d,' % i for i in range(75))\n"
    "        print(json.dumps({'id': r['id'], 'delta': t}), flush=True)\n"
    "        print(json.dumps({'id': r['id'], 'done': True}), flush=True)\n"
]}}]


def test_loopback_chunks_at_its_own_limit(gate_factory):
    """A reply is cut at the kind's default text_chunk_limit (kinds.c:
    200 code points for loopback, whose platform is a log line)."""
    gate = gate_factory({
        "agents": LONG_AGENT,
        "channels": [{"name": "t", "type": "loopback",
                      "dm_policy": "open"}],
    })
    say(gate, "friend", "long please")
    wait_for(lambda: delivered(gate, "friend", LONG[200:]) == 1, 10, 0.05,
             "the second chunk")
    assert delivered(gate, "friend", LONG[:200]) == 1
    assert delivered(gate, "friend", LONG) == 0


def test_loopback_accounts_reload(gate_factory):
    """A reload by the kind table: an account whose slice is the same
    keeps its worker (its new policy reaches the hub), a changed slice
    restarts, a removed account stops, a new one starts; the agent and
    the web chat are untouched."""
    def acct(name, **kw):
        return dict({"name": name, "type": "loopback",
                     "dm_policy": "allowlist", "allow_from": ["friend"]},
                    **kw)

    gate = gate_factory({
        "agents": FAST_ECHO,
        "channels": [acct("t"), acct("u"), acct("x")],
    })
    before = gate.status()
    conf = copy.deepcopy(gate.conf)
    conf["channels"] = [acct("t", dm_policy="open"),
                        acct("u", wechat={"timeout_s": 30}), acct("v")]
    assert gate.reload(conf)
    names = ["agent.default", "webchat.0", "webchat.1", "loopback.t",
             "loopback.u", "loopback.v"]
    st = wait_for(lambda: gate.all_running(names), 10,
                  what="loopback.x gone, .u restarted, .v started")
    for n in ("agent.default", "webchat.0", "webchat.1", "loopback.t"):
        assert st[n]["pid"] == before[n]["pid"], (n, before[n], st[n])
    assert st["loopback.u"]["pid"] != before["loopback.u"]["pid"]
    log = gate.log()
    assert "reload: restarting loopback.u" in log
    assert "reload: removing loopback.x" in log
    assert "reload: restarting loopback.t" not in log

    # t's worker is the same, but the hub applies its new policy.
    say(gate, "stranger", "hi")
    wait_for(lambda: delivered(gate, "stranger", "echo: hi") == 1, 10, 0.05,
             "a stranger answered under dm_policy open")
    rc, out, err = gate.ctl("test", "loopback.v", "say:friend:hello v")
    assert rc == 0, (out, err)
    wait_for(lambda: gate.log().count("loopback v: to friend: echo: hello v")
             == 1, 10, 0.05, "the new account's reply")


def test_group_policy(gate_factory):
    """Group chats: off unless the account says so; an allowlist lets in
    the chats it names (others denied and audited, never paired); each
    member of a chat is a conversation of its own, apart from their
    direct one."""
    def gate_with(sub, **chan):
        c = {"name": "t", "type": "loopback", "dm_policy": "open"}
        c.update(chan)
        return gate_factory({"agents": FAST_ECHO, "channels": [c]}, sub=sub)

    gate = gate_with("off")
    say(gate, "team#alice", "anyone here?")
    gate.wait_log("loopback t: inbound 1: ignored", 10)
    assert gate.rows("SELECT count(*) FROM messages") == [(0,)]

    gate = gate_with("list", group_policy="allowlist", groups=["team"])
    say(gate, "team#alice", "@bot hello team")
    wait_for(lambda: delivered(gate, "team/alice",
                               "echo: @bot hello team") == 1,
             10, 0.05, "the group reply")
    # require_mention (the default): a group message not for the bot.
    say(gate, "team#dave", "talking among ourselves")
    gate.wait_log("loopback t: inbound 2: ignored", 10)
    say(gate, "other#bob", "@bot let me in")
    gate.wait_log("loopback t: inbound 3: denied", 10)
    assert gate.log().count("to other/bob") == 0
    rows = audit_rows(gate, "detail LIKE '%group_policy%'")
    assert len(rows) == 1 and rows[0]["worker"] == "loopback.t", rows
    # Alice in the group and alice alone are two conversations.
    say(gate, "alice", "just me")
    wait_for(lambda: delivered(gate, "alice", "echo: just me") == 1, 10,
             0.05, "the direct reply")
    assert sorted(gate.rows("SELECT peer FROM sessions WHERE account = "
                            "'t'")) == [("alice",), ("team/alice",)]

    gate = gate_with("open", group_policy="open", require_mention=False)
    say(gate, "any#carol", "hi")
    wait_for(lambda: delivered(gate, "any/carol", "echo: hi") == 1, 10,
             0.05, "an open group's reply")


def test_group_policy_config_errors():
    rc, out = check_config({"channels": [{"name": "t", "type": "loopback",
                                          "group_policy": "some"}]})
    assert rc != 0 and "channels[0].group_policy" in out and \
        "known: disabled, allowlist, open" in out, out


def test_state_keys_are_bounded(gate_factory):
    """state.put is the worker's own account's few keys (token, cursor,
    status...): a worker that puts key after new key is killed as
    compromised instead of growing the store without end."""
    gate = gate_factory({"agents": FAST_ECHO,
                         "channels": [{"name": "t", "type": "loopback",
                                       "dm_policy": "open"}]})
    old = gate.worker("loopback.t")
    # A kind's keys, said again and again, are only overwritten.
    for _ in range(3):
        rc, out, err = gate.ctl("test", "loopback.t", "state:8")
        assert rc == 0, (out, err)
    wait_for(lambda: gate.rows("SELECT count(*) FROM kv WHERE account = 't'"
                               ) == [(8,)], 10, 0.05, "8 keys stored")
    assert gate.worker("loopback.t")["restarts"] == 0

    rc, out, err = gate.ctl("test", "loopback.t", "state:200")
    assert rc == 0, (out, err)

    def back():
        w = gate.worker("loopback.t")
        return w if (w["state"] == "running" and w["pid"] != old["pid"] and
                     w["restarts"] == 1) else None
    w = wait_for(back, 10, 0.05, "loopback.t killed and restarted")
    assert "protocol violation" in w["last_exit"], w
    n = gate.rows("SELECT count(*) FROM kv WHERE account = 't'")[0][0]
    assert n <= 32, n


def test_pairing_notices_spend_the_account_bucket(gate_factory):
    """A pairing code's notice is a platform message like any other: new
    senders past the account's bucket (the platform's quota) get no code
    and no notice, rather than one row and one send each."""
    gate = gate_factory({"agents": FAST_ECHO,
                         "channels": [{"name": "t", "type": "loopback",
                                       "dm_policy": "pairing",
                                       "ratelimit": {"account": {
                                           "rate": "1/hour",
                                           "burst": 2}}}]})
    for i in range(6):
        say(gate, "stranger%d" % i, "hi")
        gate.wait_log("loopback t: inbound %d: " % (i + 1), 10)
    acks = [l.rsplit(": ", 1)[1] for l in gate.log().splitlines()
            if "loopback t: inbound " in l]
    assert acks == ["pairing"] * 2 + ["limited"] * 4, acks
    assert gate.rows("SELECT count(*) FROM pairings WHERE account = 't'"
                     ) == [(2,)]
    assert gate.worker("loopback.t")["restarts"] == 0
