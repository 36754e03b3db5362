"""WeCom AI bot outbound media (the wecom_bot worker, issue #12): an
image or file an agent's reply carries, or one `wxgatectl send --file`
names, goes to the hub's outbox as an attachment row after the reply's
text; the worker reads the row's sealed memfd, uploads the bytes on its
long connection (shared/protocols/wecom.md A.5.8: init, 512 KiB chunks
in base64, finish) and sends the media_id as an image or file message:
the answer to the user's message while it may be one (A.5.5), a push
otherwise (A.5.9).  The fake server (fake_wecom.py) checks every upload
and message frame and keeps what it received, so the bytes are compared
exactly; its timeline shows the order users saw.

Also: an error code on an upload step is retried as A.8 says and the
file arrives once; a file over the cap ends failed with the reason in
`wxgatectl outbox`; a worker SIGKILLed mid-upload uploads again after
its restart and the message is sent once, as does one whose connection
dropped mid-upload; in a group the files answer in the chat, or are
pushed there once the message's req_id is refused.

Needs a build configured with --enable-test-hooks."""

import os
import signal
import time

import pytest

from conftest import QUEUED, wait_for
from fake_wecom import FakeWecom
from test_channel_wecom import start

USER = "zhangsan"
HEARTBEAT_MS = 1000
STREAM_MS = 100
WORKER = "wecom_bot.work"
CHUNK = 512 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40

FILES_AGENT = {"agents": [{
    "name": "default", "type": "command", "command": {"argv": [
        "/usr/bin/python3", os.path.join(os.path.dirname(__file__),
                                         "agent_files.py")]}}]}


@pytest.fixture
def fake():
    f = FakeWecom(heartbeat_ms=HEARTBEAT_MS, stream_ms=STREAM_MS).start()
    yield f
    f.stop()


def out_bytes(k, n):
    """agent_files.py's file k of n bytes."""
    return bytes((i * 31 + 7 + k) & 0xff for i in range(n))


def up(gate_factory, fake, tmp_path, **kw):
    gate = start(gate_factory, fake, tmp_path, **kw)
    wait_for(fake.ready, 10, 0.05, "subscribed")
    return gate


def media(fake, n, timeout=20.0):
    return wait_for(lambda: len(fake.media_to(USER)) >= n and
                    fake.media_to(USER), timeout, 0.05,
                    "%d media messages to %s" % (n, USER))


def lines(out):
    """wxgatectl's "ID STATE CHANNEL TARGET[: DETAIL]" rows."""
    res = []
    for ln in out.splitlines():
        i, state, rest = ln.split(" ", 2)
        res.append((int(i), state, rest))
    return res


def put(tmp_path, name, data):
    p = os.path.join(str(tmp_path), name)
    with open(p, "wb") as f:
        f.write(data)
    return p


def settled(gate, fake, n):
    """Nothing more comes: the outbox drained, n media messages."""
    wait_for(lambda: gate.rows(QUEUED)[0][0] == 0, 10, 0.05,
             "outbox drained")
    time.sleep(0.5)
    assert len(fake.media_to(USER)) == n, fake.media_to(USER)


def no_violations(fake):
    assert fake.violations == [], fake.violations


def alive(gate, restarts=0):
    w = gate.worker(WORKER)
    assert w["state"] == "running" and w["restarts"] == restarts, w


def test_reply_files_follow_the_text_once(gate_factory, fake, tmp_path):
    """The reply "here" with two files: its bubble ends first, then each
    file is uploaded and answers the message, byte for byte, once.  The
    agent's out0.png is not a PNG inside: it goes as a file (A.5.8)."""
    gate = up(gate_factory, fake, tmp_path, conf=FILES_AGENT)
    size = 2 * CHUNK + 1000         # three chunks, the last a short one
    fake.msg(USER, "files 2 %d" % size)
    got = media(fake, 2)
    assert [(m["type"], m["name"], m["via"]) for m in got] == [
        ("file", "out0.png", "answer"), ("file", "out1.bin", "answer")]
    assert got[0]["data"] == out_bytes(0, size)
    assert got[1]["data"] == out_bytes(1, size)
    assert [t[0] for t in fake.timeline if t[1] == USER] == \
        ["text", "media", "media"], fake.timeline
    assert fake.answers_to(USER)[0]["text"] == "here"
    chunks = fake.sent("aibot_upload_media_chunk")
    assert [f["body"]["chunk_index"] for f in chunks] == [0, 1, 2] * 2
    settled(gate, fake, 2)
    assert fake.upload_inits == 2 and len(fake.uploads) == 2
    assert gate.rows("SELECT seq, state FROM outbox ORDER BY seq") == [
        (0, "sent"), (1, "sent"), (2, "sent")]
    gate.wait_log("is not a JPG or PNG of at most")
    alive(gate)
    no_violations(fake)


def test_send_file_pushes_image_and_file(gate_factory, fake, tmp_path):
    """wxgatectl send --file to a user: no message to answer, so each
    goes as a push; a PNG as an image, other bytes as a file, with
    their names."""
    gate = up(gate_factory, fake, tmp_path)
    doc = os.urandom(CHUNK + 7)
    for name, data in (("chart.png", PNG), ("report.pdf", doc)):
        rc, out, err = gate.ctl("send", "--wait", "20", "--file",
                                put(tmp_path, name, data), "work", USER)
        assert rc == 0, (out, err)
        assert lines(out)[0][1] == "sent", out
    got = media(fake, 2)
    assert [(m["type"], m["name"], m["via"], m["data"]) for m in got] == [
        ("image", "chart.png", "push", PNG),
        ("file", "report.pdf", "push", doc)]
    pushes = [f for f in fake.sent("aibot_send_msg")
              if f["body"]["msgtype"] in ("image", "file")]
    # The operator's target: a chat id whose type the bot does not know.
    assert [f["body"]["chatid"] for f in pushes] == [USER, USER]
    assert all("chat_type" not in f["body"] for f in pushes)
    inits = fake.sent("aibot_upload_media_init")
    assert [(f["body"]["type"], f["body"]["total_size"],
             f["body"]["total_chunks"]) for f in inits] == [
        ("image", len(PNG), 1), ("file", len(doc), 2)]
    settled(gate, fake, 2)
    alive(gate)
    no_violations(fake)


def test_upload_error_is_retried_once(gate_factory, fake, tmp_path):
    """A chunk answered "system busy" (-1) is sent again after a second
    (A.8), an init throttled (45009) after two; the answer refused as
    stale (846605) goes as a push instead, and so does the next file:
    that req_id takes no more.  One upload, one message each."""
    gate = up(gate_factory, fake, tmp_path, conf=FILES_AGENT)
    fake.fail_next(lambda f: f.get("cmd") == "aibot_upload_media_init",
                   45009)
    fake.fail_next(lambda f: f.get("cmd") == "aibot_upload_media_chunk" and
                   f["body"]["chunk_index"] == 1, -1)
    fake.fail_next(lambda f: f.get("cmd") == "aibot_respond_msg" and
                   f["body"]["msgtype"] == "file", 846605)
    size = CHUNK + 100
    fake.msg(USER, "files 2 %d" % size)
    got = media(fake, 2, timeout=30)
    assert [(m["name"], m["via"]) for m in got] == [
        ("out0.png", "push"), ("out1.bin", "push")], got
    assert [m["data"] for m in got] == [out_bytes(0, size),
                                        out_bytes(1, size)]
    settled(gate, fake, 2)
    # Three inits, the first throttled; two uploads.
    assert fake.upload_inits == 3 and len(fake.uploads) == 2
    log = gate.log()
    assert "aibot_upload_media_init of row" in log and \
        "refused with 45009" in log
    assert "refused with -1" in log and "refused with 846605" in log
    # Chunk 1 of the first file twice, of the second once.
    assert len([f for f in fake.sent("aibot_upload_media_chunk")
                if f["body"]["chunk_index"] == 1]) == 3
    alive(gate)
    no_violations(fake)


def test_over_the_cap_is_failed_with_the_reason(gate_factory, fake,
                                                tmp_path):
    """A file over what WeCom takes ends failed, the reason in
    wxgatectl outbox, nothing uploaded; the next file goes.  (The cap is
    lowered by a test hook: the hub itself refuses 20 MiB and more.)"""
    gate = up(gate_factory, fake, tmp_path)
    rc, out, err = gate.ctl("test", WORKER, "upload_max:4000")
    assert rc == 0, (out, err)
    rc, out, err = gate.ctl("send", "--wait", "20", "--file",
                            put(tmp_path, "big.bin", os.urandom(5000)),
                            "work", USER)
    assert rc == 1, (out, err)
    (rid, state, rest), = lines(out)
    assert state == "failed", out
    assert "5000 bytes, over the 4000 WeCom takes for a file" in rest, out
    rc, out, err = gate.ctl("outbox", rid)
    assert rc == 0 and lines(out)[0][1] == "failed", (out, err)
    assert "over the 4000 WeCom takes" in lines(out)[0][2], out
    assert fake.upload_inits == 0
    small = os.urandom(3000)
    rc, out, err = gate.ctl("send", "--wait", "20", "--file",
                            put(tmp_path, "small.bin", small), "work", USER)
    assert rc == 0, (out, err)
    assert [m["data"] for m in media(fake, 1)] == [small]
    alive(gate)
    no_violations(fake)


def test_sigkill_mid_upload_sends_once(gate_factory, fake, tmp_path):
    """The worker dies with a chunk unanswered: the hub gives the row to
    the new worker, which uploads it again from the start (a new
    upload_id) and sends it once, as a push: the message's req_id went
    with the old connection."""
    gate = up(gate_factory, fake, tmp_path, conf=FILES_AGENT)
    fake.stall_chunks = True
    size = 3 * CHUNK
    req = fake.msg(USER, "files 1 %d" % size)
    wait_for(lambda: fake.stalled >= 1, 20, 0.05, "a chunk in flight")
    w = gate.worker(WORKER)
    os.kill(w["pid"], signal.SIGKILL)
    fake.stall_chunks = False
    wait_for(lambda: gate.worker(WORKER)["pid"] != w["pid"] and
             fake.subscribes >= 2, 15, 0.05, "the worker back")
    got = media(fake, 1, timeout=30)
    assert [(m["name"], m["via"]) for m in got] == [("out0.png", "push")]
    assert got[0]["data"] == out_bytes(0, size)
    settled(gate, fake, 1)
    assert fake.upload_inits == 2 and len(fake.uploads) == 1
    assert fake.uploads[0]["conn"] == 2
    assert "SIGKILL" in gate.worker(WORKER)["last_exit"]
    # The text went once, before the file; the old req_id not reused.
    assert [t[0] for t in fake.timeline if t[1] == USER] == \
        ["text", "media"], fake.timeline
    assert not [f for n, f in fake.frames if n > 1 and
                f["headers"]["req_id"] == req]
    no_violations(fake)


def test_dropped_connection_mid_upload_starts_over(gate_factory, fake,
                                                   tmp_path):
    """The connection drops with a chunk unanswered: the same worker
    uploads the file again on its next connection and sends it once."""
    gate = up(gate_factory, fake, tmp_path)
    fake.stall_chunks = True
    doc = os.urandom(3 * CHUNK - 5)
    rc, out, err = gate.ctl("send", "--file", put(tmp_path, "a.bin", doc),
                            "work", USER)
    assert rc == 0, (out, err)
    wait_for(lambda: fake.stalled >= 1, 20, 0.05, "a chunk in flight")
    fake.stall_chunks = False
    fake.drop()
    got = media(fake, 1, timeout=30)
    assert [(m["name"], m["via"], m["data"]) for m in got] == [
        ("a.bin", "push", doc)]
    settled(gate, fake, 1)
    assert fake.upload_inits == 2 and len(fake.uploads) == 1
    assert fake.uploads[0]["conn"] == 2
    alive(gate)
    no_violations(fake)


GROUP = "wrFAKEgroup01"


def test_group_files_answer_or_push(gate_factory, fake, tmp_path):
    """In a group the files answer the message in its chat; once WeCom
    says the message's req_id is stale (846608) they are pushed to the
    chat, as a group's (chat_type 2)."""
    gate = up(gate_factory, fake, tmp_path, conf=FILES_AGENT,
              group_policy="open")
    fake.msg(USER, "@Helper files 1 100", chatid=GROUP)
    got = wait_for(lambda: len(fake.media_to(GROUP)) >= 1 and
                   fake.media_to(GROUP), 20, 0.05, "a file in the group")
    assert [(m["name"], m["via"]) for m in got] == [("out0.png", "answer")]
    fake.fail_next(lambda f: f.get("cmd") == "aibot_respond_msg" and
                   f["body"]["msgtype"] == "file", 846608)
    fake.msg(USER, "@Helper files 2 100", chatid=GROUP)
    got = wait_for(lambda: len(fake.media_to(GROUP)) >= 3 and
                   fake.media_to(GROUP), 20, 0.05, "three files")
    assert [(m["name"], m["via"]) for m in got[1:]] == [
        ("out0.png", "push"), ("out1.bin", "push")], got
    assert [m["data"] for m in got] == [out_bytes(0, 100),
                                        out_bytes(0, 100),
                                        out_bytes(1, 100)]
    pushes = [f["body"] for f in fake.sent("aibot_send_msg")
              if f["body"]["msgtype"] == "file"]
    assert [(b["chatid"], b["chat_type"]) for b in pushes] == \
        [(GROUP, 2), (GROUP, 2)]
    assert [t[0] for t in fake.timeline if t[1] == GROUP] == \
        ["text", "media", "text", "media", "media"], fake.timeline
    wait_for(lambda: gate.rows(QUEUED)[0][0] == 0, 10, 0.05,
             "outbox drained")
    alive(gate)
    no_violations(fake)
