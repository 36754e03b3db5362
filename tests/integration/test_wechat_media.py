"""Media people send to a personal-WeChat account (issue #13, "Media
in"): the wechat worker downloads each image, file, voice and video item
from the iLink CDN (fake_ilink.py on 127.0.0.1, wechat.cdn_url), decrypts
it (AES-128-ECB, the key in either of its encodings) and hands it to the
supervisor in a sealed memfd (inbound.media).  The agent reads one line
per attachment after the text; the echo agent sends it back, so the
reply the fake receives shows what arrived, byte for byte (the sha256 of
the plaintext).  An item that cannot be had (tampered, a key in neither
encoding, no URL, over media.max_bytes) costs only itself: the text is
answered, the worker lives, the log says why.

Needs a build configured with --enable-test-hooks."""

import base64
import hashlib
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import wait_for
from fake_ilink import FakeIlink
from test_hub import hub_pid

FRIEND = "friend_0002@im.wechat"
FAST_ECHO = [{"name": "default", "type": "echo",
              "echo": {"chunks": 1, "delay_ms": 0}}]


@pytest.fixture
def fake():
    f = FakeIlink(longpoll_ms=1500).start()
    yield f
    f.stop()


def start(gate_factory, fake, tmp_path, media=None, more=None):
    path = os.path.join(str(tmp_path), "alice.token")
    with open(path, "w") as fh:
        fh.write(fake.token + "\n")
    os.chmod(path, 0o600)
    conf = {"agents": FAST_ECHO,
            "channels": [{"name": "alice", "type": "wechat",
                          "dm_policy": "open",
                          "ratelimit": {
                              "peer": {"rate": "100/s", "burst": 100},
                              "account": {"rate": "100/s", "burst": 100}},
                          "wechat": {"login_url": fake.url,
                                     "cdn_url": fake.url + "/c2c",
                                     "send_gap_ms": 0,
                                     "poll_timeout_ms": 3000,
                                     "timeout_s": 5,
                                     "token_file": path}}]}
    if media is not None:
        conf["media"] = media
    conf.update(more or {})
    return gate_factory(conf)


def note(kind, name, data):
    return '[attachment: %s "%s", %d bytes, sha256 %s]' % (
        kind, name, len(data), hashlib.sha256(data).hexdigest())


def replies(fake, n, timeout=15.0):
    def got():
        with fake.lock:
            s = [x["text"] for x in fake.sent
                 if x["to"] == FRIEND and x["outcome"] == "ok"]
        return s if len(s) >= n else None
    return wait_for(got, timeout, 0.05, "%d replies" % n)


def elsewhere(item):
    """§8.21: a full_url to a host that is not the CDN's (SSRF)."""
    m = item["image_item"]["media"]
    m["full_url"] = m["full_url"].replace("127.0.0.1", "127.0.0.2")
    return item


def no_violations(fake):
    assert fake.violations == [], fake.violations


def openssl_check(data, key_hex, ct):
    """The fake's ciphertext is what `openssl enc -aes-128-ecb` makes."""
    out = subprocess.run(["openssl", "enc", "-aes-128-ecb", "-K", key_hex,
                          "-nosalt"], input=data, stdout=subprocess.PIPE,
                         check=True).stdout
    assert out == ct


@pytest.mark.parametrize("enc", ["b64hex", "b64raw", "hex"])
def test_image_arrives_byte_exact(gate_factory, fake, tmp_path, enc):
    gate = start(gate_factory, fake, tmp_path)
    photo = os.urandom(70000)
    item = fake.media_item("image", photo, key_enc=enc)
    fake.inject(FRIEND, "look", item_list=[
        {"type": 1, "text_item": {"text": "look"}}, item])
    r = replies(fake, 1)
    assert r[0] == "echo: look\n" + note("image", "", photo), r
    assert len(fake.cdn_gets) == 1
    # What the CDN held decrypts with the key the item carried.
    if enc == "hex":
        key = item["image_item"]["aeskey"]
    else:
        raw = base64.b64decode(item["image_item"]["media"]["aes_key"])
        key = raw.decode() if len(raw) == 32 else raw.hex()
    openssl_check(photo, key, fake.cdn[
        item["image_item"]["media"]["encrypt_query_param"]])
    no_violations(fake)


def test_file_voice_and_a_photo_alone(gate_factory, fake, tmp_path):
    gate = start(gate_factory, fake, tmp_path)
    doc = os.urandom(5000) + b"%%EOF"
    fake.inject(FRIEND, "", item_list=[
        {"type": 1, "text_item": {"text": "the report"}},
        fake.media_item("file", doc, name="report.pdf", full_url=True)])
    r = replies(fake, 1)
    assert r[0] == "echo: the report\n" + note("file", "report.pdf", doc)
    # Voice: the transcript is the text, the recording an attachment.
    silk = b"\x02#!SILK_V3" + os.urandom(3000)
    fake.inject(FRIEND, "", item_list=[
        fake.media_item("voice", silk, key_enc="b64raw",
                        transcript="call me later")])
    r = replies(fake, 2)
    assert r[1] == "echo: call me later\n" + note("voice", "", silk), r
    # A photo alone, sent in clear (§6.1: no key at all).
    pic = os.urandom(1234)
    fake.inject(FRIEND, "", item_list=[
        fake.media_item("image", pic, key_enc="none")])
    r = replies(fake, 3)
    assert r[2] == "echo: [图片]\n" + note("image", "", pic), r
    no_violations(fake)


def test_photo_then_question_keep_their_order(gate_factory, fake, tmp_path):
    """One batch: a large photo, then a text; the text waits for the
    photo to reach the supervisor, so the agent reads them in order."""
    gate = start(gate_factory, fake, tmp_path)
    photo = os.urandom(3 * 1024 * 1024)
    fake.inject(FRIEND, "", item_list=[fake.media_item("image", photo)])
    fake.inject(FRIEND, "what is in it?")
    r = replies(fake, 2)
    assert r[0] == "echo: [图片]\n" + note("image", "", photo)
    assert r[1] == "echo: what is in it?"
    rows = gate.rows("SELECT text FROM messages WHERE account = 'alice'"
                     " ORDER BY id")
    assert [t for (t,) in rows][1] == "what is in it?", rows


def test_bad_items_cost_only_themselves(gate_factory, fake, tmp_path):
    gate = start(gate_factory, fake, tmp_path,
                 media={"max_bytes": 65536})
    pid = gate.worker("wechat.alice")["pid"]
    good = os.urandom(2000)
    cases = [
        ("tampered", fake.media_item("image", os.urandom(4000),
                                     tamper=True),
         "bad padding"),
        ("neither", fake.media_item("file", b"x" * 100, key_enc="bad",
                                    name="k.bin"),
         "aes_key in neither encoding"),
        ("no url", fake.media_item("video", b"v" * 100, url=False),
         "no URL"),
        ("too big", fake.media_item("file", os.urandom(100000),
                                    name="big.bin"),
         "over media_max_bytes"),
        ("lying size", fake.media_item("image", os.urandom(4000),
                                       declared=1024),
         "larger than declared"),
        ("unknown type", {"type": 9, "sticker_item": {"id": 1}},
         "unknown item type"),
        ("elsewhere", elsewhere(fake.media_item("image", b"i" * 50,
                                                full_url=True)),
         "full_url not on the CDN host"),
    ]
    for i, (text, item, why) in enumerate(cases):
        fake.inject(FRIEND, "", item_list=[
            {"type": 1, "text_item": {"text": text}}, item])
        r = replies(fake, i + 1)
        assert r[i].startswith("echo: " + text + "\n[attachment not "
                               "received: "), r[i]
        assert why in r[i], (why, r[i])
        assert "[attachment: " not in r[i], r[i]
        gate.wait_log(why, 10)
    # A good item next to a bad one still comes.
    fake.inject(FRIEND, "", item_list=[
        {"type": 1, "text_item": {"text": "mixed"}},
        fake.media_item("image", os.urandom(100), key_enc="bad"),
        fake.media_item("file", good, name="ok.txt")])
    r = replies(fake, len(cases) + 1)
    assert r[-1].startswith("echo: mixed\n"), r[-1]
    assert note("file", "ok.txt", good) in r[-1], r[-1]
    assert "not received: image, aes_key in neither encoding" in r[-1]
    # Never a restart; never a key or a query in the log.
    w = gate.worker("wechat.alice")
    assert w["pid"] == pid and w["restarts"] == 0, w
    log = gate.log()
    for p in list(fake.cdn):
        assert p not in log
    no_violations(fake)


def test_quote_reaches_the_agent(gate_factory, fake, tmp_path):
    gate = start(gate_factory, fake, tmp_path)
    fake.inject(FRIEND, "", item_list=[{
        "type": 1, "text_item": {"text": "is this right?"},
        "ref_msg": {"title": "", "message_item": {
            "type": 1, "msg_id": "17", "text_item": {"text": "2+2=5"}}}}])
    r = replies(fake, 1)
    assert r[0] == "echo: > 2+2=5\nis this right?", r
    # A quote that quotes itself: the text alone, and a log line.
    loop = {"type": 1, "msg_id": "18", "text_item": {"text": "x"}}
    loop["ref_msg"] = {"message_item": dict(loop)}
    fake.inject(FRIEND, "", item_list=[{
        "type": 1, "text_item": {"text": "and this"},
        "ref_msg": {"message_item": loop}}])
    r = replies(fake, 2)
    assert r[1] == "echo: and this", r
    gate.wait_log("quote left out: a quote quoting itself", 5)


def test_retried_message_is_not_downloaded_twice(gate_factory, fake,
                                                 tmp_path):
    """The supervisor cannot store the message (a failing disk, by test
    hook) and answers "retry": the batch is polled again, and the
    message goes again from the memfd it had, without a second
    download; it is answered once."""
    gate = start(gate_factory, fake, tmp_path)
    rc, out, err = gate.ctl("test", "supervisor", "store_fail")
    assert rc == 0, (rc, out, err)
    photo = os.urandom(5000)
    item = fake.media_item("image", photo)
    fake.inject(FRIEND, "", item_list=[
        {"type": 1, "text_item": {"text": "despite the disk"}}, item])
    r = replies(fake, 1, timeout=20)
    assert r[0] == "echo: despite the disk\n" + note("image", "", photo)
    gate.wait_log("the supervisor could not take a message")
    assert fake.cdn_gets == [item["image_item"]["media"][
        "encrypt_query_param"]], fake.cdn_gets
    time.sleep(1.0)
    assert len(replies(fake, 1)) == 1
    no_violations(fake)


def test_held_attachments_bounded_while_hub_is_slow(gate_factory, fake,
                                                     tmp_path):
    """Six photos of 700 KB in one batch while the hub is stopped
    (SIGSTOP; its heartbeat deadline set past the pause): the worker
    holds at most 2 x media.max_bytes in memfds awaiting acks, so it
    downloads two, says it waits, and takes the rest as acks free room;
    each photo is answered exactly once."""
    mb = 1024 * 1024
    gate = start(gate_factory, fake, tmp_path, media={"max_bytes": mb},
                 more={"log": {"level": "debug"},
                       "supervisor": {"heartbeat_timeout_ms": 60000}})
    wait_for(lambda: fake.polls, 10, 0.05, "the worker polling")
    pid = gate.worker("wechat.alice")["pid"]
    hub = hub_pid(gate)
    photos = [os.urandom(700 * 1000) for _ in range(6)]
    fake.hold_updates(True)
    os.kill(hub, signal.SIGSTOP)
    try:
        for i, p in enumerate(photos):
            fake.inject(FRIEND, "", item_list=[
                {"type": 1, "text_item": {"text": "p%d" % i}},
                fake.media_item("image", p)])
        fake.hold_updates(False)
        # Two downloaded, the third would pass the bound: none starts.
        wait_for(lambda: len(fake.cdn_gets) >= 2, 15, 0.05,
                 "two downloads")
        time.sleep(1.0)
        assert len(fake.cdn_gets) == 2, fake.cdn_gets
    finally:
        os.kill(hub, signal.SIGCONT)
    # The workers' logs pass through the hub: this one came meanwhile.
    gate.wait_log("1400000 bytes of attachments wait for the hub's ack "
                  "(at most %d)" % (2 * mb), 10)
    r = replies(fake, 6, timeout=30)
    for i, p in enumerate(photos):
        want = "echo: p%d\n" % i + note("image", "", p)
        assert r.count(want) == 1, (i, r)
    assert len(r) == 6, r
    assert len(fake.cdn_gets) == 6, fake.cdn_gets
    held = [int(x) for x in re.findall(
        r"inbound \S+ from \S+ \((\d+) bytes of attachments held\)",
        gate.log())]
    assert len(held) >= 6, held
    assert max(held) <= 2 * mb and max(held) >= 700 * 1000, held
    assert hub_pid(gate) == hub
    w = gate.worker("wechat.alice")
    assert w["pid"] == pid and w["restarts"] == 0, w
    time.sleep(1.0)
    assert len(replies(fake, 6)) == 6
    no_violations(fake)
