"""The Conversations page's thread view (issue #16): one conversation's
messages both ways, newest page first, paged by a cursor with nothing
lost or repeated, /new resets marked; each message's attachments listed
with the image type their bytes say, and served by /api/media: an image
by its magic numbers only (never the sender's name or kind), anything
else as a download named in safe characters, always nosniff and never
cached; a part over what one frame carries is a 413; no session, 401."""

import json
import os
import re
import struct
import zlib
from urllib.parse import unquote

from conftest import wait_for
from test_console import (FRIEND, XSS, conversation, header, login, page,
                          request, start, with_cookie)

# IPC_CONSOLE_MEDIA_MAX: IPC_FRAME_MAX (192 KiB) less 4 KiB.
MEDIA_MAX = 192 * 1024 - 4096


def png(w=6, h=4):
    """A real PNG of w x h red pixels, so a browser can decode it."""
    def chunk(t, d):
        return (struct.pack(">I", len(d)) + t + d +
                struct.pack(">I", zlib.crc32(t + d) & 0xffffffff))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


FAST_ECHO = [{"name": "default", "type": "echo",
              "echo": {"chunks": 1, "delay_ms": 0}}]


def media_gate(gate_factory, fake, tmp_path):
    """A console and a WeChat account at the fake, with its CDN, that
    lets FRIEND talk to the echo agent."""
    from test_channel_wechat import channel
    return start(gate_factory, extra={"agents": FAST_ECHO, "channels": [
        channel(fake, tmp_path, allow_from=[FRIEND],
                wechat={"cdn_url": fake.url + "/c2c"},
                ratelimit={"peer": {"rate": "100/s", "burst": 100},
                           "account": {"rate": "100/s", "burst": 100}})]})


def thread(gate, session, sid, before=None):
    q = "session=%d" % sid + ("&before=" + before if before else "")
    return page(gate, session, "thread?" + q)


def get(gate, session, path):
    return request(gate.console_port, "GET", path,
                   with_cookie(session) if session else {})


def sent_ok(fake):
    with fake.lock:
        return [x for x in fake.sent if x["to"] == FRIEND and
                x["outcome"] == "ok"]


def answered(gate, session, n):
    """FRIEND's conversation once n messages are in and all answered."""
    last = []

    def done():
        c = conversation(page(gate, session, "conversations"), FRIEND)
        last[:] = [c]
        return c if c and c["count"] == n and all(
            m["delivery"] == "sent" for m in c["messages"]) else None
    try:
        return wait_for(done, 60, 0.1, "%d answered messages" % n)
    except AssertionError as e:
        raise AssertionError("%s: %s" % (e, json.dumps(last)))


def test_thread_pages_by_cursor_and_marks_resets(gate_factory, tmp_path):
    from fake_ilink import FakeIlink
    fake = FakeIlink(longpoll_ms=1500).start()
    try:
        gate = media_gate(gate_factory, fake, tmp_path)
        viewer = login(gate, "--operator", "watcher")
        texts = ["m%02d" % i for i in range(24)]
        texts[10] = "/new"
        texts[17] = XSS
        # One at a time: a burst's replies would all go under the newest
        # context token, past iLink's ten per token (§7.2), and wait.
        for i, t in enumerate(texts):
            fake.inject(FRIEND, t)
            wait_for(lambda: len(sent_ok(fake)) > i, 20, 0.02,
                     "the reply to %r" % t)
        c = answered(gate, viewer, len(texts))
        first = thread(gate, viewer, c["session"])
        assert first["account"] == "alice" and first["peer"] == FRIEND
        assert len(first["messages"]) == 20 and first["older"], first
        second = thread(gate, viewer, c["session"], first["older"])
        assert second["older"] is None, second
        got = second["messages"] + first["messages"]
        # Newest last, each once, and the text as sent (markup is data).
        assert [m["text"] for m in got] == texts, got
        ids = [m["id"] for m in got]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert [m["reset"] for m in got] == [t == "/new" for t in texts]
        assert got[17]["reply"] == "echo: " + XSS, got[17]
        assert all(m["delivery"] == "sent" and m["parts"] == []
                   for m in got), got
        # The cursor's page is strictly older: from the third message on.
        o = thread(gate, viewer, c["session"], "%d.%d.%d" % (
            got[2]["time"], 0, got[2]["id"]))
        assert [m["id"] for m in o["messages"]] == ids[:2] and \
            o["older"] is None, o
        # What the page cannot name: 400; a session that is none: 404.
        for q in ("session=0", "session=x", "session=1&before=1.2.3",
                  "session=1&before=1.0", "before=1.0.1",
                  "session=%d&before=a.b.c" % c["session"]):
            st, _, body = get(gate, viewer, "/api/thread?" + q)
            assert st == 400, (q, st, body)
        st, _, body = get(gate, viewer, "/api/thread?session=99999")
        assert st == 404 and b"no such conversation" in body, (st, body)
        st, _, _ = get(gate, None, "/api/thread?session=%d" % c["session"])
        assert st == 401
    finally:
        fake.stop()


def test_media_served_by_its_bytes_never_its_name(gate_factory, tmp_path):
    from fake_ilink import FakeIlink
    fake = FakeIlink(longpoll_ms=1500).start()
    try:
        gate = media_gate(gate_factory, fake, tmp_path)
        viewer = login(gate, "--operator", "watcher")
        pic = png()
        fake_png = b"<html><script>alert(1)</script></html>" + os.urandom(64)
        doc = b"%PDF-1.4\n" + os.urandom(3000)
        big = b"\x89PNG\r\n\x1a\n" + os.urandom(MEDIA_MAX - 7)
        xname = XSS + "\r\nX-Evil: 1\";.pdf"
        fake.inject(FRIEND, "", item_list=[
            {"type": 1, "text_item": {"text": "look"}},
            fake.media_item("image", pic),
            fake.media_item("file", fake_png, name="photo.png"),
            fake.media_item("file", doc, name=xname),
            fake.media_item("file", big, name="big.png")])
        c = answered(gate, viewer, 1)
        m = thread(gate, viewer, c["session"])["messages"][0]
        # The text, then a note per part the agent read.
        assert m["text"].startswith("look\n[attachment: image"), m
        parts = m["parts"]
        assert [(p["kind"], p["size"]) for p in parts] == [
            ("image", len(pic)), ("file", len(fake_png)),
            ("file", len(doc)), ("file", len(big))], parts
        # The type is the bytes': the big one starts as a PNG too.
        assert [p["image"] for p in parts] == [
            "image/png", None, None, "image/png"], parts
        assert [p["fits"] for p in parts] == [True, True, True, False]
        # The worker kept the markup and broke the line and the quote.
        xname = parts[2]["name"]
        assert xname.startswith(XSS) and "\r" not in xname, parts[2]

        def media(seq, session=viewer):
            return get(gate, session, "/api/media?msg=%d&seq=%d" %
                       (m["id"], parts[seq]["seq"]))

        def never_cached(hdrs):
            cc = ", ".join(v for k, v in hdrs if k == "cache-control")
            assert "private" in cc and "no-store" in cc, hdrs
            assert header(hdrs, "x-content-type-options") == "nosniff"

        st, hdrs, body = media(0)
        assert st == 200 and body == pic, (st, hdrs)
        assert header(hdrs, "content-type") == "image/png", hdrs
        assert header(hdrs, "content-disposition") is None, hdrs
        never_cached(hdrs)
        # Named .png, not one: a download, never an image or a page.
        st, hdrs, body = media(1)
        assert st == 200 and body == fake_png
        assert header(hdrs, "content-type") == "application/octet-stream"
        assert header(hdrs, "content-disposition") == (
            "attachment; filename=\"photo.png\"; "
            "filename*=UTF-8''photo.png"), hdrs
        never_cached(hdrs)
        # A name with markup, quotes and a line break: no header of its
        # own, no quote out of its string, and the name back by 5987.
        st, hdrs, body = media(2)
        assert st == 200 and body == doc
        assert not [k for k, _ in hdrs if k == "x-evil"], hdrs
        d = header(hdrs, "content-disposition")
        mt = re.fullmatch(r'attachment; filename="([A-Za-z0-9._ -]+)"; '
                          r"filename\*=UTF-8''([A-Za-z0-9!#$&+.^_`|~%-]+)",
                          d)
        assert mt, d
        assert unquote(mt.group(2)) == xname, d
        never_cached(hdrs)
        # Over what one frame carries: a 413 the page can say.
        st, hdrs, body = media(3)
        assert st == 413 and json.loads(body)["error"] == \
            "too large to preview", (st, body)
        # No session: 401, and none of the bytes.
        for s in (None, "0" * 32):
            st, _, body = media(0, s)
            assert st == 401 and pic not in body, st
        # What is not there, or not a number.
        for q in ("msg=%d&seq=9" % m["id"], "msg=99999&seq=0"):
            st, _, _ = get(gate, viewer, "/api/media?" + q)
            assert st == 404, q
        for q in ("msg=x&seq=0", "msg=1", "msg=0&seq=0", "seq=1",
                  "msg=1&seq=99999999999"):
            st, _, _ = get(gate, viewer, "/api/media?" + q)
            assert st == 400, q
        assert fake.violations == [], fake.violations
    finally:
        fake.stop()
