"""A fake WeCom AI bot long-connection server (shared/protocols/wecom.md
Part A) for the wecom_bot worker's tests, on 127.0.0.1 (python3-websockets).

In a test:    f = FakeWecom(heartbeat_ms=1000).start(); ...; f.stop()
The worker's wecom_bot.url is f.url (ws://127.0.0.1:PORT).

What it plays: aibot_subscribe (853000 for a wrong bot id or secret, the
socket left open as the real server does, A.4), ping acks, callbacks the
test injects (f.msg, f.event, f.raw), acks of the worker's reply frames
(errcode 0, or what f.fail_next(...) asks), f.drop() cutting the
connection, f.hold_acks withholding reply acks until f.release().

What it checks, on every frame the worker sends; problems go to
f.violations, which a test asserts empty:
  - the first frame of a connection is aibot_subscribe with headers.req_id
    and body.bot_id / body.secret (A.5.1); nothing else before its ack;
    nothing at all after a refused one;
  - ping: only after the subscribe ack, never sooner than half the
    configured heartbeat after the previous one (A.9);
  - aibot_respond_msg: the req_id of a message callback of this
    connection (A.3), msgtype stream, one frame in flight per req_id
    (until its ack, or 5 s as the SDK allows, A.3), one stream id per
    bubble, each frame's visible text extending the previous (A.6 #2),
    nothing after finish, visible text in the finish frame, content at
    most 20480 bytes (A.6 #7); with stream_ms (the worker's
    stream_interval_ms), a bubble's frames at least half that apart
    (A.6 #3; half, as for pings, for the scheduler's jitter);
  - aibot_respond_welcome_msg: the req_id of an enter_chat event, text;
  - aibot_send_msg: a fresh req_id, markdown, chatid, 20480 bytes max;
  - anything else: not JSON, or an unknown cmd.
f.answers lists what a user saw as complete answers: each acked finish
frame and each acked push, with its chat.  f.frames records every frame
the worker sent, in order, with its connection's number.
"""

import asyncio
import itertools
import json
import threading
import time

import websockets

CONTENT_MAX = 20480
ACK_RELEASE_S = 5.0         # the SDK's ack timeout (A.3)
INVISIBLE = "\u200b\u200c\u200d\ufeff"


def visible(s):
    return "".join(ch for ch in s if ch not in INVISIBLE).strip()


class Conn:
    def __init__(self, no, ws):
        self.no = no
        self.ws = ws
        self.subscribed = False
        self.refused = False
        self.nframes = 0
        self.last_ping = None
        self.callbacks = {}         # req_id -> "msg" | "enter_chat" | ...
        self.inflight = {}          # req_id -> time sent, un-acked
        self.streams = {}           # req_id -> {"id", "text", "done"}
        self.stream_at = {}         # req_id -> time of its last frame
        self.chats = {}             # req_id -> chat the callback came from


class FakeWecom:
    def __init__(self, bot_id="aibTESTbot0001", secret="s3cret-TEST-0001",
                 heartbeat_ms=None, stream_ms=None):
        self.bot_id = bot_id
        self.secret = secret
        self.heartbeat_ms = heartbeat_ms
        self.stream_ms = stream_ms
        self.lock = threading.Lock()
        self.violations = []
        self.frames = []            # (conn no, frame dict)
        self.answers = []           # {"chat", "text", "via"}
        self.subscribes = 0         # accepted
        self.refusals = 0
        self.connections = 0
        self.hold_acks = False      # reply acks withheld while True
        self.held = []              # (conn, req_id, on_ok)
        self.stall_pings = False
        self._fail = []             # [pred, errcode]
        self._ids = itertools.count(1)
        self._conn = None
        self._loop = None
        self._thread = None
        self._server = None
        self.port = None

    # -- lifecycle ---------------------------------------------------

    @property
    def url(self):
        return "ws://127.0.0.1:%d" % self.port

    def start(self):
        ready = threading.Event()

        def run():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(websockets.serve(
                self._serve, "127.0.0.1", 0, max_size=4 * 1024 * 1024,
                ping_interval=None))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self):
        async def close():
            self._server.close()
            await self._server.wait_closed()
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def violation(self, what):
        with self.lock:
            self.violations.append(what)

    # -- test controls -----------------------------------------------

    def ready(self):
        """A subscribed connection is up."""
        c = self._conn
        return c is not None and c.subscribed

    def msg(self, userid, text=None, chatid=None, body=None):
        """A user message (aibot_msg_callback); returns its req_id."""
        n = next(self._ids)
        req = "RqFAKE%06d" % n
        b = {"msgid": "MSGID-FAKE-%06d" % n, "aibotid": self.bot_id,
             "chattype": "group" if chatid else "single",
             "from": {"userid": userid}, "create_time": int(time.time()),
             "response_url": "https://example.invalid/resp?code=x"}
        if chatid:
            b["chatid"] = chatid
        if text is not None:
            b["msgtype"] = "text"
            b["text"] = {"content": text}
        b.update(body or {})
        self._push({"cmd": "aibot_msg_callback", "headers": {"req_id": req},
                    "body": b}, req, "msg", chatid or userid)
        return req

    def event(self, eventtype, userid="lisi"):
        n = next(self._ids)
        req = "RqFAKEev%06d" % n
        self._push({"cmd": "aibot_event_callback",
                    "headers": {"req_id": req},
                    "body": {"msgid": "MSGID-FAKE-EV-%06d" % n,
                             "create_time": int(time.time()),
                             "aibotid": self.bot_id, "chattype": "single",
                             "from": {"userid": userid}, "msgtype": "event",
                             "event": {"eventtype": eventtype}}},
                   req, eventtype, userid)
        return req

    def raw(self, text):
        """Any text frame, as is; a callback in it is remembered."""
        async def go():
            c = self._conn
            try:
                f = json.loads(text, strict=False)
                if f.get("cmd") == "aibot_msg_callback":
                    req = f["headers"]["req_id"]
                    c.callbacks[req] = "msg"
                    c.chats[req] = f["body"].get("chatid") or \
                        f["body"]["from"]["userid"]
            except (ValueError, KeyError, TypeError, AttributeError):
                pass
            await c.ws.send(text)
        self._call(go())

    def drop(self):
        """Cut the connection without a close frame."""
        async def go():
            c = self._conn
            if c is not None:
                c.ws.transport.abort()
        self._call(go())

    def release(self):
        """Ack every withheld reply frame now, and stop withholding."""
        async def go():
            self.hold_acks = False
            with self.lock:
                held, self.held[:] = list(self.held), []
            for c, req, on_ok in held:
                c.inflight.pop(req, None)
                on_ok()
                await self._ack(c, req)
        self._call(go())

    def fail_next(self, pred, errcode):
        """The next frame pred(frame) is true for is acked with errcode."""
        with self.lock:
            self._fail.append([pred, errcode])

    def answers_to(self, chat):
        with self.lock:
            return [a for a in self.answers if a["chat"] == chat]

    def sent(self, cmd):
        with self.lock:
            return [f for _, f in self.frames if f.get("cmd") == cmd]

    # -- the server --------------------------------------------------

    def _push(self, frame, req, kind, chat):
        async def go():
            c = self._conn
            assert c is not None and c.subscribed, "no subscribed worker"
            c.callbacks[req] = kind
            c.chats[req] = chat
            await c.ws.send(json.dumps(frame, ensure_ascii=False))
        self._call(go())

    async def _serve(self, ws, path=None):
        with self.lock:
            self.connections += 1
            c = Conn(self.connections, ws)
        self._conn = c
        try:
            async for text in ws:
                await self._frame(c, text)
        except websockets.ConnectionClosed:
            pass
        finally:
            if self._conn is c:
                self._conn = None

    async def _ack(self, c, req, errcode=0, errmsg="ok"):
        try:
            await c.ws.send(json.dumps({"headers": {"req_id": req},
                                        "errcode": errcode,
                                        "errmsg": errmsg}))
        except websockets.ConnectionClosed:
            pass

    def _failure(self, f):
        with self.lock:
            for i, (pred, code) in enumerate(self._fail):
                if pred(f):
                    del self._fail[i]
                    return code
        return 0

    async def _frame(self, c, text):
        if not isinstance(text, str):
            self.violation("conn %d: a binary frame" % c.no)
            return
        try:
            f = json.loads(text)
        except ValueError:
            self.violation("conn %d: not JSON: %r" % (c.no, text[:80]))
            return
        with self.lock:
            self.frames.append((c.no, f))
        c.nframes += 1
        cmd = f.get("cmd")
        req = (f.get("headers") or {}).get("req_id")
        if not isinstance(req, str) or not req:
            self.violation("conn %d: %s without headers.req_id" %
                           (c.no, cmd))
            return
        if c.refused:
            self.violation("conn %d: %s after a refused subscribe (the "
                           "client must close, A.4)" % (c.no, cmd))
            return
        if c.nframes == 1 and cmd != "aibot_subscribe":
            self.violation("conn %d: first frame is %s, not "
                           "aibot_subscribe" % (c.no, cmd))
        handler = {"aibot_subscribe": self._subscribe, "ping": self._ping,
                   "aibot_respond_msg": self._respond,
                   "aibot_respond_welcome_msg": self._welcome,
                   "aibot_send_msg": self._send_msg}.get(cmd)
        if handler is None:
            self.violation("conn %d: unknown cmd %r" % (c.no, cmd))
            return
        if cmd != "aibot_subscribe" and not c.subscribed:
            self.violation("conn %d: %s before the subscribe ack" %
                           (c.no, cmd))
            return
        await handler(c, req, f)

    async def _subscribe(self, c, req, f):
        b = f.get("body") or {}
        if c.nframes != 1:
            self.violation("conn %d: a second aibot_subscribe" % c.no)
        if set(b) - {"bot_id", "secret", "scene", "plug_version"}:
            self.violation("conn %d: subscribe body keys %s" %
                           (c.no, sorted(b)))
        if b.get("bot_id") == self.bot_id and b.get("secret") == self.secret:
            c.subscribed = True
            with self.lock:
                self.subscribes += 1
            await self._ack(c, req)
        else:
            c.refused = True
            with self.lock:
                self.refusals += 1
            await self._ack(c, req, 853000, "invalid bot_id or secret")

    async def _ping(self, c, req, f):
        now = time.monotonic()
        if "body" in f and f["body"]:
            self.violation("conn %d: ping with a body" % c.no)
        if self.heartbeat_ms and c.last_ping is not None and \
                now - c.last_ping < self.heartbeat_ms / 2000.0:
            self.violation("conn %d: pings %.3f s apart, heartbeat %d ms" %
                           (c.no, now - c.last_ping, self.heartbeat_ms))
        c.last_ping = now
        if not self.stall_pings:
            await self._ack(c, req)

    def _in_flight(self, c, req):
        t = c.inflight.get(req)
        if t is not None and time.monotonic() - t < ACK_RELEASE_S:
            self.violation("conn %d: a second frame on %s while one is "
                           "in flight (A.3)" % (c.no, req))
        c.inflight[req] = time.monotonic()

    def _spacing(self, c, req):
        now = time.monotonic()
        t = c.stream_at.get(req)
        if self.stream_ms and t is not None and \
                now - t < self.stream_ms / 2000.0:
            self.violation("conn %d: stream frames on %s %.3f s apart, "
                           "stream_interval_ms %d (A.6 #3)" %
                           (c.no, req, now - t, self.stream_ms))
        c.stream_at[req] = now

    async def _reply_ack(self, c, req, f, on_ok):
        code = self._failure(f)
        if self.hold_acks and code == 0:
            with self.lock:
                self.held.append((c, req, on_ok))
            return
        c.inflight.pop(req, None)
        if code == 0:
            on_ok()
        await self._ack(c, req, code, "ok" if code == 0 else "fake error")

    async def _respond(self, c, req, f):
        kind = c.callbacks.get(req)
        if kind != "msg":
            self.violation("conn %d: aibot_respond_msg on %s req_id %s "
                           "(A.5.5)" % (c.no, kind or "an unknown", req))
            await self._ack(c, req, 846605, "invalid req_id")
            return
        self._in_flight(c, req)
        self._spacing(c, req)
        b = f.get("body") or {}
        s = b.get("stream")
        if b.get("msgtype") != "stream" or not isinstance(s, dict) or \
                not isinstance(s.get("id"), str) or \
                not isinstance(s.get("content"), str) or \
                not isinstance(s.get("finish"), bool):
            self.violation("conn %d: bad stream body %r" % (c.no, b))
            return
        content = s["content"]
        if len(content.encode()) > CONTENT_MAX:
            self.violation("conn %d: stream content of %d bytes" %
                           (c.no, len(content.encode())))
        st = c.streams.get(req)
        if st is None:
            st = c.streams[req] = {"id": s["id"], "text": "", "done": False}
        elif st["done"]:
            self.violation("conn %d: a frame after finish on %s" %
                           (c.no, req))
        elif st["id"] != s["id"]:
            self.violation("conn %d: stream id changed on %s (A.6 #1)" %
                           (c.no, req))
        if not visible(content).startswith(visible(st["text"])):
            self.violation("conn %d: stream text not cumulative on %s: "
                           "%r then %r" % (c.no, req, st["text"][:40],
                                           content[:40]))
        st["text"] = content
        if s["finish"]:
            st["done"] = True
            if not visible(content):
                self.violation("conn %d: finish frame without visible "
                               "text (A.6 #2)" % c.no)

        def ok():
            if s["finish"]:
                with self.lock:
                    self.answers.append({"chat": c.chats[req],
                                         "text": content, "via": "stream"})
        await self._reply_ack(c, req, f, ok)

    async def _welcome(self, c, req, f):
        if c.callbacks.get(req) != "enter_chat":
            self.violation("conn %d: welcome on req_id %s, not an "
                           "enter_chat" % (c.no, req))
            await self._ack(c, req, 846605, "invalid req_id")
            return
        self._in_flight(c, req)
        b = f.get("body") or {}
        if b.get("msgtype") != "text" or \
                not isinstance((b.get("text") or {}).get("content"), str):
            self.violation("conn %d: bad welcome body %r" % (c.no, b))

        def ok():
            with self.lock:
                self.answers.append({"chat": c.chats[req],
                                     "text": b["text"]["content"],
                                     "via": "welcome"})
        await self._reply_ack(c, req, f, ok)

    async def _send_msg(self, c, req, f):
        if req in c.callbacks:
            self.violation("conn %d: aibot_send_msg reuses a callback's "
                           "req_id" % c.no)
        b = f.get("body") or {}
        md = b.get("markdown") or {}
        if b.get("msgtype") != "markdown":
            self.violation("conn %d: aibot_send_msg msgtype %r (A.5.9)" %
                           (c.no, b.get("msgtype")))
            await self._ack(c, req, 40008, "invalid message type")
            return
        if not isinstance(b.get("chatid"), str) or \
                not isinstance(md.get("content"), str) or \
                len(md["content"].encode()) > CONTENT_MAX:
            self.violation("conn %d: bad aibot_send_msg body" % c.no)
            return
        self._in_flight(c, req)

        def ok():
            with self.lock:
                self.answers.append({"chat": b["chatid"],
                                     "text": md["content"], "via": "push"})
        await self._reply_ack(c, req, f, ok)
