"""A fake WeChat Official Account / WeCom self-built app platform for
the callback worker's tests (workers/callback/), written from
shared/protocols/wecom.md parts C and D, not from the worker.

WXCrypt is WXBizMsgCrypt in Python (C.2-C.4): the key from 43
characters, SHA1 over the sorted strings, AES-256-CBC with the 32-byte
PKCS#7 pad, random[16] | len[4, big-endian] | msg | receiveid.  Its
decrypt checks every pad byte and the layout, so a passive reply the
worker writes badly fails the test.

FakeMP plays both sides of the platform:
- as the caller, post() sends a callback (GET verification or a POST
  message, encrypted unless OA plain mode) to the worker's listener and
  returns the status and the reply, opened and checked (C.6: the
  envelope's signature over our token, the receive id, D.3's XML);
- as the API, it serves on its own loopback port OA's stable_token and
  message/custom/send, or WeCom's gettoken and message/send (D.1, D.4),
  checking each request: the method, the JSON, the token the newest
  one issued, the secret, a text of at most 2048 bytes, no \\u escapes;
  and media/get (D.5) for the images users send (.media by media_id)
  and their videos (.videos by media_id): a WeCom app's media/get
  answers a video's bytes, an OA's {"video_url": ...} naming
  /video/<media_id> on this server (or .video_urls[media_id] when a
  test sets one), which then serves the bytes; .video_gets counts those
  fetches, .media_delay and .video_delay hold each answer that many
  seconds.
  A broken rule is appended to .violations (tests assert it stays
  empty).  .fail_next queues errcodes to answer sends with (42001 also
  expires the token it was given; "invaliduser" answers WeCom's errcode 0
  naming the user as not reached), .sent lists (touser, content) of
  each accepted send, .token_fetches counts token requests.
"""

import asyncio
import base64
import hashlib
import http.client
import json
import os
import re
import struct
import threading
import time
import xml.etree.ElementTree as ET

from aiohttp import web
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from fakeserver import ThreadedApp

TEXT_MAX = 2048
ERRMSG = {
    0: "ok",
    40001: "invalid credential, access_token is invalid or not latest",
    42001: "access_token expired",
    45015: "response out of time limit or subscription is canceled",
    48001: "api unauthorized",
}


class WXCrypt:
    def __init__(self, token, key43, receiveid):
        assert len(key43) == 43
        self.token = token
        self.key = base64.b64decode(key43 + "=")
        assert len(self.key) == 32
        self.rid = receiveid.encode()

    def sign(self, *parts):
        return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()

    def encrypt(self, msg, random16=None, rid=None, pad_fix=None):
        rid = self.rid if rid is None else rid
        plain = (random16 or os.urandom(16)) + struct.pack(">I", len(msg)) \
            + msg + rid
        p = 32 - len(plain) % 32
        padded = plain + bytes([p]) * p
        if pad_fix is not None:
            padded = pad_fix(padded)
        enc = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])
                     ).encryptor()
        return base64.b64encode(enc.update(padded) + enc.finalize()).decode()

    def decrypt(self, b64):
        raw = base64.b64decode(b64, validate=True)
        assert raw and len(raw) % 32 == 0, "ciphertext length %d" % len(raw)
        dec = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])
                     ).decryptor()
        padded = dec.update(raw) + dec.finalize()
        p = padded[-1]
        assert 1 <= p <= 32 and padded[-p:] == bytes([p]) * p, "bad pad"
        plain = padded[:-p]
        n = struct.unpack(">I", plain[16:20])[0]
        assert 20 + n <= len(plain), "bad length"
        return plain[20:20 + n], plain[20 + n:]


def text_xml(to, frm, content, msgid, ctime=None):
    return ("<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName>"
            "<![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime>"
            "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]>"
            "</Content><MsgId>%d</MsgId></xml>" %
            (to, frm, ctime or int(time.time()), content, msgid)).encode()


class FakeMP(ThreadedApp):
    def __init__(self, wecom=False, app_id="wxFAKEAPPID00001",
                 corp_id="wwFAKECORPID0001", agent_id=1000002):
        super().__init__()
        self.wecom = wecom
        self.id = corp_id if wecom else app_id
        self.agent_id = agent_id
        self.token = "FakeToken123"
        self.key43 = base64.b64encode(os.urandom(32)).decode()[:43]
        # Letters and digits only (C.2): retry until there are no + /.
        while not re.fullmatch(r"[A-Za-z0-9]{43}", self.key43):
            self.key43 = base64.b64encode(os.urandom(32)).decode()[:43]
        self.secret = "FakeSecret" + os.urandom(8).hex()
        self.crypt = WXCrypt(self.token, self.key43, self.id)
        self.account_user = "gh_fake0001" if not wecom else corp_id
        self.lock = threading.Lock()
        self.violations = []
        self.sent = []
        self.fail_next = []
        self.token_fetches = 0
        self.access = None
        self.expired = set()
        self.listen_port = None
        # D.5: what media/get serves, by media_id.
        self.media = {"FAKEmedia02": b"\x89PNG\r\n\x1a\n" +
                      bytes(range(256)) * 40,
                      "FAKEmedia03": b"#!AMR\n" + bytes(range(200)) * 8}
        self.media_gets = 0
        self.videos = {"FAKEvideo01": b"\x00\x00\x00\x18ftypmp42" +
                       bytes(range(256)) * 60}
        self.video_urls = {}
        self.video_gets = 0
        self.media_delay = 0
        self.video_delay = 0

    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def violation(self, what):
        with self.lock:
            self.violations.append(what)

    # -- the API side (D.1, D.4) -----------------------------------------

    def app(self):
        a = web.Application()
        if self.wecom:
            a.router.add_get("/cgi-bin/gettoken", self.gettoken)
            a.router.add_post("/cgi-bin/message/send", self.send)
        else:
            a.router.add_post("/cgi-bin/stable_token", self.stable_token)
            a.router.add_post("/cgi-bin/message/custom/send", self.send)
        a.router.add_get("/cgi-bin/media/get", self.media_get)
        a.router.add_get("/video/{mid}", self.video_get)
        a.router.add_get("/moved/{mid}", self.moved)
        return a

    async def media_get(self, req):
        """D.5: the bytes of a media_id, or 40007 as JSON."""
        await asyncio.sleep(self.media_delay)
        with self.lock:
            self.media_gets += 1
            if req.query.get("access_token") != self.access:
                self.violations.append("media/get: a token never issued")
                return web.json_response({"errcode": 40001,
                                          "errmsg": ERRMSG[40001]})
            mid = req.query.get("media_id")
            data = self.media.get(mid)
            video = self.videos.get(mid)
            url = self.video_urls.get(mid)
        if video is not None or url is not None:
            if self.wecom:
                if video is None:
                    return web.json_response({"errcode": 40007,
                                              "errmsg": "invalid media_id"})
                return web.Response(body=video, content_type="video/mp4")
            # D.5: an OA answers a video with where to fetch it.
            return web.json_response({"video_url": url or "%s/video/%s" %
                                      (self.url(), mid)})
        if data is None:
            return web.json_response({"errcode": 40007,
                                      "errmsg": "invalid media_id"})
        return web.Response(body=data, content_type="image/png")

    async def video_get(self, req):
        """The OA's video_url: the bytes, 404 when there are none."""
        await asyncio.sleep(self.video_delay)
        with self.lock:
            self.video_gets += 1
            data = self.videos.get(req.match_info["mid"])
        if data is None:
            return web.Response(status=404, text="not found")
        return web.Response(body=data, content_type="video/mp4")

    async def moved(self, req):
        """A video_url that redirects elsewhere: never to be followed."""
        raise web.HTTPFound("%s/video/%s" % (self.url(),
                                             req.match_info["mid"]))

    def _issue(self):
        with self.lock:
            self.token_fetches += 1
            if self.access is None or self.access in self.expired:
                self.access = "ACCESS" + os.urandom(12).hex()
            return self.access

    async def stable_token(self, req):
        try:
            body = json.loads(await req.text())
        except ValueError:
            self.violation("stable_token: not JSON")
            return web.json_response({"errcode": 40002})
        want = {"grant_type": "client_credential", "appid": self.id,
                "secret": self.secret, "force_refresh": False}
        if body != want:
            self.violation("stable_token: %r" % {k: v for k, v in
                           body.items() if k != "secret"})
            return web.json_response({"errcode": 40013,
                                      "errmsg": "invalid appid"})
        return web.json_response({"access_token": self._issue(),
                                  "expires_in": 7200})

    async def gettoken(self, req):
        q = req.query
        if q.get("corpid") != self.id or q.get("corpsecret") != self.secret:
            self.violation("gettoken: wrong corpid or secret")
            return web.json_response({"errcode": 40001,
                                      "errmsg": "invalid secret"})
        return web.json_response({"errcode": 0, "errmsg": "ok",
                                  "access_token": self._issue(),
                                  "expires_in": 7200})

    async def send(self, req):
        tok = req.query.get("access_token")
        raw = await req.read()
        if req.content_type != "application/json":
            self.violation("send: Content-Type %s" % req.content_type)
        if b"\\u" in raw:
            self.violation("send: \\u escapes (D.6)")
        try:
            body = json.loads(raw)
        except ValueError:
            self.violation("send: not JSON")
            return web.json_response({"errcode": 47001})
        keys = {"touser", "msgtype", "text"} | \
            ({"agentid"} if self.wecom else set())
        if set(body) != keys or body.get("msgtype") != "text" or \
                set(body["text"]) != {"content"}:
            self.violation("send: keys %r" % sorted(body))
        if self.wecom and body.get("agentid") != self.agent_id:
            self.violation("send: agentid %r" % body.get("agentid"))
        content = body.get("text", {}).get("content", "")
        if len(content.encode()) > TEXT_MAX:
            self.violation("send: %d bytes" % len(content.encode()))
        with self.lock:
            if tok in self.expired:
                self.violations.append("send: an expired token again")
                return web.json_response({"errcode": 42001,
                                          "errmsg": ERRMSG[42001]})
            if tok != self.access:
                self.violations.append("send: a token never issued")
                return web.json_response({"errcode": 40001,
                                          "errmsg": ERRMSG[40001]})
            if self.fail_next:
                code = self.fail_next.pop(0)
                if code == "invaliduser":
                    # D.4: errcode 0, the user named as not reached.
                    return web.json_response({
                        "errcode": 0, "errmsg": "ok",
                        "invaliduser": body["touser"].lower()})
                if code == 42001:
                    self.expired.add(tok)
                return web.json_response({"errcode": code,
                                          "errmsg": ERRMSG.get(code, "x")})
            self.sent.append((body["touser"], content))
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def contents(self, to=None):
        with self.lock:
            return [c for t, c in self.sent if to is None or t == to]

    # -- the caller side (C.5, C.6) --------------------------------------

    def request(self, method, query, body=None, timeout=15, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.listen_port,
                                       timeout=timeout)
        try:
            h = {"Host": "wx.example.com"}
            h.update(headers or {})
            path = "/wx?" + "&".join("%s=%s" % (k, quote(v))
                                     for k, v in query.items())
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def verify(self, echo=b"verify-me+/=", ts=None, nonce="n0nce42",
               tamper=False):
        """C.5's GET, WeCom's or OA's; returns (status, body)."""
        ts = str(ts or int(time.time()))
        if self.wecom:
            e = self.crypt.encrypt(echo)
            sig = self.crypt.sign(self.token, ts, nonce, e)
            q = {"msg_signature": sig, "timestamp": ts, "nonce": nonce,
                 "echostr": e}
        else:
            e = echo.decode()
            sig = self.crypt.sign(self.token, ts, nonce)
            q = {"signature": sig, "timestamp": ts, "nonce": nonce,
                 "echostr": e}
        if tamper:
            k = "msg_signature" if self.wecom else "signature"
            q[k] = ("0" if q[k][0] != "0" else "1") + q[k][1:]
        return self.request("GET", q)

    def envelope(self, msg, ts, nonce, **enc):
        e = self.crypt.encrypt(msg, **enc)
        sig = self.crypt.sign(self.token, ts, nonce, e)
        if self.wecom:
            body = ("<xml><ToUserName><![CDATA[%s]]></ToUserName><AgentID>"
                    "<![CDATA[%d]]></AgentID><Encrypt><![CDATA[%s]]>"
                    "</Encrypt></xml>" % (self.id, self.agent_id, e))
        else:
            body = ("<xml><ToUserName><![CDATA[gh_fake0001]]></ToUserName>"
                    "<Encrypt><![CDATA[%s]]></Encrypt></xml>" % e)
        return body.encode(), sig

    def post_plain(self, msg, ts=None, nonce=None):
        """OA plain mode (C.6): the message as it is, signed with the
        three-string signature; returns (status, reply)."""
        ts = str(ts or int(time.time()))
        nonce = nonce or os.urandom(5).hex()
        q = {"signature": self.crypt.sign(self.token, ts, nonce),
             "timestamp": ts, "nonce": nonce, "openid": "oFAKEopenid0001"}
        status, out = self.request("POST", q, msg)
        if status != 200 or out in (b"", b"success"):
            return status, out.decode() or None
        if b"<Encrypt>" in out:
            self.violation("plain mode answered encrypted")
        return status, out.decode()

    def post(self, msg, ts=None, nonce=None, tamper=False, raw=None,
             **enc):
        """One callback POST of the plaintext message msg (bytes), as
        C.6 says; returns (status, reply) where reply is None for an
        empty answer, "success", or the opened reply's XML text."""
        ts = str(ts or int(time.time()))
        nonce = nonce or os.urandom(5).hex()
        body, sig = self.envelope(msg, ts, nonce, **enc)
        if raw is not None:
            body = raw
        if tamper:
            sig = ("0" if sig[0] != "0" else "1") + sig[1:]
        q = {"msg_signature": sig, "timestamp": ts, "nonce": nonce}
        if not self.wecom:
            q.update({"signature": self.crypt.sign(self.token, ts, nonce),
                      "openid": "oFAKEopenid0001", "encrypt_type": "aes"})
        status, out = self.request("POST", q, body)
        return status, self.open_reply(status, out)

    def open_reply(self, status, out):
        if status != 200 or out == b"":
            return None
        if out == b"success":
            if self.wecom:
                self.violation("WeCom answered with success")
            return "success"
        env = ET.fromstring(out)
        enc = env.findtext("Encrypt")
        sig = env.findtext("MsgSignature")
        ts = env.findtext("TimeStamp")
        nonce = env.findtext("Nonce")
        if None in (enc, sig, ts, nonce):
            self.violation("reply envelope: %r" % out[:200])
            return None
        if self.crypt.sign(self.token, ts, nonce, enc) != sig:
            self.violation("reply: bad MsgSignature")
        msg, rid = self.crypt.decrypt(enc)
        if rid != self.crypt.rid:
            self.violation("reply: receiveid %r" % rid)
        return msg.decode()


def quote(v):
    from urllib.parse import quote as q
    return q(v, safe="")


def reply_content(xml_text, to):
    """D.3: a text reply to `to`; its Content."""
    m = ET.fromstring(xml_text)
    assert m.findtext("ToUserName") == to, xml_text
    assert m.findtext("MsgType") == "text", xml_text
    assert int(m.findtext("CreateTime")) > 0
    return m.findtext("Content")
