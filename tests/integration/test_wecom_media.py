"""WeCom AI bot attachments (the wecom_bot worker, issue #12) end to
end: the fake server (fake_wecom.py) serves attachments encrypted as
shared/protocols/wecom.md A.7 says over plain HTTP on 127.0.0.1, sends
image, file, video, voice and mixed callbacks naming them, and the
worker fetches, decrypts and hands them to the hub in a sealed memfd
(inbound.media).  The hub appends one line per attachment to the text,
`[attachment: KIND "NAME", SIZE bytes, sha256 HEX]`, and the echo agent
sends it back: the digest must be the plaintext's, byte for byte.
NAME is the media host's Content-Disposition (A.7 #1), else the
frame's file.filename, else empty; a hostile header gives its last
path component or no name, never a path.

A part that fails (a 404, a tampered body, a wrong key, over the cap,
no URL) still lets the message go with its text and the part's
"[image]"-style note; the log names the error, the worker lives on, and
nothing is fetched but the URLs the frames named.

Needs a build configured with --enable-test-hooks."""

import base64
import hashlib
import os
import time

import pytest

from conftest import wait_for
from fake_wecom import (FakeWecom, aeskey, wecom_decrypt, wecom_encrypt,
                        wrong_key)
from test_channel_wecom import start

USER = "zhangsan"
HEARTBEAT_MS = 1000
STREAM_MS = 100
WORKER = "wecom_bot.work"
# The worker's default media_max_bytes (the hub's IPC_FILE_MAX).
CAP = 20 * 1024 * 1024

# A.7's test vector.
VEC_KEY = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
VEC_CIPHER = bytes.fromhex("fb15e4966a05bc01350c588acda57a60"
                           "4b0e01e1e63b3adabc8a6d9838e07599")
VEC_PLAIN = b"hello, wecom media"


@pytest.fixture
def fake():
    f = FakeWecom(heartbeat_ms=HEARTBEAT_MS, stream_ms=STREAM_MS).start()
    yield f
    f.stop()


def line(kind, name, data):
    return '[attachment: %s "%s", %d bytes, sha256 %s]' % (
        kind, name, len(data), hashlib.sha256(data).hexdigest())


def answer(fake, n, timeout=20.0):
    """The n-th answer to USER (1-based), once it came."""
    a = wait_for(lambda: len(fake.answers_to(USER)) >= n and
                 fake.answers_to(USER), timeout, 0.05,
                 "%d answers to %s" % (n, USER))
    return a[n - 1]["text"]


# One user sends more than the default burst of 5 here.
RATES = {"peer": {"rate": "600/min", "burst": 50},
         "account": {"rate": "600/min", "burst": 50}}


def up(gate_factory, fake, tmp_path, **kw):
    kw.setdefault("ratelimit", RATES)
    gate = start(gate_factory, fake, tmp_path, **kw)
    wait_for(fake.ready, 10, 0.05, "subscribed")
    return gate


def alive(gate):
    w = gate.worker(WORKER)
    assert w["state"] == "running", w
    assert w["restarts"] == 0, w


def no_violations(fake):
    assert fake.violations == [], fake.violations


def test_fake_encrypts_as_the_spec_says():
    """The fake's A.7 encryption gives the spec's test vector, byte for
    byte, and its pad is 32-byte PKCS#7 (17..32 bytes too)."""
    key = base64.b64decode(VEC_KEY)
    assert wecom_encrypt(VEC_PLAIN, key) == VEC_CIPHER
    assert wecom_decrypt(VEC_CIPHER, key) == VEC_PLAIN
    for n in (0, 1, 15, 16, 17, 31, 32, 33):
        c = wecom_encrypt(b"x" * n, key)
        assert len(c) % 32 == 0 and 1 <= len(c) - n <= 32


def test_image_spec_vector(gate_factory, fake, tmp_path):
    """A.7's own ciphertext and key as an image: the agent gets its 18
    plaintext bytes' digest, and no "[image]" note (the part came)."""
    gate = up(gate_factory, fake, tmp_path)
    url = fake.serve_raw(VEC_CIPHER)
    fake.image(USER, url, VEC_KEY)
    text = answer(fake, 1)
    assert line("image", "", VEC_PLAIN) in text, text
    assert "[image]" not in text, text
    assert len(fake.media_hits) == 1
    alive(gate)
    no_violations(fake)


def test_file_video_voice(gate_factory, fake, tmp_path):
    """A file with its name (sent chunked, no Content-Length), a video,
    a voice whose frame names audio, and one whose frame does not."""
    gate = up(gate_factory, fake, tmp_path)
    data = os.urandom(300 * 1024 + 17)
    url, key = fake.attachment(data, chunked=True)
    fake.file(USER, url, key, filename="report 2026.pdf")
    text = answer(fake, 1)
    assert line("file", "report 2026.pdf", data) in text, text
    assert "[file]" not in text, text

    vid = os.urandom(4096)
    url, key = fake.attachment(vid)
    fake.video(USER, url, key)
    assert line("video", "", vid) in answer(fake, 2)

    audio = os.urandom(1000)
    url, key = fake.attachment(audio)
    fake.voice(USER, "spoken words", url, key)
    text = answer(fake, 3)
    assert text.startswith("echo: spoken words"), text
    assert line("voice", "", audio) in text, text

    hits = len(fake.media_hits)
    fake.voice(USER, "just a transcript")
    assert answer(fake, 4) == "echo: just a transcript"
    assert len(fake.media_hits) == hits
    alive(gate)
    no_violations(fake)


def test_names_from_content_disposition(gate_factory, fake, tmp_path):
    """A.7 #1: a part is named by the media host's Content-Disposition,
    filename*=UTF-8'' percent-encoded first, else filename="...", and
    that name wins over the frame's file.filename."""
    gate = up(gate_factory, fake, tmp_path)
    n = 0

    def named(send, kind, plain, want, **kw):
        nonlocal n
        url, key = fake.attachment(plain, **kw)
        send(USER, url, key)
        n += 1
        text = answer(fake, n)
        assert line(kind, want, plain) in text, text
        assert "[%s]" % kind not in text, text

    data = os.urandom(5000)
    # 报告 2026.pdf, as WeCom sends it; the frame's name loses.
    named(lambda u, url, key: fake.file(u, url, key,
                                        filename="frame-name.pdf"),
          "file", data, "\u62a5\u544a 2026.pdf", name="\u62a5\u544a 2026.pdf")
    # Only filename="...", on an image (whose frame names nothing).
    named(fake.image, "image", os.urandom(700), "photo 1.jpg",
          disposition='attachment; filename="photo 1.jpg"')
    # Both: filename* wins whichever comes first.
    named(fake.image, "image", os.urandom(700), "\u732b.png",
          disposition="inline; filename=\"fallback.png\"; "
                      "FILENAME*=utf-8''%E7%8C%AB.png")
    alive(gate)
    no_violations(fake)


def test_hostile_content_disposition(gate_factory, fake, tmp_path):
    """A header naming a path gives the last component only; one that
    cannot be read (a bad escape, a NUL, not UTF-8, too long) gives the
    frame's name or none.  Every message is still answered, with its
    part."""
    gate = up(gate_factory, fake, tmp_path)
    n = 0

    def named(send, kind, name, disposition):
        nonlocal n
        plain = os.urandom(900 + n)
        url, key = fake.attachment(plain, disposition=disposition)
        send(USER, url, key)
        n += 1
        text = answer(fake, n)
        assert line(kind, name, plain) in text, text
        assert "[%s]" % kind not in text, text
        assert "/" not in text and "\\" not in text, text

    image = fake.image

    def file_named(u, url, key):
        return fake.file(u, url, key, filename="fallback.txt")

    named(image, "image", "passwd",
          'attachment; filename="../../etc/passwd"')
    named(image, "image", "evil.sh",
          "attachment; filename*=UTF-8''..%2F..%5Cwin%5Cevil.sh")
    named(image, "image", "evil.exe",
          'attachment; filename="C:\\\\Windows\\\\evil.exe"')
    # Refused: the frame's name stands, or there is none.
    named(file_named, "file", "fallback.txt",
          "attachment; filename*=UTF-8''%ZZ.txt")
    named(image, "image", "", "attachment; filename*=UTF-8''%E6%8")
    named(image, "image", "", "attachment; filename*=UTF-8''a%00.sh")
    named(image, "image", "", "attachment; filename*=UTF-8''caf%E9")
    named(image, "image", "", "attachment; filename=\"..\"")
    named(image, "image", "", "attachment; filename=\"a\"; filename=b")
    named(file_named, "file", "fallback.txt",
          "attachment; filename=" + "x" * 300)
    named(image, "image", "", "attachment; filename=\"%s\"" % ("y" * 4000))
    alive(gate)
    no_violations(fake)


def test_mixed_text_and_images(gate_factory, fake, tmp_path):
    """Text and two images: both parts, in order, the text kept."""
    gate = up(gate_factory, fake, tmp_path)
    one, two = os.urandom(5000), os.urandom(70000)
    fake.mixed(USER, ["what is in these?", fake.attachment(one),
                      fake.attachment(two)])
    text = answer(fake, 1)
    assert "what is in these?" in text, text
    a, b = line("image", "", one), line("image", "", two)
    assert a in text and b in text and text.index(a) < text.index(b), text
    assert "[image]" not in text, text
    alive(gate)
    no_violations(fake)


def test_failed_parts_keep_the_text(gate_factory, fake, tmp_path):
    """Each way a part fails: the message still goes, with its text and
    the failed part's note, the log names why, the worker lives."""
    gate = up(gate_factory, fake, tmp_path)
    good = os.urandom(2000)
    n = 0

    def mixed_with(bad, why):
        nonlocal n
        start = len(gate.log())
        fake.mixed(USER, ["look", fake.attachment(good), bad])
        n += 1
        text = answer(fake, n)
        assert text.startswith("echo: look"), text
        assert line("image", "", good) in text, text
        assert "[image]" in text, text
        gate.wait_log(why, 10, start)
        return text

    url = fake.media_url("/media/nothing-here")
    mixed_with((url, aeskey(os.urandom(32))), "HTTP status 404")
    url, key = fake.attachment(os.urandom(5000), tamper=True)
    mixed_with((url, key), "cannot decrypt")
    plain = os.urandom(3000)
    key = os.urandom(32)
    wrong = wrong_key(wecom_encrypt(plain, key), key)
    url, k = fake.attachment(plain, key=key, give_key=wrong)
    mixed_with((url, k), "cannot decrypt")
    url, _ = fake.attachment(os.urandom(100))
    mixed_with((url, "not-a-key"), "no aeskey")
    mixed_with(("ftp://127.0.0.1/x", aeskey(os.urandom(32))),
               "no URL in the frame")

    # An image alone that fails: its note is the whole message.
    start = len(gate.log())
    url = fake.media_url("/media/gone")
    fake.image(USER, url, aeskey(os.urandom(32)))
    n += 1
    assert answer(fake, n) == "echo: [image]"
    gate.wait_log("image 1 of 1 not fetched: HTTP status 404", 10, start)

    rc, out, err = gate.ctl("test", WORKER, "counts")
    assert rc == 0, err
    gate.wait_log("media_parts 5 media_failed 6")
    alive(gate)
    no_violations(fake)


def test_over_the_default_cap(gate_factory, fake, tmp_path):
    """Past the default media.max_bytes (20 MiB), with a Content-Length
    and without: the transfer stops, the part fails, the text goes."""
    gate = up(gate_factory, fake, tmp_path)
    big = os.urandom(CAP + 1024 * 1024)
    for i, chunked in enumerate((False, True), 1):
        start = len(gate.log())
        url, key = fake.attachment(big, chunked=chunked)
        fake.file(USER, url, key, filename="huge.bin")
        assert answer(fake, i, 60) == "echo: [file] huge.bin"
        gate.wait_log("over media_max_bytes", 10, start)
    # And one that fits, after: the worker is none the worse.
    small = os.urandom(10)
    fake.image(USER, *fake.attachment(small))
    assert line("image", "", small) in answer(fake, 3)
    alive(gate)
    no_violations(fake)


def test_configured_cap_is_per_message(gate_factory, fake, tmp_path):
    """media.max_bytes from the config bounds one message's parts
    together: the part that would pass it fails, those before it and a
    smaller one after it still come."""
    gate = up(gate_factory, fake, tmp_path,
              conf={"media": {"max_bytes": 10000}})
    a, b, c = os.urandom(6000), os.urandom(6000), os.urandom(3000)
    fake.mixed(USER, ["three", fake.attachment(a), fake.attachment(b),
                      fake.attachment(c)])
    text = answer(fake, 1)
    assert text.startswith("echo: three\n[image]"), text
    assert line("image", "", a) in text and line("image", "", c) in text
    assert line("image", "", b) not in text
    gate.wait_log("image 2 of 3 not fetched: over media_max_bytes", 10)
    # Exactly the cap fits; one byte more does not.
    fake.image(USER, *fake.attachment(os.urandom(10000)))
    assert "10000 bytes" in answer(fake, 2)
    fake.image(USER, *fake.attachment(os.urandom(10001)))
    assert answer(fake, 3) == "echo: [image]"
    alive(gate)
    no_violations(fake)


def test_busy_hub_gets_it_again(gate_factory, fake, tmp_path):
    """The hub's media area is full of a message not answered yet: the
    next one is refused "busy", and the worker offers it again, from
    the same sealed memfd, until it is taken."""
    slow = [{"name": "default", "type": "echo",
             "echo": {"chunks": 2, "delay_ms": 1500}}]
    gate = up(gate_factory, fake, tmp_path,
              conf={"agents": slow, "media": {"stored_max_bytes": 1048576}})
    one, two = os.urandom(700000), os.urandom(700000)
    fake.image(USER, *fake.attachment(one))
    wait_for(lambda: gate.rows("SELECT count(*) FROM media") == [(1,)],
             10, 0.05, "the first part stored")
    fake.image("lisi", *fake.attachment(two))
    gate.wait_log("the hub said busy; again in 1 s", 10)
    assert line("image", "", one) in answer(fake, 1)
    a = wait_for(lambda: [x for x in fake.answers_to("lisi")
                          if x["text"].startswith("echo:")], 30, 0.1,
                 "lisi's answer")
    assert line("image", "", two) in a[0]["text"], a
    # Fetched once: the retries came from the memfd, not the server.
    assert len(fake.media_hits) == 2
    alive(gate)
    no_violations(fake)


def test_only_urls_the_frame_names(gate_factory, fake, tmp_path):
    """A URL in what the user typed is text, never fetched."""
    gate = up(gate_factory, fake, tmp_path)
    url, _ = fake.attachment(b"secret")
    fake.msg(USER, "fetch %s please" % url)
    assert answer(fake, 1) == "echo: fetch %s please" % url
    fake.mixed(USER, ["and %s" % url])
    assert answer(fake, 2) == "echo: and %s" % url
    time.sleep(0.5)
    assert fake.media_hits == []
    alive(gate)
    no_violations(fake)


def test_messages_keep_their_order(gate_factory, fake, tmp_path):
    """Text messages behind one whose attachments are still coming wait
    for it: the hub stores them in the order the user sent them (each
    bubble is answered on its own, so the answers may cross).  More
    messages with attachments than fetch at once (4) all come."""
    gate = up(gate_factory, fake, tmp_path)
    big = os.urandom(6 * 1024 * 1024)
    fake.image(USER, *fake.attachment(big, chunked=True, delay=1.5))
    fake.msg(USER, "after the photo")
    parts = [os.urandom(100 + i) for i in range(6)]
    for p in parts:
        fake.image(USER, *fake.attachment(p))
    fake.msg(USER, "last")
    answer(fake, 9, 60)
    want = [line("image", "", big), "after the photo"] + \
        [line("image", "", p) for p in parts] + ["last"]
    got = [t for (t,) in gate.rows("SELECT text FROM messages ORDER BY id")]
    assert len(got) == len(want), got
    for w, t in zip(want, got):
        assert w in t, (w, t)
    answers = sorted(a["text"] for a in fake.answers_to(USER))
    assert answers == sorted("echo: " + t for t in got)
    alive(gate)
    no_violations(fake)


def test_stalled_media_host_given_up(gate_factory, fake, tmp_path):
    """A media host that does not answer holds its message (and those
    behind it) until the message's deadline, then the message goes
    with its notes, and the one behind it after."""
    gate = up(gate_factory, fake, tmp_path)
    rc, out, err = gate.ctl("test", WORKER, "deadline:1500")
    assert rc == 0, (out, err)
    t0 = time.monotonic()
    fake.mixed(USER, ["slow", fake.attachment(b"a" * 100, delay=8),
                      fake.attachment(b"b" * 100)])
    fake.msg(USER, "behind it")
    answer(fake, 2)
    assert time.monotonic() - t0 < 6
    got = [t for (t,) in gate.rows("SELECT text FROM messages ORDER BY id")]
    assert got == ["slow\n[image]\n[image]", "behind it"], got
    gate.wait_log("image 1 of 2 not fetched: Timeout was reached")
    gate.wait_log("image 2 of 2 not fetched: past the message's download "
                  "deadline")
    alive(gate)
    no_violations(fake)


def test_group_mixed_with_mention(gate_factory, fake, tmp_path):
    """In a group, text and an image that names the bot: the mention is
    cut, the part comes; without the mention the hub ignores it (and
    its part is fetched all the same, the hub decides)."""
    gate = up(gate_factory, fake, tmp_path, group_policy="open")
    group = "wrFAKEgroup01"
    pic = os.urandom(1234)
    fake.mixed(USER, ["@Helper what is this?", fake.attachment(pic)],
               chatid=group)
    a = wait_for(lambda: fake.answers_to(group), 20, 0.05, "an answer")
    assert a[0]["text"].startswith("echo: what is this?\n"), a
    assert line("image", "", pic) in a[0]["text"], a
    fake.mixed(USER, ["no mention", fake.attachment(os.urandom(10))],
               chatid=group)
    time.sleep(1.0)
    assert len(fake.answers_to(group)) == 1
    alive(gate)
    no_violations(fake)


def test_waiting_messages_are_bounded(gate_factory, fake, tmp_path):
    """Behind a stalled message at most 32 wait (it among them): one
    more is dropped, counted and logged; the rest go in order once the
    stalled one's deadline passes."""
    gate = up(gate_factory, fake, tmp_path)
    rc, out, err = gate.ctl("test", WORKER, "deadline:3000")
    assert rc == 0, (out, err)
    fake.image(USER, *fake.attachment(b"x" * 10, delay=10))
    for i in range(31):
        fake.msg(USER, "m%d" % i)
    fake.msg(USER, "one too many", body={"msgid": "MSGID-AGAIN"})
    gate.wait_log("dropped: 32 messages wait for attachments; 1 dropped",
                  5)
    answer(fake, 32, 30)
    got = [t for (t,) in gate.rows("SELECT text FROM messages ORDER BY id")]
    assert got == ["[image]"] + ["m%d" % i for i in range(31)], got
    # Dropped is not seen: WeCom's delivery of it again is taken.
    fake.msg(USER, "one too many", body={"msgid": "MSGID-AGAIN"})
    assert answer(fake, 33, 30) == "echo: one too many"
    rc, out, err = gate.ctl("test", WORKER, "counts")
    gate.wait_log("media_failed 1 inbound_dropped 1")
    alive(gate)
    no_violations(fake)
