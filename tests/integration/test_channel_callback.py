"""The callback channel kinds (issue #14): a WeChat Official Account
(wechat_mp) and a WeCom self-built app (wecom_app) end to end against
fake_mp.FakeMP, which POSTs encrypted callbacks to the account's own
listener (bound by the parent) and serves the token and send APIs on
its own loopback port, checking every request against
shared/protocols/wecom.md parts C and D.

Needs a build configured with --enable-test-hooks (the sandbox rows)."""

import copy
import hashlib
import os
import signal
import socket
import threading
import time

import pytest

from conftest import free_port, wait_for
from fake_mp import FakeMP, reply_content, text_xml

HERE = os.path.dirname(os.path.abspath(__file__))
SLOW = os.path.join(HERE, "agent_slow.py")
ECHO = [{"name": "default", "type": "echo"}]
USER = "oFAKEopenid0001"


def slow(seconds):
    return [{"name": "default", "type": "command",
             "command": {"argv": ["/usr/bin/python3", SLOW, str(seconds)],
                         "timeout_s": 60}}]


@pytest.fixture(params=["wechat_mp", "wecom_app"])
def fake(request):
    f = FakeMP(wecom=request.param == "wecom_app").start()
    yield f
    f.stop()


@pytest.fixture
def oa():
    f = FakeMP(wecom=False).start()
    yield f
    f.stop()


def secret_file(tmp_path, name, value):
    path = os.path.join(str(tmp_path), name)
    with open(path, "w") as f:
        f.write(value + "\n")
    os.chmod(path, 0o600)
    return path


def channel(fake, tmp_path, **over):
    fake.listen_port = fake.listen_port or free_port()
    b = {"token_file": secret_file(tmp_path, "token", fake.token),
         "encoding_aes_key_file": secret_file(tmp_path, "aes", fake.key43),
         "secret_file": secret_file(tmp_path, "secret", fake.secret),
         "listen": "127.0.0.1:%d" % fake.listen_port,
         "api_url": fake.url(), "timeout_s": 5}
    if fake.wecom:
        b.update({"corp_id": fake.id, "agent_id": fake.agent_id})
    else:
        b["app_id"] = fake.id
    b.update(over)
    kind = "wecom_app" if fake.wecom else "wechat_mp"
    return {"name": "acct", "type": kind, "dm_policy": "open", kind: b}


def start(gate_factory, fake, tmp_path, agents=ECHO, sup=None, **over):
    conf = {"agents": agents, "channels": [channel(fake, tmp_path, **over)],
            "log": {"level": "debug"}}
    if sup is not None:
        conf["supervisor"] = sup
    return gate_factory(conf)


def wname(fake):
    return ("wecom_app" if fake.wecom else "wechat_mp") + ".acct"


def no_violations(fake):
    with fake.lock:
        assert fake.violations == [], fake.violations


def msg(fake, text, msgid):
    return text_xml(fake.id if fake.wecom else "gh_fake0001", USER, text,
                    msgid)


def test_fake_crypt_matches_the_notes_vectors():
    """The fake's WXBizMsgCrypt against C.10, byte for byte (the C side
    has the same vectors in tests/unit/workers/callback/)."""
    from fake_mp import WXCrypt
    c = WXCrypt("FakeToken123",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
                "wwFAKECORPID0001")
    e = c.encrypt(b"<xml><Content><![CDATA[hi]]></Content></xml>",
                  random16=b"0123456789abcdef")
    assert e == ("4j/AuRx71kQlxVlzbpsMWMczXWSt2yv4WTx9dDoz/+rRbEK+96Qm5PPr"
                 "XYWDb372vh6SGfsSc63chTw+GJWvrXVwjNNxKyZ6gaBFb3AgUhCqal4G"
                 "98Hsj1Fca1iL+jxu")
    assert c.sign("FakeToken123", "1700000000", "n0nce42", e) == \
        "ac4eec2f391a8e1fa2fa3345e6d66e657a3d3bee"
    c = WXCrypt("FakeToken123",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "")
    e = c.encrypt(b'{"msgtype":"text","a":1}', random16=b"0123456789abcdef")
    assert e == ("4j/AuRx71kQlxVlzbpsMWCCSDJMbyhZaOWG5fC/W41CcdzWLMfBjIsZG"
                 "996qMIsxEza0Di3GjBqvQAI1fDZMYw==")
    assert c.decrypt(e) == (b'{"msgtype":"text","a":1}', b"")


def test_url_verification(gate_factory, fake, tmp_path):
    """C.5: WeCom decrypts echostr (a '+' survives the query), OA echoes
    it under a three-string signature; a wrong signature or a stale
    timestamp is refused."""
    start(gate_factory, fake, tmp_path)
    assert fake.verify() == (200, b"verify-me+/=")
    assert fake.verify(tamper=True)[0] == 403
    assert fake.verify(ts=int(time.time()) - 3600)[0] == 403
    no_violations(fake)


def test_text_answered_passively(gate_factory, fake, tmp_path):
    """A fast agent: the reply is the HTTP answer, encrypted (C.6, D.3);
    no send API is called."""
    gate = start(gate_factory, fake, tmp_path)
    t0 = time.monotonic()
    status, reply = fake.post(msg(fake, "hello", 24086087575195331))
    assert status == 200 and reply is not None, (status, reply)
    assert reply_content(reply, USER) == "echo: hello"
    assert time.monotonic() - t0 < 3
    assert fake.contents() == []
    wait_for(lambda: gate.rows("SELECT count(*) FROM outbox WHERE "
                               "state = 'sent'")[0][0] == 1, 5, 0.05,
             "the reply acknowledged")
    no_violations(fake)


def test_plain_mode(gate_factory, oa, tmp_path):
    """OA plain mode (C.6): signed, not encrypted, answered in plain XML;
    a wrong signature is still refused."""
    start(gate_factory, oa, tmp_path, mode="plain")
    assert oa.verify() == (200, b"verify-me+/=")
    status, reply = oa.post_plain(msg(oa, "in clear", 4001))
    assert status == 200 and reply_content(reply, USER) == "echo: in clear"
    status, _ = oa.post_plain(msg(oa, "forged", 4002), ts="1")
    assert status == 403
    no_violations(oa)


def test_retry_reencrypted_under_the_same_nonce(gate_factory, fake,
                                                tmp_path):
    """A retry may come encrypted afresh under the same nonce: the same
    message, so not a replay; it gets the first request's answer."""
    start(gate_factory, fake, tmp_path)
    m = msg(fake, "twice", 5001)
    ts = int(time.time())
    a = fake.post(m, ts=ts, nonce="retrynonce")
    b = fake.post(m, ts=ts, nonce="retrynonce")
    assert a[0] == b[0] == 200
    assert reply_content(a[1], USER) == reply_content(b[1], USER) == \
        "echo: twice"
    no_violations(fake)


def test_other_messages_and_events(gate_factory, oa, tmp_path):
    """D.2: voice with OA's transcript reads as text, an image or a voice
    message without one is fetched (D.5) and reaches the agent (a note
    when it cannot be had), a menu click as its key; subscribe gets the welcome without the
    agent; unsubscribe gets the empty answer."""
    ch = channel(oa, tmp_path, welcome="Welcome aboard")
    # One user sends more than the default burst of 5 here.
    ch["ratelimit"] = {"peer": {"rate": "600/min", "burst": 50}}
    gate = gate_factory({"agents": ECHO, "channels": [ch]})
    head = ("<xml><ToUserName><![CDATA[gh_fake0001]]></ToUserName>"
            "<FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d"
            "</CreateTime>" % (USER, int(time.time())))
    voice = head + ("<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA["
                    "FAKEmedia01]]></MediaId><Format><![CDATA[amr]]></Format>"
                    "<Recognition><![CDATA[你好]]></Recognition><MsgId>6001"
                    "</MsgId></xml>")
    image = head + ("<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA["
                    "http://mmbiz.example/p.jpg]]></PicUrl><MediaId><![CDATA["
                    "FAKEmedia02]]></MediaId><MsgId>6002</MsgId></xml>")
    click = head + ("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA["
                    "CLICK]]></Event><EventKey><![CDATA[MENU_HELP]]>"
                    "</EventKey></xml>")
    sub = head + ("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA["
                  "subscribe]]></Event></xml>")
    unsub = head + ("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA["
                    "unsubscribe]]></Event></xml>")
    lost = image.replace("FAKEmedia02", "FAKEgone").replace("6002", "6003")
    place = head + ("<MsgType><![CDATA[location]]></MsgType><Location_X>"
                    "23.134521</Location_X><Location_Y>113.358803"
                    "</Location_Y><Scale>20</Scale><Label><![CDATA[广州市"
                    "天河区]]></Label><MsgId>6005</MsgId></xml>")
    link = head + ("<MsgType><![CDATA[link]]></MsgType><Title><![CDATA["
                   "A title]]></Title><Description><![CDATA[what it is]]>"
                   "</Description><Url><![CDATA[https://example.com/a]]>"
                   "</Url><MsgId>6006</MsgId></xml>")
    for body, want in ((voice, "echo: 你好"), (lost, "echo: [image]"),
                       (click, "echo: MENU_HELP"),
                       (place, "echo: [location: 广州市天河区 "
                        "(23.134521, 113.358803)]"),
                       (link, "echo: [link: A title - what it is "
                        "https://example.com/a]"),
                       (sub, "Welcome aboard")):
        status, reply = oa.post(body.encode())
        assert status == 200 and reply_content(reply, USER) == want, \
            (want, reply)
    # D.5: the image itself reaches the agent, in a sealed memfd.
    status, reply = oa.post(image.encode())
    text = reply_content(reply, USER)
    data = oa.media["FAKEmedia02"]
    assert "[attachment: image" in text and "%d bytes" % len(data) in text \
        and hashlib.sha256(data).hexdigest() in text, text
    # A voice message without the transcript: its audio, the same way.
    amr = head + ("<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA["
                  "FAKEmedia03]]></MediaId><Format><![CDATA[amr]]></Format>"
                  "<MsgId>6004</MsgId></xml>")
    text = reply_content(oa.post(amr.encode())[1], USER)
    data = oa.media["FAKEmedia03"]
    assert "[attachment: voice" in text and \
        hashlib.sha256(data).hexdigest() in text, text
    assert oa.post(unsub.encode()) == (200, "success")
    assert gate.rows("SELECT count(*) FROM messages")[0][0] == 7
    no_violations(oa)


def media_xml(fake, mtype, media_id, msgid):
    """D.2: a video or shortvideo message (MediaId, ThumbMediaId)."""
    return ("<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName>"
            "<![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime>"
            "<MsgType><![CDATA[%s]]></MsgType><MediaId><![CDATA[%s]]>"
            "</MediaId><ThumbMediaId><![CDATA[FAKEthumb01]]></ThumbMediaId>"
            "<MsgId>%d</MsgId></xml>" %
            (fake.id if fake.wecom else "gh_fake0001", USER,
             int(time.time()), mtype, media_id, msgid)).encode()


def test_video_reaches_the_agent(gate_factory, fake, tmp_path):
    """D.5: a video and a shortvideo are fetched and reach the agent as
    a video part: a WeCom app's bytes straight from media/get, an OA's
    from the video_url its media/get answers with."""
    start(gate_factory, fake, tmp_path)
    data = fake.videos["FAKEvideo01"]
    want = "echo: [attachment: video \"\", %d bytes, sha256 %s]" % (
        len(data), hashlib.sha256(data).hexdigest())
    for n, mtype in enumerate(("video", "shortvideo")):
        status, reply = fake.post(media_xml(fake, mtype, "FAKEvideo01",
                                            7001 + n))
        assert status == 200 and reply is not None, (status, reply)
        assert reply_content(reply, USER) == want, reply
    with fake.lock:
        assert fake.media_gets == 2
        assert fake.video_gets == (0 if fake.wecom else 2)
    no_violations(fake)


def test_video_not_fetched_keeps_its_note(gate_factory, fake, tmp_path):
    """A video that cannot be had is the note "[video]", still answered
    and counted: an unknown media_id (errcode 40007); for an OA a
    video_url that is 404, that redirects (not followed), that is not
    http(s), or that carries user info (neither fetched)."""
    gate = start(gate_factory, fake, tmp_path)
    cases = ["FAKEvideoGone"]
    if not fake.wecom:
        fake.video_urls.update({
            "FAKEvideo404": "%s/video/FAKEnone" % fake.url(),
            "FAKEvideoMoved": "%s/moved/FAKEvideo01" % fake.url(),
            "FAKEvideoFile": "file:///etc/passwd",
            "FAKEvideoUser": fake.url().replace("://", "://u:pw@") +
            "/video/FAKEvideo01"})
        cases += sorted(fake.video_urls)
    for n, mid in enumerate(cases):
        status, reply = fake.post(media_xml(fake, "video", mid, 7101 + n))
        assert status == 200 and reply is not None, (mid, status, reply)
        assert reply_content(reply, USER) == "echo: [video]", (mid, reply)
    gate.wait_log("media not fetched (%d so far)" % len(cases))
    log = gate.log()
    assert "errcode 40007" in log
    if not fake.wecom:
        assert "video_url: HTTP status 404" in log
        assert "video_url: HTTP status 302" in log
        assert log.count("not an http or https URL") == 2
    # The video_url and the token it may carry are never logged.
    assert "/video/" not in log and "u:pw" not in log
    with fake.lock:
        assert fake.access not in log
        # Only the 404 reached /video/: the redirect was not followed.
        assert fake.video_gets == (0 if fake.wecom else 1)
    assert gate.rows("SELECT count(*) FROM messages")[0][0] == len(cases)
    no_violations(fake)


def test_video_url_within_media_gets_deadline(gate_factory, oa, tmp_path):
    """An OA's two transfers for a video share one deadline, timeout_s
    from media/get's start: 3 s for media/get and 3 s for the video_url
    fit each alone in 5 s, not together.  The video is "[video]", sent
    by the API once the held request got the empty answer."""
    gate = start(gate_factory, oa, tmp_path)
    oa.media_delay = oa.video_delay = 3
    status, reply = oa.post(media_xml(oa, "video", "FAKEvideo01", 7301))
    assert (status, reply) == (200, "success")
    wait_for(lambda: oa.contents() == ["echo: [video]"] or None, 15, 0.1,
             "the note sent by the API")
    log = gate.log()
    assert "media not fetched (1 so far): video_url: " in log, log[-2000:]
    no_violations(oa)


def test_character_references_decoded(gate_factory, fake, tmp_path):
    """Content outside CDATA with numeric character references reaches
    the agent decoded to UTF-8; a surrogate is refused (400)."""
    start(gate_factory, fake, tmp_path)
    head = ("<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName>"
            "<![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime>"
            "<MsgType><![CDATA[text]]></MsgType>" %
            (fake.id if fake.wecom else "gh_fake0001", USER,
             int(time.time())))
    body = head + ("<Content>&#20320;&#x597D; &lt;3</Content><MsgId>7201"
                   "</MsgId></xml>")
    status, reply = fake.post(body.encode())
    assert status == 200 and reply_content(reply, USER) == \
        "echo: 你好 <3", reply
    bad = head + "<Content>&#xD800;</Content><MsgId>7202</MsgId></xml>"
    assert fake.post(bad.encode())[0] == 400
    no_violations(fake)


def test_pairing_code_is_the_passive_reply(gate_factory, oa, tmp_path):
    """The hub's policies hold for callback accounts: under dm_policy
    pairing a stranger's first message is answered, on its request, with
    the pairing code; approved, the next reaches the agent."""
    c = channel(oa, tmp_path)
    c["dm_policy"] = "pairing"
    gate = gate_factory({"agents": ECHO, "channels": [c]})
    status, reply = oa.post(msg(oa, "let me in", 8001))
    text = reply_content(reply, USER)
    code = [w for w in text.replace("\n", " ").split()
            if w.isalnum() and w.isupper() and len(w) >= 6]
    assert code, text
    rc, out, err = gate.ctl("pairing", "approve", code[0])
    assert rc == 0, (out, err)
    status, reply = oa.post(msg(oa, "thanks", 8002))
    assert reply_content(reply, USER) == "echo: thanks"
    no_violations(oa)


def test_same_msgid_from_two_users_is_two_messages(gate_factory, fake,
                                                   tmp_path):
    """D.2: MsgIds of different users have collided, and events have
    none: the dedup key holds the sender, so each is its own message,
    answered to its own sender."""
    gate = start(gate_factory, fake, tmp_path)
    to = fake.id if fake.wecom else "gh_fake0001"
    for user in ("oUSERa", "oUSERb"):
        status, reply = fake.post(text_xml(to, user, "hi " + user, 9001))
        assert reply_content(reply, user) == "echo: hi " + user
    ts = int(time.time())
    for user in ("oUSERa", "oUSERb"):
        ev = ("<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName>"
              "<![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime>"
              "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]>"
              "</Event><EventKey><![CDATA[K]]></EventKey></xml>"
              % (to, user, ts))
        status, reply = fake.post(ev.encode())
        assert reply_content(reply, user) == "echo: K"
    assert gate.rows("SELECT count(*) FROM messages")[0][0] == 4
    no_violations(fake)


def test_slow_agent_goes_by_the_api_once(gate_factory, fake, tmp_path):
    """An agent taking 8 s: the empty answer at the 4 s budget, the
    platform's retry at 5 s answered empty at once without a second
    run, and the reply sent once through message/(custom/)send."""
    gate = start(gate_factory, fake, tmp_path, agents=slow(8))
    m = msg(fake, "ponder", 24086087575195332)
    got = {}

    def first():
        t = time.monotonic()
        got["first"] = fake.post(m), time.monotonic() - t

    th = threading.Thread(target=first)
    th.start()
    time.sleep(5)
    t = time.monotonic()
    second = fake.post(m)
    took = time.monotonic() - t
    th.join()
    empty = None if fake.wecom else "success"
    (status, reply), took1 = got["first"]
    assert (status, reply) == (200, empty)
    assert 3.5 < took1 < 5, took1
    assert second == (200, empty) and took < 1, (second, took)
    wait_for(lambda: fake.contents(), 15, 0.1, "the API send")
    time.sleep(1.5)
    assert fake.contents() == ["slow 1: ponder"]
    assert gate.rows("SELECT count(*) FROM messages")[0][0] == 1
    # The worker itself sent the hub one inbound.message, not two.
    log = gate.log()
    assert log.count("callback acct: inbound 1 from") == 1
    assert "callback acct: inbound 2 from" not in log
    assert "24086087575195332 from %s again: a retry" % USER in log
    no_violations(fake)


def test_a_message_the_hub_cannot_take_yet_comes_again(gate_factory, fake,
                                                       tmp_path):
    """backlog_max 1: a second message while the first is unanswered is
    not stored (ack "busy"); the platform keeps a message only until it
    gets a 200, so that request is not answered 200, and the platform's
    next POST of it goes to the hub again and reaches the agent once the
    first is answered. It was answered 200 (the busy notice, passively)
    and every retry got the same: the agent never saw it."""
    ch = channel(fake, tmp_path)
    ch["backlog_max"] = 1
    ch["ratelimit"] = {"peer": {"burst": 100}}
    gate = gate_factory({"agents": slow(2), "channels": [ch],
                         "log": {"level": "debug"}})
    m1 = msg(fake, "first", 24086087575195341)
    m2 = msg(fake, "second", 24086087575195342)
    got = {}

    def first():
        got["first"] = fake.post(m1)

    th = threading.Thread(target=first)
    th.start()
    wait_for(lambda: gate.rows("SELECT count(*) FROM messages")[0][0] == 1,
             5, 0.02, "the first message stored")
    status, reply = fake.post(m2)
    assert status != 200, (status, reply)
    th.join()
    # The platform posts it again (D.3); the backlog has room now.
    replies = []
    for _ in range(10):
        status, reply = fake.post(m2)
        if status == 200:
            replies.append(reply)
            break
        time.sleep(0.5)
    assert replies, "never taken"
    wait_for(lambda: any(r not in (None, "success") and
                         "slow 2: second" in r for r in replies) or
             "slow 2: second" in fake.contents(), 15, 0.1,
             "the second message answered")
    no_violations(fake)


def test_window_closed_45015_is_failed_with_the_code(gate_factory, oa,
                                                     tmp_path):
    """D.4: 45015 is final: the row fails, with the code for
    `wxgatectl outbox`, and is not tried again."""
    gate = start(gate_factory, oa, tmp_path, agents=slow(1),
                 reply_budget_ms=200)
    with oa.lock:
        oa.fail_next = [45015]
    assert oa.post(msg(oa, "late", 24086087575195333)) == (200, "success")
    wait_for(lambda: gate.rows("SELECT count(*) FROM outbox WHERE state "
                               "= 'failed'")[0][0] == 1, 10, 0.1,
             "the row failed")
    (row,), = gate.rows("SELECT id FROM outbox")
    rc, out, err = gate.ctl("outbox", row)
    assert " failed " in out and "errcode 45015" in out, (rc, out, err)
    time.sleep(1)
    assert oa.contents() == []
    no_violations(oa)


def test_wecom_user_not_reached_is_failed(gate_factory, tmp_path):
    """D.4: WeCom's errcode 0 with the user in invaliduser is no
    delivery: the row fails, saying so."""
    app = FakeMP(wecom=True).start()
    try:
        gate = start(gate_factory, app, tmp_path, agents=slow(1),
                     reply_budget_ms=200)
        with app.lock:
            app.fail_next = ["invaliduser"]
        assert app.post(msg(app, "hidden", 7001)) == (200, None)
        wait_for(lambda: gate.rows("SELECT count(*) FROM outbox WHERE "
                                   "state = 'failed'")[0][0] == 1, 10, 0.1,
                 "the row failed")
        (row,), = gate.rows("SELECT id FROM outbox")
        rc, out, err = gate.ctl("outbox", row)
        assert "invaliduser" in out, (rc, out, err)
        no_violations(app)
    finally:
        app.stop()


def test_wecom_app_may_write_first(gate_factory, tmp_path):
    """A WeCom app sends without a user message (KC_PROACTIVE):
    wxgatectl send goes by message/send; an Official Account, bound to
    the 48-hour window, is refused that."""
    app = FakeMP(wecom=True).start()
    try:
        gate = start(gate_factory, app, tmp_path)
        rc, out, err = gate.ctl("send", "--wait", "10", "acct", "zhangsan",
                                "the build is green")
        assert rc == 0 and " sent " in out, (rc, out, err)
        assert app.contents("zhangsan") == ["the build is green"]
        no_violations(app)
    finally:
        app.stop()
    oa = FakeMP(wecom=False).start()
    try:
        (tmp_path / "oa").mkdir()
        c = channel(oa, tmp_path / "oa")
        gate = gate_factory({"agents": ECHO, "channels": [c]}, sub="oa")
        rc, out, err = gate.ctl("send", "acct", USER, "unasked")
        assert rc != 0 and "can only answer" in out + err, (rc, out, err)
        assert oa.contents() == []
    finally:
        oa.stop()


def test_expired_token_is_fetched_again_once(gate_factory, fake, tmp_path):
    """D.1: 42001 on a send: a new token, the send once more, delivered
    once; the token never reaches the log."""
    gate = start(gate_factory, fake, tmp_path, agents=slow(1),
                 reply_budget_ms=200)
    with fake.lock:
        fake.fail_next = [42001]
    fake.post(msg(fake, "again", 24086087575195334))
    wait_for(lambda: fake.contents(), 10, 0.1, "the send")
    time.sleep(1)
    assert fake.contents() == ["slow 1: again"]
    assert fake.token_fetches == 2
    log = gate.log()
    assert fake.access not in log and fake.secret not in log
    assert fake.token not in log and fake.key43 not in log
    no_violations(fake)


def test_forgeries_and_replays_are_refused(gate_factory, fake, tmp_path):
    """C.3-C.9: each attack gets its status and the worker lives on."""
    gate = start(gate_factory, fake, tmp_path)
    pid = gate.worker(wname(fake))["pid"]
    m = msg(fake, "hi", 1001)
    assert fake.post(m, tamper=True)[0] == 403
    assert fake.post(m, ts=int(time.time()) - 1000)[0] == 403
    assert fake.post(m, rid=b"wwSOMEONEELSE001")[0] == 403

    def bad_pad(p):
        return p[:-2] + bytes([p[-2] ^ 1]) + p[-1:]
    assert fake.post(m, pad_fix=bad_pad)[0] == 400
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><Encrypt>'
            b'&b;</Encrypt></xml>')
    assert fake.post(m, raw=bomb)[0] == 400
    # Signed and sealed, but not UTF-8: refused, not passed to the hub
    # (which would take the worker for compromised).
    assert fake.post(msg(fake, "x", 1004).replace(b"[x]", b"[\xff]"))[0] \
        == 400
    # A nonce used again with another message is a replay.
    assert fake.post(msg(fake, "first", 1002), nonce="samenonce1")[0] == 200
    assert fake.post(msg(fake, "other", 1003), nonce="samenonce1")[0] == 403
    # 10 MB announced: refused before a byte of it is read.
    s = socket.create_connection(("127.0.0.1", fake.listen_port), 5)
    s.sendall(b"POST /wx?timestamp=1 HTTP/1.1\r\nHost: x\r\n"
              b"Content-Length: 10485760\r\n\r\n")
    assert s.recv(100).startswith(b"HTTP/1.1 413 "), "no 413"
    s.close()
    # No crash: the same process answers a good message.
    status, reply = fake.post(m)
    assert reply_content(reply, USER) == "echo: hi"
    assert gate.worker(wname(fake))["pid"] == pid
    no_violations(fake)


def test_sigkill_before_the_reply_answers_once(gate_factory, oa, tmp_path):
    """The worker dies after the message is stored and before its reply
    went out: the platform's retry reaches the restarted worker on the
    same socket, the hub knows the message, and exactly one reply
    reaches the user, passively or by the API."""
    gate = start(gate_factory, oa, tmp_path, agents=slow(3),
                 sup={"restart_max_ms": 300})
    w = gate.worker("wechat_mp.acct")
    m = msg(oa, "survive", 24086087575195335)
    replies = []

    def post():
        try:
            replies.append(oa.post(m)[1])
        except OSError:
            pass

    th = threading.Thread(target=post)
    th.start()
    wait_for(lambda: gate.rows("SELECT count(*) FROM messages")[0][0] == 1,
             5, 0.02, "the message stored")
    os.kill(w["pid"], signal.SIGKILL)
    th.join()
    wait_for(lambda: gate.worker("wechat_mp.acct")["pid"] != w["pid"] and
             gate.worker("wechat_mp.acct")["state"] == "running", 10, 0.05,
             "the worker back")
    # The platform retries (D.3), twice.
    for _ in range(2):
        replies.append(oa.post(m)[1])
        time.sleep(1)
    wait_for(lambda: any(r not in (None, "success") for r in replies) or
             oa.contents(), 15, 0.1, "a reply")
    time.sleep(2)
    passive = [reply_content(r, USER) for r in replies
               if r not in (None, "success")]
    got = passive + oa.contents()
    assert len(set(got)) == 1 and got[0] == "slow 1: survive", got
    assert len(oa.contents()) + (1 if passive else 0) == 1, got
    assert gate.rows("SELECT count(*) FROM messages")[0][0] == 1
    no_violations(oa)


def test_reload_moves_the_listener(gate_factory, oa, tmp_path):
    """A new address is bound by the parent on reload and the worker
    restarted on it; an address that cannot be bound refuses the reload
    and the old one keeps serving; removing the account closes it."""
    gate = start(gate_factory, oa, tmp_path)
    old = oa.listen_port
    conf = copy.deepcopy(gate.conf)
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    conf["channels"][0]["wechat_mp"]["listen"] = "127.0.0.1:%d" % \
        busy.getsockname()[1]
    assert not gate.reload(conf)
    busy.close()
    assert oa.post(msg(oa, "still", 2001))[0] == 200
    new = free_port()
    conf["channels"][0]["wechat_mp"]["listen"] = "127.0.0.1:%d" % new
    assert gate.reload(conf)
    oa.listen_port = new
    wait_for(lambda: oa.verify()[0] == 200, 10, 0.1, "the new address")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", old), 1).close()
    # A change that keeps the address keeps the socket; the worker
    # restarts on it.
    pid = gate.worker("wechat_mp.acct")["pid"]
    conf["channels"][0]["wechat_mp"]["welcome"] = "hello again"
    mark = len(gate.log())
    assert gate.reload(conf)
    wait_for(lambda: gate.worker("wechat_mp.acct")["pid"] != pid and
             gate.worker("wechat_mp.acct")["state"] == "running", 10, 0.05,
             "the worker restarted")
    assert oa.verify()[0] == 200
    assert "listener_commit: closing" not in gate.log()[mark:]
    # Removed while a restart for the reload before is under way: it
    # stays removed (no restart without its socket).
    conf["channels"][0]["wechat_mp"]["welcome"] = "and again"
    assert gate.reload(conf)
    conf["channels"] = []
    assert gate.reload(conf)
    wait_for(lambda: "wechat_mp.acct" not in gate.status(), 10, 0.1,
             "the account gone")
    time.sleep(0.5)
    assert "socket could not be passed" not in gate.log()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", new), 1).close()


def test_per_address_rate_and_connections(gate_factory, oa, tmp_path):
    """The front door's bounds per address (policy.*, as for the web
    chat): past policy.ratelimit.address a client gets 429, told apart
    behind a trusted proxy by X-Forwarded-For; past tcp_conns_per_peer
    a peer's next connection is closed at once.  The worker lives on."""
    conf = {"agents": ECHO, "channels": [channel(oa, tmp_path)],
            "policy": {"ratelimit": {"address": {"rate": "1/min",
                                                 "burst": 3}},
                       "tcp_conns_per_peer": 2,
                       "tcp_conns_per_proxy": 2,
                       "trusted_proxies": ["127.0.0.1"]}}
    gate = gate_factory(conf)
    pid = gate.worker("wechat_mp.acct")["pid"]
    q = {"signature": "x", "timestamp": "1", "nonce": "n"}
    # One client behind the proxy spends its three; the fourth is 429.
    for i in range(3):
        st, _ = oa.request("GET", q, headers={"X-Forwarded-For":
                                              "192.0.2.7"})
        assert st in (400, 403), st     # admitted, then refused
    st, _ = oa.request("GET", q, headers={"X-Forwarded-For": "192.0.2.7"})
    assert st == 429, st
    # Another client through the same proxy has its own bucket.
    st, _ = oa.request("GET", q, headers={"X-Forwarded-For": "192.0.2.8"})
    assert st in (400, 403), st
    gate.wait_log("192.0.2.7: over policy.ratelimit.address; 429", 5)
    # Two idle connections from 127.0.0.1 are its share; a third is shut.
    held = [socket.create_connection(("127.0.0.1", oa.listen_port))
            for _ in range(2)]
    try:
        # Once the worker has taken both (and seen the earlier ones
        # close), a third is shut at once; until then it may be served.
        def third_shut():
            third = socket.create_connection(("127.0.0.1", oa.listen_port))
            third.settimeout(0.5)
            try:
                return third.recv(1) == b""
            except ConnectionResetError:
                return True
            except TimeoutError:
                return False
            finally:
                third.close()
        wait_for(third_shut, 10, 0.1, "a third connection shut at once")
        gate.wait_log("127.0.0.1: over its connections at once; closed", 5)
    finally:
        for s in held:
            s.close()
    # Room again once the worker has seen them go (until then a new
    # connection may still be shut at once): a real message is answered.
    def answered():
        try:
            return oa.post(msg(oa, "hi", 7000001))[0] == 200 or None
        except ConnectionError:
            return None
    wait_for(answered, 10, 0.2, "a message after the idle ones closed")
    assert gate.worker("wechat_mp.acct")["pid"] == pid
