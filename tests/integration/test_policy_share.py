"""Share links: `wxgatectl share create|list|revoke`, GET /s/<id> asking
the supervisor (200 live, 410 expired or revoked, 404 unknown, 429 over
the address's rate), the server-drawn QR code, and share.open: a link
for new chats gives every visitor a session of their own (kept by the
page as a visitor token); a link to a session continues it or, read-only,
shows it and refuses chat.send with read_only."""

import os
import re
import sqlite3
import time

from conftest import ctl_link, run, wait_for


URL_RE = re.compile(r"^http://127\.0\.0\.1:(\d+)/s/([0-9a-f]{32})$")


def create(gate, *args):
    return ctl_link(gate, URL_RE, "share", "create", *args).group(2)


def listing(gate):
    rc, out, err = gate.ctl("share", "list")
    assert rc == 0, "share list: rc %d: %s" % (rc, err)
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["HASH", "CREATED", "EXPIRES"]
    rows = []
    for ln in lines[1:]:
        f = ln.split()
        rows.append({"hash": f[0], "created": f[1], "expires": f[2],
                     "read_only": f[3],
                     "session": None if f[4] == "-" else int(f[4]),
                     "revoked": f[5]})
    return rows


def test_share_link_opens_and_chats(gate):
    sid = create(gate)
    st, hdrs, body = gate.http_get("/s/" + sid)
    assert st == 200
    assert b"/chat.js" in body
    assert b'id="copy-link"' in body and b'id="share-qr"' in body
    assert "default-src 'self'" in hdrs["Content-Security-Policy"]
    st, hdrs, body = gate.http_get("/s/%s/qr.svg" % sid)
    assert st == 200
    assert hdrs["Content-Type"].startswith("image/svg+xml")
    assert body.startswith(b"<svg") and b"<path" in body
    # The secret is never stored: only its hash.
    assert sid not in open(gate.state_dir + "/wxgate.db", "rb").read() \
        .decode("latin-1")

    async def scenario():
        async with gate.client() as c:
            res = await c.ok("share.open", {"id": sid})
            assert set(res) == {"read_only", "token"}, res
            assert res["read_only"] is False
            mine = res["token"]
            assert re.match(r"^[0-9a-f]{32}$", mine)
            status, done = await c.chat("hello via link", "sh-1")
            assert status == "accepted"
            assert done["text"]
        # A second visitor starts a conversation of their own.
        async with gate.client() as c:
            res = await c.ok("share.open", {"id": sid})
            assert res["token"] != mine
            res = await c.ok("chat.history", {})
            assert res["messages"] == []
            await c.chat("someone else", "sh-2")
        # The first comes back with their token: their history only,
        # and no new token to keep.
        async with gate.client() as c:
            res = await c.ok("share.open", {"id": sid, "visitor": mine})
            assert res == {"read_only": False}
            res = await c.ok("chat.history", {})
            assert [m["text"] for m in res["messages"]] == \
                ["hello via link", res["messages"][1]["text"]]
            assert len(res["messages"]) == 2
        # A visitor token opens only through its link, never the plain
        # page (which the anonymous switch and TTLs govern).
        async with gate.client() as c:
            r = await c.call("session.resume", {"token": mine})
            assert r["error"]["code"] == "unknown_session", r
    run(scenario())


def test_visitor_token_of_another_link(gate):
    a = create(gate)
    b = create(gate)

    async def scenario():
        async with gate.client() as c:
            tok = (await c.ok("share.open", {"id": a}))["token"]
            await c.chat("on link a", "va-1")
        # Shown at link b, the token is a stranger: a fresh session.
        async with gate.client() as c:
            res = await c.ok("share.open", {"id": b, "visitor": tok})
            assert res["token"] != tok
            res = await c.ok("chat.history", {})
            assert res["messages"] == []
            r = await c.call("share.open", {"id": b, "visitor": "x y"})
            assert r["error"]["code"] == "bad_request", r
    run(scenario())


def test_visitors_survive_anonymous_off(gate_factory):
    gate = gate_factory({"policy": {"sessions": {"anonymous": False}}})
    sid = create(gate)

    async def scenario():
        async with gate.client() as c:
            r = await c.call("session.open", {})
            assert r["error"]["code"] == "disabled", r
            res = await c.ok("share.open", {"id": sid})
            assert res["token"]
            await c.chat("invited", "inv-1")
    run(scenario())


def test_share_get_is_rate_limited(gate_factory):
    gate = gate_factory({"policy": {"ratelimit": {
        "address": {"rate": "1/hour", "burst": 3}}}})
    sid = create(gate)
    codes = [gate.http_get("/s/" + sid)[0] for _ in range(3)]
    assert codes == [200, 200, 200]
    st, hdrs, body = gate.http_get("/s/" + sid)
    assert st == 429
    assert int(hdrs["Retry-After"]) > 60
    # Unknown links cost the same: guessing is not free either.
    assert gate.http_get("/s/" + "0" * 32)[0] == 429


def test_share_link_for_a_session(gate):
    async def scenario():
        async with gate.client() as c:
            await c.open()
            await c.chat("mine", "own-1")
    run(scenario())
    rc, out, err = gate.ctl("share", "create", "--session", "1",
                            "--read-only")
    assert rc == 0, err
    sid = URL_RE.match(out.splitlines()[0]).group(2)
    rc, out, err = gate.ctl("share", "create", "--session", "999")
    assert rc == 1 and "no such session" in err

    async def scenario2():
        async with gate.client() as c:
            res = await c.ok("share.open", {"id": sid})
            assert res == {"read_only": True}
            res = await c.ok("chat.history", {})
            assert res["messages"][0]["text"] == "mine"
            r = await c.call("chat.send", {"text": "no",
                                           "client_msg_id": "ro-1"})
            assert r["error"]["code"] == "read_only", r
    run(scenario2())


def test_read_only_cannot_send(gate):
    rc, out, err = gate.ctl("share", "create", "--read-only")
    assert rc == 1 and "--session" in err, (rc, err)

    async def first():
        async with gate.client() as c:
            await c.open()
    run(first())
    sid = create(gate, "--read-only", "--session", "1")
    assert gate.http_get("/s/" + sid)[0] == 200

    async def scenario():
        async with gate.client() as c:
            res = await c.ok("share.open", {"id": sid})
            assert res == {"read_only": True}
            r = await c.call("chat.send", {"text": "hi",
                                           "client_msg_id": "ro-1"})
            assert r["error"]["code"] == "read_only", r
            r = await c.call("chat.abort", {"client_msg_id": "ro-1"})
            assert r["error"]["code"] == "read_only", r
    run(scenario())


def test_revoke_cuts_off_open_pages(gate):
    sid = create(gate)

    async def scenario():
        async with gate.client() as c:
            await c.ok("share.open", {"id": sid})
            await c.chat("before", "rv-1")
            rc, out, err = gate.ctl("share", "revoke", sid)
            assert rc == 0, err
            r = await c.call("chat.send", {"text": "after",
                                           "client_msg_id": "rv-2"})
            assert r["error"]["code"] == "share_expired", r
            # Unbound: the page must open something again.
            r = await c.call("chat.history", {})
            assert r["error"]["code"] == "no_session", r
    run(scenario())


def test_revoke_answers_410(gate):
    sid = create(gate)
    assert gate.http_get("/s/" + sid)[0] == 200
    rows = listing(gate)
    assert len(rows) == 1 and rows[0]["revoked"] == "-"
    # Revoke by the hash prefix `share list` shows.
    rc, out, err = gate.ctl("share", "revoke", rows[0]["hash"])
    assert rc == 0 and "revoked" in out, err
    st, hdrs, body = gate.http_get("/s/" + sid)
    assert st == 410
    assert hdrs["Content-Type"].startswith("text/html")
    assert b"expired" in body and b"<script" not in body
    assert gate.http_get("/s/%s/qr.svg" % sid)[0] == 410
    assert listing(gate)[0]["revoked"] != "-"

    async def scenario():
        async with gate.client() as c:
            r = await c.call("share.open", {"id": sid})
            assert r["error"]["code"] == "share_expired", r
    run(scenario())

    # And by the secret itself.
    sid2 = create(gate)
    rc, out, err = gate.ctl("share", "revoke", sid2)
    assert rc == 0, err
    assert gate.http_get("/s/" + sid2)[0] == 410
    rc, out, err = gate.ctl("share", "revoke", "0" * 8)
    assert rc == 1 and "no such share link" in err


def test_expired_link_answers_410(gate):
    sid = create(gate, "--ttl", "1s")
    time.sleep(2.2)
    assert gate.http_get("/s/" + sid)[0] == 410

    async def scenario():
        async with gate.client() as c:
            r = await c.call("share.open", {"id": sid})
            assert r["error"]["code"] == "share_expired", r
    run(scenario())


def test_unknown_and_malformed_links(gate):
    assert gate.http_get("/s/" + "0" * 32)[0] == 404
    assert gate.http_get("/s/not-hex")[0] == 404
    assert gate.http_get("/s/%s/other" % ("0" * 32))[0] == 404

    async def scenario():
        async with gate.client() as c:
            r = await c.call("share.open", {"id": "0" * 32})
            assert r["error"]["code"] == "unknown_share", r
            r = await c.call("share.open", {})
            assert r["error"]["code"] == "bad_request", r
    run(scenario())
    rc, out, err = gate.ctl("share", "create", "--ttl", "7x")
    assert rc == 2
    rc, out, err = gate.ctl("share", "bogus")
    assert rc == 2


def test_list_shows_links(gate):
    async def first():
        async with gate.client() as c:
            await c.open()
    run(first())
    create(gate, "--ttl", "7d")
    create(gate, "--read-only", "--ttl", "2h", "--session", "1")
    rows = listing(gate)
    assert len(rows) == 2
    assert [r["read_only"] for r in rows] == ["no", "yes"]
    assert all(re.match(r"^[0-9a-f]{12}$", r["hash"]) for r in rows)
    assert all(r["expires"] != "-" and r["revoked"] == "-" for r in rows)
    # A link for new chats names no session; the other names session 1.
    assert [r["session"] for r in rows] == [None, 1]
    # Committed, not just visible to the supervisor's own connection.
    wait_for(lambda: share_rows(gate) == 2, 5, 0.05, "links committed")


def share_rows(gate):
    c = sqlite3.connect("file:%s?mode=ro" % os.path.join(
        gate.state_dir, "wxgate.db"), uri=True, timeout=5)
    try:
        return c.execute("SELECT count(*) FROM share_links").fetchone()[0]
    finally:
        c.close()
