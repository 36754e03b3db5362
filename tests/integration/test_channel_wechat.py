"""A personal-WeChat account (the wechat worker, iLink) end to end against
a fake iLink server on 127.0.0.1 (fake_ilink.py): QR login, the
supervisor's channel policy (dm_policy pairing/allowlist, pairing codes
approved with wxgatectl, rate limits per sender and per account answered
with one notice, audit), replies cut into chunks, delivery retries, and
no loss: a SIGKILLed worker, agent or supervisor mid-conversation, with
every accepted message answered exactly once.

Needs a build configured with --enable-test-hooks."""

import os
import re
import signal
import subprocess
import time

import pytest

from conftest import QUEUED, WXGATECTL, wait_for
from fake_ilink import FakeIlink, cursor_of
from test_hub import hub_pid

OWNER = "o9cq80_FAKEuSeRiD0000000000@im.wechat"
STRANGER = "stranger_0001@im.wechat"
FRIEND = "friend_0002@im.wechat"


@pytest.fixture
def fake():
    f = FakeIlink(longpoll_ms=1500).start()
    yield f
    f.stop()


def channel(fake, tmp_path, token=True, **over):
    """A channels[] entry for account alice pointing at the fake."""
    c = {"name": "alice", "type": "wechat", "dm_policy": "pairing",
         "wechat": {"login_url": fake.url, "send_gap_ms": 0,
                    "poll_timeout_ms": 3000, "timeout_s": 5}}
    if token:
        path = os.path.join(str(tmp_path), "alice.token")
        with open(path, "w") as f:
            f.write(fake.token + "\n")
        os.chmod(path, 0o600)
        c["wechat"]["token_file"] = path
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(c.get(k), dict):
            c[k].update(v)
        else:
            c[k] = v
    return c


def start(gate_factory, fake, tmp_path, agent=None, sup=None, **over):
    conf = {"channels": [channel(fake, tmp_path, **over)]}
    if agent is not None:
        conf["agents"] = agent
    if sup is not None:
        conf["supervisor"] = sup
    return gate_factory(conf)


def sent_to(fake, peer):
    with fake.lock:
        return [s for s in fake.sent if s["to"] == peer and
                s["outcome"] == "ok"]


def wait_sent(fake, peer, n, timeout=10.0):
    return wait_for(lambda: len(sent_to(fake, peer)) >= n and
                    sent_to(fake, peer), timeout, 0.05,
                    "%d messages to %s" % (n, peer))


def no_violations(fake):
    assert fake.violations == [], fake.violations


def test_allowed_sender_chats(gate_factory, fake, tmp_path):
    gate = start(gate_factory, fake, tmp_path, allow_from=[FRIEND])
    assert gate.worker("wechat.alice")["state"] == "running"
    fake.inject(FRIEND, "hello bot", context_token="CTX-friend-1")
    s = wait_sent(fake, FRIEND, 1)
    assert s[0]["text"] == "echo: hello bot"
    # The reply carries the token of the message it answers.
    assert s[0]["context_token"] == "CTX-friend-1"
    # Conversation context: the agent sees the earlier turn.
    fake.inject(FRIEND, "again")
    s = wait_sent(fake, FRIEND, 2)
    assert s[1]["text"] == "echo: again"
    # Delivered rows leave the outbox; the cursor was stored.
    wait_for(lambda: gate.rows(QUEUED)[0][0] == 0,
             5, 0.05, "outbox drained")
    assert gate.rows("SELECT count(*) FROM kv WHERE account = 'alice' "
                "AND key = 'cursor'")[0][0] == 1
    no_violations(fake)


def test_qr_login_then_the_owner_chats(gate_factory, fake, tmp_path):
    fake.qr_script = ["wait", "wait", "scaned", "confirmed"]
    gate = start(gate_factory, fake, tmp_path, token=False)
    # The worker fetched a QR code; the operator shows it and follows
    # the login to its end.
    def shown():
        rc, out, err = gate.ctl("login", "alice", timeout=30)
        return out if rc == 0 else None
    out = wait_for(shown, 20, 0.1, "a QR code to show")
    url = out.splitlines()[1]
    assert url.startswith("https://") or url.startswith("http://"), out
    assert any("\u2588" in ln for ln in out.splitlines()[2:])
    assert "Scanned: confirm on the phone." in out, out
    assert out.rstrip().endswith("Logged in."), out
    gate.wait_log("channel alice: logged in", timeout=15)
    rc, out, err = gate.ctl("login", "alice")
    assert rc == 1 and "not waiting" in err
    # The token is kept, never in the log.
    assert gate.rows("SELECT value FROM kv WHERE account = 'alice' AND "
                "key = 'token'")[0][0] == fake.token
    assert fake.token.split(":")[1] not in gate.log()
    # Whoever scanned may talk to it at once (dm_policy pairing).
    fake.inject(OWNER, "it is me")
    assert wait_sent(fake, OWNER, 1)[0]["text"] == "echo: it is me"
    no_violations(fake)


def test_pairing_code_then_approval(gate_factory, fake, tmp_path):
    gate = start(gate_factory, fake, tmp_path)
    fake.inject(STRANGER, "let me in")
    s = wait_sent(fake, STRANGER, 1)
    m = re.search(r"[A-Z2-9]{8}", s[0]["text"])
    assert m and "pairing" in s[0]["text"].lower(), s[0]["text"]
    code = m.group(0)
    # Asking again does not mint codes (or notices) while one is live.
    fake.inject(STRANGER, "hello?")
    time.sleep(1.0)
    assert len(sent_to(fake, STRANGER)) == 1
    rc, out, err = gate.ctl("pairing", "list")
    assert rc == 0 and code in out and STRANGER in out and "alice" in out
    # Nothing the stranger said reached the agent or the store.
    assert gate.rows("SELECT count(*) FROM messages")[0][0] == 0
    rc, out, err = gate.ctl("pairing", "approve", code.lower())
    assert rc == 0, err
    fake.inject(STRANGER, "thanks")
    s = wait_sent(fake, STRANGER, 2)
    assert s[1]["text"] == "echo: thanks"
    no_violations(fake)


def test_allowlist_refuses_and_audits(gate_factory, fake, tmp_path):
    gate = start(gate_factory, fake, tmp_path, dm_policy="allowlist",
                 allow_from=[FRIEND])
    fake.inject(STRANGER, "hi")
    fake.inject(FRIEND, "hi")
    wait_sent(fake, FRIEND, 1)
    time.sleep(0.5)
    assert sent_to(fake, STRANGER) == []
    a = gate.rows("SELECT role, worker, method, detail FROM audit")
    assert a == [("channel", "wechat.alice", "inbound.message",
                  "sender not allowed by dm_policy")], a
    rc, out, err = gate.ctl("audit")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["TIME", "ROLE", "WORKER"]
    assert "wechat.alice" in lines[1] and "inbound.message" in lines[1]


def test_sender_rate_limit_answers_once(gate_factory, fake, tmp_path):
    gate = start(gate_factory, fake, tmp_path, allow_from=["*"],
                 ratelimit={"peer": {"rate": "1/hour", "burst": 2}})
    for i in range(6):
        fake.inject(FRIEND, "m%d" % i)
    wait_sent(fake, FRIEND, 3)
    time.sleep(1.5)
    texts = [x["text"] for x in sent_to(fake, FRIEND)]
    # Two answers and one notice for the four over the rate, not four.
    assert sorted(t for t in texts if t.startswith("echo:")) == \
        ["echo: m0", "echo: m1"], texts
    notices = [t for t in texts if not t.startswith("echo:")]
    assert len(notices) == 1 and "Too many messages" in notices[0], texts
    # Nothing lost: every message is stored and answered.
    st = gate.rows("SELECT state, count(*) FROM messages GROUP BY state")
    assert st == [(3, 6)], st
    # Another sender still gets through: the limit is per sender.
    fake.inject(OWNER, "me too")
    assert "echo: me too" in [x["text"] for x in wait_sent(fake, OWNER, 1)]
    no_violations(fake)


def test_account_rate_limit(gate_factory, fake, tmp_path):
    gate = start(gate_factory, fake, tmp_path, allow_from=["*"],
                 ratelimit={"account": {"rate": "1/hour", "burst": 2}})
    fake.inject(FRIEND, "one")
    fake.inject(OWNER, "two")
    wait_sent(fake, FRIEND, 1)
    wait_sent(fake, OWNER, 1)
    fake.inject(STRANGER, "three")
    s = wait_sent(fake, STRANGER, 1)
    assert "Too many messages" in s[0]["text"], s
    assert gate.worker("wechat.alice")["restarts"] == 0


def test_long_reply_is_cut_into_chunks(gate_factory, fake, tmp_path):
    gate = start(gate_factory, fake, tmp_path, allow_from=["*"],
                 text_chunk_limit=100)
    line = "\u4f60\u597d" * 30          # 60 CJK characters
    fake.inject(FRIEND, line + "\n" + line + "\n" + line)
    wait_sent(fake, FRIEND, 3)
    time.sleep(0.5)
    texts = [x["text"] for x in sent_to(fake, FRIEND)]
    assert all(len(t) <= 100 for t in texts), [len(t) for t in texts]
    assert "".join(texts) == "echo: " + line + "\n" + line + "\n" + line
    assert gate.worker("wechat.alice")["restarts"] == 0


def test_chunks_stay_in_order_when_one_is_retried(gate_factory, fake,
                                                  tmp_path):
    """The first part of a long reply fails (HTTP 500) and waits for its
    retry: the later parts wait behind it, so the person reads them in
    order; each part once."""
    gate = start(gate_factory, fake, tmp_path, allow_from=["*"],
                 text_chunk_limit=100)
    lines = ["%d" % i * 60 for i in range(1, 4)]
    fake.fail(send_http=1)
    fake.inject(FRIEND, "\n".join(lines))
    wait_sent(fake, FRIEND, 3, timeout=30)
    time.sleep(0.5)
    texts = [x["text"] for x in sent_to(fake, FRIEND)]
    assert "".join(texts) == "echo: " + "\n".join(lines), texts
    assert len(texts) == 3, texts
    with fake.lock:
        outcomes = [x["outcome"] for x in fake.sent if x["to"] == FRIEND]
    assert outcomes == ["http500", "ok", "ok", "ok"], outcomes
    assert gate.rows(QUEUED)[0][0] == 0
    no_violations(fake)


def test_refused_send_is_retried(gate_factory, fake, tmp_path):
    gate = start(gate_factory, fake, tmp_path, allow_from=["*"])
    fake.fail(send_ret2=1)
    fake.inject(FRIEND, "persist")
    s = wait_sent(fake, FRIEND, 1, timeout=20)
    assert s[0]["text"] == "echo: persist"
    with fake.lock:
        outcomes = [x["outcome"] for x in fake.sent if x["to"] == FRIEND]
        ids = [x["client_id"] for x in fake.sent if x["to"] == FRIEND]
    assert outcomes == ["-2", "ok"], outcomes
    # Surely refused: the retry goes under a new key.
    assert ids[0] != ids[1]
    gate.wait_log("not delivered")
    no_violations(fake)


def test_group_and_echo_messages_are_not_answered(gate_factory, fake,
                                                  tmp_path):
    start(gate_factory, fake, tmp_path, allow_from=["*"])
    fake.inject(FRIEND, "in a group", group_id="g1@im.chatroom")
    fake.inject("a1b2c3d4e5f6@im.bot", "my own echo", message_type=2)
    fake.inject(FRIEND, "direct")
    wait_sent(fake, FRIEND, 1)
    time.sleep(0.5)
    assert [x["text"] for x in sent_to(fake, FRIEND)] == ["echo: direct"]


def test_expired_token_asks_for_a_new_login(gate_factory, fake, tmp_path):
    gate = start(gate_factory, fake, tmp_path, allow_from=["*"])
    assert gate.channels()["wechat.alice"] == "polling"
    fake.expire()
    gate.wait_log("the platform ended the login", timeout=10)
    # The operator sees it in wxgatectl status, not only in the log.
    wait_for(lambda: gate.channels().get("wechat.alice") ==
             "login_required", 5, 0.05, "login_required in status")
    wait_for(lambda: gate.ctl("login", "alice")[0] == 0, 10, 0.1,
             "a new QR code")
    gate.wait_log("channel alice: logged in", timeout=15)
    wait_for(lambda: gate.channels().get("wechat.alice") == "polling", 5,
             0.05, "polling again in status")
    fake.inject(FRIEND, "back")
    assert wait_sent(fake, FRIEND, 1)[0]["text"] == "echo: back"


def answered_once(fake, peer, n, prefix="k"):
    """Every one of n messages answered exactly once, as the user sees."""
    want = sorted("echo: %s%d" % (prefix, i) for i in range(n))
    got = sorted(x["text"] for x in sent_to(fake, peer))
    return got == want


def test_polls_answered_at_once_are_not_asked_at_once(gate_factory,
                                                     tmp_path):
    """A long poll the server answers at once with nothing (a proxy, a
    server in trouble) is not asked again at once (§3.3 expects it
    held): a handful of polls in two seconds, where the worker asked
    thousands; a message still comes and is answered."""
    f = FakeIlink(longpoll_ms=1500, hold_s=0).start()
    try:
        start(gate_factory, f, tmp_path, allow_from=[FRIEND])
        wait_for(lambda: len(f.polls) >= 2, 10, 0.05, "two polls")
        with f.lock:
            n0 = len(f.polls)
        time.sleep(2)
        with f.lock:
            n = len(f.polls) - n0
        assert n <= 10, n
        f.inject(FRIEND, "still there?")
        s = wait_sent(f, FRIEND, 1)
        assert s[0]["text"] == "echo: still there?"
        no_violations(f)
    finally:
        f.stop()


def test_sigkill_mid_conversation_loses_nothing(gate_factory, fake,
                                                tmp_path):
    """SIGKILL of the wechat worker, the agent and the wechat worker
    again while 30 messages are in flight: each is answered once."""
    gate = start(gate_factory, fake, tmp_path, allow_from=["*"],
                 ratelimit={"peer": {"rate": "1000/s", "burst": 1000},
                            "account": {"rate": "1000/s", "burst": 1000}})
    n = 30
    victims = ["wechat.alice", "agent.default", "wechat.alice"]
    for i in range(n):
        fake.inject(FRIEND, "k%d" % i)
        if i % 10 == 5:
            w = gate.worker(victims[i // 10])
            os.kill(w["pid"], signal.SIGKILL)
            wait_for(lambda: gate.worker(w["name"])["pid"] != w["pid"] and
                     gate.worker(w["name"])["state"] == "running",
                     10, 0.05, "%s back" % w["name"])
        time.sleep(0.05)
    wait_for(lambda: answered_once(fake, FRIEND, n) or
             len(sent_to(fake, FRIEND)) > n, 30, 0.1, "every answer")
    time.sleep(1.0)
    got = sorted(x["text"] for x in sent_to(fake, FRIEND))
    assert answered_once(fake, FRIEND, n), got
    st = gate.rows("SELECT state, count(*) FROM messages GROUP BY state")
    assert st == [(3, n)], st
    assert gate.rows(QUEUED)[0][0] == 0
    for name in ("wechat.alice", "agent.default"):
        assert "SIGKILL" in gate.worker(name)["last_exit"]
    no_violations(fake)


def test_supervisor_restart_keeps_the_outbox(gate_factory, fake, tmp_path):
    """Replies queued when the whole daemon stops go out after it starts
    again, once."""
    gate = start(gate_factory, fake, tmp_path, allow_from=["*"])
    fake.fail(send_http=1000)
    for i in range(3):
        fake.inject(FRIEND, "k%d" % i)
    wait_for(lambda: gate.rows(QUEUED)[0][0] == 3,
             15, 0.1, "three replies queued")
    assert gate.stop() == 0
    with fake.lock:
        fake.fail_send_http = 0
    gate.start()
    wait_for(lambda: answered_once(fake, FRIEND, 3), 30, 0.1,
             "the queued replies")
    time.sleep(0.5)
    assert answered_once(fake, FRIEND, 3)
    no_violations(fake)


def test_wechat_worker_is_sandboxed(gate_factory, fake, tmp_path):
    from test_sandbox import assert_confined, kill_with_each
    gate = start(gate_factory, fake, tmp_path, allow_from=["*"],
                 sup={"restart_max_ms": 400})
    w = gate.worker("wechat.alice")
    assert_confined(w["pid"])
    kill_with_each(gate, "wechat.alice", dials=True)
    # Restarted, it still serves.
    fake.inject(FRIEND, "after the storm")
    assert wait_sent(fake, FRIEND, 1)[0]["text"] == "echo: after the storm"


def test_store_failure_is_retried_not_lost(gate_factory, fake, tmp_path):
    """The supervisor cannot store a message (a failing disk, by test
    hook): it answers inbound.ack "retry", the worker keeps its cursor and
    polls the batch again, and the message is answered once."""
    gate = start(gate_factory, fake, tmp_path, allow_from=["*"])
    rc, out, err = gate.ctl("test", "supervisor", "store_fail")
    assert rc == 0, (rc, out, err)
    with fake.lock:
        k = len(fake.polls)
    fake.inject(FRIEND, "despite the disk")
    s = wait_sent(fake, FRIEND, 1, timeout=15)
    assert s[0]["text"] == "echo: despite the disk"
    gate.wait_log("test hook: write fails")
    gate.wait_log("the supervisor could not take a message")
    time.sleep(1.0)
    assert len(sent_to(fake, FRIEND)) == 1
    assert gate.rows("SELECT count(*) FROM messages")[0][0] == 1
    # The next poll after the refused batch asked from the old cursor;
    # only the one after the accepted copy moved on.
    with fake.lock:
        after = fake.polls[k:]
    assert after[0] == "" and cursor_of(1) in after, after


SLOW_ECHO = [{"name": "default", "type": "echo",
              "echo": {"chunks": 3, "delay_ms": 3000}}]


def test_typing_while_the_agent_answers(gate_factory, fake, tmp_path):
    """§3.6/§3.7: the sender sees "typing..." from the moment the agent
    has the message (a ticket from getconfig first), kept alive while it
    works, and off once the answer is sent; nothing when the ticket
    cannot be had."""
    start(gate_factory, fake, tmp_path, allow_from=["*"], agent=SLOW_ECHO)
    fake.inject(FRIEND, "think about it")
    s = wait_sent(fake, FRIEND, 1, timeout=20)
    assert s[0]["text"] == "echo: think about it"
    wait_for(lambda: any(st == 2 for _, st in fake.typing_of(FRIEND)), 10,
             0.05, "typing off")
    t = fake.typing_of(FRIEND)
    ons = [at for at, st in t if st == 1]
    off = [at for at, st in t if st == 2]
    # On before the answer, kept alive while the agent took ~6 s, off
    # after it, once.
    assert ons and ons[0] < s[0]["time"], t
    assert len(ons) >= 2, t
    assert len(off) == 1 and off[0] >= s[0]["time"], t
    assert fake.configs.count(FRIEND) == 1
    no_violations(fake)

    # Without a ticket there is no typing, and the answer still comes.
    with fake.lock:
        fake.fail_config = 1
        fake.configs.clear()
        fake.typing.clear()
    other = "o9cq80_OTHERuSeRiD0000000000@im.wechat"
    fake.inject(other, "no ticket")
    assert wait_sent(fake, other, 1, timeout=20)[0]["text"] == \
        "echo: no ticket"
    assert fake.typing_of(other) == []
    assert fake.configs == [other]
    no_violations(fake)


def test_replies_ride_on_the_newest_context_token(gate_factory, fake,
                                                 tmp_path):
    """§1.4: a user who writes twice before a slow agent answers gets
    both answers on the token of their latest message, not a stale one
    (the server may refuse a reply on an older token)."""
    start(gate_factory, fake, tmp_path, allow_from=["*"], agent=SLOW_ECHO)
    fake.inject(FRIEND, "first", context_token="CTX-OLD")
    fake.inject(FRIEND, "second", context_token="CTX-NEW")
    s = wait_sent(fake, FRIEND, 2, timeout=30)
    assert sorted(x["text"] for x in s) == ["echo: first", "echo: second"]
    assert [x["context_token"] for x in s] == ["CTX-NEW", "CTX-NEW"], s
    no_violations(fake)


def test_send_gap_holds_across_a_worker_restart(gate_factory, fake,
                                                tmp_path):
    """§7.2: send_gap_ms between two sends of the account, even when the
    worker that sent the first was SIGKILLed right after it."""
    gate = start(gate_factory, fake, tmp_path, allow_from=["*"],
                 wechat={"send_gap_ms": 1500}, sup={"restart_min_ms": 50})
    fake.inject(FRIEND, "one")
    first = wait_sent(fake, FRIEND, 1, timeout=15)[0]
    old = gate.worker("wechat.alice")
    os.kill(old["pid"], signal.SIGKILL)
    fake.inject(FRIEND, "two")
    second = wait_sent(fake, FRIEND, 2, timeout=20)[1]
    assert second["text"] == "echo: two"
    assert second["time"] - first["time"] >= 1.5, (first, second)
    no_violations(fake)


@pytest.mark.parametrize("victim", ["worker", "daemon"])
def test_context_budget_holds_across_a_worker_restart(gate_factory, fake,
                                                      tmp_path, victim):
    """§7.2: a reply of 14 parts on one context token, the wechat worker
    SIGKILLed after some went (or the whole daemon stopped and started
    again): its successor counts on from what the hub stored as sent,
    not from 0, so the token carries at most 10 and the server never
    answers -2.  The parts it holds back go once the person writes
    again, on the new token; none is lost."""
    gate = start(gate_factory, fake, tmp_path, allow_from=["*"],
                 text_chunk_limit=100, wechat={"send_gap_ms": 300},
                 sup={"restart_min_ms": 50})
    lines = ["%02d " % i + chr(ord("a") + i) * 90 for i in range(14)]
    answer = "echo: " + "\n".join(lines)
    fake.inject(FRIEND, "\n".join(lines), context_token="CTX-ONE")
    wait_sent(fake, FRIEND, 4, timeout=20)
    old = gate.worker("wechat.alice")
    if victim == "worker":
        os.kill(old["pid"], signal.SIGKILL)
    else:
        assert gate.stop() == 0
        assert len(sent_to(fake, FRIEND)) < 10
        gate.start()
    wait_for(lambda: gate.worker("wechat.alice")["pid"] != old["pid"] and
             gate.worker("wechat.alice")["state"] == "running",
             10, 0.05, "the worker back")
    # The successor spends the rest of the token's ten, then holds back.
    fake.ten_then_the_rest(FRIEND, answer, wait_for)
    assert gate.rows(QUEUED)[0][0] == 0
    if victim == "worker":
        assert "SIGKILL" in gate.worker("wechat.alice")["last_exit"]
    no_violations(fake)


def test_notifystart_before_polling_and_notifystop_at_exit(gate_factory,
                                                          fake, tmp_path):
    """§3.8: the account says it is online before its first poll, and
    offline when it stops with a token."""
    gate = start(gate_factory, fake, tmp_path, allow_from=["*"])
    fake.inject(FRIEND, "hi")
    wait_sent(fake, FRIEND, 1)
    with fake.lock:
        assert fake.lifecycle[:2] == ["start", "poll"], fake.lifecycle
    gate.stopped_by_test = True
    assert gate.stop() == 0
    with fake.lock:
        assert fake.lifecycle[-1] == "stop", fake.lifecycle
        assert fake.lifecycle.count("start") == 1
    no_violations(fake)


def test_ilink_groups_under_group_policy(gate_factory, fake, tmp_path):
    """§5.5 (none delivered today): a group message is ignored by
    default; with group_policy open and require_mention off (iLink marks
    no mentions) it is answered in the group, never privately."""
    gate = start(gate_factory, fake, tmp_path, allow_from=["*"],
                 group_policy="open", require_mention=False)
    fake.inject(FRIEND, "in a group", group_id="g1@im.chatroom")
    s = wait_sent(fake, "g1@im.chatroom", 1)
    assert s[0]["text"] == "echo: in a group"
    assert sent_to(fake, FRIEND) == []
    assert gate.rows("SELECT peer FROM sessions WHERE account = 'alice'") \
        == [("g1@im.chatroom/" + FRIEND,)]
    # A group id that cannot name a conversation is dropped, loudly.
    fake.inject(FRIEND, "odd", group_id="a/b@im.chatroom")
    gate.wait_log("unusable group_id", 10)
    no_violations(fake)


def test_login_follows_an_expired_code_to_the_end(gate_factory, fake,
                                                  tmp_path):
    """wxgatectl login shows the code, then a new one when it expires,
    and returns 0 once the account is logged in; --no-wait only shows."""
    fake.qr_script = ["wait", "wait", "expired"]
    gate = start(gate_factory, fake, tmp_path, token=False)
    wait_for(lambda: gate.ctl("login", "--no-wait", "alice")[0] == 0, 10,
             0.1, "a first code")
    p = subprocess.Popen([WXGATECTL, "-s", gate.sock, "login", "alice"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        # The first code expires; the next one is scanned and confirmed.
        with fake.lock:
            fake.qr_script = ["wait", "scaned", "confirmed"]
        out, err = p.communicate(timeout=40)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, (out, err)
    assert "The code expired; a new one:" in out, out
    urls = [ln for ln in out.splitlines() if ln.startswith("http")]
    assert len(urls) == 2 and urls[0] != urls[1], out
    assert out.rstrip().endswith("Logged in."), out
    assert gate.channels()["wechat.alice"] == "polling"


# stream_mode: block.  Twelve paragraphs of 498 characters: with "echo: "
# a 6,004-character answer, streamed by the echo agent in 40 deltas a
# tenth of a second apart (4 s).
PARAS = ["%02d " % i + chr(ord("a") + i) * 495 for i in range(12)]
LONG = "\n\n".join(PARAS)
ANSWER = "echo: " + LONG
STREAM_ECHO = [{"name": "default", "type": "echo",
                "echo": {"chunks": 40, "delay_ms": 100}}]
# Long enough (10 s) for "typing..." to be kept alive between blocks.
SLOW_STREAM_ECHO = [{"name": "default", "type": "echo",
                     "echo": {"chunks": 40, "delay_ms": 250}}]
BLOCKS = {"stream_mode": "block", "block_min_chars": 200}
# What the person reads: eight paragraphs, one a message (each delta
# finishes at most one), then the budget runs low (8 + 2 kept of 10)
# and the last four go as one.
EXPECTED = ["echo: " + PARAS[0] + "\n\n"] + \
    [p + "\n\n" for p in PARAS[1:8]] + ["\n\n".join(PARAS[8:])]


def block_gate(gate_factory, fake, tmp_path, agent=STREAM_ECHO, **kw):
    return start(gate_factory, fake, tmp_path, allow_from=["*"],
                 agent=agent, wechat=BLOCKS, **kw)


def parts_of(fake, peer=FRIEND):
    return [x["text"] for x in sent_to(fake, peer)]


def whole_answer(fake, timeout=60):
    """Wait until the parts add up to the answer (or run past it)."""
    wait_for(lambda: len("".join(parts_of(fake))) >= len(ANSWER), timeout,
             0.1, "the whole answer")
    time.sleep(1.0)     # anything sent twice would come now
    return parts_of(fake)


def check_blocks(parts):
    """In order, each once, within the context token's budget: the
    first parts are whole paragraphs, the rest is merged at the end."""
    assert "".join(parts) == ANSWER, [p[:8] for p in parts]
    # §7.2: at most 10 messages per context token.
    assert len(parts) <= 10, [len(p) for p in parts]
    assert parts == EXPECTED, [len(p) for p in parts]


def test_block_stream_arrives_as_ordered_paragraphs(gate_factory, fake,
                                                    tmp_path):
    """stream_mode block: a 6,000-character streamed answer arrives as
    paragraphs while the agent still writes, in order, each once, the
    last ones merged so the context token's budget (10) is not spent;
    the whole answer is stored as the message's."""
    gate = block_gate(gate_factory, fake, tmp_path, agent=SLOW_STREAM_ECHO)
    fake.inject(FRIEND, LONG)
    first = wait_sent(fake, FRIEND, 1, timeout=20)[0]
    # The first block went while the agent was still answering.
    assert gate.rows("SELECT state FROM messages WHERE account = 'alice'"
                     ) == [(2,)]
    assert first["text"] == "echo: " + PARAS[0] + "\n\n"
    parts = whole_answer(fake)
    check_blocks(parts)
    with fake.lock:
        sends = [x for x in fake.sent if x["to"] == FRIEND]
    assert sends[-1]["time"] - sends[0]["time"] >= 5.0, \
        [x["time"] for x in sends]
    # "typing..." stays on between the blocks (kept alive after the
    # first went) and goes off once, after the last.
    wait_for(lambda: any(st == 2 for _, st in fake.typing_of(FRIEND)), 10,
             0.05, "typing off")
    t = fake.typing_of(FRIEND)
    off = [at for at, st in t if st == 2]
    assert len(off) == 1 and off[0] >= sends[-1]["time"], (t, sends)
    assert any(st == 1 and sends[0]["time"] < at < sends[-1]["time"]
               for at, st in t), (t, sends)
    gate.wait_log("message budget runs low")
    assert gate.rows("SELECT state, reply FROM messages") == \
        [(3, ANSWER)]
    assert gate.rows(QUEUED)[0][0] == 0
    no_violations(fake)


def test_block_stream_off_sends_at_the_end(gate_factory, fake, tmp_path):
    """stream_mode off (the default): the same answer goes at the end,
    cut at text_chunk_limit only."""
    start(gate_factory, fake, tmp_path, allow_from=["*"],
          agent=STREAM_ECHO)
    fake.inject(FRIEND, LONG)
    parts = whole_answer(fake)
    assert "".join(parts) == ANSWER
    assert len(parts) == 4, [len(p) for p in parts]
    with fake.lock:
        sends = [x for x in fake.sent if x["to"] == FRIEND]
    assert sends[-1]["time"] - sends[0]["time"] < 2.0
    no_violations(fake)


def test_block_stream_in_order_when_a_part_is_refused_once(gate_factory,
                                                           fake, tmp_path):
    """The second block is refused once (ret=-2): it is sent again after
    its delay, and the blocks queued meanwhile wait behind it."""
    gate = block_gate(gate_factory, fake, tmp_path)
    fake.inject(FRIEND, LONG)
    wait_sent(fake, FRIEND, 1, timeout=20)
    fake.fail(send_ret2=1)
    parts = whole_answer(fake)
    check_blocks(parts)
    with fake.lock:
        outcomes = [x["outcome"] for x in fake.sent if x["to"] == FRIEND]
    assert outcomes[:3] == ["ok", "-2", "ok"], outcomes
    assert outcomes.count("-2") == 1, outcomes
    assert gate.rows(QUEUED)[0][0] == 0
    no_violations(fake)


def test_block_stream_survives_a_sigkilled_worker(gate_factory, fake,
                                                  tmp_path):
    """SIGKILL of the wechat worker between two blocks: the rest of the
    answer arrives once, in order."""
    gate = block_gate(gate_factory, fake, tmp_path,
                      sup={"restart_min_ms": 50})
    fake.inject(FRIEND, LONG)
    wait_sent(fake, FRIEND, 2, timeout=30)
    w = gate.worker("wechat.alice")
    os.kill(w["pid"], signal.SIGKILL)
    wait_for(lambda: gate.worker("wechat.alice")["pid"] != w["pid"] and
             gate.worker("wechat.alice")["state"] == "running", 10, 0.05,
             "wechat.alice back")
    parts = whole_answer(fake)
    check_blocks(parts)
    assert "SIGKILL" in gate.worker("wechat.alice")["last_exit"]
    assert gate.rows(QUEUED)[0][0] == 0
    no_violations(fake)


def test_block_stream_survives_a_sigkilled_hub(gate_factory, fake,
                                               tmp_path):
    """SIGKILL of the hub between two blocks: the message is asked again;
    the blocks already queued or sent are not sent again, the new
    answer goes on from where they ended."""
    gate = block_gate(gate_factory, fake, tmp_path)
    fake.inject(FRIEND, LONG)
    wait_sent(fake, FRIEND, 2, timeout=30)
    hub = hub_pid(gate)
    os.kill(hub, signal.SIGKILL)
    wait_for(lambda: hub_pid(gate) not in (None, hub), 10, 0.05,
             "a new hub")
    parts = whole_answer(fake, timeout=90)
    check_blocks(parts)
    gate.wait_log("asked again", timeout=1)
    assert gate.rows("SELECT state, reply FROM messages") == \
        [(3, ANSWER)]
    no_violations(fake)


def test_block_stream_survives_a_sigkilled_agent(gate_factory, fake,
                                                 tmp_path):
    """SIGKILL of the agent between two blocks: it is asked again and
    answers from the start; what already went is not sent again."""
    gate = block_gate(gate_factory, fake, tmp_path,
                      sup={"restart_min_ms": 50})
    fake.inject(FRIEND, LONG)
    wait_sent(fake, FRIEND, 2, timeout=30)
    w = gate.worker("agent.default")
    os.kill(w["pid"], signal.SIGKILL)
    parts = whole_answer(fake, timeout=90)
    check_blocks(parts)
    assert "SIGKILL" in gate.worker("agent.default")["last_exit"]
    assert gate.rows("SELECT state, reply FROM messages") == \
        [(3, ANSWER)]
    no_violations(fake)


def test_block_stream_asked_again_answers_otherwise(gate_factory, fake,
                                                    tmp_path):
    """The agent is SIGKILLed between two blocks and its next process
    answers otherwise (its first paragraph names its pid): no more
    blocks, the new answer goes whole at the end, after the blocks that
    went; nothing is sent twice, nothing mixes the two answers."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "agent_pid.py")
    agent = [{"name": "default", "type": "command",
              "command": {"argv": ["/usr/bin/python3", script]}}]
    gate = start(gate_factory, fake, tmp_path, allow_from=["*"],
                 agent=agent, wechat=BLOCKS, sup={"restart_min_ms": 50})
    fake.inject(FRIEND, LONG)
    first = wait_sent(fake, FRIEND, 2, timeout=30)
    old = re.match(r"run (\d+)\n\n", first[0]["text"]).group(1)
    w = gate.worker("agent.default")
    os.kill(w["pid"], signal.SIGKILL)
    gate.wait_log("answers otherwise", timeout=30)
    wait_for(lambda: gate.rows("SELECT state FROM messages") == [(3,)],
             60, 0.1, "the answer stored")
    time.sleep(1.0)
    wait_for(lambda: gate.rows(QUEUED)[0][0] == 0, 30, 0.1, "all sent")
    time.sleep(1.0)
    parts = parts_of(fake)
    new = [i for i, p in enumerate(parts) if i > 0 and p.startswith("run ")]
    assert len(new) == 1, [p[:12] for p in parts]
    j = new[0]
    before, after = "".join(parts[:j]), "".join(parts[j:])
    assert ("run %s\n\n" % old + LONG).startswith(before)
    pid = re.match(r"run (\d+)\n\n", after).group(1)
    assert pid != old
    assert after == "run %s\n\n" % pid + LONG
    assert gate.rows("SELECT reply FROM messages") == [(after,)]
    assert len(parts) <= 10, [len(p) for p in parts]
    no_violations(fake)
