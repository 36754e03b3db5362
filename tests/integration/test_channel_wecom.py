"""A WeCom AI bot (the wecom_bot worker, long connection) end to end
against a fake server on 127.0.0.1 (fake_wecom.py), which checks every
frame the worker sends against shared/protocols/wecom.md Part A: a
direct message answered by the echo agent as one stream bubble, group
messages answered only when the bot is mentioned, enter_chat welcomed,
a dropped connection subscribed again, disconnected_event parking the
account as replaced, error codes on reply frames, a welcome sent
within 5 s of its enter_chat or dropped, a SIGKILLed worker
mid-stream answering once, and garbage from the server survived.  An
answer the agent streams grows in its bubble as it comes (the hub's
outbound.progress), paced, and still ends with the outbox's text.

Needs a build configured with --enable-test-hooks."""

import os
import signal
import time

import pytest

from conftest import QUEUED, wait_for
from fake_wecom import FakeWecom, visible

USER = "zhangsan"
GROUP = "wrFAKEgroup01"
HEARTBEAT_MS = 1000
STREAM_MS = 100             # stream_interval_ms, below


@pytest.fixture
def fake():
    f = FakeWecom(heartbeat_ms=HEARTBEAT_MS, stream_ms=STREAM_MS).start()
    yield f
    f.stop()


def start(gate_factory, fake, tmp_path, secret=None, wecom=None, conf=None,
          **over):
    path = os.path.join(str(tmp_path), "bot.secret")
    with open(path, "w") as f:
        f.write((secret or fake.secret) + "\n")
    os.chmod(path, 0o600)
    w = {"url": fake.url, "bot_id": fake.bot_id, "secret_file": path,
         "bot_name": "Helper", "welcome": "Hi, I am Helper.",
         "heartbeat_ms": HEARTBEAT_MS, "stream_interval_ms": STREAM_MS}
    w.update(wecom or {})
    c = {"name": "work", "type": "wecom_bot", "dm_policy": "open",
         "wecom_bot": w}
    c.update(over)
    top = {"channels": [c]}
    top.update(conf or {})
    return gate_factory(top)



def status(gate):
    """The bot's connection as `wxgatectl status` shows the operator."""
    return gate.channels().get("wecom_bot.work")


def wait_answers(fake, chat, n, timeout=10.0):
    return wait_for(lambda: len(fake.answers_to(chat)) >= n and
                    fake.answers_to(chat), timeout, 0.05,
                    "%d answers to %s" % (n, chat))


def no_violations(fake):
    assert fake.violations == [], fake.violations


def test_dm_is_answered_as_one_stream(gate_factory, fake, tmp_path):
    gate = start(gate_factory, fake, tmp_path)
    wait_for(fake.ready, 10, 0.05, "subscribed")
    assert gate.worker("wecom_bot.work")["state"] == "running"
    req = fake.msg(USER, "hello bot")
    a = wait_answers(fake, USER, 1)
    assert a == [{"chat": USER, "text": "echo: hello bot", "via": "stream"}]
    frames = [f for f in fake.sent("aibot_respond_msg")
              if f["headers"]["req_id"] == req]
    # A "thinking" frame first, then the whole answer, one stream id.
    assert len(frames) >= 2, frames
    assert len({f["body"]["stream"]["id"] for f in frames}) == 1
    assert [f["body"]["stream"]["finish"] for f in frames][-1] is True
    assert not any(f["body"]["stream"]["finish"] for f in frames[:-1])
    # Stored once, answered, and the outbox is empty.
    wait_for(lambda: gate.rows(QUEUED)[0][0] == 0,
             5, 0.05, "outbox drained")
    assert gate.rows("SELECT peer, state FROM messages m JOIN sessions s "
                "ON s.id = m.session_id") == [(USER, 3)]
    assert status(gate) == "subscribed"
    # Voice transcripts and quotes reach the agent as text.
    fake.msg(USER, body={"msgtype": "voice",
                         "voice": {"content": "spoken words"},
                         "quote": {"msgtype": "text",
                                   "text": {"content": "earlier"}}})
    a = wait_answers(fake, USER, 2)
    assert a[1]["text"] == "echo: > earlier\n\nspoken words", a
    # A callback delivered twice (same msgid) is answered once.
    fake.msg(USER, "once", body={"msgid": "MSGID-TWICE"})
    fake.msg(USER, "once", body={"msgid": "MSGID-TWICE"})
    a = wait_answers(fake, USER, 3)
    gate.wait_log("callback MSGID-TWICE again; dropped")
    time.sleep(0.5)
    assert [x["text"] for x in fake.answers_to(USER)][2:] == ["echo: once"]
    # The secret went in the subscribe frame only, never to the log.
    assert fake.secret not in gate.log()
    no_violations(fake)


# An agent slow enough that its answer is seen growing: five pieces,
# 300 ms apart, more than the hub's 250 ms between refreshes.
SLOW_ECHO = {"agents": [{"name": "default", "type": "echo",
                         "echo": {"chunks": 5, "delay_ms": 300}}]}


def stream_frames(fake, req):
    return [f["body"]["stream"] for f in fake.sent("aibot_respond_msg")
            if f["headers"]["req_id"] == req]


def test_answer_grows_in_its_bubble(gate_factory, fake, tmp_path):
    """The answer so far refreshes the bubble while the agent writes:
    one stream id, each frame the whole text so far, the last one
    finished with the whole answer (from the outbox)."""
    gate = start(gate_factory, fake, tmp_path, conf=SLOW_ECHO)
    wait_for(fake.ready, 10, 0.05, "subscribed")
    text = "the quick brown fox jumps over the lazy dog"
    req = fake.msg(USER, text)
    a = wait_answers(fake, USER, 1)
    assert a == [{"chat": USER, "text": "echo: " + text, "via": "stream"}]
    frames = stream_frames(fake, req)
    assert len(frames) >= 3, frames
    assert len({f["id"] for f in frames}) == 1, frames
    shown = [visible(f["content"]) for f in frames]
    for before, after in zip(shown, shown[1:]):
        assert after.startswith(before), (before, after)
    assert frames[-1]["finish"] is True
    assert frames[-1]["content"] == "echo: " + text
    assert not any(f["finish"] for f in frames[:-1])
    # Refreshes with part of the answer came before the end: streamed,
    # not only "thinking" then the whole.
    partial = {t for t in shown[:-1] if t and t != "echo: " + text}
    assert len(partial) >= 2, shown
    wait_for(lambda: gate.rows(QUEUED)[0][0] == 0,
             5, 0.05, "outbox drained")
    time.sleep(0.5)
    assert len(fake.answers_to(USER)) == 1
    assert len(stream_frames(fake, req)) == len(frames)
    no_violations(fake)


def test_progress_after_the_end_is_ignored(gate_factory, fake, tmp_path):
    """Refreshes for a bubble that is gone (a new connection took its
    req_id away) are dropped; the answer is pushed once, whole."""
    gate = start(gate_factory, fake, tmp_path,
                 conf=dict(SLOW_ECHO, log={"level": "debug"}))
    wait_for(fake.ready, 10, 0.05, "subscribed")
    req = fake.msg(USER, "one two three four five six seven")
    wait_for(lambda: any(visible(f["content"]) for f in
                         stream_frames(fake, req)), 10, 0.02,
             "a refresh with text")
    fake.drop()
    a = wait_answers(fake, USER, 1, timeout=15)
    assert a == [{"chat": USER, "text": "echo: one two three four five "
                  "six seven", "via": "push"}], a
    gate.wait_log("no open bubble")
    assert not [f for n, f in fake.frames if n > 1 and
                f["headers"].get("req_id") == req]
    time.sleep(0.5)
    assert len(fake.answers_to(USER)) == 1
    no_violations(fake)


def test_one_frame_in_flight_per_req_id(gate_factory, fake, tmp_path):
    """The answer waits behind the un-acked "thinking" frame of its
    bubble, however long, and goes once that is acked."""
    gate = start(gate_factory, fake, tmp_path,
                 wecom={"ack_timeout_ms": 60000})
    wait_for(fake.ready, 10, 0.05, "subscribed")
    fake.hold_acks = True
    req = fake.msg(USER, "wait for it")
    wait_for(lambda: len(fake.held) >= 1, 10, 0.05, "the thinking frame")
    wait_for(lambda: gate.rows("SELECT count(*) FROM messages WHERE "
                          "state = 3")[0][0] == 1, 10, 0.05, "the answer")
    time.sleep(1.0)
    frames = [f for f in fake.sent("aibot_respond_msg")
              if f["headers"]["req_id"] == req]
    assert len(frames) == 1 and not frames[0]["body"]["stream"]["finish"]
    fake.release()
    a = wait_answers(fake, USER, 1)
    assert a == [{"chat": USER, "text": "echo: wait for it",
                  "via": "stream"}]
    no_violations(fake)


def test_heartbeat_pings_are_spaced(gate_factory, fake, tmp_path):
    start(gate_factory, fake, tmp_path)
    wait_for(lambda: len(fake.sent("ping")) >= 3, 10, 0.1, "three pings")
    no_violations(fake)


def test_groups_are_off_unless_the_policy_says(gate_factory, fake,
                                              tmp_path):
    """group_policy is disabled by default: even a mention is not
    answered in a group, while a direct message is."""
    gate = start(gate_factory, fake, tmp_path)
    wait_for(fake.ready, 10, 0.05, "subscribed")
    fake.msg(USER, "@Helper anyone?", chatid=GROUP)
    gate.wait_log(": ignored", 10)
    fake.msg(USER, "direct")
    assert wait_answers(fake, USER, 1)[0]["text"] == "echo: direct"
    assert fake.answers_to(GROUP) == []
    no_violations(fake)


def test_group_needs_a_mention(gate_factory, fake, tmp_path):
    gate = start(gate_factory, fake, tmp_path, group_policy="open")
    wait_for(fake.ready, 10, 0.05, "subscribed")
    fake.msg(USER, "no mention here", chatid=GROUP)
    gate.wait_log(": ignored", 10)
    fake.msg(USER, "@Helper summarise", chatid=GROUP)
    a = wait_answers(fake, GROUP, 1)
    assert a == [{"chat": GROUP, "text": "echo: summarise",
                  "via": "stream"}], a
    # One conversation per chat and user.
    assert gate.rows("SELECT peer FROM sessions") == \
        [(GROUP + "/" + USER,)]
    assert len(fake.answers_to(GROUP)) == 1
    no_violations(fake)


def test_group_without_require_mention(gate_factory, fake, tmp_path):
    start(gate_factory, fake, tmp_path, group_policy="allowlist",
          groups=[GROUP], require_mention=False)
    wait_for(fake.ready, 10, 0.05, "subscribed")
    fake.msg(USER, "anyone there", chatid=GROUP)
    assert wait_answers(fake, GROUP, 1)[0]["text"] == "echo: anyone there"
    no_violations(fake)


def test_groups_without_mention(gate_factory, fake, tmp_path):
    """require_mention holds in every allowed group but those named in
    groups_without_mention, where a message is answered unnamed."""
    other = "wrFAKEgroup02"
    gate = start(gate_factory, fake, tmp_path, group_policy="allowlist",
                 groups=[GROUP, other], groups_without_mention=[GROUP])
    wait_for(fake.ready, 10, 0.05, "subscribed")
    fake.msg(USER, "no mention there", chatid=other,
             body={"msgid": "MSGID-OTHER-1"})
    gate.wait_log("message MSGID-OTHER-1: ignored", 10)
    fake.msg(USER, "no mention here", chatid=GROUP)
    a = wait_answers(fake, GROUP, 1)
    assert a == [{"chat": GROUP, "text": "echo: no mention here",
                  "via": "stream"}], a
    # The other group still answers a mention, and only that.
    fake.msg(USER, "@Helper and here?", chatid=other)
    assert wait_answers(fake, other, 1)[0]["text"] == "echo: and here?"
    time.sleep(0.3)
    assert len(fake.answers_to(other)) == 1
    assert len(fake.answers_to(GROUP)) == 1
    no_violations(fake)


def test_enter_chat_is_welcomed(gate_factory, fake, tmp_path):
    start(gate_factory, fake, tmp_path)
    wait_for(fake.ready, 10, 0.05, "subscribed")
    fake.event("enter_chat", "lisi")
    a = wait_answers(fake, "lisi", 1)
    assert a == [{"chat": "lisi", "text": "Hi, I am Helper.",
                  "via": "welcome"}]
    no_violations(fake)


def welcomes(fake, req):
    return [f for f in fake.sent("aibot_respond_welcome_msg")
            if f["headers"]["req_id"] == req]


def is_welcome(f):
    return f.get("cmd") == "aibot_respond_welcome_msg"


def test_welcome_is_sent_in_time_or_not_at_all(gate_factory, fake,
                                               tmp_path):
    """A welcome reaches WeCom within 5 s of its enter_chat (A.5.6) or
    not at all.  "System busy" (-1) is retried after 1, 2 and 4 s: two
    of them still leave the third try in time; after three, the next
    try would come 7 s after the event, so the welcome is dropped, said
    and counted, and never sent.  The fake flags any welcome later
    than 5 s."""
    gate = start(gate_factory, fake, tmp_path)
    wait_for(fake.ready, 10, 0.05, "subscribed")
    for _ in range(2):
        fake.fail_next(is_welcome, -1)
    req = fake.event("enter_chat", "lisi")
    a = wait_answers(fake, "lisi", 1)
    assert a == [{"chat": "lisi", "text": "Hi, I am Helper.",
                  "via": "welcome"}]
    assert len(welcomes(fake, req)) == 3
    for _ in range(3):
        fake.fail_next(is_welcome, -1)
    req = fake.event("enter_chat", "wangwu")
    gate.wait_log("welcome for %s dropped" % req, 10)
    gate.wait_log("its retry would be late; 1 dropped")
    time.sleep(1.0)
    assert len(welcomes(fake, req)) == 3
    assert fake.answers_to("wangwu") == []
    rc, out, err = gate.ctl("test", "wecom_bot.work", "counts")
    assert rc == 0, err
    gate.wait_log("unknown_cmds 0 welcomes_dropped 1")
    # The next one goes at once, as before.
    fake.event("enter_chat", "zhaoliu")
    assert wait_answers(fake, "zhaoliu", 1)[0]["via"] == "welcome"
    assert gate.worker("wecom_bot.work")["restarts"] == 0
    no_violations(fake)


def test_welcome_from_before_a_reconnect_is_dropped(gate_factory, fake,
                                                    tmp_path):
    """A welcome waiting for its retry when the connection drops is
    dropped with it: its req_id was the old connection's."""
    gate = start(gate_factory, fake, tmp_path)
    wait_for(fake.ready, 10, 0.05, "subscribed")
    # 45009 is retried once, 2 s later: time enough to cut the line.
    fake.fail_next(is_welcome, 45009)
    req = fake.event("enter_chat", "lisi")
    gate.wait_log("frame %s refused with 45009" % req)
    fake.drop()
    gate.wait_log("welcome for %s dropped" % req)
    gate.wait_log("the connection it came on is gone; 1 dropped")
    wait_for(lambda: fake.subscribes >= 2 and fake.ready(), 15, 0.05,
             "a second subscribe")
    time.sleep(2.5)
    assert len(welcomes(fake, req)) == 1
    assert fake.answers_to("lisi") == []
    # On the new connection, a new enter_chat is welcomed.
    fake.event("enter_chat", "lisi")
    assert wait_answers(fake, "lisi", 1)[0]["via"] == "welcome"
    no_violations(fake)


def test_dropped_connection_subscribes_again(gate_factory, fake, tmp_path):
    gate = start(gate_factory, fake, tmp_path)
    wait_for(fake.ready, 10, 0.05, "subscribed")
    fake.drop()
    wait_for(lambda: fake.subscribes >= 2 and fake.ready(), 15, 0.05,
             "a second subscribe")
    assert fake.connections >= 2
    fake.msg(USER, "still there?")
    assert wait_answers(fake, USER, 1)[0]["text"] == "echo: still there?"
    assert gate.worker("wecom_bot.work")["restarts"] == 0
    no_violations(fake)


def test_unanswered_pings_reconnect(gate_factory, fake, tmp_path):
    start(gate_factory, fake, tmp_path)
    wait_for(fake.ready, 10, 0.05, "subscribed")
    fake.stall_pings = True
    wait_for(lambda: fake.connections >= 2, 15, 0.05, "a new connection")
    fake.stall_pings = False
    wait_for(lambda: fake.subscribes >= 2, 15, 0.05, "a second subscribe")
    no_violations(fake)


def test_disconnected_event_parks_as_replaced(gate_factory, fake,
                                              tmp_path):
    gate = start(gate_factory, fake, tmp_path)
    wait_for(fake.ready, 10, 0.05, "subscribed")
    fake.event("disconnected_event")
    gate.wait_log("parked as replaced")
    wait_for(lambda: status(gate) == "replaced", 5, 0.05, "replaced")
    # The worker lives on and does not fight the other connection.
    time.sleep(2.0)
    assert fake.connections == 1 and fake.subscribes == 1
    w = gate.worker("wecom_bot.work")
    assert w["state"] == "running" and w["restarts"] == 0
    no_violations(fake)


def test_wrong_secret_is_auth_failed(gate_factory, fake, tmp_path):
    gate = start(gate_factory, fake, tmp_path, secret="not-the-secret")
    wait_for(lambda: fake.refusals >= 1, 10, 0.05, "a refused subscribe")
    wait_for(lambda: status(gate) == "auth_failed 853000", 5, 0.05,
             "auth_failed")
    gate.wait_log("check bot_id and the secret")
    # It backs off for minutes, not a tight loop.
    time.sleep(1.5)
    assert fake.refusals == 1 and fake.subscribes == 0
    assert "not-the-secret" not in gate.log()
    no_violations(fake)


def test_expired_stream_falls_back_to_a_push(gate_factory, fake,
                                             tmp_path):
    gate = start(gate_factory, fake, tmp_path)
    wait_for(fake.ready, 10, 0.05, "subscribed")
    fake.fail_next(lambda f: f.get("cmd") == "aibot_respond_msg" and
                   f["body"]["stream"]["finish"], 846608)
    fake.msg(USER, "late answer")
    a = wait_answers(fake, USER, 1)
    assert a == [{"chat": USER, "text": "echo: late answer", "via": "push"}]
    gate.wait_log("refused with 846608")
    time.sleep(0.5)
    assert len(fake.answers_to(USER)) == 1
    assert gate.rows(QUEUED)[0][0] == 0
    no_violations(fake)


def test_throttled_push_is_retried(gate_factory, fake, tmp_path):
    start(gate_factory, fake, tmp_path)
    wait_for(fake.ready, 10, 0.05, "subscribed")
    # The bubble is gone (846605), and the push is throttled once.
    fake.fail_next(lambda f: f.get("cmd") == "aibot_respond_msg" and
                   f["body"]["stream"]["finish"], 846605)
    fake.fail_next(lambda f: f.get("cmd") == "aibot_send_msg", 45009)
    fake.msg(USER, "persist")
    a = wait_answers(fake, USER, 1, timeout=15)
    assert a == [{"chat": USER, "text": "echo: persist", "via": "push"}]
    assert len(fake.sent("aibot_send_msg")) == 2
    no_violations(fake)


def test_sigkill_mid_stream_answers_once(gate_factory, fake, tmp_path):
    gate = start(gate_factory, fake, tmp_path,
                 wecom={"ack_timeout_ms": 60000})
    wait_for(fake.ready, 10, 0.05, "subscribed")
    fake.hold_acks = True
    req = fake.msg(USER, "do not lose me")
    # The bubble is open ("thinking"), its ack withheld: the answer,
    # once stored in the outbox, can only wait behind it.
    wait_for(lambda: len(fake.held) >= 1, 10, 0.05, "the thinking frame")
    wait_for(lambda: gate.rows(QUEUED)[0][0] == 1,
             10, 0.05, "the answer leased to the worker")
    w = gate.worker("wecom_bot.work")
    os.kill(w["pid"], signal.SIGKILL)
    fake.hold_acks = False
    wait_for(lambda: gate.worker("wecom_bot.work")["pid"] != w["pid"] and
             fake.subscribes >= 2, 15, 0.05, "the worker back")
    a = wait_answers(fake, USER, 1, timeout=15)
    assert a == [{"chat": USER, "text": "echo: do not lose me",
                  "via": "push"}], a
    wait_for(lambda: gate.rows(QUEUED)[0][0] == 0,
             5, 0.05, "outbox drained")
    time.sleep(0.5)
    assert len(fake.answers_to(USER)) == 1
    # The agent was asked once: one message, answered.
    assert gate.rows("SELECT state, count(*) FROM messages "
                "GROUP BY state") == [(3, 1)]
    assert "SIGKILL" in gate.worker("wecom_bot.work")["last_exit"]
    # The old bubble's req_id was not used on the new connection.
    assert not [f for n, f in fake.frames if n > 1 and
                f["headers"]["req_id"] == req]
    no_violations(fake)


def test_sigkill_while_streaming_answers_once(gate_factory, fake,
                                             tmp_path):
    """The worker dies while refreshes flow: the refreshes are lost,
    the outbox is not; the new worker gives the whole answer once."""
    gate = start(gate_factory, fake, tmp_path, conf=SLOW_ECHO)
    wait_for(fake.ready, 10, 0.05, "subscribed")
    text = "keep going through a crash, please"
    req = fake.msg(USER, text)
    wait_for(lambda: any(visible(f["content"]) for f in
                         stream_frames(fake, req)), 10, 0.02,
             "a refresh with text")
    w = gate.worker("wecom_bot.work")
    os.kill(w["pid"], signal.SIGKILL)
    wait_for(lambda: gate.worker("wecom_bot.work")["pid"] != w["pid"] and
             fake.subscribes >= 2, 15, 0.05, "the worker back")
    a = wait_answers(fake, USER, 1, timeout=15)
    assert [x["text"] for x in a] == ["echo: " + text], a
    wait_for(lambda: gate.rows(QUEUED)[0][0] == 0,
             5, 0.05, "outbox drained")
    time.sleep(0.5)
    assert len(fake.answers_to(USER)) == 1
    assert gate.rows("SELECT state, count(*) FROM messages "
                "GROUP BY state") == [(3, 1)]
    assert not [f for n, f in fake.frames if n > 1 and
                f["headers"]["req_id"] == req]
    no_violations(fake)


def test_garbage_from_the_server_is_survived(gate_factory, fake, tmp_path):
    gate = start(gate_factory, fake, tmp_path)
    wait_for(fake.ready, 10, 0.05, "subscribed")
    fake.raw("this is not json")
    fake.raw('{"cmd":"aibot_future_cmd","headers":{"req_id":"x1"}}')
    fake.raw('{"cmd":"aibot_msg_callback","headers":{"req_id":"x2"},'
             '"body":{"msgid":"m-big","from":{"userid":"u"},'
             '"chattype":"single","msgtype":"text","text":{"content":"' +
             "A" * 40000 + '"}}}')
    # Raw control bytes inside strings are dropped, not fatal (A.11).
    fake.raw('{"cmd":"aibot_msg_callback","headers":{"req_id":"x3"},'
             '"body":{"msgid":"m-ctl","from":{"userid":"' + USER + '"},'
             '"chattype":"single","msgtype":"text",'
             '"text":{"content":"ctl\x01\x02 ok"}}}')
    a = wait_answers(fake, USER, 1)
    assert a[0]["text"] == "echo: ctl ok"
    gate.wait_log("not a JSON object")
    gate.wait_log('unknown cmd "aibot_future_cmd"')
    gate.wait_log("too large")
    rc, out, err = gate.ctl("test", "wecom_bot.work", "counts")
    assert rc == 0, err
    gate.wait_log("counts: bad_frames 2 unknown_cmds 1")
    w = gate.worker("wecom_bot.work")
    assert w["state"] == "running" and w["restarts"] == 0
    no_violations(fake)


def test_wecom_worker_is_sandboxed(gate_factory, fake, tmp_path):
    """The network profile it shares with the wechat worker forbids the
    rest: every forbidden action kills it by seccomp, and it comes back
    and serves."""
    from test_sandbox import assert_confined, kill_with_each
    path = os.path.join(str(tmp_path), "bot.secret")
    with open(path, "w") as f:
        f.write(fake.secret + "\n")
    os.chmod(path, 0o600)
    gate = gate_factory({
        "channels": [{"name": "work", "type": "wecom_bot",
                      "dm_policy": "open",
                      "wecom_bot": {"url": fake.url, "bot_id": fake.bot_id,
                                    "secret_file": path,
                                    "heartbeat_ms": HEARTBEAT_MS}}],
        "supervisor": {"restart_max_ms": 400}})
    w = gate.worker("wecom_bot.work")
    assert_confined(w["pid"])
    kill_with_each(gate, "wecom_bot.work", dials=True)
    wait_for(fake.ready, 15, 0.05, "subscribed after the storm")
    fake.msg(USER, "after the storm")
    assert wait_answers(fake, USER, 1)[0]["text"] == \
        "echo: after the storm"
    no_violations(fake)
