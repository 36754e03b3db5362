"""A fake iLink server (personal-WeChat bots, shared/protocols/wechat-ilink.md)
for the wechat worker's tests, on 127.0.0.1 (python3-aiohttp).

In a test:    f = FakeIlink().start(); ...; f.stop()
Standalone:   /usr/bin/python3 tests/integration/fake_ilink.py --port 8790
              (then drive it with the /_test/ endpoints below, e.g. curl)

The worker's config slice points login_url (and so base_url) at f.url.

Protocol side (what the worker talks to):
  POST /ilink/bot/get_bot_qrcode?bot_type=3   a new QR handle and URL
  GET  /ilink/bot/get_qrcode_status?qrcode=[&verify_code=]   the next
       status of the QR's script (default wait, scaned, confirmed; the
       last one repeats).  "need_verifycode" in the script comes back
       until a poll carries verify_code == f.verify_code (default
       "123456"); that poll gets the script's next status.  A wrong code
       gets need_verifycode again.  Every verify_code seen goes to
       f.verify_codes.  confirmed issues a new bot token, ilink_bot_id,
       baseurl = f.baseurl (default f.url) and ilink_user_id = f.user_id;
       the old token stops working.  scaned_but_redirect names
       f.redirect_host (default sh.ilinkai.invalid, which the worker must
       refuse to follow).
  POST /ilink/bot/getupdates     long poll.  A cursor "cur.N" (base64'd)
       means "messages [0, N) are consumed"; a poll with an old cursor gets
       the same messages again, so a worker that died before storing the
       new cursor sees them re-delivered.  f.polls lists the cursors seen.
  POST /ilink/bot/sendmessage    recorded in f.sent; answers ret 0 unless
       told to fail (-2, HTTP 500) or the token is dead (-14).  Like the
       real server (§3.4: "Reusing one causes drops") it drops, with ret
       0, a message whose client_id it has seen delivered or refused
       (-2): outcome "dup", not delivered and not a violation (a resend
       after a crash between send and ack reuses its key on purpose).
       A client_id not starting "wxgate:" is a violation.
  GET  /c2c/download?encrypted_query_param=P   the CDN (§3.9): the
       ciphertext f.media_item() stored under P; GET /c2c/full/P the same
       for an item given a full_url.  The worker's cdn_url points at
       f.url + "/c2c".  Checked like the rest: a GET, none of the bot
       headers (§2.1: the CDN takes no auth), a known P (a badly escaped
       one is not); f.cdn_gets lists the P of each download.
  POST /ilink/bot/getuploadurl   (§3.5) a CDN slot for one file, every
       field checked: filekey and aeskey 32 lowercase hex (a filekey
       seen before is a violation), media_type 1 (image) or 3 (file;
       never 4: voice does not play, §6.4, nor 2), rawsize, rawfilemd5
       (32 lowercase hex), filesize == (rawsize / 16 + 1) * 16,
       no_need_thumb true.  Answers upload_full_url (f.upload_mode
       "full", the default; "elsewhere" names 127.0.0.2, off the CDN's
       host) or upload_param alone ("param", the worker builds
       <cdn>/upload?...).  f.fail(uploadurl_ret=n): ret -1 n
       times; f.uploadurls lists the requests.
  POST /c2c/upload?encrypted_query_param=&filekey=   (§3.9) the CDN: a
       POST, application/octet-stream, no bot header, a known slot used
       once with its filekey, exactly filesize bytes that decrypt
       (openssl, every padding byte) with the slot's aeskey to rawsize
       bytes of MD5 rawfilemd5.  Answers 200 with x-encrypted-param (the
       download parameter); f.fail(cdn_http=n) answers 500 n times;
       a body over f.cdn_max bytes gets 413 with x-error-message.
       f.uploads lists (slot, outcome) of each.
  sendmessage past f.turn_max (10) messages delivered on one
       context_token gets ret -2 (§7.2) and is a violation.
  sendmessage image items (type 2: media.encrypt_query_param a
       parameter the CDN gave, media.aes_key base64 of the hex key,
       encrypt_type 1, mid_size the ciphertext's size) and file items
       (type 4: file_name, len the plaintext's size as a string) are
       checked too: the CDN's ciphertext must decrypt with the key the
       item carries to what was uploaded; a voice item (type 3) is a
       violation.  A record's "kind" is text, image or file; "data"
       holds a media item's plaintext; f.media_of(peer) lists
       (kind, name, data) of those delivered.
A bot call with a token that is not the current one gets errcode -14, as
the real server answers unauthenticated calls.

Media (§5.2, §6.1): f.media_item(kind, data, ...) encrypts data with
AES-128-ECB and PKCS#7 (the openssl command line, as the note's vectors
were made), keeps the ciphertext for the CDN and returns the item to
put in an item_list, with the key in the encoding asked: "b64hex"
(base64 of the 32 hex characters, what the official client sends),
"b64raw" (base64 of the 16 bytes), "hex" (image_item.aeskey), "none"
(an image in clear) or "bad" (neither encoding).

Every request's headers and body envelope are checked against §2 and §3
(AuthorizationType, Bearer token only where due, X-WECHAT-UIN = base64 of
a fresh decimal uint32, iLink-App-Id, iLink-App-ClientVersion 132105,
base_info, the sendmessage message shape).  Problems go to f.violations,
which a test asserts empty.

Test control (HTTP, for the standalone mode; the same as methods):
  POST /_test/inject   {"from", "text", ["context_token", "message_id",
                        "group_id", "message_type", "item_list"]}
                        -> {"message_id": n}           f.inject(...)
  POST /_test/media_item {"kind", "data" (hex), ["name"]}: an item_list
                        entry whose bytes the CDN holds  f.media_item(...)
  GET  /_test/sent                                     f.sent
  POST /_test/fail     {"send_ret2": n, "send_http": n, "updates_http": n}
                                                       f.fail(...)
  POST /_test/expire   the current token dies (-14)    f.expire()
  POST /_test/qr       {"script": ["wait", ...], ["verify_code": "..."]}
                                                       f.qr_script = [...]
  POST /_test/qr_now   {"script": [...]}: codes already handed out follow
                       it from their next poll (a scan now)  f.qr_now(...)
  GET  /_test/verify_codes                             f.verify_codes
  GET  /_test/headers  every request: path, method, headers
  GET  /_test/violations                               f.violations
  GET  /_test/state    token, polls, counts
"""

import argparse
import asyncio
import base64
import hashlib
import itertools
import json
import secrets
import subprocess
import threading
import time
import urllib.parse

from aiohttp import web

from fakeserver import ThreadedApp

CLIENT_VERSION = "132105"       # 2.4.9 packed as 0x00MMmmpp, §2.3
FIRST_MESSAGE_ID = 17504133366464211000     # past INT64_MAX, §8.1


def aes_ecb(key, data):
    """AES-128-ECB with PKCS#7 padding, by the openssl command line."""
    return subprocess.run(
        ["openssl", "enc", "-aes-128-ecb", "-K", key.hex(), "-nosalt"],
        input=data, stdout=subprocess.PIPE, check=True).stdout


def aes_ecb_decrypt(key, data):
    """The reverse; None when openssl refuses (a block or the padding)."""
    r = subprocess.run(
        ["openssl", "enc", "-d", "-aes-128-ecb", "-K", key.hex(), "-nosalt"],
        input=data, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return r.stdout if r.returncode == 0 else None


def is_hex32(v):
    return (isinstance(v, str) and len(v) == 32 and
            all(c in "0123456789abcdef" for c in v))


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


MEDIA_KINDS = {"image": (2, "image_item"), "voice": (3, "voice_item"),
               "file": (4, "file_item"), "video": (5, "video_item")}


def cursor_of(n):
    return base64.b64encode(("cur.%d" % n).encode()).decode()


def index_of(cursor):
    if cursor == "":
        return 0
    try:
        s = base64.b64decode(cursor.encode(), validate=True).decode()
        if s.startswith("cur."):
            return int(s[4:])
    except Exception:
        pass
    return None


class FakeIlink(ThreadedApp):
    def __init__(self, longpoll_ms=35000, hold_s=None, token=None,
                 bot_id="a1b2c3d4e5f6@im.bot",
                 user_id="o9cq80_FAKEuSeRiD0000000000@im.wechat",
                 qr_script=("wait", "scaned", "confirmed"), batch_max=10,
                 verify_code="123456", redirect_host="sh.ilinkai.invalid",
                 baseurl=None):
        super().__init__()
        self.longpoll_ms = longpoll_ms
        self.hold_s = longpoll_ms / 1000.0 if hold_s is None else hold_s
        self.bot_id = bot_id
        self.user_id = user_id
        self.qr_script = list(qr_script)
        self.verify_code = verify_code
        self.verify_codes = []      # every verify_code a status poll carried
        self.redirect_host = redirect_host
        self.baseurl = baseurl      # None: f.url
        self.batch_max = batch_max
        self.token = token or self.new_token()
        self.lock = threading.Lock()
        self.messages = []          # every injected message, in order
        self.updates_held = False   # hold_updates(): polls see nothing
        self.polls = []             # cursors of getupdates requests
        self.sent = []              # every sendmessage, with its outcome
        self.requests = []          # path, method, headers of each request
        self.violations = []
        self.unauthorized = 0       # bot calls with a dead or no token
        self.qrcodes = {}           # handle -> remaining script
        self.logins = 0
        self.client_ids = set()
        self.uins = set()
        self.fail_send_ret2 = 0
        self.fail_send_http = 0
        self.fail_updates_http = 0
        self.configs = []           # peers whose typing ticket was asked
        self.typing = []            # (time, peer, status) of sendtyping
        self.fail_config = 0        # getconfig answers ret -1 this often
        self.lifecycle = []         # "start", "poll", "stop" in order
        self.cdn = {}               # encrypt_query_param -> bytes served
        self.cdn_gets = []          # the param of each CDN download
        self.upload_mode = "full"   # getuploadurl: upload_full_url or param
        self.slots = {}             # upload_param -> the slot's request
        self.filekeys = set()
        self.uploadurls = []        # each getuploadurl body
        self.uploads = []           # (slot param, outcome) of each upload
        self.uploaded = {}          # x-encrypted-param -> (slot, plain, ct)
        self.fail_uploadurl_ret = 0
        self.fail_cdn_http = 0
        self.cdn_max = 64 << 20
        self.turn_max = 10          # §7.2: messages per context_token
        self.turns = {}             # context_token -> messages taken
        self.next_id = itertools.count(FIRST_MESSAGE_ID)
        # Python >= 3.10 binds it to the loop that first waits on it.
        self.cond = asyncio.Condition()

    def new_token(self):
        return "%s:%s" % (self.bot_id, secrets.token_hex(19))

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def app(self):
        # An upload is up to IPC_FILE_MAX, padded.
        app = web.Application(client_max_size=64 << 20)
        r = app.router
        r.add_post("/ilink/bot/get_bot_qrcode", self.get_bot_qrcode)
        r.add_get("/ilink/bot/get_qrcode_status", self.get_qrcode_status)
        r.add_post("/ilink/bot/getupdates", self.getupdates)
        r.add_post("/ilink/bot/sendmessage", self.sendmessage)
        r.add_post("/ilink/bot/getconfig", self.getconfig)
        r.add_post("/ilink/bot/msg/notifystart", self.notifystart)
        r.add_post("/ilink/bot/msg/notifystop", self.notifystop)
        r.add_post("/ilink/bot/sendtyping", self.sendtyping)
        r.add_post("/ilink/bot/getuploadurl", self.getuploadurl)
        r.add_post("/c2c/upload", self.cdn_upload)
        r.add_get("/c2c/download", self.cdn_download)
        r.add_get("/c2c/full/{param}", self.cdn_full)
        r.add_post("/_test/inject", self.t_inject)
        r.add_post("/_test/media_item", self.t_media_item)
        r.add_get("/_test/sent", self.t_sent)
        r.add_post("/_test/fail", self.t_fail)
        r.add_post("/_test/expire", self.t_expire)
        r.add_post("/_test/qr", self.t_qr)
        r.add_post("/_test/qr_now", self.t_qr_now)
        r.add_get("/_test/headers", self.t_headers)
        r.add_get("/_test/violations", self.t_violations)
        r.add_get("/_test/verify_codes", self.t_verify_codes)
        r.add_get("/_test/state", self.t_state)
        return app

    def _call(self, fn, *args):
        """Run fn on the server's loop (wakes long polls) and wait."""
        async def go():
            return await fn(*args)
        return asyncio.run_coroutine_threadsafe(go(), self.loop).result(5)

    # -- test API ------------------------------------------------------

    def inject(self, peer, text, **kw):
        """Queue an inbound text message from peer; returns its id."""
        return self._call(self._inject, peer, text, kw)

    def hold_updates(self, on):
        """While on, getupdates hands out nothing, so messages injected
        meanwhile come in one batch once it is off."""
        return self._call(self._hold_updates, on)

    async def _hold_updates(self, on):
        async with self.cond:
            self.updates_held = on
            self.cond.notify_all()

    def fail(self, send_ret2=0, send_http=0, updates_http=0,
             uploadurl_ret=0, cdn_http=0):
        with self.lock:
            self.fail_send_ret2 += send_ret2
            self.fail_send_http += send_http
            self.fail_updates_http += updates_http
            self.fail_uploadurl_ret += uploadurl_ret
            self.fail_cdn_http += cdn_http

    def media_of(self, peer, outcome="ok"):
        """(kind, name, plaintext) of each media message to peer."""
        with self.lock:
            return [(s["kind"], s.get("name"), s["data"]) for s in self.sent
                    if s["to"] == peer and s["outcome"] == outcome and
                    s.get("kind") in ("image", "file")]

    def expire(self):
        """The current token dies: every bot call now gets -14."""
        return self._call(self._expire)

    def ctx_tally(self, peer):
        """Messages taken for peer per context token (§7.2: ten at
        most), and the -2 refusals it was given."""
        with self.lock:
            mine = [x for x in self.sent if x["to"] == peer]
        taken = {}
        for x in mine:
            if x["outcome"] == "ok":
                t = x["context_token"]
                taken[t] = taken.get(t, 0) + 1
        return taken, [x["outcome"] for x in mine
                       if x["outcome"].startswith("-2")]

    def ten_then_the_rest(self, peer, answer, wait_for, timeout=30):
        """§7.2 through a move of the account (a worker or node killed,
        a restart, a drain): an answer of more than ten parts, begun
        on the context token CTX-ONE, spends that token's ten and then
        holds back; the person's next message, on CTX-TWO, brings the
        rest, each part once, and is answered itself.  wait_for is
        conftest's, passed in so that this module stays standalone."""
        wait_for(lambda: self.ctx_tally(peer)[0].get("CTX-ONE", 0) >= 10
                 or self.ctx_tally(peer)[1], timeout, 0.05,
                 "ten on CTX-ONE")
        time.sleep(2.0)         # an eleventh would come now
        taken, refused = self.ctx_tally(peer)
        assert refused == [], refused
        assert taken == {"CTX-ONE": 10}, taken
        with self.lock:
            assert self.violations == [], self.violations
        self.inject(peer, "again", context_token="CTX-TWO")

        def texts():
            with self.lock:
                return [x["text"] for x in self.sent if x["to"] == peer
                        and x["outcome"] == "ok"]

        def rest():
            return [t for t in texts() if t != "echo: again"]
        wait_for(lambda: len("".join(rest())) >= len(answer) and
                 "echo: again" in texts(), 60, 0.1,
                 "the whole answer and the second")
        time.sleep(1.0)         # anything sent twice would come now
        assert "".join(rest()) == answer, [t[:6] for t in rest()]
        taken, refused = self.ctx_tally(peer)
        assert refused == [], refused
        assert taken == {"CTX-ONE": 10, "CTX-TWO": len(rest()) - 10 + 1}, \
            taken
        with self.lock:
            assert self.violations == [], self.violations

    def sent_texts(self, outcome="ok"):
        with self.lock:
            return [s["text"] for s in self.sent if s["outcome"] == outcome]

    def media_item(self, kind, data, key_enc="b64hex", name=None,
                   full_url=False, tamper=False, url=True, declared=None,
                   transcript=None):
        """An item_list entry for data as the CDN would hold it."""
        ty, container = MEDIA_KINDS[kind]
        key = secrets.token_bytes(16)
        body = data if key_enc == "none" else aes_ecb(key, data)
        if tamper:
            body = body[:-1] + bytes([body[-1] ^ 0x5a])
        # Characters that must be escaped in a query, as real ones have.
        param = "P+" + secrets.token_urlsafe(24) + "/=="
        with self.lock:
            self.cdn[param] = body
        media = {"encrypt_type": 1}
        if url and full_url:
            media["full_url"] = "%s/c2c/full/%s" % (
                self.url, secrets.token_hex(4) + "." + param.encode(
                ).hex())
        elif url:
            media["encrypt_query_param"] = param
        c = {"media": media}
        if key_enc == "b64hex":
            media["aes_key"] = base64.b64encode(key.hex().encode()).decode()
        elif key_enc == "b64raw":
            media["aes_key"] = base64.b64encode(key).decode()
        elif key_enc == "hex":
            c["aeskey"] = key.hex()
        elif key_enc == "bad":
            media["aes_key"] = base64.b64encode(key[:12]).decode()
        size = len(body) if declared is None else declared
        if kind == "image":
            c["mid_size"] = size
        elif kind == "video":
            c["video_size"] = size
        elif kind == "file":
            c["file_name"] = name or ""
            c["len"] = str(len(data) if declared is None else declared)
        elif kind == "voice":
            c.update({"encode_type": 6, "sample_rate": 24000,
                      "playtime": 1200})
            if transcript is not None:
                c["text"] = transcript
        return {"type": ty, "msg_id": str(next(self.next_id)),
                container: c}

    # -- checks --------------------------------------------------------

    def violation(self, request, what):
        with self.lock:
            self.violations.append("%s %s: %s" % (request.method,
                                                   request.path, what))

    def check_uin(self, request):
        v = request.headers.get("X-WECHAT-UIN")
        if v is None:
            return self.violation(request, "no X-WECHAT-UIN")
        try:
            dec = base64.b64decode(v.encode(), validate=True).decode()
        except Exception:
            return self.violation(request, "X-WECHAT-UIN is not base64")
        if (not dec.isdigit() or (dec != "0" and dec[0] == "0") or
                int(dec) > 0xffffffff):
            return self.violation(request, "X-WECHAT-UIN is not the "
                                  "decimal text of a uint32: %r" % dec)
        with self.lock:
            if v in self.uins:
                self.violations.append("%s: X-WECHAT-UIN reused" %
                                       request.path)
            self.uins.add(v)

    def check_headers(self, request, kind):
        """kind: "qrcode" (POST, no token), "bot" (POST with token),
        "status" (GET, App headers only)."""
        h = request.headers
        with self.lock:
            self.requests.append({"path": request.path,
                                  "method": request.method,
                                  "headers": dict(h)})
        if h.get("iLink-App-Id") != "bot":
            self.violation(request, "iLink-App-Id %r" %
                           h.get("iLink-App-Id"))
        if h.get("iLink-App-ClientVersion") != CLIENT_VERSION:
            self.violation(request, "iLink-App-ClientVersion %r" %
                           h.get("iLink-App-ClientVersion"))
        if kind == "status":
            for k in ("Authorization", "AuthorizationType", "X-WECHAT-UIN"):
                if k in h:
                    self.violation(request, "%s on a status poll" % k)
            return
        if not h.get("Content-Type", "").startswith("application/json"):
            self.violation(request, "Content-Type %r" %
                           h.get("Content-Type"))
        if h.get("AuthorizationType") != "ilink_bot_token":
            self.violation(request, "AuthorizationType %r" %
                           h.get("AuthorizationType"))
        self.check_uin(request)
        auth = h.get("Authorization")
        if kind == "qrcode":
            if auth is not None:
                self.violation(request, "Authorization on get_bot_qrcode")
            return
        if auth is not None and (not auth.startswith("Bearer ") or
                                 not auth[7:].strip()):
            self.violation(request, "malformed Authorization")

    def authorized(self, request):
        ok = request.headers.get("Authorization") == "Bearer " + self.token
        if not ok:
            with self.lock:
                self.unauthorized += 1
        return ok

    async def body(self, request, base_info=True):
        try:
            b = json.loads(await request.read())
        except Exception:
            self.violation(request, "body is not JSON")
            return {}
        if not isinstance(b, dict):
            self.violation(request, "body is not an object")
            return {}
        bi = b.get("base_info")
        if base_info and (not isinstance(bi, dict) or
                          bi.get("channel_version") != "2.4.9" or
                          not bi.get("bot_agent")):
            self.violation(request, "base_info %r" % (bi,))
        if not base_info and bi is not None:
            self.violation(request, "base_info on get_bot_qrcode")
        return b

    # -- protocol ------------------------------------------------------

    async def get_bot_qrcode(self, request):
        self.check_headers(request, "qrcode")
        b = await self.body(request, base_info=False)
        if request.query.get("bot_type") != "3":
            self.violation(request, "bot_type %r" %
                           request.query.get("bot_type"))
        if not isinstance(b.get("local_token_list"), list):
            self.violation(request, "no local_token_list")
        q = secrets.token_hex(16)
        with self.lock:
            self.qrcodes[q] = list(self.qr_script)
        return web.json_response({
            "qrcode": q, "ret": 0,
            "qrcode_img_content": "https://liteapp.weixin.qq.com/q/fake?"
                                  "qrcode=%s&bot_type=3" % q})

    async def get_qrcode_status(self, request):
        self.check_headers(request, "status")
        q = request.query.get("qrcode", "")
        code = request.query.get("verify_code")
        with self.lock:
            if code is not None:
                self.verify_codes.append(code)
            script = self.qrcodes.get(q)
            if script is None:
                st = "expired"
            else:
                # §4.2: the right code gets past need_verifycode, at once.
                if (script[0] == "need_verifycode" and
                        code == self.verify_code):
                    if len(script) > 1:
                        script.pop(0)
                    else:
                        script[0] = "scaned"
                if script[0] == "need_verifycode":
                    st = script[0]
                else:
                    st = script.pop(0) if len(script) > 1 else script[0]
        resp = {"status": st, "ret": 0}
        if st == "confirmed":
            with self.lock:
                if script is not None and len(script) == 1:
                    script[0] = "expired"   # a QR code confirms once
                self.token = self.new_token()
                self.logins += 1
            resp.update({"bot_token": self.token, "ilink_bot_id": self.bot_id,
                         "baseurl": (self.url if self.baseurl is None
                                     else self.baseurl),
                         "ilink_user_id": self.user_id})
        elif st == "scaned_but_redirect":
            resp["redirect_host"] = self.redirect_host
        return web.json_response(resp)

    async def getupdates(self, request):
        self.check_headers(request, "bot")
        b = await self.body(request)
        cur = b.get("get_updates_buf")
        with self.lock:
            self.polls.append(cur)
            if not self.lifecycle or self.lifecycle[-1] != "poll":
                self.lifecycle.append("poll")
        if not isinstance(cur, str):
            self.violation(request, "get_updates_buf %r" % (cur,))
            cur = ""
        n = index_of(cur)
        if n is None:
            self.violation(request, "unknown cursor %r" % cur)
            n = 0
        with self.lock:
            if self.fail_updates_http > 0:
                self.fail_updates_http -= 1
                return web.Response(status=500, text="fake failure")
        if not self.authorized(request):
            return web.json_response({"errcode": -14,
                                      "errmsg": "session timeout"})
        token = self.token
        deadline = time.monotonic() + self.hold_s
        async with self.cond:
            while ((len(self.messages) <= n or self.updates_held) and
                   self.token == token):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    await asyncio.wait_for(self.cond.wait(), left)
                except asyncio.TimeoutError:
                    break
            if self.token != token:
                return web.json_response({"errcode": -14,
                                          "errmsg": "session timeout"})
            msgs = ([] if self.updates_held else
                    self.messages[n:n + self.batch_max])
        # Bare JSON numbers for the uint64 ids, as the real server sends.
        return web.Response(content_type="application/json", text=json.dumps({
            "ret": 0, "msgs": msgs,
            "get_updates_buf": cursor_of(n + len(msgs)) if msgs else "",
            "longpolling_timeout_ms": self.longpoll_ms}))

    def check_send(self, request, b):
        msg = b.get("msg")
        if not isinstance(msg, dict):
            self.violation(request, "no msg")
            return None
        for k, v in (("from_user_id", ""), ("message_type", 2),
                     ("message_state", 2)):
            if msg.get(k) != v:
                self.violation(request, "msg.%s %r" % (k, msg.get(k)))
        items = msg.get("item_list")
        if not isinstance(items, list) or len(items) != 1 or \
                not isinstance(items[0], dict):
            self.violation(request, "item_list %r" % (items,))
            return None
        item = items[0]
        rec = {"to": msg.get("to_user_id"), "text": None, "kind": "text",
               "context_token": msg.get("context_token"),
               "time": time.monotonic()}
        if item.get("type") == 1:
            t = item.get("text_item", {}).get("text")
            if not isinstance(t, str) or not t:
                self.violation(request, "item_list %r" % (items,))
                return None
            rec["text"] = t
        elif item.get("type") in (2, 4):
            if not self.check_media_item(request, item, rec):
                return None
        else:
            self.violation(request, "item type %r (voice never plays, "
                           "§6.4)" % item.get("type"))
            return None
        cid = msg.get("client_id")
        if not isinstance(cid, str) or not cid.startswith("wxgate:"):
            self.violation(request, "client_id %r" % cid)
        rec["client_id"] = cid
        return rec

    def check_media_item(self, request, item, rec):
        """§5.6, §6.1, §6.2: an image or file item naming an upload,
        whose ciphertext decrypts with the key the item carries."""
        image = item["type"] == 2
        c = item.get("image_item" if image else "file_item")
        if not isinstance(c, dict) or not isinstance(c.get("media"), dict):
            self.violation(request, "media item %r" % (item,))
            return False
        m = c["media"]
        with self.lock:
            up = self.uploaded.get(m.get("encrypt_query_param"))
        if up is None:
            self.violation(request, "encrypt_query_param the CDN never "
                           "gave")
            return False
        slot, plain, ct = up
        if m.get("encrypt_type") != 1:
            self.violation(request, "encrypt_type %r" % m.get("encrypt_type"))
        try:
            khex = base64.b64decode(m.get("aes_key", "").encode(),
                                    validate=True).decode()
        except Exception:
            khex = ""
        if not is_hex32(khex):
            self.violation(request, "aes_key is not base64 of 32 lowercase "
                           "hex characters: %r" % m.get("aes_key"))
            return False
        if khex != slot["aeskey"]:
            self.violation(request, "aes_key is not getuploadurl's aeskey")
        got = aes_ecb_decrypt(bytes.fromhex(khex), ct)
        if got != plain:
            self.violation(request, "the CDN's ciphertext does not decrypt "
                           "with the item's aes_key")
            return False
        if rec["to"] != slot["to_user_id"]:
            self.violation(request, "sent to %r, uploaded for %r" %
                           (rec["to"], slot["to_user_id"]))
        if image:
            if slot["media_type"] != 1:
                self.violation(request, "an image item for media_type %r" %
                               slot["media_type"])
            if c.get("mid_size") != len(ct):
                self.violation(request, "mid_size %r, ciphertext %d" %
                               (c.get("mid_size"), len(ct)))
            rec["kind"] = "image"
        else:
            if slot["media_type"] != 3:
                self.violation(request, "a file item for media_type %r" %
                               slot["media_type"])
            if c.get("len") != str(len(plain)):
                self.violation(request, "file_item.len %r, plaintext %d" %
                               (c.get("len"), len(plain)))
            name = c.get("file_name")
            if not isinstance(name, str) or not name or "/" in name:
                self.violation(request, "file_name %r" % (name,))
            rec["kind"] = "file"
            rec["name"] = name
        rec["data"] = plain
        return True

    async def getuploadurl(self, request):
        """§3.5: every field as the note says."""
        self.check_headers(request, "bot")
        b = await self.body(request)
        with self.lock:
            self.uploadurls.append(b)
        bad = []
        for k in ("filekey", "aeskey", "rawfilemd5"):
            if not is_hex32(b.get(k)):
                bad.append("%s %r" % (k, b.get(k)))
        if b.get("media_type") not in (1, 3):
            bad.append("media_type %r" % b.get("media_type"))
        to = b.get("to_user_id")
        if not isinstance(to, str) or not to:
            bad.append("to_user_id %r" % (to,))
        raw, fs = b.get("rawsize"), b.get("filesize")
        if not is_int(raw) or raw < 0:
            bad.append("rawsize %r" % (raw,))
        elif fs != (raw // 16 + 1) * 16:
            bad.append("filesize %r for rawsize %d" % (fs, raw))
        if b.get("no_need_thumb") is not True:
            bad.append("no_need_thumb %r" % b.get("no_need_thumb"))
        for k in ("thumb_rawsize", "thumb_rawfilemd5", "thumb_filesize"):
            if k in b:
                bad.append("%s without a thumbnail" % k)
        for what in bad:
            self.violation(request, what)
        if not self.authorized(request):
            return web.json_response({"errcode": -14,
                                      "errmsg": "session timeout"})
        with self.lock:
            if b.get("filekey") in self.filekeys:
                self.violations.append("getuploadurl: filekey reused")
            self.filekeys.add(b.get("filekey"))
            if self.fail_uploadurl_ret > 0:
                self.fail_uploadurl_ret -= 1
                return web.json_response({"ret": -1, "errmsg": "busy"})
            if bad:
                return web.json_response({"ret": -1,
                                          "errmsg": "invalid arguments"})
            # Characters a query must escape, as real ones have.
            param = "U+" + secrets.token_urlsafe(18) + "/="
            self.slots[param] = dict(b, used=False)
            mode = self.upload_mode
        resp = {"upload_param": param, "thumb_upload_param": "", "ret": 0}
        if mode in ("full", "elsewhere"):
            # "elsewhere": off the CDN's host (§8.21), to be refused.
            base = self.url if mode == "full" else \
                self.url.replace("127.0.0.1", "127.0.0.2")
            resp["upload_full_url"] = (
                "%s/c2c/upload?encrypted_query_param=%s&filekey=%s" % (
                    base, urllib.parse.quote(param, safe=""),
                    b["filekey"]))
        return web.json_response(resp)

    async def cdn_upload(self, request):
        """§3.9: the slot's ciphertext in; x-encrypted-param out."""
        self.cdn_check(request)
        if request.headers.get("Content-Type") != \
                "application/octet-stream":
            self.violation(request, "CDN upload Content-Type %r" %
                           request.headers.get("Content-Type"))
        raw = request.rel_url.raw_query_string
        if any(c in raw.split("&")[0][len("encrypted_query_param="):]
               for c in "+/="):
            self.violation(request, "upload_param not escaped")
        param = request.query.get("encrypted_query_param", "")
        ct = await request.read()
        with self.lock:
            slot = self.slots.get(param)
            if slot is None:
                self.violations.append("CDN upload: unknown slot")
                return web.Response(status=400, text="no such slot")
            if request.query.get("filekey") != slot["filekey"]:
                self.violations.append("CDN upload: filekey %r" %
                                       request.query.get("filekey"))
            if slot["used"]:
                self.violations.append("CDN upload: a slot used twice")
            slot["used"] = True
            if self.fail_cdn_http > 0:
                self.fail_cdn_http -= 1
                self.uploads.append((param, "http500"))
                return web.Response(status=500, text="fake failure")
            if len(ct) > self.cdn_max:
                self.uploads.append((param, "413"))
                return web.Response(status=413, text="too large",
                                    headers={"x-error-message":
                                             "file too large"})
        if len(ct) != slot["filesize"]:
            self.violation(request, "uploaded %d bytes, filesize %r" %
                           (len(ct), slot["filesize"]))
        plain = aes_ecb_decrypt(bytes.fromhex(slot["aeskey"]), ct)
        if plain is None:
            self.violation(request, "the upload does not decrypt with "
                           "the slot's aeskey")
            return web.Response(status=400, text="bad ciphertext")
        if len(plain) != slot["rawsize"]:
            self.violation(request, "plaintext %d bytes, rawsize %r" %
                           (len(plain), slot["rawsize"]))
        if hashlib.md5(plain).hexdigest() != slot["rawfilemd5"]:
            self.violation(request, "rawfilemd5 is not the plaintext's")
        dl = "D+" + secrets.token_urlsafe(24) + "=="
        with self.lock:
            self.uploaded[dl] = (slot, plain, ct)
            self.cdn[dl] = ct
            self.uploads.append((param, "ok"))
        return web.Response(status=200, text="",
                            headers={"x-encrypted-param": dl})

    async def sendmessage(self, request):
        self.check_headers(request, "bot")
        b = await self.body(request)
        rec = self.check_send(request, b) or {"to": None, "text": None,
                                              "kind": None}
        ok = self.authorized(request)
        with self.lock:
            if not ok:
                rec["outcome"] = "-14"
                resp = {"errcode": -14, "errmsg": "session timeout"}
            elif self.fail_send_http > 0:
                self.fail_send_http -= 1
                rec["outcome"] = "http500"
                resp = None
            elif rec.get("client_id") in self.client_ids:
                rec["outcome"] = "dup"
                resp = {"ret": 0}
            elif self.turns.get(rec.get("context_token"), 0) >= \
                    self.turn_max:
                # §7.2: the 11th message of one user message is refused.
                rec["outcome"] = "-2 turn"
                resp = {"ret": -2, "errmsg": "prepare failed"}
                self.client_ids.add(rec.get("client_id"))
                self.violations.append("sendmessage: past %d messages on "
                                       "one context_token" % self.turn_max)
            elif self.fail_send_ret2 > 0:
                self.fail_send_ret2 -= 1
                rec["outcome"] = "-2"
                resp = {"ret": -2, "errmsg": "prepare failed"}
                self.client_ids.add(rec.get("client_id"))
            else:
                self.client_ids.add(rec.get("client_id"))
                rec["outcome"] = "ok"
                ctx = rec.get("context_token")
                self.turns[ctx] = self.turns.get(ctx, 0) + 1
                resp = {"ret": 0, "message_id": next(self.next_id)}
            self.sent.append(rec)
        if resp is None:
            return web.Response(status=500, text="fake failure")
        return web.Response(content_type="application/json",
                            text=json.dumps(resp))

    async def notify(self, request, what):
        """§3.8: base_info alone, a token required, answered ret 0."""
        self.check_headers(request, "bot")
        b = await self.body(request)
        if set(b) != {"base_info"}:
            self.violation(request, "%s body %r" % (what, sorted(b)))
        if not self.authorized(request):
            self.violation(request, "%s without a live token" % what)
        with self.lock:
            self.lifecycle.append(what)
        return web.json_response({"ret": 0, "errmsg": ""})

    async def notifystart(self, request):
        return await self.notify(request, "start")

    async def notifystop(self, request):
        return await self.notify(request, "stop")

    @staticmethod
    def ticket_of(peer):
        return "TICKET-" + peer.split("@")[0]

    async def getconfig(self, request):
        """§3.6: the peer's typing ticket, ret 0."""
        self.check_headers(request, "bot")
        b = await self.body(request)
        peer = b.get("ilink_user_id")
        if not isinstance(peer, str) or not peer:
            self.violation(request, "getconfig without ilink_user_id")
        if not self.authorized(request):
            return web.json_response({"errcode": -14,
                                      "errmsg": "session timeout"})
        with self.lock:
            self.configs.append(peer)
            if self.fail_config > 0:
                self.fail_config -= 1
                return web.json_response({"ret": -1, "errmsg": "busy"})
        return web.json_response({"ret": 0, "errmsg": "",
                                  "typing_ticket": self.ticket_of(peer)})

    async def sendtyping(self, request):
        """§3.7: status 1 or 2, with the ticket getconfig gave for
        that peer (never typing without one)."""
        self.check_headers(request, "bot")
        b = await self.body(request)
        peer = b.get("ilink_user_id")
        st = b.get("status")
        if st not in (1, 2):
            self.violation(request, "typing status %r" % st)
        if not isinstance(peer, str) or \
                b.get("typing_ticket") != self.ticket_of(peer):
            self.violation(request, "typing ticket %r for %r" %
                           (b.get("typing_ticket"), peer))
        with self.lock:
            if peer not in self.configs:
                self.violations.append("sendtyping before getconfig")
            self.typing.append((time.monotonic(), peer, st))
        return web.json_response({"ret": 0})

    def typing_of(self, peer):
        with self.lock:
            return [(t, s) for t, p, s in self.typing if p == peer]

    def cdn_check(self, request):
        """§2.1: no bot header goes to the CDN."""
        with self.lock:
            self.requests.append({"path": request.path,
                                  "method": request.method,
                                  "headers": dict(request.headers)})
        for k in ("Authorization", "AuthorizationType", "X-WECHAT-UIN",
                  "iLink-App-Id", "iLink-App-ClientVersion"):
            if k in request.headers:
                self.violation(request, "%s sent to the CDN" % k)

    def cdn_serve(self, request, param):
        with self.lock:
            self.cdn_gets.append(param)
            body = self.cdn.get(param)
        if body is None:
            self.violation(request, "unknown encrypt_query_param")
            return web.Response(status=404, text="no such media")
        return web.Response(body=body,
                            content_type="application/octet-stream")

    async def cdn_download(self, request):
        self.cdn_check(request)
        # The raw query: the worker must have escaped '+', '/' and '='.
        raw = request.rel_url.raw_query_string
        if not raw.startswith("encrypted_query_param=") or "&" in raw:
            self.violation(request, "CDN query %r" % raw)
        elif any(c in raw[len("encrypted_query_param="):] for c in "+/="):
            self.violation(request, "encrypt_query_param not escaped")
        return self.cdn_serve(request,
                              request.query.get("encrypted_query_param", ""))

    async def cdn_full(self, request):
        self.cdn_check(request)
        try:
            param = bytes.fromhex(request.match_info["param"].split(".")[1]
                                  ).decode()
        except Exception:
            param = ""
        return self.cdn_serve(request, param)

    # -- control -------------------------------------------------------

    async def _inject(self, peer, text, kw):
        mid = kw.get("message_id")
        if mid is None:
            mid = next(self.next_id)
        m = {"seq": len(self.messages) + 1, "message_id": mid,
             "from_user_id": peer, "to_user_id": self.bot_id,
             "client_id": "fake_inbox_%d" % len(self.messages),
             "create_time_ms": int(time.time() * 1000), "session_id": "",
             "message_type": kw.get("message_type", 1), "message_state": 2,
             "context_token": kw.get("context_token",
                                     "AARzJWAF" + secrets.token_hex(8)),
             "item_list": kw.get("item_list",
                                 [{"type": 1, "msg_id": str(mid + 1),
                                   "text_item": {"text": text}}])}
        if kw.get("group_id") is not None:
            m["group_id"] = kw["group_id"]
        async with self.cond:
            self.messages.append(m)
            self.cond.notify_all()
        return mid

    async def _expire(self):
        async with self.cond:
            self.token = "dead:" + secrets.token_hex(8)
            self.cond.notify_all()

    async def t_inject(self, request):
        b = await request.json()
        kw = {k: b[k] for k in ("context_token", "message_id", "group_id",
                                "message_type", "item_list") if k in b}
        mid = await self._inject(b["from"], b.get("text", ""), kw)
        return web.json_response({"message_id": mid})

    async def t_media_item(self, request):
        b = await request.json()
        return web.json_response(self.media_item(
            b["kind"], bytes.fromhex(b["data"]), name=b.get("name")))

    async def t_sent(self, request):
        with self.lock:
            return web.json_response([
                dict(x, data=x["data"].hex()) if "data" in x else x
                for x in self.sent])

    async def t_fail(self, request):
        b = await request.json()
        self.fail(b.get("send_ret2", 0), b.get("send_http", 0),
                  b.get("updates_http", 0), b.get("uploadurl_ret", 0),
                  b.get("cdn_http", 0))
        return web.json_response({"ok": True})

    async def t_expire(self, request):
        await self._expire()
        return web.json_response({"ok": True})

    async def t_qr(self, request):
        b = await request.json()
        with self.lock:
            self.qr_script = list(b["script"])
            if "verify_code" in b:
                self.verify_code = b["verify_code"]
        return web.json_response({"ok": True})

    async def t_qr_now(self, request):
        """The codes already handed out follow this script from their
        next status poll on: a person scanning (and confirming) now."""
        b = await request.json()
        self.qr_now(b["script"])
        return web.json_response({"ok": True})

    def qr_now(self, script):
        with self.lock:
            for q in self.qrcodes:
                self.qrcodes[q] = list(script)

    async def t_verify_codes(self, request):
        with self.lock:
            return web.json_response(self.verify_codes)

    async def t_headers(self, request):
        with self.lock:
            return web.json_response(self.requests)

    async def t_violations(self, request):
        with self.lock:
            return web.json_response(self.violations)

    async def t_state(self, request):
        with self.lock:
            return web.json_response({
                "token": self.token, "bot_id": self.bot_id,
                "user_id": self.user_id, "logins": self.logins,
                "polls": self.polls, "messages": len(self.messages),
                "sent": len(self.sent), "unauthorized": self.unauthorized,
                "qrcodes": len(self.qrcodes)})


async def _on_startup(app):
    fake = app["fake"]
    fake.loop = asyncio.get_running_loop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=8790)
    ap.add_argument("--longpoll-ms", type=int, default=35000)
    ap.add_argument("--token", help="the bot token that starts valid")
    ap.add_argument("--qr-script", default="wait,scaned,confirmed",
                    help="statuses a new QR code goes through, by commas")
    ap.add_argument("--user-id", default=None,
                    help="the ilink_user_id a confirmed login names")
    a = ap.parse_args()
    kw = {"user_id": a.user_id} if a.user_id is not None else {}
    fake = FakeIlink(longpoll_ms=a.longpoll_ms, token=a.token,
                     qr_script=tuple(a.qr_script.split(",")), **kw)
    app = fake.app()
    app["fake"] = fake
    app.on_startup.append(_on_startup)
    fake.port = a.port
    print("fake iLink on %s, token %s" % (fake.url, fake.token), flush=True)
    web.run_app(app, host="127.0.0.1", port=a.port, print=None)


if __name__ == "__main__":
    main()
