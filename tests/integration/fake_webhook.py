"""A fake WeCom group robot (protocols/wecom.md part B) for the
wecom_webhook worker's tests.  It serves POST /cgi-bin/webhook/send?key=
on 127.0.0.1 and checks every request against the notes, recording each
broken rule in .violations (a test asserts it stays empty):

- B.2: POST, Content-Type application/json, a UTF-8 JSON body, the key
  in the query and nowhere else;
- B.3: msgtype text (text.content <= 2048 bytes, mentioned_list a list
  of strings) or markdown (markdown.content <= 4096 bytes); no other key;
- B.6: at most `rate_max` messages in any `window` seconds (20 a minute
  in WeCom; tests shorten the window).  A send past it is answered with
  errcode 45009 and counted as a violation: the worker must pace itself.

Answers are HTTP 200 with {"errcode", "errmsg"} (B.2).  .fail_next
queues errcodes to answer instead of 0 (45009 from someone else using
the key, -1, 93000...); .drop_next closes that many connections without
an answer.  Each accepted message is appended to .got as (time, body)."""

import json
import threading
import time

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
}


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

    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def app(self):
        a = web.Application()
        a.router.add_post("/cgi-bin/webhook/send", self.send)
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
        if t not in ("text", "markdown") or set(body) != {"msgtype", t}:
            self.violation("bad shape: %r" % sorted(body))
            return 40008, None
        part = body[t]
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
        with self.lock:
            return [b[b["msgtype"]]["content"] for _, b in self.got]
