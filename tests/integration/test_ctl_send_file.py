"""wxgatectl send --file (issue #15): wxgatectl opens the file with the
caller's rights and passes its bytes in a sealed memfd; the hub keeps the bytes in
the store with an outbox row and hands them to the channel's worker as
a sealed memfd (outbound.file).  The test-only loopback kind takes
files (KC_MEDIA) and logs each one's name, size, kind and SHA-256, so
the bytes can be checked exactly."""

import hashlib
import os
import signal
import time

import pytest

from conftest import wait_for
from fake_webhook import FakeWebhook

ECHO = [{"name": "default", "type": "echo"}]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
FILE_MAX = 20 * 1024 * 1024


def lines(out):
    """"ID STATE CHANNEL TARGET[: DETAIL]" rows as (id, state, rest)."""
    res = []
    for ln in out.splitlines():
        i, state, rest = ln.split(" ", 2)
        res.append((int(i), state, rest))
    return res


def loopback(gate_factory, extra=(), sup=None):
    chans = [{"name": "t", "type": "loopback"}] + list(extra)
    c = {"agents": ECHO, "channels": chans}
    if sup:
        c["supervisor"] = sup
    return gate_factory(c)


def logged(name, data, peer, kind):
    return "loopback t: file %s %d bytes to %s (%s, sha256 %s)" % (
        name, len(data), peer, kind, hashlib.sha256(data).hexdigest())


def put(tmp_path, name, data):
    p = os.path.join(str(tmp_path), name)
    with open(p, "wb") as f:
        f.write(data)
    return p


def nothing_queued(gate):
    assert gate.rows("SELECT count(*) FROM outbox") == [(0,)]
    assert gate.rows("SELECT count(*) FROM attachments") == [(0,)]


def test_file_reaches_the_worker_exactly(gate_factory, tmp_path):
    gate = loopback(gate_factory)
    data = os.urandom(300000)
    path = put(tmp_path, "report.bin", data)
    rc, out, err = gate.ctl("send", "--wait", "20", "--file", path, "t",
                            "alice")
    assert rc == 0, (out, err)
    (rid, state, rest), = lines(out)
    assert state == "sent" and rest == "t alice", out
    gate.wait_log(logged("report.bin", data, "alice", "file"), 10)
    assert gate.log().count("loopback t: file report.bin") == 1
    # The row names the file; its bytes went with it.
    assert gate.rows("SELECT o.body, a.kind, a.size, length(a.data), "
                     "a.sha256 FROM outbox o JOIN attachments a ON "
                     "a.id = o.attachment_id WHERE o.id = %d" % rid) == \
        [("report.bin", "file", len(data), 0,
          hashlib.sha256(data).digest())]


def test_caption_then_image(gate_factory, tmp_path):
    """A PNG under 2 MiB goes as an image; text with --file is a
    caption, its own row, queued right after the file's; a refused
    file leaves no caption."""
    gate = loopback(gate_factory)
    path = put(tmp_path, "chart.png", PNG)
    rc, out, err = gate.ctl("send", "--wait", "10", "--file", path, "t",
                            "bob", "today")
    assert rc == 0, (out, err)
    rows = lines(out)
    assert [r[1] for r in rows] == ["sent", "sent"], out
    assert rows[0][0] < rows[1][0]
    log = gate.log()
    f = log.index(logged("chart.png", PNG, "bob", "image"))
    assert f < log.index("loopback t: to bob: today"), log
    assert gate.rows("SELECT attachment_id IS NOT NULL, body FROM outbox "
                     "ORDER BY id") == [(1, "chart.png"), (0, "today")]
    # Named .png but not one: the bytes decide, it is a file.
    fake = put(tmp_path, "x.png", b"not a png")
    rc, out, err = gate.ctl("send", "--wait", "10", "--file", fake, "t",
                            "bob")
    assert rc == 0, (out, err)
    gate.wait_log(logged("x.png", b"not a png", "bob", "file"), 10)


def test_refusals_leave_nothing(gate_factory, tmp_path):
    wechat = {"name": "w", "type": "wechat",
              "wechat": {"login_url": "http://127.0.0.1:9/",
                         "base_url": "http://127.0.0.1:9/"}}
    gate = loopback(gate_factory, [wechat])
    small = put(tmp_path, "a.txt", b"hello")
    empty = put(tmp_path, "empty.txt", b"")
    big = os.path.join(str(tmp_path), "big.bin")
    with open(big, "wb") as f:
        f.truncate(FILE_MAX + 1)
    rc, out, err = gate.ctl("send", "--file",
                            os.path.join(str(tmp_path), "nope"), "t", "a")
    assert rc == 2 and "No such file" in err, (out, err)
    rc, out, err = gate.ctl("send", "--file", str(tmp_path), "t", "a")
    assert rc == 2 and "not a regular file" in err, (out, err)
    rc, out, err = gate.ctl("send", "--file", empty, "t", "a")
    assert rc == 2 and "0 bytes" in err, (out, err)
    rc, out, err = gate.ctl("send", "--file", big, "t", "a")
    assert rc == 2 and "1 to 20971520" in err, (out, err)
    rc, out, err = gate.ctl("send", "--file", small, "w", "a", "caption")
    # iLink takes files, but a bot only answers (wechat-ilink.md 1.4).
    assert rc == 1 and "channel w (wechat) can only answer" in err, \
        (out, err)
    rc, out, err = gate.ctl("send", "--file", small, "nosuch", "a")
    assert rc == 1 and "no channel nosuch" in err, (out, err)
    nothing_queued(gate)
    # The control connection took each refusal cleanly: still serving.
    rc, out, err = gate.ctl("send", "--file", small, "t", "a")
    assert rc == 0, (out, err)


def frame_with_fd(gate, frame, path):
    """A control connection that sent frame with path's descriptor."""
    import socket
    import struct
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(gate.sock)
    fd = os.open(path, os.O_RDONLY)
    try:
        s.sendmsg([struct.pack(">I", len(frame)) + frame],
                  [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                    struct.pack("i", fd))])
    finally:
        os.close(fd)
    s.settimeout(5)
    return s


def test_fd_without_its_frame_drops_the_client(gate_factory, tmp_path):
    """A descriptor on a frame that is not MSG_FD is a violation: the
    connection ends and nothing is queued."""
    import socket
    import struct
    gate = loopback(gate_factory)
    small = put(tmp_path, "a.txt", b"hello")
    # [612 ctl.stats, 1, {}]: valid, and answered without an fd.
    frame = b"\x93\xcd\x02\x64\x01\x80"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(gate.sock)
    s.sendall(struct.pack(">I", len(frame)) + frame)
    s.settimeout(5)
    assert len(s.recv(4096)) > 0
    s.close()
    s = frame_with_fd(gate, frame, small)
    assert s.recv(4096) == b""
    gate.wait_log("an fd with no MSG_FD frame", 5)
    s.close()
    rc, out, err = gate.ctl("stats")
    assert rc == 0, (out, err)
    nothing_queued(gate)


def test_only_a_sealed_memfd_is_read(gate_factory, tmp_path):
    """The hub reads the bytes wxgatectl copied into a sealed memfd,
    never a file a client opened: one on a slow mount, or a FIFO's
    writer that never writes, would stall its loop.  A plain file's
    descriptor on a valid ctl.send_file is refused, nothing queued."""
    gate = loopback(gate_factory)
    small = put(tmp_path, "a.txt", b"hello")

    def mstr(t):
        b = t.encode()
        return bytes([0xa0 | len(b)]) + b
    # [622 ctl.send_file, 1, {channel, target, name, kind}]
    frame = (b"\x93\xcd\x02\x6e\x01\x84" + mstr("channel") + mstr("t") +
             mstr("target") + mstr("a") + mstr("name") + mstr("a.txt") +
             mstr("kind") + mstr(""))
    s = frame_with_fd(gate, frame, small)
    got = b""
    while b"sealed memfd" not in got:
        chunk = s.recv(4096)
        assert chunk, got
        got += chunk
    s.close()
    nothing_queued(gate)
    # wxgatectl's own copy is taken.
    rc, out, err = gate.ctl("send", "--file", small, "t", "a")
    assert rc == 0, (out, err)


def test_queued_file_survives_a_killed_worker(gate_factory, tmp_path):
    gate = loopback(gate_factory)
    data = os.urandom(50000)
    path = put(tmp_path, "keep.bin", data)
    old = gate.worker("loopback.t")
    os.kill(old["pid"], signal.SIGSTOP)
    try:
        rc, out, err = gate.ctl("send", "--file", path, "t", "carol")
        assert rc == 0, (out, err)
        (rid, state, _), = lines(out)
        assert state == "queued"
        time.sleep(0.5)
    finally:
        os.kill(old["pid"], signal.SIGKILL)
    wait_for(lambda: (gate.worker("loopback.t") or {}).get("pid")
             not in (None, 0, old["pid"]), 15, 0.1, "a new loopback worker")
    gate.wait_log(logged("keep.bin", data, "carol", "file"), 15)

    def sent():
        rc, out, _ = gate.ctl("outbox", rid)
        return rc == 0 and lines(out)[0][1] == "sent"
    wait_for(sent, 10, 0.05, "the row to read sent")


def test_queued_attachments_are_bounded(gate_factory, tmp_path):
    """At most 64 MiB of attachments wait: a fourth 20 MiB file is
    refused (busy) and leaves nothing; the three go once the worker
    runs again.  The stopped worker must outlive the heartbeat's
    patience however slow the build (ASan): a minute of it."""
    gate = loopback(gate_factory, sup={"heartbeat_timeout_ms": 60000})
    paths = []
    for i in range(4):
        p = os.path.join(str(tmp_path), "f%d.bin" % i)
        with open(p, "wb") as f:
            f.truncate(FILE_MAX)
        paths.append(p)
    w = gate.worker("loopback.t")
    os.kill(w["pid"], signal.SIGSTOP)
    try:
        for p in paths[:3]:
            rc, out, err = gate.ctl("send", "--file", p, "t", "dan")
            assert rc == 0, (out, err)
        rc, out, err = gate.ctl("send", "--file", paths[3], "t", "dan")
        assert rc == 1 and "busy: 60 MiB of attachments wait" in err, \
            (out, err)
        assert gate.rows("SELECT count(*) FROM attachments") == [(3,)]
        assert gate.rows("SELECT count(*) FROM outbox") == [(3,)]
    finally:
        os.kill(w["pid"], signal.SIGCONT)
    zeros = b"\0" * FILE_MAX
    for i in range(3):
        gate.wait_log(logged("f%d.bin" % i, zeros, "dan", "file"), 20)


@pytest.fixture
def robot():
    f = FakeWebhook(window=3).start()
    yield f
    f.stop()


def test_webhook_file_and_image(gate_factory, robot, tmp_path):
    key = os.path.join(str(tmp_path), "robot.key")
    with open(key, "w") as f:
        f.write(robot.key + "\n")
    os.chmod(key, 0o600)
    gate = gate_factory({"agents": ECHO, "channels": [{
        "name": "ops", "type": "wecom_webhook",
        "wecom_webhook": {"url": robot.url(), "key_file": key,
                          "rate_window_s": 3, "timeout_s": 5}}]})
    doc = os.urandom(4000)
    pdf = put(tmp_path, "minutes.pdf", doc)
    png = put(tmp_path, "chart.png", PNG)
    for p in (pdf, png):
        rc, out, err = gate.ctl("send", "--wait", "20", "--file", p, "ops",
                                "group")
        assert rc == 0 and lines(out)[0][1] == "sent", (out, err)
    # A webhook image carries its bytes and md5, no name (protocols
    # wecom.md B.3); a file is uploaded under its name.
    assert robot.files() == [("file", "minutes.pdf", doc),
                             ("image", None, PNG)]
    assert robot.uploads() == [("minutes.pdf", doc)]
