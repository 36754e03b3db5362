"""The wecom_webhook channel kind (issue #12): a WeCom group robot,
outbound only, against fake_webhook.FakeWebhook, which checks every
request against protocols/wecom.md part B.  Sends come from `wxgatectl
send` through the outbox; the robot's 20-a-minute window is shortened
by config (rate_window_s) so the pacing shows in seconds."""

import os
import signal
import time

import pytest

from conftest import check_config, wait_for
from fake_webhook import FakeWebhook

ECHO = [{"name": "default", "type": "echo"}]
WINDOW = 3


@pytest.fixture
def robot():
    f = FakeWebhook(window=WINDOW).start()
    yield f
    f.stop()


def channel(robot, tmp_path, content=None, **over):
    path = os.path.join(str(tmp_path), "robot.key")
    with open(path, "w") as f:
        f.write((content or robot.key) + "\n")
    os.chmod(path, 0o600)
    hook = {"url": robot.url(), "key_file": path,
            "rate_window_s": WINDOW, "timeout_s": 5}
    hook.update(over)
    return {"name": "ops", "type": "wecom_webhook", "wecom_webhook": hook}


def start(gate_factory, robot, tmp_path, sup=None, **over):
    conf = {"agents": ECHO, "channels": [channel(robot, tmp_path, **over)]}
    if sup is not None:
        conf["supervisor"] = sup
    return gate_factory(conf)


def send(gate, text, target="group", wait=None):
    args = ["send"] + (["--wait", str(wait)] if wait else []) + \
        ["ops", target, text]
    rc, out, err = gate.ctl(*args)
    return rc, out, err


def no_violations(robot):
    with robot.lock:
        assert robot.violations == [], robot.violations


def test_25_in_a_window_arrive_as_20_then_5(gate_factory, robot, tmp_path):
    """B.6: the worker paces itself, so the robot never has to refuse;
    the 21st waits for the window and none is lost or doubled."""
    gate = start(gate_factory, robot, tmp_path)
    texts = ["notice %02d" % i for i in range(25)]
    for t in texts:
        rc, out, err = send(gate, t)
        assert rc == 0, (out, err)
    wait_for(lambda: len(robot.contents()) >= 25, 6 * WINDOW, 0.05,
             "all 25 at the robot")
    time.sleep(0.5)
    assert robot.contents() == texts
    with robot.lock:
        at = [t for t, _ in robot.got]
    # No window holds more than twenty: the 21st after any one waited
    # for it to leave.  How soon the first twenty went is the machine's
    # load, not a rule, and is not asserted.
    for i in range(len(at) - 20):
        assert at[i + 20] - at[i] >= WINDOW, (i, at)
    no_violations(robot)
    assert gate.rows("SELECT state, count(*) FROM outbox GROUP BY "
                "state") == [("sent", 25)]


def test_someone_elses_45009_makes_a_message_wait(gate_factory, robot,
                                                   tmp_path):
    """Another sender spent the key (45009): the message waits out the
    window in the worker and then goes, once, still a first attempt."""
    gate = start(gate_factory, robot, tmp_path)
    with robot.lock:
        robot.fail_next = [45009]
    rc, out, err = send(gate, "after the crowd", wait=6 * WINDOW)
    assert rc == 0, (out, err)
    assert out.split(" ", 2)[1] == "sent", out
    assert robot.contents() == ["after the crowd"]
    assert gate.rows("SELECT attempts FROM outbox") == [(0,)]
    gate.wait_log("45009 on")
    no_violations(robot)


def test_error_codes(gate_factory, robot, tmp_path):
    """B.5: 93000 is final (failed, logged loudly); -1 and a cut
    connection are tried again and delivered."""
    gate = start(gate_factory, robot, tmp_path)
    with robot.lock:
        robot.fail_next = [93000]
    rc, out, err = send(gate, "to a removed robot", wait=10)
    assert rc == 1, (out, err)
    _, state, rest = out.strip().split(" ", 2)
    assert state == "failed", out
    assert rest == "ops group: errcode 93000: invalid webhook url", out
    gate.wait_log("the robot refuses our key (93000)")
    # Never logged: the key.
    assert robot.key not in gate.log()

    with robot.lock:
        robot.fail_next = [-1]
        robot.drop_next = 0
    rc, out, err = send(gate, "busy first", wait=30)
    assert rc == 0 and " sent " in out, (out, err)
    with robot.lock:
        robot.drop_next = 1
    rc, out, err = send(gate, "cut first", wait=30)
    assert rc == 0 and " sent " in out, (out, err)
    assert robot.contents() == ["busy first", "cut first"]
    no_violations(robot)


def test_long_text_is_cut_by_bytes_in_order(gate_factory, robot, tmp_path):
    """B.3/B.7: 2048 bytes of UTF-8, not characters: CJK text is cut into
    parts that each fit, in order, on character boundaries."""
    gate = start(gate_factory, robot, tmp_path)
    text = "\u4e2d\u6587" * 1500          # 3,000 characters, 9,000 bytes
    rc, out, err = send(gate, text, wait=6 * WINDOW)
    assert rc == 0, (out, err)
    got = robot.contents()
    assert len(got) == 5 and "".join(got) == text, [len(g) for g in got]
    assert all(len(g.encode()) <= 2048 for g in got)
    no_violations(robot)


def test_parts_stay_in_order_when_one_is_retried(gate_factory, robot,
                                                 tmp_path):
    """The first part meets a busy robot (-1) and waits for its retry;
    the others wait behind it: in order, each once."""
    gate = start(gate_factory, robot, tmp_path)
    with robot.lock:
        robot.fail_next = [-1]
    text = "\u4e2d" * 1500                # 4,500 bytes: three parts
    rc, out, err = send(gate, text, wait=30)
    assert rc == 0, (out, err)
    got = robot.contents()
    assert len(got) == 3 and "".join(got) == text, [len(g) for g in got]
    with robot.lock:
        assert len(robot.tries) == 4, robot.tries
    no_violations(robot)


def test_mentions_and_markdown(gate_factory, robot, tmp_path):
    gate = start(gate_factory, robot, tmp_path)
    assert send(gate, "all hands", target="@all", wait=10)[0] == 0
    assert send(gate, "you two", target="@zhangsan,lisi", wait=10)[0] == 0
    with robot.lock:
        bodies = [b for _, b in robot.got]
    assert bodies[0]["text"]["mentioned_list"] == ["@all"]
    assert bodies[1]["text"]["mentioned_list"] == ["zhangsan", "lisi"]
    no_violations(robot)


def test_markdown_type(gate_factory, robot, tmp_path):
    gate = start(gate_factory, robot, tmp_path, msgtype="markdown")
    rc, out, err = send(gate, "## build\n>green", wait=10)
    assert rc == 0, (out, err, gate.log())
    with robot.lock:
        (_, b), = robot.got
    assert b == {"msgtype": "markdown",
                 "markdown": {"content": "## build\n>green"}}
    no_violations(robot)


def test_sigkill_mid_queue_loses_nothing(gate_factory, robot, tmp_path):
    """SIGKILL while sends wait for the window: after the restart every
    message arrives, in order; only one the robot took in the instant of
    the kill could show twice (a webhook has no idempotency key)."""
    gate = start(gate_factory, robot, tmp_path,
                 sup={"restart_max_ms": 400}, rate_max=3)
    texts = ["m%d" % i for i in range(8)]
    for t in texts:
        assert send(gate, t)[0] == 0
    wait_for(lambda: len(robot.contents()) >= 3, 10, 0.02, "a first few")
    old = gate.worker("wecom_webhook.ops")
    os.kill(old["pid"], signal.SIGKILL)
    wait_for(lambda: (gate.worker("wecom_webhook.ops") or {}).get("pid")
             not in (None, old["pid"]), 10, 0.05, "the worker back")
    wait_for(lambda: gate.rows("SELECT count(*) FROM outbox WHERE state "
                      "= 'queued'") == [(0,)], 12 * WINDOW, 0.1,
             "every row sent")
    got = robot.contents()
    assert set(got) == set(texts), got
    assert len(got) - len(texts) <= 1, got
    # In order, apart from a repeat of the one in flight.
    first = []
    for g in got:
        if g not in first:
            first.append(g)
    assert first == texts, got
    no_violations(robot)


def test_webhook_worker_is_sandboxed(gate_factory, robot, tmp_path):
    from test_sandbox import assert_confined, kill_with_each
    gate = start(gate_factory, robot, tmp_path,
                 sup={"restart_max_ms": 400})
    w = gate.worker("wecom_webhook.ops")
    assert_confined(w["pid"])
    kill_with_each(gate, "wecom_webhook.ops", dials=True)
    assert send(gate, "after the storm", wait=20)[0] == 0
    assert robot.contents() == ["after the storm"]


def test_key_file_forms_and_errors(robot, tmp_path):
    # The whole URL copied from the WeCom client is taken for its key.
    url = "%s/cgi-bin/webhook/send?key=%s" % (robot.url(), robot.key)
    rc, out = check_config({"channels": [channel(robot, tmp_path,
                                                 content=url)]})
    assert rc == 0, out
    bad = channel(robot, tmp_path, content="not/a/key")
    rc, out = check_config({"channels": [bad]})
    assert rc != 0 and "wecom_webhook.key_file" in out and \
        "does not hold a webhook key" in out, out
    nokey = channel(robot, tmp_path)
    del nokey["wecom_webhook"]["key_file"]
    rc, out = check_config({"channels": [nokey]})
    assert rc != 0 and "channels[0].wecom_webhook.key_file" in out, out
    md = channel(robot, tmp_path, msgtype="card")
    rc, out = check_config({"channels": [md]})
    assert rc != 0 and "unknown msgtype" in out, out
    plain = channel(robot, tmp_path, url="http://203.0.113.9")
    rc, out = check_config({"channels": [plain]})
    assert rc != 0 and "must be an https:// URL" in out, out
