"""Media a personal-WeChat account sends (issue #13, "Media out"): files
an agent's reply carries, and wxgatectl send --file, reach the hub's
outbox as attachment rows after the reply's text and the wechat worker
as outbound.file (a sealed memfd).  The worker reads it once, asks
getuploadurl for a slot, encrypts it (AES-128-ECB, PKCS#7, a fresh key),
uploads it to the CDN and sends an image item or a file item naming the
CDN's download parameter, with the reply's context token.  fake_ilink.py
checks every field of that against shared/protocols/wechat-ilink.md
§3.5, §3.9, §5.6 and §6 and decrypts what was uploaded with the key the
item carries; the tests compare those bytes with what the agent sent.

The command agent tests/integration/agent_files.py answers "files N
SIZE" with the text "here" and N files: out0.png (an image), out1.bin...
(files), byte i of file k being (i * 31 + 7 + k) mod 256.

Needs a build configured with --enable-test-hooks."""

import os
import signal

import pytest

from conftest import wait_for
from fake_ilink import FakeIlink

FRIEND = "friend_0003@im.wechat"
FILES_AGENT = [{"name": "default", "type": "command", "command": {"argv": [
    "/usr/bin/python3", os.path.join(os.path.dirname(__file__),
                                     "agent_files.py")]}}]
ECHO = [{"name": "default", "type": "echo",
         "echo": {"chunks": 1, "delay_ms": 0}}]


@pytest.fixture
def fake():
    f = FakeIlink(longpoll_ms=1500).start()
    yield f
    f.stop()


def start(gate_factory, fake, tmp_path, agents=None, gap_ms=0, sup=None):
    path = os.path.join(str(tmp_path), "alice.token")
    with open(path, "w") as fh:
        fh.write(fake.token + "\n")
    os.chmod(path, 0o600)
    conf = {"agents": agents or FILES_AGENT,
            "channels": [{"name": "alice", "type": "wechat",
                          "dm_policy": "open",
                          "ratelimit": {
                              "peer": {"rate": "100/s", "burst": 100},
                              "account": {"rate": "100/s", "burst": 100}},
                          "wechat": {"login_url": fake.url,
                                     "cdn_url": fake.url + "/c2c",
                                     "send_gap_ms": gap_ms,
                                     "poll_timeout_ms": 3000,
                                     "timeout_s": 5,
                                     "token_file": path}}]}
    if sup is not None:
        conf["supervisor"] = sup
    return gate_factory(conf)


def out_bytes(k, n):
    return bytes((i * 31 + 7 + k) & 0xff for i in range(n))


def delivered(fake, peer=FRIEND):
    """(kind, text or name, data) of each message delivered to peer."""
    with fake.lock:
        return [(s["kind"], s["text"] if s["kind"] == "text" else
                 s.get("name"), s.get("data")) for s in fake.sent
                if s["to"] == peer and s["outcome"] == "ok"]


def wait_delivered(fake, n, timeout=20.0, peer=FRIEND):
    return wait_for(lambda: len(delivered(fake, peer)) >= n and
                    delivered(fake, peer), timeout, 0.05,
                    "%d messages to %s" % (n, peer))


def no_violations(fake):
    assert fake.violations == [], fake.violations


def sent_rows(gate):
    return gate.rows("SELECT o.seq, o.body, o.state, a.kind FROM outbox o"
                     " LEFT JOIN attachments a ON a.id = o.attachment_id"
                     " WHERE o.peer = ? ORDER BY o.id", (FRIEND,))


def test_reply_files_arrive_after_text_byte_exact(gate_factory, fake,
                                                  tmp_path):
    """An image and a file the reply carries: after its text, in order,
    each once, decrypted byte for byte; the image as an image item, the
    file as a file item under its name, all on the user's context."""
    gate = start(gate_factory, fake, tmp_path)
    ctx = "AARzJWAF" + "c0ffee" * 4
    fake.inject(FRIEND, "files 2 70000", context_token=ctx)
    got = wait_delivered(fake, 3)
    img, doc = out_bytes(0, 70000), out_bytes(1, 70000)
    assert got == [("text", "here", None), ("image", None, img),
                   ("file", "out1.bin", doc)], [g[:2] for g in got]
    with fake.lock:
        mine = [s for s in fake.sent if s["to"] == FRIEND]
        assert [s["outcome"] for s in mine] == ["ok"] * 3, mine
        assert {s["context_token"] for s in mine} == {ctx}
        assert len({s["client_id"] for s in mine}) == 3
        # §3.5: an image is media_type 1, a file 3; one upload each.
        assert [u["media_type"] for u in fake.uploadurls] == [1, 3]
        assert [o for _, o in fake.uploads] == ["ok", "ok"]
    wait_for(lambda: all(r[2] == "sent" for r in sent_rows(gate)), 10, 0.05,
             "rows sent")
    assert sent_rows(gate) == [(0, "here", "sent", None),
                               (1, "out0.png", "sent", "image"),
                               (2, "out1.bin", "sent", "file")]
    no_violations(fake)


def test_upload_param_form_and_sizes_on_block_edges(gate_factory, fake,
                                                    tmp_path):
    """§3.5: with upload_param alone the worker builds <cdn>/upload; a
    plaintext of a whole number of blocks gets a whole block of padding
    (§6.1), a tiny one a single block."""
    fake.upload_mode = "param"
    gate = start(gate_factory, fake, tmp_path)
    fake.inject(FRIEND, "files 2 4096")
    got = wait_delivered(fake, 3)
    assert got[1] == ("image", None, out_bytes(0, 4096))
    assert got[2] == ("file", "out1.bin", out_bytes(1, 4096))
    fake.inject(FRIEND, "files 2 1")
    got = wait_delivered(fake, 6)
    assert got[4:] == [("image", None, out_bytes(0, 1)),
                       ("file", "out1.bin", out_bytes(1, 1))]
    with fake.lock:
        assert [u["filesize"] for u in fake.uploadurls] == \
            [4112, 4112, 16, 16]
    no_violations(fake)


def test_upload_failure_is_retried_and_sent_once(gate_factory, fake,
                                                 tmp_path):
    """A CDN 500 once (§3.9: tried again): the row goes back to the hub
    ("retry") and is sent again whole, a new slot and key, and delivered
    once."""
    gate = start(gate_factory, fake, tmp_path)
    fake.fail(cdn_http=1)
    fake.inject(FRIEND, "files 1 30000")
    got = wait_delivered(fake, 2, timeout=40)
    assert got == [("text", "here", None),
                   ("image", None, out_bytes(0, 30000))]
    with fake.lock:
        assert [o for _, o in fake.uploads] == ["http500", "ok"], \
            fake.uploads
        assert len(fake.uploadurls) == 2
        keys = [u["aeskey"] for u in fake.uploadurls]
        assert len(set(keys)) == 2, "a fresh key per try"
    gate.wait_log("not delivered", 5)
    no_violations(fake)


def test_cdn_refusal_is_final_with_its_reason(gate_factory, fake, tmp_path):
    """§3.9: a 4xx from the CDN is for good; the row fails with the
    CDN's x-error-message, and is not tried again."""
    fake.cdn_max = 1000
    gate = start(gate_factory, fake, tmp_path)
    fake.inject(FRIEND, "files 1 5000")
    wait_delivered(fake, 1)
    rows = wait_for(lambda: [r for r in gate.rows(
        "SELECT state, detail FROM outbox WHERE body = 'out0.png'")
        if r[0] == "failed"], 15, 0.05, "the file row failed")
    assert "file too large" in rows[0][1], rows
    assert "HTTP 413" in rows[0][1], rows
    with fake.lock:
        assert [o for _, o in fake.uploads] == ["413"]
    assert fake.media_of(FRIEND) == []
    no_violations(fake)


def test_upload_url_off_the_cdn_host_is_refused(gate_factory, fake,
                                                tmp_path):
    """§8.21: an upload_full_url on another host than the CDN's is never
    dialled; the row fails saying so."""
    fake.upload_mode = "elsewhere"
    gate = start(gate_factory, fake, tmp_path)
    fake.inject(FRIEND, "files 1 100")
    wait_delivered(fake, 1)
    rows = wait_for(lambda: [r for r in gate.rows(
        "SELECT state, detail FROM outbox WHERE body = 'out0.png'")
        if r[0] == "failed"], 15, 0.05, "the file row failed")
    assert "upload_full_url not on the CDN host" in rows[0][1], rows
    with fake.lock:
        assert fake.uploads == []
    no_violations(fake)


def test_file_after_sigkill_between_text_and_file(gate_factory, fake,
                                                  tmp_path):
    """SIGKILL of the worker after the reply's text went and before its
    file did: the file arrives once after the restart; the text is not
    sent again."""
    gate = start(gate_factory, fake, tmp_path, gap_ms=3000,
                 sup={"restart_min_ms": 50})
    fake.inject(FRIEND, "files 2 20000")
    wait_delivered(fake, 1)
    w = gate.worker("wechat.alice")
    with fake.lock:
        assert fake.uploadurls == [], "the file went within the gap"
    os.kill(w["pid"], signal.SIGKILL)
    wait_for(lambda: gate.worker("wechat.alice")["pid"] != w["pid"] and
             gate.worker("wechat.alice")["state"] == "running", 10, 0.05,
             "wechat.alice back")
    got = wait_delivered(fake, 3, timeout=40)
    assert got == [("text", "here", None),
                   ("image", None, out_bytes(0, 20000)),
                   ("file", "out1.bin", out_bytes(1, 20000))], \
        [g[:2] for g in got]
    with fake.lock:
        assert [s["outcome"] for s in fake.sent] == ["ok"] * 3, fake.sent
    assert "SIGKILL" in gate.worker("wechat.alice")["last_exit"]
    no_violations(fake)


def test_turn_budget_holds_files_for_the_next_message(gate_factory, fake,
                                                      tmp_path):
    """§7.2: at most 10 messages per context token, attachments too.  Two
    replies of five on one token spend it; a third reply on it is held
    (refused, not sent), and goes on the token of the person's next
    message, each part once (the hub orders a reply's parts, not two
    replies)."""
    gate = start(gate_factory, fake, tmp_path)
    for i in range(2):
        fake.inject(FRIEND, "files 4 %d" % (100 + i), context_token="CTX-A")
        wait_delivered(fake, 5 * (i + 1))
    fake.inject(FRIEND, "files 1 200", context_token="CTX-A")
    gate.wait_log("10 messages are spent", 15)
    assert len(delivered(fake)) == 10
    fake.inject(FRIEND, "files 1 300", context_token="CTX-B")
    got = wait_delivered(fake, 14, timeout=60)
    assert sorted(g[:2] for g in got[10:]) == [
        ("image", None), ("image", None), ("text", "here"),
        ("text", "here")], got[10:]
    assert sorted(g[2] for g in got[10:] if g[0] == "image") == \
        sorted([out_bytes(0, 200), out_bytes(0, 300)])
    with fake.lock:
        ctxs = [s["context_token"] for s in fake.sent
                if s["outcome"] == "ok"]
    assert ctxs == ["CTX-A"] * 10 + ["CTX-B"] * 4, ctxs
    no_violations(fake)


def test_ctl_send_file_to_a_peer_with_a_live_context(gate_factory, fake,
                                                     tmp_path):
    gate = start(gate_factory, fake, tmp_path, agents=ECHO)
    fake.inject(FRIEND, "hi")
    wait_delivered(fake, 1)
    data = os.urandom(50000)
    path = os.path.join(str(tmp_path), "notes.txt")
    with open(path, "wb") as fh:
        fh.write(data)
    rc, out, err = gate.ctl("send", "--wait", "20", "--file", path,
                            "alice", FRIEND)
    assert rc == 0, (out, err)
    got = wait_delivered(fake, 2)
    assert got[1] == ("file", "notes.txt", data)
    no_violations(fake)
