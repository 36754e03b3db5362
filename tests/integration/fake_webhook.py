"""A fake WeCom group robot (protocols/wecom.md part B) for the
wecom_webhook worker's tests.  It serves POST /cgi-bin/webhook/send?key=
on 127.0.0.1 and checks every request against the notes, recording each
broken rule in .violations (a test asserts it stays empty):

- B.2: POST, Content-Type application/json, a UTF-8 JSON body, the key
  in the query and nowhere else;
- B.3: msgtype text (text.content <= 2048 bytes, mentioned_list a list
  of strings) or markdown (markdown.content <= 4096 bytes); image
  (image.base64 strict base64 of a JPG or PNG of at most 2 MB,
  image.md5 the lowercase hex MD5 of those raw bytes) or file
  (file.media_id one this fake issued, to the same key); no other key;
- B.4: POST /cgi-bin/webhook/upload_media?key=&type=file, multipart/
  form-data of exactly one part named "media" with a filename and
  Content-Type application/octet-stream, 5 B to 20 MB; answered with a
  new media_id (a string created_at, as WeCom does).  An upload is not
  a message and is not counted against the rate;
- B.6: at most `rate_max` messages in any `window` seconds (20 a minute
  in WeCom; tests shorten the window).  A send past it is answered with
  errcode 45009 and counted as a violation: the worker must pace itself.

Answers are HTTP 200 with {"errcode", "errmsg"} (B.2).  .fail_next
queues errcodes to answer instead of 0 (45009 from someone else using
the key, -1, 93000...); .drop_next closes that many connections without
an answer.  Each accepted message is appended to .got as (time, body).
.fail_upload_next does for uploads what .fail_next does for sends.
files() lists each attachment the group saw as (kind, name, bytes):
("image", None, raw) for an image, ("file", filename, raw) for a file;
uploads() lists every accepted upload as (filename, bytes), sent or
not."""

import base64
import binascii
import hashlib
import json
import threading
import time
import uuid

from aiohttp import web

from fakeserver import ThreadedApp

ERRMSG = {
    0: "ok",
    -1: "system busy",
    45009: "api freq out of limit, hint: [1731000700000000000000000], "
           "from ip: 203.0.113.7, more info at https://open.work.weixin"
           ".qq.com/devtool/query?e=45009",
    93000: "invalid webhook url, hint: [1731000700000000000000001]",
    40058: "markdown.content exceed max length 4096",
    40006: "invalid file size",
    40008: "invalid message type",
    40007: "invalid media_id",
    40009: "invalid image size",
}

IMAGE_MAX = 2 * 1024 * 1024
FILE_MIN = 5
FILE_MAX = 20 * 1024 * 1024


def image_magic(raw):
    return raw[:3] == b"\xff\xd8\xff" or raw[:8] == b"\x89PNG\r\n\x1a\n"


class FakeWebhook(ThreadedApp):
    def __init__(self, key="KEY-0123456789abcdef", rate_max=20, window=60.0):
        super().__init__()
        self.key = key
        self.rate_max = rate_max
        self.window = window
        self.lock = threading.Lock()
        self.got = []           # (time, body) of each accepted message
        self.tries = []         # times of every request, taken or not
        self.violations = []
        self.fail_next = []     # errcodes to answer, in order
        self.drop_next = 0
        self.fail_upload_next = []
        self.media = {}         # media_id -> (key, filename, bytes)
        self.uploaded = []      # (filename, bytes) of each upload taken

    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def app(self):
        # An upload is up to 20 MB and an image body 2.7 MB of base64;
        # more is read, to be seen as a violation rather than a 413.
        a = web.Application(client_max_size=FILE_MAX + 4 * 1024 * 1024)
        a.router.add_post("/cgi-bin/webhook/send", self.send)
        a.router.add_post("/cgi-bin/webhook/upload_media", self.upload)
        return a

    def violation(self, why):
        with self.lock:
            self.violations.append(why)

    def answer(self, code):
        return web.json_response({"errcode": code,
                                  "errmsg": ERRMSG.get(code, "error")})

    def check(self, req, raw):
        if req.query.get("key") != self.key:
            return 93000, None
        if set(req.query) != {"key"}:
            self.violation("query has more than key: %r" % dict(req.query))
        if req.content_type != "application/json":
            self.violation("content type %r" % req.content_type)
        for h in ("Authorization", "Cookie"):
            if h in req.headers:
                self.violation("header %s sent" % h)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self.violation("body is not UTF-8 JSON")
            return 40008, None
        if not isinstance(body, dict):
            self.violation("body is not an object")
            return 40008, None
        t = body.get("msgtype")
        if t not in ("text", "markdown", "image", "file") or \
                set(body) != {"msgtype", t}:
            self.violation("bad shape: %r" % sorted(body))
            return 40008, None
        part = body[t]
        if t == "image":
            return self.check_image(part), body
        if t == "file":
            return self.check_file(req, part), body
        content = part.get("content") if isinstance(part, dict) else None
        if not isinstance(content, str) or not content:
            self.violation("empty or missing content")
            return 44004, None
        limit = 2048 if t == "text" else 4096
        if len(content.encode("utf-8")) > limit:
            self.violation("%s of %d bytes" % (t, len(content.encode())))
            return 40058, None
        allowed = {"content", "mentioned_list"} if t == "text" else \
            {"content"}
        if set(part) - allowed:
            self.violation("unknown keys %r" % sorted(set(part) - allowed))
        ml = part.get("mentioned_list", [])
        if not isinstance(ml, list) or not all(isinstance(x, str)
                                                for x in ml):
            self.violation("mentioned_list is not a list of strings")
        return 0, body

    def check_image(self, part):
        """B.3: 0, or the errcode WeCom would answer."""
        if not isinstance(part, dict) or set(part) != {"base64", "md5"} \
                or not all(isinstance(v, str) for v in part.values()):
            self.violation("image is not {base64, md5}: %r" % (part,))
            return 40008
        try:
            raw = base64.b64decode(part["base64"], validate=True)
        except (binascii.Error, ValueError):
            self.violation("image.base64 is not base64")
            return 40009
        if len(raw) > IMAGE_MAX:
            self.violation("image of %d bytes" % len(raw))
            return 40009
        if not image_magic(raw):
            self.violation("image is not a JPG or PNG")
            return 40009
        if part["md5"] != hashlib.md5(raw).hexdigest():
            self.violation("image.md5 is not the md5 of the raw bytes")
            return 40009
        return 0

    def check_file(self, req, part):
        if not isinstance(part, dict) or set(part) != {"media_id"} or \
                not isinstance(part["media_id"], str):
            self.violation("file is not {media_id}: %r" % (part,))
            return 40008
        with self.lock:
            m = self.media.get(part["media_id"])
        if m is None or m[0] != req.query.get("key"):
            self.violation("file.media_id %r was not uploaded with this "
                           "key" % part["media_id"])
            return 40007
        return 0

    async def upload(self, req):
        if req.query.get("key") != self.key:
            await req.read()
            return self.answer(93000)
        if set(req.query) != {"key", "type"} or \
                req.query.get("type") != "file":
            self.violation("upload query: %r" % dict(req.query))
            return self.answer(40008)
        if req.content_type != "multipart/form-data":
            self.violation("upload content type %r" % req.content_type)
            return self.answer(40008)
        code, name, raw = await self.read_media(req)
        if code:
            return self.answer(code)
        with self.lock:
            if self.fail_upload_next:
                return self.answer(self.fail_upload_next.pop(0))
            mid = "3" + uuid.uuid4().hex + "_media"
            self.media[mid] = (self.key, name, raw)
            self.uploaded.append((name, raw))
        return web.json_response({"errcode": 0, "errmsg": "ok",
                                  "type": "file", "media_id": mid,
                                  "created_at": str(int(time.time()))})

    async def read_media(self, req):
        """B.4: exactly one part, named media, a file of 5 B - 20 MB."""
        try:
            reader = await req.multipart()
            part = await reader.next()
            if part is None:
                self.violation("upload without a part")
                return 40008, None, None
            raw = await part.read(decode=False)
            name, filename = part.name, part.filename
            ctype = part.headers.get("Content-Type")
            extra = await reader.next()
        except (ValueError, AssertionError, RuntimeError) as e:
            self.violation("upload is not multipart: %s" % e)
            return 40008, None, None
        if extra is not None:
            self.violation("upload of more than one part")
            return 40008, None, None
        if name != "media":
            self.violation("upload part named %r" % name)
            return 40008, None, None
        if not filename:
            self.violation("upload part without a filename")
            return 40008, None, None
        if ctype != "application/octet-stream":
            self.violation("upload part of type %r" % ctype)
        if not FILE_MIN <= len(raw) <= FILE_MAX:
            self.violation("upload of %d bytes" % len(raw))
            return 40006, None, None
        return 0, filename, bytes(raw)

    async def send(self, req):
        raw = await req.read()
        now = time.monotonic()
        with self.lock:
            self.tries.append(now)
            if self.drop_next > 0:
                self.drop_next -= 1
                drop = True
            else:
                drop = False
        if drop:
            # The message is lost with the connection: not taken.
            req.transport.close()
            return web.Response(status=500)
        code, body = self.check(req, raw)
        if code:
            return self.answer(code)
        with self.lock:
            if self.fail_next:
                return self.answer(self.fail_next.pop(0))
            recent = [t for t, _ in self.got if now - t < self.window]
            if len(recent) >= self.rate_max:
                self.violations.append(
                    "more than %d sends within %.1f s" %
                    (self.rate_max, self.window))
                return self.answer(45009)
            self.got.append((now, body))
        return self.answer(0)

    def contents(self):
        """The texts and markdowns the group saw, in order."""
        with self.lock:
            return [b[b["msgtype"]]["content"] for _, b in self.got
                    if b["msgtype"] in ("text", "markdown")]

    def files(self):
        """The attachments the group saw, in order: (kind, name, bytes)."""
        out = []
        with self.lock:
            for _, b in self.got:
                if b["msgtype"] == "image":
                    out.append(("image", None,
                                base64.b64decode(b["image"]["base64"])))
                elif b["msgtype"] == "file":
                    _, name, raw = self.media[b["file"]["media_id"]]
                    out.append(("file", name, raw))
        return out

    def uploads(self):
        """Every upload taken, sent or not: (filename, bytes)."""
        with self.lock:
            return list(self.uploaded)
