"""Schedules run (issue #15): on time, across a daemon SIGKILL, across
Berlin's DST changes, after a missed night, and to an iLink peer who
has not written.  The hub's wall clock is moved by the test hook
`wxgatectl test supervisor clock:@EPOCH` (only forward: a slot at or
before the last one never runs again), so a fire at 08:00 or in March
comes in seconds.  Targets are fake_webhook's robot and fake_wecom's AI
bot, checked against protocols/wecom.md by those fakes; `wxgatectl
schedule history` must show every run and every target's state."""

import calendar
import datetime
import os
import re
import time

import pytest

from conftest import wait_for
from fake_webhook import FakeWebhook
from fake_ilink import FakeIlink
from fake_wecom import FakeWecom
from test_channel_wechat import FRIEND, channel as wechat_channel

USER = "zhangsan"
BERLIN = "Europe/Berlin"


@pytest.fixture
def robot():
    f = FakeWebhook(window=60).start()
    yield f
    f.stop()


@pytest.fixture
def bot():
    f = FakeWecom(heartbeat_ms=1000, stream_ms=100).start()
    yield f
    f.stop()


def utc(*a):
    return calendar.timegm(datetime.datetime(*a).timetuple())


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def next_utc(hour, minute=0, margin=120):
    """The next hour:minute UTC at least margin seconds from now."""
    now = int(time.time())
    t = now - now % 86400 + hour * 3600 + minute * 60
    while t < now + margin:
        t += 86400
    return t


def webhook(robot, tmp_path):
    path = os.path.join(str(tmp_path), "robot.key")
    with open(path, "w") as f:
        f.write(robot.key + "\n")
    os.chmod(path, 0o600)
    return {"name": "ops", "type": "wecom_webhook",
            "wecom_webhook": {"url": robot.url(), "key_file": path,
                              "rate_window_s": 60, "timeout_s": 5}}


def wecom(bot, tmp_path):
    path = os.path.join(str(tmp_path), "bot.secret")
    with open(path, "w") as f:
        f.write(bot.secret + "\n")
    os.chmod(path, 0o600)
    return {"name": "work", "type": "wecom_bot", "dm_policy": "open",
            "wecom_bot": {"url": bot.url, "bot_id": bot.bot_id,
                          "secret_file": path, "heartbeat_ms": 1000,
                          "stream_interval_ms": 100}}


def clock(gate, t):
    rc, out, err = gate.ctl("test", "supervisor", "clock:@%d" % t)
    assert rc == 0, (out, err)


def history(gate, name=None):
    """[(id, name, slot, state+flags, error, [target lines], agent_done)]
    from "ID NAME SLOT STARTED AGENT-DONE STATE[ manual][: error]"."""
    rc, out, err = gate.ctl("schedule", "history", *([name] if name else []))
    assert rc == 0, (out, err)
    runs = []
    for ln in out.splitlines():
        if ln.startswith("  "):
            runs[-1][5].append(ln.strip())
            continue
        m = re.match(r"(\d+) (\S+) (\S+) (\S+) (\S+) ([a-z]+(?: manual)?)"
                     r"(?:: (.*))?$", ln)
        assert m, ln
        runs.append((int(m.group(1)), m.group(2), m.group(3),
                     m.group(6), m.group(7) or "", [], m.group(5)))
    return runs


def settled(gate, name, n, states=("sent",)):
    """Wait for n runs of name whose targets all ended in states."""
    def done():
        h = history(gate, name)
        return len(h) >= n and all(
            r[3].split()[0] in ("done", "failed") and r[5] and
            all(t.split(" ")[1].rstrip(":") in states for t in r[5])
            for r in h) and h
    try:
        return wait_for(done, 20, 0.2, "%d settled runs of %s" % (n, name))
    except AssertionError:
        raise AssertionError("%r\n%s" % (history(gate, name), gate.log()[-3000:]))


def runs_of(gate, name):
    return gate.rows("SELECT slot, manual, state FROM schedule_runs "
                     "WHERE name = ? ORDER BY id", (name,))


def test_fires_on_time_to_a_webhook_and_a_wecom_bot(gate_factory, robot, bot,
                                                    tmp_path):
    """An agent's answer, at 08:00 UTC, reaches a WeCom group robot and
    a WeCom AI bot's user; a fixed text at the same slot too."""
    gate = gate_factory({
        "agents": [{"name": "default", "type": "echo"}],
        "channels": [webhook(robot, tmp_path), wecom(bot, tmp_path)],
        "schedules": [
            {"name": "brief", "cron": "0 8 * * *", "tz": "UTC",
             "agent": "default", "prompt": "the morning briefing",
             "to": ["ops:group", "work:%s" % USER]},
            {"name": "hello", "cron": "0 8 * * *",
             "text": "good morning", "to": ["ops:group"]},
        ],
    })
    wait_for(bot.ready, 10, 0.05, "the bot subscribed")
    at = next_utc(8)
    clock(gate, at - 3)
    # Not early: nothing has run three seconds before the slot.
    assert runs_of(gate, "brief") == [] and runs_of(gate, "hello") == []
    h = settled(gate, "brief", 1)
    assert h[0][2] == iso(at) and h[0][3] == "done", h
    # When the agent answered: at the slot, as the clock was moved.
    assert h[0][6] != "-" and h[0][6] >= iso(at), h
    assert sorted(h[0][5]) == ["ops:group sent", "work:%s sent" % USER], h
    h = settled(gate, "hello", 1)
    assert h[0][2] == iso(at) and h[0][5] == ["ops:group sent"], h
    assert h[0][6] == "-", h           # a fixed text asks no agent
    got = robot.contents()
    assert sorted(got) == ["echo: the morning briefing", "good morning"], got
    a = bot.answers_to(USER)
    assert a == [{"chat": USER, "text": "echo: the morning briefing",
                  "via": "push"}], a
    assert runs_of(gate, "brief") == [(at, 0, "done")]
    # The same words in the counters: three rows sent, none waiting.
    st = gate.stats()
    assert st["schedule.runs"] == 2 and st["schedule.failed"] == 0, st
    assert st["outbox.sent"] == 3 and "outbox.queued" not in st, st
    with robot.lock:
        assert robot.violations == [], robot.violations
    assert bot.violations == [], bot.violations


def test_sigkill_mid_run_finishes_once_after_restart(gate_factory, robot,
                                                     tmp_path):
    """The daemon dies while the agent writes the run's answer: after a
    restart the answer is asked for again and delivered once; the slot
    does not run a second time."""
    gate = gate_factory({
        "agents": [{"name": "default", "type": "echo",
                    "echo": {"delay_ms": 1500, "chunks": 4}}],
        "channels": [webhook(robot, tmp_path)],
        "schedules": [{"name": "slow", "cron": "30 6 * * *",
                       "agent": "default", "prompt": "report",
                       "to": ["ops:group"]}],
    })
    at = next_utc(6, 30)
    clock(gate, at - 1)
    wait_for(lambda: runs_of(gate, "slow") == [(at, 0, "running")] and
             gate.rows("SELECT count(*) FROM schedule_runs WHERE "
                       "msg_id IS NOT NULL") == [(1,)], 30, 0.05,
             "the run to ask its agent")
    gate.kill()
    assert robot.contents() == []
    gate.start()
    h = settled(gate, "slow", 1)
    assert len(h) == 1 and h[0][2] == iso(at) and h[0][3] == "done", h
    wait_for(lambda: robot.contents() == ["echo: report"], 10, 0.1,
             "the answer delivered")
    time.sleep(1)
    assert robot.contents() == ["echo: report"]
    assert runs_of(gate, "slow") == [(at, 0, "done")]


def test_berlin_dst_runs_exactly_the_expected_slots(gate_factory, tmp_path):
    """cronie's rule, Europe/Berlin 2027: "30 2 * * *" falls in the
    skipped spring hour and runs once at 03:00 CEST; in autumn it runs
    once at the first 02:30 (CEST), not again at 02:30 CET.  An hourly
    job follows the wall clock: in autumn the repeated hour runs twice."""
    gate = gate_factory({
        "agents": [{"name": "default", "type": "echo"}],
        "channels": [{"name": "t", "type": "loopback"}],
        # Runs older than a month would be pruned on the way to October.
        "schedule": {"history_days": 3650},
        "schedules": [
            {"name": "fixed", "cron": "30 2 * * *", "tz": BERLIN,
             "text": "fixed", "to": ["t:alice"], "catch_up": "none"},
            {"name": "hourly", "cron": "0 * * * *", "tz": BERLIN,
             "text": "hourly", "to": ["t:bob"], "catch_up": "none"},
        ],
    })
    # Spring: 02:00 CET is 03:00 CEST (01:00 UTC).
    clock(gate, utc(2027, 3, 28, 0, 59, 57))
    wait_for(lambda: len(runs_of(gate, "fixed")) == 1, 10, 0.1, "spring")
    assert runs_of(gate, "fixed") == [(utc(2027, 3, 28, 1, 0), 0, "done")]
    # The hourly job's 02:00 does not exist; its next is 03:00 CEST.
    wait_for(lambda: len(runs_of(gate, "hourly")) == 1, 10, 0.1, "hourly")
    assert runs_of(gate, "hourly") == [(utc(2027, 3, 28, 1, 0), 0, "done")]
    # Autumn: 03:00 CEST is 02:00 CET again (01:00 UTC).
    clock(gate, utc(2027, 10, 30, 23, 59, 57))         # 01:59:57 CEST
    wait_for(lambda: len(runs_of(gate, "hourly")) == 2, 10, 0.1, "02 CEST")
    clock(gate, utc(2027, 10, 31, 0, 29, 57))          # 02:29:57 CEST
    wait_for(lambda: len(runs_of(gate, "fixed")) == 2, 10, 0.1, "autumn")
    clock(gate, utc(2027, 10, 31, 0, 59, 57))          # 02:59:57 CEST
    wait_for(lambda: len(runs_of(gate, "hourly")) == 3, 10, 0.1, "02 CET")
    clock(gate, utc(2027, 10, 31, 1, 29, 57))          # 02:29:57 CET
    time.sleep(4)
    # Once in the repeated hour; the next is the 1st of November.
    assert runs_of(gate, "fixed") == [(utc(2027, 3, 28, 1, 0), 0, "done"),
                                      (utc(2027, 10, 31, 0, 30), 0, "done")]
    rc, out, err = gate.ctl("schedule", "show", "fixed")
    assert rc == 0 and "next: %s" % iso(utc(2027, 11, 1, 1, 30)) in out, out
    clock(gate, utc(2027, 10, 31, 1, 59, 57))          # 02:59:57 CET
    wait_for(lambda: len(runs_of(gate, "hourly")) == 4, 10, 0.1, "03 CET")
    assert [r[0] for r in runs_of(gate, "hourly")] == [
        utc(2027, 3, 28, 1, 0),         # 03:00 CEST, after the gap
        utc(2027, 10, 31, 0, 0),        # 02:00 CEST, the first pass
        utc(2027, 10, 31, 1, 0),        # 02:00 CET, the second pass
        utc(2027, 10, 31, 2, 0)]        # 03:00 CET
    h = history(gate)
    assert [r[1] for r in h].count("fixed") == 2, h
    assert all(r[3] == "done" for r in h), h


def test_missed_night_catches_up_once(gate_factory, tmp_path):
    """Eight hours pass with the hub asleep: catch_up latest runs the
    latest missed slot once, never a burst; catch_up none runs none."""
    gate = gate_factory({
        "agents": [{"name": "default", "type": "echo"}],
        "channels": [{"name": "t", "type": "loopback"}],
        "schedules": [
            {"name": "latest", "cron": "0 * * * *", "text": "l",
             "to": ["t:alice"]},
            {"name": "none", "cron": "0 * * * *", "text": "n",
             "to": ["t:alice"], "catch_up": "none"},
        ],
    })
    now = int(time.time())
    morning = now - now % 3600 + 8 * 3600 + 20 * 60    # hh:20, 8 h on
    clock(gate, morning)
    wait_for(lambda: len(runs_of(gate, "latest")) == 1, 10, 0.1,
             "the catch-up run")
    time.sleep(2)
    assert runs_of(gate, "latest") == [(morning - 20 * 60, 0, "done")]
    assert runs_of(gate, "none") == []
    h = settled(gate, "latest", 1)
    assert h[0][2] == iso(morning - 20 * 60) and h[0][5] == ["t:alice sent"]
    assert history(gate, "none") == []


def ilink(tmp_path):
    return {"name": "wx", "type": "wechat",
            "wechat": {"login_url": "http://127.0.0.1:9/",
                       "base_url": "http://127.0.0.1:9/"}}


def test_ilink_peer_without_context_is_undeliverable(gate_factory, tmp_path):
    """iLink lets a bot write only within a conversation the person
    started: with no context token the target is undeliverable, with
    the reason, and nothing is queued; hold_until_contact keeps it
    queued instead, until the hold ends."""
    gate = gate_factory({
        "agents": [{"name": "default", "type": "echo"}],
        "channels": [ilink(tmp_path)],
        "schedules": [
            {"name": "now", "every": "1h", "text": "hi", "to": ["wx:alice"],
             "catch_up": "none"},
            {"name": "held", "every": "1h", "text": "hi", "to": ["wx:bob"],
             "hold_until_contact": "2h", "catch_up": "none"},
        ],
    })
    rc, out, err = gate.ctl("schedule", "run", "now")
    assert rc == 0, (out, err)
    h = history(gate, "now")
    assert len(h) == 1 and h[0][3] == "done manual", h
    (t,) = h[0][5]
    assert t.startswith("wx:alice undeliverable: no conversation context"), t
    assert gate.rows("SELECT count(*) FROM outbox WHERE peer = 'alice'") \
        == [(0,)]
    rc, out, err = gate.ctl("schedule", "run", "held")
    assert rc == 0, (out, err)
    h = history(gate, "held")
    assert h[0][5] == ["wx:bob queued: held until the peer writes "
                       "(hold_until_contact)"], h
    # Bob never writes: after the hold the target says so.
    # (catch_up none: the jump's own missed slots do not run.)
    clock(gate, int(time.time()) + 2 * 3600 + 300)
    h = settled(gate, "held", 1, states=("undeliverable",))
    assert h[0][5] == ["wx:bob undeliverable: the peer did not write again "
                       "within hold_until_contact"], h
    # The runs themselves went well: the delivery is what failed.
    assert [r[3] for r in history(gate)] == ["done manual", "done manual"]


def test_held_message_goes_when_the_ilink_peer_writes(gate_factory,
                                                      tmp_path):
    """hold_until_contact: the run's text waits, queued, until the peer
    writes; then it rides on their new context token.  A peer who wrote
    within the day is written to at once."""
    fake = FakeIlink(longpoll_ms=1500).start()
    try:
        friend = FRIEND
        gate = gate_factory({
            "agents": [{"name": "default", "type": "echo"}],
            "channels": [wechat_channel(fake, tmp_path,
                                        dm_policy="allowlist",
                                        allow_from=[friend])],
            "schedules": [{"name": "remind", "every": "1h",
                           "text": "your reminder", "catch_up": "none",
                           "to": ["alice:" + friend],
                           "hold_until_contact": "24h"}],
        })
        assert gate.ctl("schedule", "run", "remind")[0] == 0
        h = history(gate, "remind")
        assert h[0][5] == ["alice:%s queued: held until the peer writes "
                           "(hold_until_contact)" % friend], h
        time.sleep(1)
        assert [s for s in fake.sent if s["to"] == friend] == []
        fake.inject(friend, "good morning", context_token="CTX-friend-9")

        def sent():
            with fake.lock:
                got = [s for s in fake.sent if s["to"] == friend and
                       s["outcome"] == "ok"]
            return len(got) >= 2 and got
        got = wait_for(sent, 10, 0.05, "the answer and the reminder")
        texts = sorted(s["text"] for s in got)
        assert texts == ["echo: good morning", "your reminder"], got
        assert all(s["context_token"] == "CTX-friend-9" for s in got), got
        h = settled(gate, "remind", 1)
        assert h[0][5] == ["alice:%s sent" % friend], h
        # Now that they wrote, a run goes at once, nothing held.
        assert gate.ctl("schedule", "run", "remind")[0] == 0
        h = settled(gate, "remind", 2)
        assert h[1][5] == ["alice:%s sent" % friend], h
        assert fake.violations == [], fake.violations
    finally:
        fake.stop()


def test_failed_run_is_logged_counted_and_told(gate_factory, robot,
                                               tmp_path):
    """An agent that does not answer within schedule.deadline_s: the
    run fails with why, nothing goes to its targets, the operator's
    notify target hears of it, and schedule.failed counts it."""
    gate = gate_factory({
        "agents": [{"name": "default", "type": "echo",
                    "echo": {"delay_ms": 8000, "chunks": 3}}],
        "channels": [webhook(robot, tmp_path),
                     {"name": "t", "type": "loopback"}],
        "schedule": {"deadline_s": 10, "notify": "ops:group"},
        "schedules": [{"name": "slow", "every": "1h", "catch_up": "none",
                       "agent": "default", "prompt": "p",
                       "to": ["t:alice"]}],
    })
    assert gate.ctl("schedule", "run", "slow")[0] == 0
    h = wait_for(lambda: [r for r in history(gate, "slow")
                          if r[3] == "failed manual"], 30, 0.2, "a failure")
    assert h[0][4].startswith("agent: timeout"), h
    assert h[0][5] == [], h
    gate.wait_log("schedule slow: run 1 failed: agent: timeout", 5)
    wait_for(lambda: robot.contents(), 10, 0.1, "the notice")
    (notice,) = robot.contents()
    assert notice.startswith("wxgate: schedule slow, run 1 failed: agent: "
                             "timeout"), notice
    assert gate.stats()["schedule.failed"] == 1
    assert "loopback t: to alice" not in gate.log()


def test_runs_max_bounds_runs_in_flight(gate_factory, tmp_path):
    """schedule.runs_max 1: two schedules due at once run one after the
    other, each for its own slot."""
    gate = gate_factory({
        "agents": [{"name": "default", "type": "echo",
                    "echo": {"delay_ms": 1000, "chunks": 2}}],
        "channels": [{"name": "t", "type": "loopback"}],
        "schedule": {"runs_max": 1},
        "schedules": [
            {"name": "a", "cron": "0 7 * * *", "agent": "default",
             "prompt": "a", "to": ["t:alice"]},
            {"name": "b", "cron": "0 7 * * *", "agent": "default",
             "prompt": "b", "to": ["t:bob"]},
        ],
    })
    at = next_utc(7)
    seen = set()

    def both():
        rows = gate.rows("SELECT name, state FROM schedule_runs")
        running = [r for r in rows if r[1] == "running"]
        assert len(running) <= 1, rows
        if running:
            seen.add(len(rows))
        return len(rows) == 2 and not running
    clock(gate, at - 1)
    wait_for(both, 20, 0.02, "both runs, one at a time")
    # One ran while the other had not started.
    assert 1 in seen, seen
    assert runs_of(gate, "a") == [(at, 0, "done")]
    assert runs_of(gate, "b") == [(at, 0, "done")]
    gate.wait_log("loopback t: to alice: echo: a", 10)
    gate.wait_log("loopback t: to bob: echo: b", 10)
