"""The operator console (issue #16), its first slice: a sandboxed
`console` worker on a loopback listener the parent binds; login by a
one-time link from `wxgatectl console-url`; sessions, scopes and CSRF
decided by the hub from the cookie, never by the worker.

Time moves with the hub's test clock (`wxgatectl test supervisor
clock:+N`), so expiry is checked without sleeping."""

import copy
import os
import re
import socket

import pytest

from conftest import audit_rows, free_port, wait_for
from test_sandbox import ROOT, kill_with_each, proc_status

NAME = "console.http"
COOKIE = "wxgate_console"
URL_RE = re.compile(r"^http://127\.0\.0\.1:(\d+)/login\?token=([0-9a-f]{32})$")

OPERATORS = [{"name": "root-op", "scope": "admin"},
             {"name": "watcher", "scope": "viewer"}]


def start(gate_factory, extra=None, **console):
    """A gate with a console; extra: more of its configuration."""
    port = free_port()
    conf = {"listen": "127.0.0.1:%d" % port, "operators": OPERATORS}
    conf.update(console)
    top = {"console": conf, "supervisor": {"restart_max_ms": 400}}
    top.update(extra or {})
    gate = gate_factory(top)
    # Read back: a taken port moves (conftest's Gate.start).
    gate.console_port = int(gate.conf["console"]["listen"].rsplit(":", 1)[1])
    wait_for(lambda: (gate.worker(NAME) or {}).get("state") == "running",
             10, 0.05, "the console worker")
    return gate


def request(port, method, path, headers=None, body=b""):
    """One request on its own connection: (status, headers, body).
    Headers come back as a list of (lower-case name, value)."""
    h = {"Host": "127.0.0.1:%d" % port}
    h.update(headers or {})
    if method == "POST":
        h.setdefault("Content-Length", str(len(body)))
    raw = "%s %s HTTP/1.1\r\n" % (method, path)
    raw += "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", port), 10) as s:
        s.sendall(raw.encode() + body)
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split(" ")[1])
    hdrs = [(k.strip().lower(), v.strip()) for k, _, v in
            (ln.partition(":") for ln in lines[1:])]
    return status, hdrs, rest


def header(hdrs, name):
    vals = [v for k, v in hdrs if k == name]
    return vals[0] if vals else None


def link(gate, *args):
    rc, out, err = gate.ctl("console-url", *args)
    assert rc == 0, (rc, out, err)
    m = URL_RE.match(out.strip())
    assert m, out
    assert int(m.group(1)) == gate.console_port
    return m.group(2)


def login(gate, *args):
    """Follow a fresh link: the session cookie's value."""
    tok = link(gate, *args)
    st, hdrs, _ = request(gate.console_port, "GET", "/login?token=" + tok)
    assert st == 303, (st, hdrs)
    assert header(hdrs, "location") == "/"
    m = re.match(COOKIE + r"=([0-9a-f]{32});", header(hdrs, "set-cookie"))
    assert m, hdrs
    return m.group(1)


def with_cookie(session, extra=None):
    h = {"Cookie": "other=1; %s=%s" % (COOKIE, session)}
    h.update(extra or {})
    return h


def csrf_of(gate, session):
    import json
    st, _, body = request(gate.console_port, "GET", "/api/session",
                          with_cookie(session))
    assert st == 200, (st, body)
    return json.loads(body)


ROUTES = [("GET", "/"), ("GET", "/console.js"), ("GET", "/console.css"),
          ("GET", "/favicon.svg"), ("GET", "/api/session"),
          ("GET", "/api/overview"), ("GET", "/api/pairings"),
          ("GET", "/api/shares"), ("GET", "/api/schedules"),
          ("GET", "/api/log"), ("GET", "/api/log?since=1&worker=hub"),
          ("GET", "/nothing/here"), ("POST", "/api/logout"),
          ("POST", "/api/pairing/approve?code=ABC"),
          ("POST", "/api/share/revoke?id=abcdef"),
          ("POST", "/api/schedule/run?name=x"),
          ("POST", "/api/schedule/pause?name=x"),
          ("POST", "/api/schedule/resume?name=x"),
          ("GET", "/api/accounts"), ("POST", "/api/invite/revoke?id=1"),
          ("POST", "/api/conv/send?account=a&peer=b"),
          ("POST", "/api/account/pause?name=t"),
          ("GET", "/thread.js"), ("GET", "/thread.css"), ("GET", "/dom.js"),
          ("GET", "/e2e.js"), ("GET", "/seal.js"), ("GET", "/api/e2e"),
          ("POST", "/api/e2e/key"), ("POST", "/api/chat/seal?at=1:1"),
          ("GET", "/sched_seal.js"), ("POST", "/api/schedule/seal"),
          ("POST", "/api/schedule/prompt?id=1"),
          ("GET", "/api/schedule/sealed?id=1"),
          ("GET", "/api/schedule/sealed?id=1&run=2"),
          ("GET", "/api/thread?session=1"),
          ("GET", "/api/media?msg=1&seq=0")]


def test_no_route_answers_without_a_session(gate_factory):
    gate = start(gate_factory)
    p = gate.console_port
    for method, path in ROUTES:
        for cookie in (None, "%s=%s" % (COOKIE, "0" * 32),
                       "%s=not-hex" % COOKIE):
            h = {"Origin": "http://127.0.0.1:%d" % p}
            if cookie:
                h["Cookie"] = cookie
            st, hdrs, body = request(p, method, path, h)
            assert st == 401, (method, path, cookie, st, body[:200])
            assert b"console.js" not in body and b"workers" not in body
    # A route's other method: 405, naming the one it takes.
    st, hdrs, _ = request(p, "POST", "/api/overview")
    assert st == 405 and header(hdrs, "allow") == "GET, HEAD"
    st, hdrs, _ = request(p, "GET", "/api/logout")
    assert st == 405 and header(hdrs, "allow") == "POST"
    # The page without a session says how to get one, as text.
    st, hdrs, body = request(p, "GET", "/")
    assert b"wxgatectl console-url" in body
    assert "script-src 'self'" in header(hdrs, "content-security-policy")


def test_login_link_works_once_and_sets_a_strict_cookie(gate_factory):
    gate = start(gate_factory)
    p = gate.console_port
    tok = link(gate)
    st, hdrs, _ = request(p, "GET", "/login?token=" + tok)
    assert st == 303 and header(hdrs, "location") == "/"
    cookie = header(hdrs, "set-cookie")
    attrs = [a.strip() for a in cookie.split(";")]
    assert "HttpOnly" in attrs and "SameSite=Strict" in attrs, cookie
    assert "Path=/" in attrs
    # Loopback without TLS: no Secure (the browser would drop it).
    assert "Secure" not in attrs
    session = re.match(COOKIE + r"=([0-9a-f]{32})", cookie).group(1)
    # The store keeps hashes only: neither secret is in it.
    db = open(os.path.join(gate.state_dir, "wxgate.db"), "rb").read()
    wal = os.path.join(gate.state_dir, "wxgate.db-wal")
    if os.path.exists(wal):
        db += open(wal, "rb").read()
    assert tok.encode() not in db and session.encode() not in db
    # The same link again: refused.
    st, hdrs, body = request(p, "GET", "/login?token=" + tok)
    assert st == 401 and header(hdrs, "set-cookie") is None, body
    # The session works.
    st, _, body = request(p, "GET", "/", with_cookie(session))
    assert st == 200 and b"/console.js" in body
    s = csrf_of(gate, session)
    assert s["operator"] == "root-op" and s["scope"] == "admin"
    assert re.fullmatch("[0-9a-f]{64}", s["csrf"])
    # --operator picks who the link is for; an unknown one is refused.
    s = csrf_of(gate, login(gate, "--operator", "watcher"))
    assert s["operator"] == "watcher" and s["scope"] == "viewer"
    rc, out, err = gate.ctl("console-url", "--operator", "nobody")
    assert rc != 0 and "no such operator" in err


def test_expired_link_is_refused(gate_factory):
    gate = start(gate_factory, link_ttl_s=60)
    tok = link(gate)
    rc, out, err = gate.ctl("test", "supervisor", "clock:+61")
    assert rc == 0, err
    st, hdrs, body = request(gate.console_port, "GET",
                             "/login?token=" + tok)
    assert st == 401 and header(hdrs, "set-cookie") is None
    gate.wait_log("link expired")


def test_wrong_tokens_from_one_address_are_throttled(gate_factory):
    gate = start(gate_factory)
    p = gate.console_port
    # An operator's own links cost nothing: more than the bucket holds,
    # one after another, all log in.
    for _ in range(12):
        st, _, _ = request(p, "GET", "/login?token=" + link(gate))
        assert st == 303, st
    seen = []
    for i in range(20):
        st, _, _ = request(p, "GET", "/login?token=%032x" % i)
        seen.append(st)
    assert set(seen) <= {401, 429}, seen
    assert seen[0] == 401 and seen[-1] == 429, seen
    # Throttled means throttled: a good link from there waits too.
    tok = link(gate)
    st, hdrs, _ = request(p, "GET", "/login?token=" + tok)
    assert st == 429 and header(hdrs, "set-cookie") is None
    gate.wait_log("throttled")


def test_csrf_and_cross_site_posts_are_refused(gate_factory):
    gate = start(gate_factory)
    p = gate.console_port
    session = login(gate)
    csrf = csrf_of(gate, session)["csrf"]
    origin = "http://127.0.0.1:%d" % p
    # No token.
    st, _, body = request(p, "POST", "/api/logout",
                          with_cookie(session, {"Origin": origin}))
    assert st == 403, body
    # A wrong token.
    st, _, body = request(p, "POST", "/api/logout", with_cookie(
        session, {"Origin": origin, "X-CSRF-Token": "0" * 64}))
    assert st == 403, body
    # The right token from another origin, or none, or cross-site.
    for extra in ({"Origin": "http://evil.example"},
                  {"Origin": "http://127.0.0.1:%d" % (p + 1)},
                  {},
                  {"Origin": origin, "Sec-Fetch-Site": "cross-site"}):
        h = {"X-CSRF-Token": csrf}
        h.update(extra)
        st, _, body = request(p, "POST", "/api/logout",
                              with_cookie(session, h))
        assert st == 403, (extra, body)
    # A form another site posts has a body: refused before anything.
    st, _, _ = request(p, "POST", "/api/logout", with_cookie(
        session, {"Origin": "http://evil.example",
                  "Content-Type": "application/x-www-form-urlencoded"}),
        b"a=1")
    assert st in (403, 413)
    # The session survived all of that.
    assert csrf_of(gate, session)["csrf"] == csrf
    # Logout: same origin, its token; then the session is gone.
    st, hdrs, _ = request(p, "POST", "/api/logout", with_cookie(
        session, {"Origin": origin, "X-CSRF-Token": csrf,
                  "Sec-Fetch-Site": "same-origin"}))
    assert st == 200
    assert "Max-Age=0" in header(hdrs, "set-cookie")
    assert request(p, "GET", "/api/session", with_cookie(session))[0] == 401
    # The store commits by turns: wait for the rows.
    wait_for(lambda: any(r["detail"] == "no valid CSRF token" for r in
                         audit_rows(gate, "role = 'console'")), 5, 0.05,
             "the CSRF refusals audited")


def test_a_post_body_is_bounded_and_needs_its_length(gate_factory):
    """A write's body (a message to send) is read whole or not at all:
    its length first, at most IPC_TEXT_MAX (32 KiB); the hub still
    decides the rest: a whole body without a token is refused there."""
    gate = start(gate_factory)
    p = gate.console_port
    session = login(gate)
    st, _, _ = request(p, "POST", "/api/logout", with_cookie(
        session, {"Content-Length": str(32 * 1024 + 1)}), b"x")
    assert st == 413
    st, _, _ = request(p, "POST", "/api/logout", with_cookie(
        session, {"Transfer-Encoding": "chunked"}), b"1\r\nx\r\n0\r\n\r\n")
    assert st in (400, 411)
    st, _, _ = request(p, "POST", "/api/logout", {}, b"y" * (32 * 1024))
    assert st == 403
    assert csrf_of(gate, session)["csrf"]


def test_a_viewer_cannot_write_the_hub_refuses_and_audits(gate_factory):
    gate = start(gate_factory)
    p = gate.console_port
    origin = "http://127.0.0.1:%d" % p
    viewer = login(gate, "--operator", "watcher")
    h = with_cookie(viewer, {"Origin": origin,
                             "X-CSRF-Token": csrf_of(gate, viewer)["csrf"]})
    st, _, body = request(p, "POST", "/api/pairing/approve?code=ABCD", h)
    assert st == 403 and b"viewer" in body, body
    rows = wait_for(lambda: audit_rows(gate, "role = 'console' AND "
                                       "method = ?", ("pairing.approve",)),
                    5, 0.05, "the refusal audited")
    assert "watcher is a viewer" in rows[-1]["detail"], rows
    assert rows[-1]["worker"] == NAME
    rc, out, err = gate.ctl("audit")
    assert rc == 0 and "pairing.approve" in out, out
    # An admin gets past the scope: the store answers about the code.
    admin = login(gate)
    h = with_cookie(admin, {"Origin": origin,
                            "X-CSRF-Token": csrf_of(gate, admin)["csrf"]})
    st, _, body = request(p, "POST", "/api/pairing/approve?code=ABCD", h)
    assert st == 404 and b"no such pairing code" in body, body


def test_pairings_listed_as_text_approved_by_an_admin_only(gate_factory):
    import json
    from test_ctl_pairing import add_pairing, allowed
    gate = start(gate_factory)
    p = gate.console_port
    origin = "http://127.0.0.1:%d" % p
    xss = '<img src=x onerror=alert(1)>"\'&'
    add_pairing(gate, "wecom", xss, "K7Q2M9", 600)
    add_pairing(gate, "wecom", "bob", "P4X8D3", 600)
    viewer, admin = login(gate, "--operator", "watcher"), login(gate)
    st, hdrs, body = request(p, "GET", "/api/pairings", with_cookie(viewer))
    assert st == 200
    rows = {r["code"]: r for r in json.loads(body)["pairings"]}
    assert rows["K7Q2M9"]["peer"] == xss and rows["P4X8D3"]["peer"] == "bob"
    # Data, never a document: the browser must not sniff it as HTML.
    assert header(hdrs, "content-type") == "application/json"
    assert header(hdrs, "x-content-type-options") == "nosniff"

    def post(session, path):
        h = with_cookie(session, {
            "Origin": origin, "X-CSRF-Token": csrf_of(gate, session)["csrf"]})
        return request(p, "POST", path, h)
    assert post(viewer, "/api/pairing/approve?code=K7Q2M9")[0] == 403
    assert post(viewer, "/api/pairing/deny?code=P4X8D3")[0] == 403
    assert not allowed(gate, "wecom", xss)
    st, _, body = post(admin, "/api/pairing/approve?code=k7q2m9")
    assert st == 200, body
    wait_for(lambda: allowed(gate, "wecom", xss), 5, 0.05, "approved")
    assert post(admin, "/api/pairing/deny?code=P4X8D3")[0] == 200
    wait_for(lambda: json.loads(request(p, "GET", "/api/pairings",
                                        with_cookie(admin))[2])
             ["pairings"] == [], 5, 0.05, "no pairing left")
    assert not allowed(gate, "wecom", "bob")


def test_bytes_that_are_not_utf8_reach_nobody(gate_factory):
    """Query values and headers the hub could not decode are dropped by
    the worker: the hub refuses them as wrong, nobody is killed."""
    gate = start(gate_factory)
    p = gate.console_port
    pid = gate.worker(NAME)["pid"]
    admin = login(gate)
    h = with_cookie(admin, {"Origin": "http://127.0.0.1:%d" % p,
                            "X-CSRF-Token": csrf_of(gate, admin)["csrf"]})
    assert request(p, "GET", "/login?token=%ff%fe")[0] == 401
    st, _, body = request(p, "POST", "/api/peer/revoke?account=%ff&peer=%c3",
                          h)
    assert st == 404 and b"no such allowed sender" in body, body
    st, _, _ = request(p, "POST", "/api/pairing/approve?code=%80", h)
    assert st == 404
    bad = dict(h)
    bad["X-CSRF-Token"] = "\u00ff" * 10
    raw = ("POST /api/logout HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
           "Origin: http://127.0.0.1:%d\r\nCookie: %s=%s\r\n"
           "Content-Length: 0\r\nX-CSRF-Token: " % (p, p, COOKIE, admin))
    with socket.create_connection(("127.0.0.1", p), 10) as s:
        s.sendall(raw.encode() + b"\xff\xfe\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 403")
    assert gate.worker(NAME)["pid"] == pid
    assert gate.worker(NAME)["restarts"] == 0


def test_allowed_senders_listed_and_revoked_by_an_admin_only(gate_factory):
    import json
    from test_ctl_pairing import add_pairing, allowed
    gate = start(gate_factory)
    p = gate.console_port
    origin = "http://127.0.0.1:%d" % p
    add_pairing(gate, "wecom", "\u5f20\u4e09 <b>", "K7Q2M9", 600)
    rc, out, err = gate.ctl("pairing", "approve", "K7Q2M9")
    assert rc == 0, err
    viewer, admin = login(gate, "--operator", "watcher"), login(gate)
    page = json.loads(request(p, "GET", "/api/pairings",
                              with_cookie(viewer))[2])
    assert [(r["account"], r["peer"]) for r in page["allowed"]] == \
        [("wecom", "\u5f20\u4e09 <b>")] and page["more"] is False
    q = "/api/peer/revoke?account=wecom&peer=%E5%BC%A0%E4%B8%89%20%3Cb%3E"

    def post(session):
        h = with_cookie(session, {
            "Origin": origin, "X-CSRF-Token": csrf_of(gate, session)["csrf"]})
        return request(p, "POST", q, h)
    assert post(viewer)[0] == 403
    wait_for(lambda: audit_rows(gate, "method = 'peer.revoke'"), 5, 0.05,
             "the viewer's revoke audited")
    assert allowed(gate, "wecom", "\u5f20\u4e09 <b>")
    st, _, body = post(admin)
    assert st == 200, body
    wait_for(lambda: not allowed(gate, "wecom", "\u5f20\u4e09 <b>"), 5,
             0.05, "revoked")
    assert post(admin)[0] == 404


def poster(gate, session):
    """POST path as session, with its origin and CSRF token."""
    origin = "http://127.0.0.1:%d" % gate.console_port
    h = with_cookie(session, {"Origin": origin,
                              "X-CSRF-Token": csrf_of(gate, session)["csrf"]})
    return lambda path: request(gate.console_port, "POST", path, h)


def page(gate, session, name):
    import json
    st, hdrs, body = request(gate.console_port, "GET", "/api/" + name,
                             with_cookie(session))
    assert st == 200, (st, body)
    assert header(hdrs, "content-type") == "application/json"
    return json.loads(body)


def refused_and_audited(gate, post, path, method):
    """A viewer's write: 403 from the hub, and an audit row naming it."""
    st, _, body = post(path)
    assert st == 403 and b"viewer" in body, (path, st, body)
    rows = wait_for(lambda: audit_rows(gate, "role = 'console' AND "
                                       "method = ?", (method,)),
                    5, 0.05, "the viewer's %s audited" % method)
    assert "watcher is a viewer" in rows[-1]["detail"], rows


def test_share_links_listed_and_revoked_by_an_admin_only(gate_factory):
    from test_policy_share import URL_RE as SHARE_RE, listing
    from conftest import ctl_link
    gate = start(gate_factory)
    p = gate.console_port
    viewer, admin = login(gate, "--operator", "watcher"), login(gate)
    assert page(gate, viewer, "shares") == {
        "links": [], "more": False,
        "base": "http://127.0.0.1:%d/s/" % gate.port}
    secret = ctl_link(gate, SHARE_RE, "share", "create").group(2)
    ctl_link(gate, SHARE_RE, "share", "create", "--ttl", "1h")
    ids = [r["hash"] for r in listing(gate)]
    o = page(gate, viewer, "shares")
    # The ids `share list` shows, oldest first; never the secret.
    assert [r["id"] for r in o["links"]] == ids, (o, ids)
    assert [r["state"] for r in o["links"]] == ["live", "live"]
    # The second's --ttl 1h ends before the default's.
    assert 0 < o["links"][1]["expires"] < o["links"][0]["expires"], o
    assert o["links"][0]["read_only"] is False and not o["more"]
    assert secret not in json_text(o)

    q = "/api/share/revoke?id=" + ids[0]
    refused_and_audited(gate, poster(gate, viewer), q, "share.revoke")
    assert listing(gate)[0]["revoked"] == "-"
    assert gate.http_get("/s/" + secret)[0] == 200
    st, _, body = poster(gate, admin)(q)
    assert st == 200, body
    assert listing(gate)[0]["revoked"] != "-"
    assert listing(gate)[1]["revoked"] == "-"
    assert gate.http_get("/s/" + secret)[0] == 410
    assert [r["state"] for r in page(gate, admin, "shares")["links"]] == \
        ["revoked", "live"]
    st, _, body = poster(gate, admin)("/api/share/revoke?id=000000")
    assert st == 404 and b"no such share link" in body, body
    # Too short a prefix names nothing rather than a guess.
    assert poster(gate, admin)("/api/share/revoke?id=" + ids[1][:3])[0] \
        == 404
    assert listing(gate)[1]["revoked"] == "-"


def test_a_share_link_made_on_the_console_is_shown_once_with_its_qr(
        gate_factory):
    """Share links: made by an admin only (a viewer's try is refused
    and audited), for 1 to 365 days; the address and its QR code come
    back once, the link opens the public page, and neither the listing
    nor the log holds its secret afterwards."""
    import json
    import time
    from test_policy_share import URL_RE as SHARE_RE, listing
    gate = start(gate_factory)
    viewer, admin = login(gate, "--operator", "watcher"), login(gate)
    refused_and_audited(gate, poster(gate, viewer),
                        "/api/share/create?days=7", "share.create")
    assert listing(gate) == []
    make = poster(gate, admin)
    for bad in ("0", "366", "abc", "7d", "", "00001"):
        st, _, body = make("/api/share/create?days=" + bad)
        assert st == 400 and b"from 1 to 365" in body, (bad, st, body)
    assert listing(gate) == []
    before = time.time()
    st, _, body = make("/api/share/create?days=2")
    assert st == 200, body
    o = json.loads(body)
    m = SHARE_RE.match(o["url"])
    assert m and int(m.group(1)) == gate.port, o["url"]
    secret = m.group(2)
    assert "<svg" in o["qr"] and secret not in o["qr"], o["qr"][:80]
    assert gate.http_get("/s/" + secret)[0] == 200
    links = page(gate, admin, "shares")["links"]
    assert len(links) == 1 and links[0]["state"] == "live", links
    assert links[0]["read_only"] is False and links[0]["session"] == 0
    assert abs(links[0]["expires"] - (before + 2 * 86400)) < 120, links
    assert secret not in json_text(page(gate, admin, "shares"))
    gate.wait_log("console: operator root-op shares a link for new chats "
                  "(2 days)")
    assert secret not in gate.log()


def json_text(o):
    import json
    return json.dumps(o)


SCHED_CONF = {
    "agents": [{"name": "default", "type": "echo"}],
    "channels": [{"name": "t", "type": "loopback"}],
    "schedules": [{"name": "filed", "every": "1h", "text": "from the file",
                   "to": ["t:carol"]}],
}


def sched_listing(gate):
    from test_ctl_schedule import listing
    return listing(gate)


def test_schedules_listed_with_history_run_paused_by_an_admin_only(
        gate_factory):
    from test_ctl_schedule import show
    gate = start(gate_factory, dict(SCHED_CONF, schedules=[]))
    viewer, admin = login(gate, "--operator", "watcher"), login(gate)
    o = page(gate, viewer, "schedules")
    assert o["schedules"] == [] and o["more"] is False, o
    xss = '<img src=x onerror=alert(1)>"\'&'
    rc, out, err = gate.ctl("schedule", "add", "morning", "--cron",
                            "0 8 * * 1-5", "--tz", "Europe/Berlin",
                            "--text", xss, "--to", "t:alice")
    assert rc == 0, (out, err)
    (s,) = page(gate, viewer, "schedules")["schedules"]
    assert (s["name"], s["cron"], s["every"], s["tz"], s["agent"],
            s["text"], s["targets"], s["paused"], s["from_config"],
            s["runs"]) == ("morning", "0 8 * * 1-5", None, "Europe/Berlin",
                           None, xss, "t:alice", False, False, []), s
    assert s["next_run"] > 0

    # A viewer: each write refused by the hub, and audited.
    post = poster(gate, viewer)
    for verb in ("run", "pause", "resume"):
        refused_and_audited(gate, post, "/api/schedule/%s?name=morning"
                            % verb, "schedule." + verb)
    assert gate.ctl("schedule", "history", "morning")[1] == ""
    assert sched_listing(gate)["morning"]["flags"] == "-"

    # An admin: run now shows in wxgatectl's history and on the page.
    post = poster(gate, admin)
    st, _, body = post("/api/schedule/run?name=morning")
    assert st == 200, body
    rc, out, err = gate.ctl("schedule", "history", "morning")
    assert rc == 0 and " manual" in out, (out, err)
    (s,) = page(gate, admin, "schedules")["schedules"]
    (r,) = s["runs"]
    assert r["manual"] is True and r["state"] in ("running", "done"), r
    assert [t["channel"] + ":" + t["target"] for t in r["targets"]] == \
        ["t:alice"], r
    st, _, body = post("/api/schedule/pause?name=morning")
    assert st == 200, body
    assert sched_listing(gate)["morning"]["flags"] == "paused"
    assert show(gate, "morning")["paused"] == "yes"
    (s,) = page(gate, admin, "schedules")["schedules"]
    assert s["paused"] is True and s["next_run"] == 0, s
    st, _, body = post("/api/schedule/resume?name=morning")
    assert st == 200, body
    assert sched_listing(gate)["morning"]["flags"] == "-"
    assert page(gate, admin, "schedules")["schedules"][0]["paused"] is False
    st, _, body = post("/api/schedule/pause?name=nosuch")
    assert st == 409 and b"no schedule nosuch" in body, body


def test_schedules_from_the_file_are_read_only_in_the_console(gate_factory):
    gate = start(gate_factory, SCHED_CONF)
    admin = login(gate)
    (s,) = page(gate, admin, "schedules")["schedules"]
    assert s["name"] == "filed" and s["from_config"] is True, s
    st, _, body = poster(gate, admin)("/api/schedule/pause?name=filed")
    assert st == 409 and b"configuration file" in body, body
    assert sched_listing(gate)["filed"]["flags"] != "paused"


def test_schedules_page_cuts_long_texts_at_whole_characters(gate_factory):
    """A text of 9000 bytes shows as its first 200 at most, cut between
    UTF-8 characters (jansson would refuse half of one)."""
    gate = start(gate_factory, dict(SCHED_CONF, schedules=[]))
    admin = login(gate)
    text = "\u5f20" * 3000
    for i in range(3):
        rc, out, err = gate.ctl("schedule", "add", "long%d" % i, "--every",
                                "1h", "--text", text, "--to", "t:alice")
        assert rc == 0, (out, err)
    o = page(gate, admin, "schedules")
    assert [s["name"] for s in o["schedules"]] == ["long0", "long1", "long2"]
    for s in o["schedules"]:
        assert 0 < len(s["text"].encode()) <= 200, len(s["text"])
        assert set(s["text"]) == {"\u5f20"}


def accounts_gate(gate_factory, fake, **bind):
    """A console, a WeChat account logging in at the fake (no token:
    it shows a QR code), a loopback account and a binding template."""
    from test_bind import template
    return start(gate_factory, extra={
        "channels": [
            {"name": "alice", "type": "wechat",
             "wechat": {"login_url": fake.url, "send_gap_ms": 0,
                        "poll_timeout_ms": 3000, "timeout_s": 5}},
            {"name": "t", "type": "loopback"}],
        "bind_templates": [template(fake)], "bind": {"ttl_min_s": 1}})


def account(o, name):
    rows = [a for a in o["accounts"] if a["name"] == name]
    return rows[0] if rows else None


def test_accounts_page_shows_a_wechat_qr_login_to_its_end(gate_factory):
    from fake_ilink import FakeIlink
    fake = FakeIlink(longpoll_ms=1500, qr_script=("wait",)).start()
    try:
        gate = accounts_gate(gate_factory, fake)
        viewer = login(gate, "--operator", "watcher")
        # The worker fetched a code: the page has it, drawn by the hub.
        a = wait_for(lambda: (lambda r: r if r and r["login"] == "scan"
                              else None)(account(page(gate, viewer,
                                                      "accounts"), "alice")),
                     20, 0.1, "alice's QR code on the page")
        assert a["kind"] == "wechat" and a["source"] == "config"
        assert a["state"] == "login_required", a
        assert a["login_url"].startswith(
            "https://liteapp.weixin.qq.com/q/fake?qrcode="), a
        assert a["qr"].startswith("<svg") and "<path" in a["qr"], a
        # The same code wxgatectl login shows.
        rc, out, err = gate.ctl("login", "--no-wait", "alice")
        assert rc == 0 and a["login_url"] in out, (rc, out, err)
        t = account(page(gate, viewer, "accounts"), "t")
        assert (t["kind"], t["source"], t["state"], t["login"]) == \
            ("loopback", "config", "running", ""), t
        assert t["qr"] is None and t["login_url"] is None
        # The phone scans and confirms: the page says logged in.
        fake.qr_now(["scaned", "confirmed"])
        a = wait_for(lambda: (lambda r: r if r["login"] == "done" else None)(
            account(page(gate, viewer, "accounts"), "alice")),
            20, 0.1, "alice logged in on the page")
        assert a["state"] == "running" and a["qr"] is None, a
        assert fake.logins == 1 and fake.violations == []
    finally:
        fake.stop()


def test_accounts_page_draws_four_codes_at_most(gate_factory):
    """A drawing is about 20 KB: five accounts waiting get five URLs and
    four drawings, so a page of many stays inside a frame."""
    from fake_ilink import FakeIlink
    fake = FakeIlink(longpoll_ms=1500, qr_script=("wait",)).start()
    try:
        gate = start(gate_factory, extra={"channels": [
            {"name": "w%d" % i, "type": "wechat",
             "wechat": {"login_url": fake.url, "poll_timeout_ms": 3000}}
            for i in range(5)]})
        s = login(gate)
        o = wait_for(lambda: (lambda o: o if [a["login"] for a in
                                              o["accounts"]] == ["scan"] * 5
                              else None)(page(gate, s, "accounts")),
                     20, 0.1, "five codes waiting")
        assert all(a["login_url"] for a in o["accounts"])
        assert sum(a["qr"] is not None for a in o["accounts"]) == 4, o
        assert not o["more"]
    finally:
        fake.stop()


def test_accounts_page_lists_invitations_revoked_by_an_admin_only(
        gate_factory):
    from fake_ilink import FakeIlink
    from test_bind import create, invites
    fake = FakeIlink(longpoll_ms=1500, qr_script=("wait",)).start()
    try:
        gate = accounts_gate(gate_factory, fake)
        viewer, admin = login(gate, "--operator", "watcher"), login(gate)
        assert page(gate, viewer, "accounts")["invites"] == []
        tok = [create(gate), create(gate, "--uses", "3")]
        o = page(gate, viewer, "accounts")
        assert [(i["id"], i["template"], i["state"], i["uses_left"],
                 i["used"]) for i in o["invites"]] == \
            [(1, "staff", "live", 1, 0), (2, "staff", "live", 3, 0)], o
        assert not o["invites_more"] and not o["more"]
        assert not any(t in json_text(o) for t in tok)
        refused_and_audited(gate, poster(gate, viewer),
                            "/api/invite/revoke?id=2", "invite.revoke")
        assert invites(gate)[1]["revoked"] == "-"
        post = poster(gate, admin)
        st, _, body = post("/api/invite/revoke?id=2")
        assert st == 200, body
        assert invites(gate)[1]["revoked"] != "-"
        assert invites(gate)[0]["revoked"] == "-"
        assert [i["state"] for i in page(gate, admin, "accounts")[
            "invites"]] == ["live", "revoked"]
        st, _, body = post("/api/invite/revoke?id=2")
        assert st == 404 and b"no such live invitation" in body, body
        for bad in ("0", "x1", "-1", "1%202"):
            st, _, body = post("/api/invite/revoke?id=" + bad)
            assert st in (400, 404) and b"ok" not in body, (bad, st, body)
        assert invites(gate)[0]["revoked"] == "-"
        # The revoked link's page says so.
        st, _, _ = gate.http_get("/bind/" + tok[1])
        assert st == 410
    finally:
        fake.stop()


XSS = "<img src=x onerror=alert(1)>\"&'"


def test_accounts_page_bound_owner_is_json_text(gate_factory):
    """A bound account's owner is whoever the platform said scanned it:
    the page carries it as a JSON string, never cut into markup."""
    from fake_ilink import FakeIlink
    from conftest import run
    from test_bind import bind_through, create
    fake = FakeIlink(longpoll_ms=1500, qr_script=("wait",),
                     user_id=XSS).start()
    try:
        gate = accounts_gate(gate_factory, fake)
        viewer = login(gate, "--operator", "watcher")
        name = run(bind_through(gate, fake, create(gate)))
        a = wait_for(lambda: (lambda r: r if r and r["owner"] == XSS
                              else None)(account(page(gate, viewer,
                                                      "accounts"), name)),
                     15, 0.1, "the bound account's owner")
        assert (a["source"], a["template"], a["kind"]) == \
            ("bound", "staff", "wechat"), a
        assert [i["used"] for i in page(gate, viewer, "accounts")[
            "invites"]] == [1]
    finally:
        fake.stop()


def test_revoke_all_ends_every_session(gate_factory):
    gate = start(gate_factory)
    p = gate.console_port
    a, b = login(gate), login(gate, "--operator", "watcher")
    unused = link(gate)
    for s in (a, b):
        assert request(p, "GET", "/api/overview", with_cookie(s))[0] == 200
    rc, out, err = gate.ctl("console", "revoke-all")
    assert rc == 0 and "2 console sessions ended" in out, (out, err)
    for s in (a, b):
        assert request(p, "GET", "/api/overview", with_cookie(s))[0] == 401
    # Links not yet used end with them.
    assert request(p, "GET", "/login?token=" + unused)[0] == 401


def test_idle_and_absolute_expiry(gate_factory):
    gate = start(gate_factory, idle_timeout_s=60, session_max_s=150)
    p = gate.console_port
    s = login(gate)
    # Seen every 50 s, it stays; its absolute end comes anyway.
    for _ in range(2):
        assert gate.ctl("test", "supervisor", "clock:+50")[0] == 0
        assert request(p, "GET", "/api/session", with_cookie(s))[0] == 200
    assert gate.ctl("test", "supervisor", "clock:+50")[0] == 0
    assert request(p, "GET", "/api/session", with_cookie(s))[0] == 401
    gate.wait_log("absolute expiry")
    # Idle for longer than idle_timeout_s: gone.
    s = login(gate)
    assert gate.ctl("test", "supervisor", "clock:+61")[0] == 0
    assert request(p, "GET", "/api/session", with_cookie(s))[0] == 401
    gate.wait_log("(idle)")
    # One never visited again is swept when the next session is made.
    login(gate)
    assert gate.ctl("test", "supervisor", "clock:+61")[0] == 0
    fresh = login(gate)
    wait_for(lambda: session_rows(gate) == 1, 5, 0.05,
             "only the fresh session left")
    assert request(p, "GET", "/api/session", with_cookie(fresh))[0] == 200


def session_rows(gate):
    import sqlite3
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(
        gate.state_dir, "wxgate.db"), uri=True, timeout=5)
    try:
        return db.execute("SELECT count(*) FROM console_sessions").fetchone()[0]
    finally:
        db.close()


def test_overview_lists_workers_and_escapes_names(gate_factory):
    import json
    gate = start(gate_factory)
    s = login(gate)
    st, hdrs, body = request(gate.console_port, "GET", "/api/overview",
                             with_cookie(s))
    assert st == 200 and header(hdrs, "content-type") == "application/json"
    o = json.loads(body)
    names = {w["name"]: w for w in o["workers"]}
    assert {NAME, "webchat.0", "agent.default"} <= set(names), names
    w = names[NAME]
    assert w["kind"] == "console" and w["state"] == "running"
    assert w["pid"] > 0 and w["restarts"] == 0
    assert isinstance(o["channels"], list)


def test_a_non_loopback_address_or_missing_tls_files_are_refused(
        gate_factory):
    gate = start(gate_factory)
    base = copy.deepcopy(gate.conf)
    mark = len(gate.log())
    for addr in ("0.0.0.0:%d", "192.0.2.1:%d", "[::]:%d"):
        conf = copy.deepcopy(base)
        conf["console"]["listen"] = addr % free_port()
        assert not gate.reload(conf)
    conf = copy.deepcopy(base)
    conf["console"]["tls_cert"] = "/etc/ssl/x.pem"
    conf["console"]["tls_key"] = "/etc/ssl/x.key"
    assert not gate.reload(conf)
    conf = copy.deepcopy(base)
    conf["console"]["operators"] = []
    assert not gate.reload(conf)
    text = gate.log()[mark:]
    assert "not a loopback address" in text
    assert "/etc/ssl/x.pem: No such file" in text
    assert "no default credentials" in text
    # Still serving on the old file.
    assert request(gate.console_port, "GET", "/")[0] == 401


def test_console_worker_is_sandboxed_and_restarted(gate_factory):
    gate = start(gate_factory)
    w = gate.worker(NAME)
    ps = proc_status(w["pid"])
    assert ps["Seccomp"] == "2" and ps["NoNewPrivs"] == "1", ps
    if ROOT:
        assert all(u != "0" for u in ps["Uid"].split()), ps["Uid"]
        assert ps["Groups"] == "", ps["Groups"]
    assert os.readlink("/proc/%d/ns/net" % w["pid"]) != \
        os.readlink("/proc/self/ns/net")
    kill_with_each(gate, NAME, dials=False)
    # Restarted on the socket the parent kept; sessions are the hub's.
    s = login(gate)
    old = gate.worker(NAME)
    os.kill(old["pid"], 9)
    wait_for(lambda: (gate.worker(NAME) or {}).get("pid") not in
             (None, old["pid"]), 10, 0.05, "a new console worker")
    wait_for(lambda: _answers(gate.console_port, s), 10, 0.1,
             "the same session after SIGKILL")


def _answers(port, session):
    try:
        return request(port, "GET", "/api/session",
                       with_cookie(session))[0] == 200
    except OSError:
        return False


@pytest.mark.parametrize("action,method", [
    ("wrong_role_operator", "ctl.status"), ("wrong_role", "agent.delta")])
def test_console_worker_is_held_to_its_role(gate_factory, action, method):
    """The console worker is no operator: an operator method (or any
    other role's) from it kills it, and the hub audits it by role."""
    gate = start(gate_factory)
    old = gate.worker(NAME)
    rc, out, err = gate.ctl("test", NAME, action)
    assert rc == 0, err
    gate.wait_log("%s not allowed for console" % method, 10)
    rows = wait_for(lambda: audit_rows(gate, "method = ?", (method,)),
                    10, 0.1, "audit row")
    assert rows[0]["role"] == "console" and rows[0]["worker"] == NAME
    wait_for(lambda: (gate.worker(NAME) or {}).get("pid") not in
             (None, old["pid"]) and gate.worker(NAME)["state"] ==
             "running", 10, 0.05, "the console worker restarted")


def test_no_console_configured_no_worker_and_no_link(gate):
    assert NAME not in gate.status()
    rc, out, err = gate.ctl("console-url")
    assert rc == 1 and "no console: set console.listen" in err, (out, err)
    rc, out, err = gate.ctl("console", "revoke-all")
    assert rc == 0 and "0 console sessions ended" in out, (out, err)
    rc, out, err = gate.ctl("console-url", "--operator")
    assert rc == 2, (out, err)


def test_scope_follows_the_file_on_reload(gate_factory):
    """The scope is the file's, read at every request: a reload that
    makes an admin a viewer, or removes an operator, applies to the
    sessions already open."""
    gate = start(gate_factory)
    p = gate.console_port
    admin, viewer = login(gate), login(gate, "--operator", "watcher")
    conf = copy.deepcopy(gate.conf)
    conf["console"]["operators"] = [{"name": "root-op", "scope": "viewer"}]
    assert gate.reload(conf)
    wait_for(lambda: csrf_of(gate, admin)["scope"] == "viewer", 5, 0.05,
             "root-op a viewer")
    assert request(p, "GET", "/api/session", with_cookie(viewer))[0] == 401
    gate.wait_log("operator removed")
    h = with_cookie(admin, {"Origin": "http://127.0.0.1:%d" % p,
                            "X-CSRF-Token": csrf_of(gate, admin)["csrf"]})
    st, _, body = request(p, "POST", "/api/pairing/deny?code=ABCD", h)
    assert st == 403 and b"viewer" in body


# The log page (issue #16): the hub's ring of its latest lines.
RING_LINES = 1000       # LOGRING_LINES, supervisor/logring.c
LOG_PAGE_MAX = 500      # CONSOLE_LOG_MAX, supervisor/console_page_log.c


def log_page(gate, session, **query):
    from urllib.parse import urlencode
    q = urlencode(query)
    return page(gate, session, "log" + ("?" + q if q else ""))


def sched_say(gate, name, text):
    """A loopback line from worker loopback.t that carries text."""
    rc, out, err = gate.ctl("schedule", "add", name, "--every", "1h",
                            "--text", text, "--to", "t:alice")
    assert rc == 0, (out, err)
    rc, out, err = gate.ctl("schedule", "run", name)
    assert rc == 0, (out, err)
    gate.wait_log("to alice: " + text)


def test_log_page_tails_workers_and_the_hub_with_filters(gate_factory):
    gate = start(gate_factory, dict(SCHED_CONF, schedules=[]))
    p = gate.console_port
    viewer = login(gate, "--operator", "watcher")
    o = log_page(gate, viewer)
    lines = o["lines"]
    assert o["more"] is False and o["seq"] == lines[-1]["seq"], o
    assert [ln["seq"] for ln in lines] == sorted(ln["seq"] for ln in lines)
    who = {ln["worker"] for ln in lines}
    assert "hub" in who and "console.http" in who, who
    assert any(ln["worker"] == "console.http" and
               ln["text"].startswith("console: serving") for ln in lines)
    assert any(ln["worker"] == "hub" and "store_migrate: schema" in
               ln["text"] for ln in lines), lines
    # Info is the configured level: no debug line is kept, none raised.
    assert {ln["level"] for ln in lines} <= {"warn", "info"}, lines

    seq = o["seq"]
    sched_say(gate, "tick", "first-marker")
    # A warning of the hub's: a used link.
    assert request(p, "GET", "/login?token=" + "0" * 32)[0] == 401
    gate.wait_log("unknown or used link")
    o = log_page(gate, viewer, since=seq)
    assert o["lines"] and all(ln["seq"] > seq for ln in o["lines"]), o
    assert not any("serving" in ln["text"] for ln in o["lines"])
    mine = [ln for ln in o["lines"] if "first-marker" in ln["text"]]
    assert [ln["worker"] for ln in mine] == ["loopback.t"], o
    assert mine[0]["text"] == "loopback t: to alice: first-marker"

    o = log_page(gate, viewer, worker="loopback.t")
    assert o["lines"] and \
        {ln["worker"] for ln in o["lines"]} == {"loopback.t"}, o
    assert o["seq"] >= mine[0]["seq"]
    o = log_page(gate, viewer, worker="hub", since=seq)
    assert {ln["worker"] for ln in o["lines"]} == {"hub"}, o
    assert any("operator (uid" in ln["text"] for ln in o["lines"])
    assert log_page(gate, viewer, worker="nobody.here")["lines"] == []
    o = log_page(gate, viewer, level="warn")
    assert o["lines"] and {ln["level"] for ln in o["lines"]} == {"warn"}
    assert any("unknown or used link" in ln["text"] for ln in o["lines"])
    o = log_page(gate, viewer, level="info", worker="loopback.t")
    assert "first-marker" in json_text(o)
    # Past the newest (a new hub counts from 1 again): from the start.
    o = log_page(gate, viewer, since=10 ** 12)
    assert o["lines"][0]["seq"] == o["first"] == 1, o

    for q in ("since=x", "since=-1", "level=loud", "worker=a%20b",
              "worker=%3Cb%3E",
              "worker=" + "w" * 64):
        st, _, body = request(p, "GET", "/api/log?" + q,
                              with_cookie(viewer))
        assert st == 400, (q, st, body)


def test_log_page_keeps_debug_lines_when_they_are_logged(gate_factory):
    gate = start(gate_factory, dict(SCHED_CONF, schedules=[],
                                    log={"level": "debug"}))
    admin = login(gate)
    o = log_page(gate, admin, level="debug")
    assert "debug" in {ln["level"] for ln in o["lines"]}, o
    assert {ln["level"] for ln in log_page(gate, admin,
                                           level="info")["lines"]} \
        <= {"warn", "info"}


def test_log_ring_keeps_only_the_newest_lines(gate_factory):
    gate = start(gate_factory, dict(SCHED_CONF, schedules=[]))
    p = gate.console_port
    admin = login(gate)
    sched_say(gate, "old", "oldest-marker")
    # Wrong links from one address: a warning each, cheap to make.
    for i in range(RING_LINES + 100):
        request(p, "GET", "/login?token=%032x" % i)
    sched_say(gate, "new", "newest-marker")
    o = log_page(gate, admin)
    assert o["seq"] - o["first"] + 1 == RING_LINES, o["first"]
    assert o["seq"] > RING_LINES + 100
    assert len(o["lines"]) == LOG_PAGE_MAX and o["more"] is True
    assert o["lines"][-1]["seq"] == o["seq"]
    text = json_text(log_page(gate, admin, worker="loopback.t"))
    assert "newest-marker" in text and "oldest-marker" not in text
    # The file still has what the ring let go.
    assert "oldest-marker" in gate.log()


def test_log_page_shows_no_secret_from_the_configuration(gate_factory,
                                                         tmp_path):
    from fake_webhook import FakeWebhook
    from test_channel_webhook import channel
    robot = FakeWebhook(window=3).start()
    try:
        conf = {"agents": [{"name": "default", "type": "echo"}],
                "channels": [channel(robot, tmp_path)],
                "log": {"level": "debug"}}
        gate = start(gate_factory, conf)
        admin = login(gate)
        rc, out, err = gate.ctl("send", "ops", "group", "a notice")
        assert rc == 0, (out, err)
        wait_for(lambda: robot.contents() == ["a notice"], 10, 0.05,
                 "the notice at the robot")
        o = log_page(gate, admin)
        assert "wecom_webhook.ops" in {ln["worker"] for ln in o["lines"]}
        assert robot.key not in json_text(o), robot.key
        assert robot.key not in gate.log()
    finally:
        robot.stop()


def conversations_gate(gate_factory, fake, tmp_path):
    """A console and a logged-in WeChat account at the fake that lets
    FRIEND talk to the echo agent."""
    from test_channel_wechat import channel
    return start(gate_factory, extra={"channels": [
        channel(fake, tmp_path, allow_from=[FRIEND])]})


FRIEND = "friend_0002@im.wechat"
XSS = "<img src=x onerror=alert(1)>&amp;"


def conversation(o, peer):
    rows = [c for c in o["conversations"] if c["peer"] == peer]
    return rows[0] if rows else None


def test_conversations_list_messages_and_delivery_as_text(
        gate_factory, tmp_path):
    from fake_ilink import FakeIlink
    fake = FakeIlink(longpoll_ms=1500).start()
    try:
        gate = conversations_gate(gate_factory, fake, tmp_path)
        viewer = login(gate, "--operator", "watcher")
        fake.inject(FRIEND, "hello bot")
        fake.inject(FRIEND, XSS)
        c = wait_for(lambda: (lambda r: r if r and r["count"] == 2 and
                              r["messages"][-1]["delivery"] == "sent"
                              else None)(conversation(page(
                                  gate, viewer, "conversations"), FRIEND)),
                     20, 0.1, "FRIEND's two answered messages")
        assert c["account"] == "alice" and c["last"] > 0, c
        m = c["messages"]
        assert [x["text"] for x in m] == ["hello bot", XSS], m
        # The peer's markup is data: the reply quotes it as text.
        assert m[1]["reply"] == "echo: " + XSS, m
        assert m[0]["reply"] == "echo: hello bot" and \
            m[0]["delivery"] == "sent", m
        # Search by peer and by text, lower-case words; a miss is empty.
        for q in ("peer=friend_0002", "text=hello", "peer=friend&text=bot"):
            o = page(gate, viewer, "conversations?" + q)
            assert conversation(o, FRIEND), (q, o)
        for q in ("peer=nobody", "text=goodbye"):
            o = page(gate, viewer, "conversations?" + q)
            assert o == {"conversations": [], "more": False}, (q, o)
        # A space would shift the hub's fields: the worker refuses it
        # in a peer (the text is free: test_console_search.py).
        st, _, _ = request(gate.console_port, "GET",
                           "/api/conversations?peer=a%20b",
                           with_cookie(viewer))
        assert st == 400, st
    finally:
        fake.stop()
