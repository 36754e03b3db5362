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
  - aibot_respond_welcome_msg: the req_id of an enter_chat event, text,
    arriving at most WELCOME_S after the event left (A.5.6, A.9); a late
    one is also refused (846605, a guess: the spec names no code) and
    not counted as seen;
  - aibot_send_msg: a fresh req_id, markdown, chatid, 20480 bytes max;
  - anything else: not JSON, or an unknown cmd.
f.answers lists what a user saw as complete answers: each acked finish
frame and each acked push, with its chat.  f.frames records every frame
the worker sent, in order, with its connection's number.

Attachments (A.7): the fake also serves plain HTTP on 127.0.0.1
(f.media_port, aiohttp on a loop and thread of its own, so that a big
download does not hold back the long connection's frames and make
their spacing (A.6 #3) look shorter than the worker made it).  f.attachment(plain) encrypts
plain as WeCom does (AES-256-CBC, IV = the key's first 16 bytes, PKCS#7
to 32-byte blocks) under a fresh path and returns (url, aeskey);
f.serve_raw(ciphertext) serves given bytes (the spec's test vector),
status=404 or a tampered copy (tamper=True: the pad breaks, always) make
the failures; chunked=True sends no Content-Length, delay= holds the
answer that many seconds, disposition= is sent as its Content-Disposition
(by default WeCom's own form, attachment; filename*=UTF-8''NAME
percent-encoded, when name= is given; a raw string as is, to be
hostile).  f.image / f.file / f.video / f.voice / f.mixed send the
message callbacks that name them; f.media_hits lists the paths the
worker fetched.  wecom_encrypt / wecom_decrypt / wrong_key are the
algorithm itself, through libcrypto (which wxgated links anyway).

Outbound media (A.5.8, A.5.5, A.5.9): the upload commands
aibot_upload_media_init / _chunk / _finish are played and checked, each
a fresh req_id with one frame in flight: init's fields (type, filename,
total_size within its type's cap, total_chunks 1..100 and enough for
the size at 512 KiB raw each, md5 32 lowercase hex when given, no other
key), each chunk's upload_id (known, not finished), chunk_index (a
number, 0-based, below total_chunks), base64_data (strict standard
base64 of 1..512 KiB; a chunk sent again must carry the same bytes),
and at finish every chunk there, the sizes adding up to total_size and
the md5 matching.  Init answers {upload_id}, finish {type, media_id,
created_at}.  An image or file message then names a media_id: as the
answer to a message (aibot_respond_msg on its callback's req_id, not
while that bubble is open) or a push (aibot_send_msg); its msgtype must
be the upload's type.  f.uploads lists the finished uploads (type,
filename, data), f.upload_inits counts inits, f.media lists what users
got (chat, type, name, data, via "answer" or "push"), and f.timeline
what they saw in order, text and media.  f.stall_chunks leaves chunks
unanswered (a test kills the worker mid-upload); f.fail_next works on
upload frames too.

Several bots on one server: FakeWecom(bots=[(bot_id, secret), ...]);
the first is f.bot_id / f.secret.  f.bot(bot_id) is that bot's record
(a Bot): subscribes, connections, takeovers, answers, frames (with the
time each arrived), pushed (the time each callback left), violations
(its own; they are in f.violations too).  f.msg, f.event, f.drop,
f.ready, f.answers_to and f.sent take bot=bot_id; without it they act
as before (the latest connection, every bot's records).
Takeover (A.2, A.5.4): a subscribe for a bot that already has a
subscribed connection open displaces it, as the real server does: the
old one gets disconnected_event and counts as a takeover.  Checked per
bot: the displaced client closes within DISPLACED_GRACE_S (A.5.4), and
a connection that took the bot over is not itself displaced (two
clients kicking each other, A.11).
"""

import asyncio
import base64
import binascii
import ctypes
import ctypes.util
import hashlib
import itertools
import json
import os
import threading
import time
from urllib.parse import quote

import websockets
from aiohttp import web

from fakeserver import ThreadedApp

CONTENT_MAX = 20480
ACK_RELEASE_S = 5.0         # the SDK's ack timeout (A.3)
TICK_S = 0.005              # the loop's own tick, to see it stall...
STALL_S = 0.02              # ...for longer than this
INVISIBLE = "\u200b\u200c\u200d\ufeff"
# A displaced client closes itself (A.5.4); the real server closes it
# after 2.2 to 313 s, the fake checks sooner.
DISPLACED_GRACE_S = 3.0
WELCOME_S = 5.0             # a welcome within 5 s of enter_chat (A.5.6)
CHUNK_MAX = 512 * 1024      # raw bytes of one upload chunk (A.5.8)
CHUNKS_MAX = 100
MiB = 1024 * 1024
# Size caps by upload type (A.5.8, A.10), and the WeCom code for each
# (its global list: invalid file / image / voice / video size).
TYPE_CAPS = {"file": (20 * MiB, 40006), "image": (10 * MiB, 40009),
             "voice": (2 * MiB, 40010), "video": (10 * MiB, 40011)}


BLOCK = 32                  # the pad target of A.7 #4, not AES's 16


def _libcrypto():
    lib = ctypes.CDLL(ctypes.util.find_library("crypto") or
                      "libcrypto.so.3")
    lib.EVP_CIPHER_CTX_new.restype = ctypes.c_void_p
    lib.EVP_CIPHER_CTX_free.argtypes = [ctypes.c_void_p]
    lib.EVP_aes_256_cbc.restype = ctypes.c_void_p
    for f in (lib.EVP_EncryptInit_ex, lib.EVP_DecryptInit_ex):
        f.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                      ctypes.c_char_p, ctypes.c_char_p]
    for f in (lib.EVP_EncryptUpdate, lib.EVP_DecryptUpdate):
        f.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                      ctypes.POINTER(ctypes.c_int), ctypes.c_char_p,
                      ctypes.c_int]
    lib.EVP_CIPHER_CTX_set_padding.argtypes = [ctypes.c_void_p,
                                               ctypes.c_int]
    return lib


_crypto = _libcrypto()


def _aes_cbc(key, data, encrypt):
    """AES-256-CBC of whole blocks, IV = key[:16], no padding by OpenSSL."""
    assert len(key) == 32 and len(data) % 16 == 0
    lib = _crypto
    ctx = lib.EVP_CIPHER_CTX_new()
    try:
        init = lib.EVP_EncryptInit_ex if encrypt else lib.EVP_DecryptInit_ex
        upd = lib.EVP_EncryptUpdate if encrypt else lib.EVP_DecryptUpdate
        assert init(ctx, lib.EVP_aes_256_cbc(), None, key, key[:16]) == 1
        assert lib.EVP_CIPHER_CTX_set_padding(ctx, 0) == 1
        out = ctypes.create_string_buffer(len(data) + 32)
        n = ctypes.c_int(0)
        assert upd(ctx, out, ctypes.byref(n), data, len(data)) == 1
        assert n.value == len(data)
        return out.raw[:n.value]
    finally:
        lib.EVP_CIPHER_CTX_free(ctx)


def wecom_encrypt(plain, key):
    """A.7: PKCS#7 to a multiple of 32 bytes (1..32 of them), then
    AES-256-CBC with the key's first 16 bytes as IV."""
    p = BLOCK - len(plain) % BLOCK
    return _aes_cbc(key, plain + bytes([p]) * p, True)


def wecom_decrypt(cipher, key):
    """The plaintext, or None when the 32-byte pad does not check."""
    if not cipher or len(cipher) % BLOCK:
        return None
    out = _aes_cbc(key, cipher, False)
    p = out[-1]
    if not 1 <= p <= BLOCK or out[-p:] != bytes([p]) * p:
        return None
    return out[:-p]


def aeskey(key):
    return base64.b64encode(key).decode()


def wrong_key(cipher, key):
    """Another key under which cipher's pad does not check: a wrong key
    fails for certain, not 255 times in 256."""
    for i in range(1, 256):
        k = bytes((b + i) % 256 for b in key)
        if wecom_decrypt(cipher, k) is None:
            return k
    raise AssertionError("no wrong key")


def tampered(cipher, key):
    """cipher with the plaintext's last byte turned to 0 through the
    AES block before it (CBC): the pad fails for certain."""
    c = bytearray(cipher)
    c[-17] ^= _aes_cbc(key, cipher, False)[-1]
    return bytes(c)


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
        self.first_ping = None
        self.pings = 0
        self.callbacks = {}         # req_id -> "msg" | "enter_chat" | ...
        self.inflight = {}          # req_id -> time sent, un-acked
        self.streams = {}           # req_id -> {"id", "text", "done"}
        self.stream_at = {}         # req_id -> time of its last frame
        self.stream_first = {}      # req_id -> (time of its first, count)
        self.chats = {}             # req_id -> chat the callback came from
        self.pushed_at = {}         # req_id -> time the callback left
        self.client_reqs = set()    # upload req_ids the client used
        self.bot = None             # the Bot its subscribe named
        self.open = True
        self.took_over = False      # its subscribe displaced another
        self.displaced = False      # got disconnected_event


class Bot:
    """One bot the server serves, and what happened to it alone."""

    def __init__(self, bot_id, secret):
        self.bot_id = bot_id
        self.secret = secret
        self.conn = None            # its subscribed connection
        self.subscribes = 0         # accepted
        self.refusals = 0
        self.connections = 0        # that sent a subscribe naming it
        self.takeovers = 0          # subscribes that displaced another
        self.late_frames = 0        # frames on a displaced connection
        self.violations = []
        self.answers = []
        self.frames = []            # (conn no, monotonic time, frame)
        self.pushed = {}            # callback req_id -> time it left

    def ready(self):
        c = self.conn
        return c is not None and c.subscribed


class _MediaServer(ThreadedApp):
    """The attachments' HTTP server, on its own thread and loop."""

    def __init__(self, handler):
        super().__init__()
        self._handler = handler

    def app(self):
        a = web.Application()
        a.router.add_get("/{tail:.*}", self._handler)
        return a


class FakeWecom:
    def __init__(self, bot_id="aibTESTbot0001", secret="s3cret-TEST-0001",
                 heartbeat_ms=None, stream_ms=None, bots=None):
        bots = list(bots or [(bot_id, secret)])
        self.bots = {b: Bot(b, s) for b, s in bots}
        self.bot_id, self.secret = bots[0]
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
        self._by_no = {}            # "N" -> Conn, for violation()
        self._loop = None
        self._stalls = []           # (from, to) the loop did not run
        self._thread = None
        self._server = None
        self.port = None
        # path -> (status, body, chunked, delay, Content-Disposition)
        self.served = {}
        self.media_hits = []        # paths the worker GET
        self.media_port = None
        self.sessions = {}          # upload_id -> an upload under way
        self.media_ids = {}         # media_id -> its finished upload
        self.uploads = []           # {"type", "filename", "data", "conn"}
        self.upload_inits = 0
        self.media = []             # {"chat", "type", "name", "data", "via"}
        self.timeline = []          # ("text" | "media", chat, text or name)
        self.stall_chunks = False
        self.stalled = 0            # chunks left unanswered

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
            self._ticker = self._loop.create_task(self._tick())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        self._media = _MediaServer(self._media_get).start()
        self.media_port = self._media.port
        return self

    async def _tick(self):
        """Note when this loop could not run (another thread held the
        GIL, the box was busy): frames that queued meanwhile arrive
        together, however far apart they were sent."""
        last = time.monotonic()
        while True:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            if now - last > STALL_S:
                self._stalls.append((last, now))
                del self._stalls[:-64]
            last = now

    def _stalled(self, since, until):
        """How long this loop did not run between since and until."""
        return sum(max(0.0, min(b, until) - max(a, since))
                   for a, b in self._stalls)

    def stop(self):
        async def close():
            self._ticker.cancel()
            self._server.close()
            await self._server.wait_closed()
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._media.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def violation(self, what, bot=None):
        """what starts "conn N:" for a connection's fault: it is that
        connection's bot's too, once its subscribe named one."""
        with self.lock:
            self.violations.append(what)
            if bot is None and what.startswith("conn "):
                c = self._by_no.get(what[5:].split(":", 1)[0])
                bot = c.bot if c is not None else None
            if bot is not None:
                bot.violations.append(what)

    def bot(self, bot_id):
        return self.bots[bot_id]

    # -- test controls -----------------------------------------------

    def ready(self, bot=None):
        """A subscribed connection is up (bot's, with bot=)."""
        if bot is not None:
            return self.bots[bot].ready()
        c = self._conn
        return c is not None and c.subscribed

    def msg(self, userid, text=None, chatid=None, body=None, bot=None):
        """A user message (aibot_msg_callback); returns its req_id."""
        n = next(self._ids)
        req = "RqFAKE%06d" % n
        b = {"msgid": "MSGID-FAKE-%06d" % n, "aibotid": bot or self.bot_id,
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
                    "body": b}, req, "msg", chatid or userid, bot)
        return req

    def event(self, eventtype, userid="lisi", bot=None):
        n = next(self._ids)
        req = "RqFAKEev%06d" % n
        self._push(self._event_frame(req, n, eventtype, userid,
                                     bot or self.bot_id),
                   req, eventtype, userid, bot)
        return req

    @staticmethod
    def _event_frame(req, n, eventtype, userid, bot_id):
        return {"cmd": "aibot_event_callback", "headers": {"req_id": req},
                "body": {"msgid": "MSGID-FAKE-EV-%06d" % n,
                         "create_time": int(time.time()),
                         "aibotid": bot_id, "chattype": "single",
                         "from": {"userid": userid}, "msgtype": "event",
                         "event": {"eventtype": eventtype}}}

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

    def drop(self, bot=None):
        """Cut the connection without a close frame."""
        async def go():
            c = self._conn if bot is None else self.bots[bot].conn
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

    def answers_to(self, chat, bot=None):
        with self.lock:
            src = self.answers if bot is None else self.bots[bot].answers
            return [a for a in src if a["chat"] == chat]

    def sent(self, cmd, bot=None):
        with self.lock:
            if bot is not None:
                return [f for _, _, f in self.bots[bot].frames
                        if f.get("cmd") == cmd]
            return [f for _, f in self.frames if f.get("cmd") == cmd]

    # -- attachments (A.7) -------------------------------------------

    def media_url(self, path):
        return "http://127.0.0.1:%d%s" % (self.media_port, path)

    def serve_raw(self, body, status=200, chunked=False, delay=0,
                  name=None, disposition=None):
        """body served as is under a fresh path (after delay seconds);
        returns its URL.  name: sent as WeCom sends it (A.7 #1),
        Content-Disposition: attachment; filename*=UTF-8''<percent-
        encoded UTF-8>; disposition: that header's value as given."""
        if name is not None and disposition is None:
            disposition = "attachment; filename*=UTF-8''" + quote(
                name.encode("utf-8"), safe="")
        path = "/media/%d" % next(self._ids)
        with self.lock:
            self.served[path] = (status, body, chunked, delay, disposition)
        return self.media_url(path)

    def attachment(self, plain, key=None, status=200, tamper=False,
                   chunked=False, give_key=None, delay=0, name=None,
                   disposition=None):
        """plain encrypted as WeCom does, served; (url, aeskey).
        give_key: the key the message names instead (a wrong one)."""
        key = key or os.urandom(32)
        cipher = wecom_encrypt(plain, key)
        if tamper:
            cipher = tampered(cipher, key)
        url = self.serve_raw(cipher, status, chunked, delay, name,
                             disposition)
        return url, aeskey(give_key or key)

    def image(self, userid, url, key, **kw):
        return self.msg(userid, body={"msgtype": "image", "image": {
            "url": url, "aeskey": key}}, **kw)

    def video(self, userid, url, key, **kw):
        return self.msg(userid, body={"msgtype": "video", "video": {
            "url": url, "aeskey": key}}, **kw)

    def file(self, userid, url, key, filename=None, **kw):
        f = {"url": url, "aeskey": key}
        if filename is not None:
            f["filename"] = filename
        return self.msg(userid, body={"msgtype": "file", "file": f}, **kw)

    def voice(self, userid, content, url=None, key=None, **kw):
        v = {"content": content}
        if url is not None:
            v.update(url=url, aeskey=key)
        return self.msg(userid, body={"msgtype": "voice", "voice": v}, **kw)

    def mixed(self, userid, items, **kw):
        """items: strings (text) and (url, aeskey) pairs (images)."""
        it = [{"msgtype": "text", "text": {"content": x}}
              if isinstance(x, str) else
              {"msgtype": "image", "image": {"url": x[0], "aeskey": x[1]}}
              for x in items]
        return self.msg(userid, body={"msgtype": "mixed",
                                      "mixed": {"msg_item": it}}, **kw)

    async def _media_get(self, req):
        with self.lock:
            self.media_hits.append(req.path)
            got = self.served.get(req.path)
        if got is None:
            return web.Response(status=404, text="no such media")
        status, body, chunked, delay, disposition = got
        headers = {}
        if disposition is not None:
            headers["Content-Disposition"] = disposition
        if delay:
            await asyncio.sleep(delay)
        if not chunked:
            return web.Response(status=status, body=body, headers=headers,
                                content_type="application/octet-stream")
        # No Content-Length: the worker learns the size as bytes come.
        r = web.StreamResponse(status=status, headers=headers)
        r.enable_chunked_encoding()
        await r.prepare(req)
        for i in range(0, len(body), 256 * 1024):
            await r.write(body[i:i + 256 * 1024])
        await r.write_eof()
        return r

    # -- the server --------------------------------------------------

    def _push(self, frame, req, kind, chat, bot=None):
        async def go():
            c = self._conn if bot is None else self.bots[bot].conn
            assert c is not None and c.subscribed, "no subscribed worker"
            c.callbacks[req] = kind
            c.chats[req] = chat
            c.pushed_at[req] = time.monotonic()
            text = json.dumps(frame, ensure_ascii=False)
            if c.bot is not None:
                with self.lock:
                    c.bot.pushed[req] = time.monotonic()
            await c.ws.send(text)
        self._call(go())

    async def _serve(self, ws, path=None):
        with self.lock:
            self.connections += 1
            c = Conn(self.connections, ws)
            self._by_no[str(c.no)] = c
        self._conn = c
        try:
            async for text in ws:
                await self._frame(c, text)
        except websockets.ConnectionClosed:
            pass
        finally:
            c.open = False
            if c.bot is not None and c.bot.conn is c:
                c.bot.conn = None
            if self._conn is c:
                self._conn = None

    async def _ack(self, c, req, errcode=0, errmsg="ok", body=None):
        a = {"headers": {"req_id": req}, "errcode": errcode,
             "errmsg": errmsg}
        if body is not None:
            a["body"] = body
        try:
            await c.ws.send(json.dumps(a))
        except websockets.ConnectionClosed:
            pass

    def _answer(self, c, a):
        with self.lock:
            self.answers.append(a)
            self.timeline.append(("text", a["chat"], a["text"]))
            if c.bot is not None:
                c.bot.answers.append(a)

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
            if c.bot is not None:
                c.bot.frames.append((c.no, time.monotonic(), f))
                if c.displaced:
                    c.bot.late_frames += 1
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
                   "aibot_send_msg": self._send_msg,
                   "aibot_upload_media_init": self._upload_init,
                   "aibot_upload_media_chunk": self._upload_chunk,
                   "aibot_upload_media_finish": self._upload_finish,
                   }.get(cmd)
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
        bot = self.bots.get(b.get("bot_id"))
        if bot is not None and c.bot is None:
            c.bot = bot
            with self.lock:
                bot.connections += 1
                bot.frames.append((c.no, time.monotonic(), f))
        if bot is not None and b.get("secret") == bot.secret:
            c.subscribed = True
            with self.lock:
                self.subscribes += 1
                bot.subscribes += 1
            old, bot.conn = bot.conn, c
            if old is not None and old is not c:
                await self._displace(bot, old, c)
            await self._ack(c, req)
        else:
            c.refused = True
            with self.lock:
                self.refusals += 1
                if bot is not None:
                    bot.refusals += 1
            await self._ack(c, req, 853000, "invalid bot_id or secret")

    async def _displace(self, bot, old, new):
        """A second subscribe for a bot: the first connection is told
        disconnected_event and must close itself (A.5.4)."""
        with self.lock:
            bot.takeovers += 1
        if old.took_over:
            self.violation("bot %s: conn %d displaces conn %d, which had "
                           "itself taken the bot over (a kick loop, "
                           "A.11)" % (bot.bot_id, new.no, old.no), bot)
        new.took_over = True
        old.displaced = True
        n = next(self._ids)
        req = "RqFAKEdc%06d" % n
        old.callbacks[req] = "disconnected_event"
        # From a user, as in A.5.4's example: the worker requires one.
        try:
            await old.ws.send(json.dumps(self._event_frame(
                req, n, "disconnected_event", "lisi", bot.bot_id)))
        except websockets.ConnectionClosed:
            return

        async def check():
            await asyncio.sleep(DISPLACED_GRACE_S)
            if old.open:
                self.violation("bot %s: conn %d still open %.0f s after "
                               "its disconnected_event (A.5.4)" %
                               (bot.bot_id, old.no, DISPLACED_GRACE_S), bot)
                old.ws.transport.abort()
        asyncio.ensure_future(check())

    async def _ping(self, c, req, f):
        now = time.monotonic()
        if "body" in f and f["body"]:
            self.violation("conn %d: ping with a body" % c.no)
        # The rate, not the gap between two: a loaded test machine may
        # hand this loop two pings sent a heartbeat apart at once.  One
        # per heartbeat since the first, and two of slack, is the most.
        if c.first_ping is None:
            c.first_ping = now
        c.pings += 1
        hb = self.heartbeat_ms / 1000.0
        if self.heartbeat_ms and \
                c.pings > 3 + (now - c.first_ping) / hb:
            self.violation("conn %d: %d pings in %.3f s, heartbeat %d ms" %
                           (c.no, c.pings, now - c.first_ping,
                            self.heartbeat_ms))
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
        """A.6 #3, judged by arrival: two frames closer than half the
        interval, unless this loop stalled around them (they may have
        queued); and over the bubble, never more than one frame per
        quarter interval on average, the time the loop stalled
        counted in."""
        now = time.monotonic()
        t = c.stream_at.get(req)
        first, n = c.stream_first.get(req, (now, 0))
        c.stream_first[req] = (first, n + 1)
        c.stream_at[req] = now
        if not self.stream_ms or t is None:
            return
        half = self.stream_ms / 2000.0
        if now - t < half and \
                not self._stalled(t - 2 * half, now):
            self.violation("conn %d: stream frames on %s %.3f s apart, "
                           "stream_interval_ms %d (A.6 #3)" %
                           (c.no, req, now - t, self.stream_ms))
        elif now - first + self._stalled(first - 2 * half, now) < \
                n * half / 2:
            self.violation("conn %d: %d stream frames on %s in %.3f s, "
                           "stream_interval_ms %d (A.6 #3)" %
                           (c.no, n + 1, req, now - first, self.stream_ms))

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
        b = f.get("body") or {}
        if b.get("msgtype") in TYPE_CAPS:
            await self._media_msg(c, req, f, b, "answer")
            return
        self._in_flight(c, req)
        self._spacing(c, req)
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
                self._answer(c, {"chat": c.chats[req], "text": content,
                                 "via": "stream"})
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
        late = time.monotonic() - c.pushed_at.get(req, time.monotonic())
        if late > WELCOME_S:
            self.violation("conn %d: welcome on %s %.2f s after its "
                           "enter_chat (A.5.6: within %.0f s)" %
                           (c.no, req, late, WELCOME_S))
            c.inflight.pop(req, None)
            await self._ack(c, req, 846605, "invalid req_id")
            return

        def ok():
            self._answer(c, {"chat": c.chats[req],
                             "text": b["text"]["content"], "via": "welcome"})
        await self._reply_ack(c, req, f, ok)

    async def _send_msg(self, c, req, f):
        if req in c.callbacks:
            self.violation("conn %d: aibot_send_msg reuses a callback's "
                           "req_id" % c.no)
        b = f.get("body") or {}
        md = b.get("markdown") or {}
        if b.get("msgtype") in TYPE_CAPS:
            await self._media_msg(c, req, f, b, "push")
            return
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
            self._answer(c, {"chat": b["chatid"], "text": md["content"],
                             "via": "push"})
        await self._reply_ack(c, req, f, ok)

    # -- outbound media (A.5.8, A.5.5, A.5.9) --------------------------

    def _fresh(self, c, req, f):
        """Each upload step has its own fresh req_id (A.5.8)."""
        if req in c.callbacks:
            self.violation("conn %d: %s on a callback's req_id" %
                           (c.no, f.get("cmd")))
        elif req in c.client_reqs:
            self.violation("conn %d: %s reuses req_id %s (A.5.8: each "
                           "step its own)" % (c.no, f.get("cmd"), req))
        c.client_reqs.add(req)
        self._in_flight(c, req)

    def _keys(self, c, f, want, need):
        b = f.get("body")
        if not isinstance(b, dict):
            self.violation("conn %d: %s without a body" %
                           (c.no, f.get("cmd")))
            return None
        if set(b) - set(want) or set(need) - set(b):
            self.violation("conn %d: %s body keys %s (A.5.8: %s)" %
                           (c.no, f.get("cmd"), sorted(b), sorted(want)))
            return None
        return b

    @staticmethod
    def _int(v):
        return isinstance(v, int) and not isinstance(v, bool)

    async def _upload_ack(self, c, req, f, body):
        """The answer to an upload step, or the error fail_next asked."""
        code = self._failure(f)
        c.inflight.pop(req, None)
        if code:
            await self._ack(c, req, code, "fake error")
            return False
        await self._ack(c, req, body=body)
        return True

    async def _upload_refuse(self, c, req, code, what):
        self.violation("conn %d: %s" % (c.no, what))
        c.inflight.pop(req, None)
        await self._ack(c, req, code, "fake refusal")

    async def _upload_init(self, c, req, f):
        self._fresh(c, req, f)
        b = self._keys(c, f, ("type", "filename", "total_size",
                              "total_chunks", "md5"),
                       ("type", "filename", "total_size", "total_chunks"))
        if b is None:
            await self._upload_refuse(c, req, 40058, "bad init")
            return
        t, name = b["type"], b["filename"]
        size, n = b["total_size"], b["total_chunks"]
        md5 = b.get("md5")
        if t not in TYPE_CAPS or not isinstance(name, str) or not name \
                or not self._int(size) or not self._int(n):
            await self._upload_refuse(c, req, 40058, "init fields %r" % b)
            return
        if size < 1 or size > TYPE_CAPS[t][0]:
            await self._upload_refuse(c, req, TYPE_CAPS[t][1],
                                      "init: %s of %d bytes, over its cap "
                                      "(A.5.8)" % (t, size))
            return
        if not -(-size // CHUNK_MAX) <= n <= min(CHUNKS_MAX, size):
            await self._upload_refuse(c, req, 40058,
                                      "init: %d chunks for %d bytes (A.5.8:"
                                      " 512 KiB each, 100 at most)" %
                                      (n, size))
            return
        if md5 is not None and (not isinstance(md5, str) or len(md5) != 32
                                or md5.strip("0123456789abcdef")):
            await self._upload_refuse(c, req, 40058,
                                      "init: md5 %r not 32 lowercase hex" %
                                      (md5,))
            return
        uid = "UPFAKE%06d" % next(self._ids)
        with self.lock:
            self.upload_inits += 1
        if await self._upload_ack(c, req, f, {"upload_id": uid}):
            with self.lock:
                self.sessions[uid] = {"type": t, "filename": name,
                                      "size": size, "n": n, "md5": md5,
                                      "chunks": {}, "conn": c.no}

    async def _upload_chunk(self, c, req, f):
        self._fresh(c, req, f)
        b = self._keys(c, f, ("upload_id", "chunk_index", "base64_data"),
                       ("upload_id", "chunk_index", "base64_data"))
        if b is None:
            await self._upload_refuse(c, req, 40058, "bad chunk")
            return
        u = self.sessions.get(b["upload_id"])
        i, data = b["chunk_index"], b["base64_data"]
        if u is None:
            await self._upload_refuse(c, req, 40058, "chunk for upload_id "
                                      "%r, not one under way" %
                                      (b["upload_id"],))
            return
        if not self._int(i) or not 0 <= i < u["n"]:
            await self._upload_refuse(c, req, 40058,
                                      "chunk_index %r of %d chunks (a number,"
                                      " 0-based, A.12)" % (i, u["n"]))
            return
        try:
            raw = base64.b64decode(data, validate=True) \
                if isinstance(data, str) else None
        except (binascii.Error, ValueError):
            raw = None
        if raw is None or base64.b64encode(raw).decode() != data:
            await self._upload_refuse(c, req, 40058, "chunk %d: not strict "
                                      "standard base64" % i)
            return
        if not 1 <= len(raw) <= CHUNK_MAX:
            await self._upload_refuse(c, req, 40058, "chunk %d of %d bytes "
                                      "(A.5.8: 512 KiB at most)" %
                                      (i, len(raw)))
            return
        old = u["chunks"].get(i)
        if old is not None and old != raw:
            self.violation("conn %d: chunk %d sent again with other bytes" %
                           (c.no, i))
        if self.stall_chunks:
            with self.lock:
                self.stalled += 1
            return
        if await self._upload_ack(c, req, f, None):
            u["chunks"][i] = raw

    async def _upload_finish(self, c, req, f):
        self._fresh(c, req, f)
        b = self._keys(c, f, ("upload_id",), ("upload_id",))
        if b is None:
            await self._upload_refuse(c, req, 40058, "bad finish")
            return
        uid = b["upload_id"]
        u = self.sessions.get(uid)
        if u is None:
            await self._upload_refuse(c, req, 40058, "finish of upload_id "
                                      "%r, not one under way" % (uid,))
            return
        missing = [i for i in range(u["n"]) if i not in u["chunks"]]
        data = b"".join(u["chunks"][i] for i in sorted(u["chunks"]))
        if missing:
            await self._upload_refuse(c, req, 40058, "finish with chunks "
                                      "%s missing" % missing)
            return
        if len(data) != u["size"]:
            await self._upload_refuse(c, req, 40058, "finish: %d bytes, "
                                      "total_size %d" % (len(data),
                                                         u["size"]))
            return
        if u["md5"] is not None and \
                hashlib.md5(data).hexdigest() != u["md5"]:
            await self._upload_refuse(c, req, 40058, "finish: md5 does not "
                                      "match the bytes")
            return
        mid = "MEDIAFAKE%06d" % next(self._ids)
        if await self._upload_ack(c, req, f, {
                "type": u["type"], "media_id": mid,
                "created_at": str(int(time.time()))}):
            rec = {"type": u["type"], "filename": u["filename"],
                   "data": data, "conn": c.no}
            with self.lock:
                del self.sessions[uid]
                self.media_ids[mid] = rec
                self.uploads.append(rec)

    async def _media_msg(self, c, req, f, b, via):
        """An uploaded image or file as a message: an answer (the
        callback's req_id, its bubble ended) or a push."""
        t = b.get("msgtype")
        if via == "push":
            want = {"chatid", "chat_type", "msgtype", t}
            chat = b.get("chatid")
            if not isinstance(chat, str) or \
                    b.get("chat_type", 1) not in (1, 2):
                self.violation("conn %d: bad media push %r" % (c.no, b))
        else:
            want = {"msgtype", t}
            chat = c.chats.get(req)
            st = c.streams.get(req)
            if st is not None and not st["done"]:
                self.violation("conn %d: a media answer on %s while its "
                               "bubble is open (A.5.5)" % (c.no, req))
        self._in_flight(c, req)
        mid = (b.get(t) or {}).get("media_id")
        rec = self.media_ids.get(mid)
        if set(b) - want or set(b.get(t) or {}) != {"media_id"}:
            self.violation("conn %d: media %s body keys %r" %
                           (c.no, via, b))
        if rec is None or rec["type"] != t:
            self.violation("conn %d: %s message with media_id %r (%s)" %
                           (c.no, t, mid, "an upload of type %s" %
                            rec["type"] if rec else "not uploaded"))
            c.inflight.pop(req, None)
            await self._ack(c, req, 40007, "invalid media_id")
            return

        def ok():
            m = {"chat": chat, "type": t, "name": rec["filename"],
                 "data": rec["data"], "via": via}
            with self.lock:
                self.media.append(m)
                self.timeline.append(("media", chat, rec["filename"]))
        await self._reply_ack(c, req, f, ok)

    def media_to(self, chat):
        with self.lock:
            return [m for m in self.media if m["chat"] == chat]
