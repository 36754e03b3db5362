"""Bad input from strangers (issue 5's list): each gets an error frame or
an HTTP status, the worker does not crash, and other clients are served.
Covered elsewhere: invalid UTF-8, binary frames, over-long messages,
unknown methods, missing fields and wrong types (test_chat.py), header
over the limit (test_chat.py::test_http_routes)."""

import json
import socket
import time

import websockets

from conftest import run, wait_for


def still_serving(gate):
    async def go():
        async with gate.client() as c:
            await c.open()
            _, done = await c.chat("still here", "ok-1")
            assert done["text"] == "echo: still here"
    run(go())
    st = gate.status()
    assert all(w["restarts"] == 0 for w in st.values()), st


def test_slowloris_head_is_cut_off(gate_factory):
    # The head's deadline, shortened from 20 s: the cut is what is tested.
    gate = gate_factory({"webchat": {"idle_timeout_s": 5,
                                     "head_timeout_s": 3}})
    s = socket.create_connection(("127.0.0.1", gate.port))
    s.settimeout(1)
    closed = False
    head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
    deadline = time.monotonic() + 30
    try:
        for b in head:
            if time.monotonic() > deadline:
                break
            try:
                s.sendall(bytes([b]))
                got = s.recv(4096, socket.MSG_DONTWAIT)
                # Closed, or answered with an error status before closing.
                if got == b"" or got.startswith(b"HTTP/1.1 4"):
                    closed = True
                    break
            except (BlockingIOError, TimeoutError):
                pass
            except (ConnectionResetError, BrokenPipeError):
                closed = True
                break
            time.sleep(0.2)
    finally:
        s.close()
    assert closed, "a head trickling in byte by byte was never cut off"
    still_serving(gate)


def test_fragment_flood_over_the_limit(gate_factory):
    gate = gate_factory({"webchat": {"max_frame": 4096, "max_text": 1024}})

    async def go():
        # Within the limit: many tiny fragments make one request.
        async with gate.client() as c:
            await c.open()
            req = json.dumps({"id": 7, "method": "chat.send", "params": {
                "text": "frag", "client_msg_id": "f-1"}})
            await c.ws.send(iter([ch for ch in req]))
            r = await c.reply(7)
            assert r["ok"] is True, r
        # Over it: a flood of fragments is refused with too_large.
        async with gate.client() as c:
            async def flood():
                for _ in range(10000):
                    yield "x" * 16
            try:
                await c.ws.send(flood())
            except websockets.ConnectionClosed:
                pass
            code = await c.read_until_closed(10)
            errs = [r for r in c.replies.values()
                    if r.get("ok") is False]
            assert code == 1009, code
            assert errs and errs[0]["error"]["code"] == "too_large", \
                c.replies
    run(go())
    still_serving(gate)


def test_json_nested_ten_thousand_deep(gate):
    async def go():
        async with gate.client() as c:
            await c.open()
            deep = "[" * 10000 + "]" * 10000
            await c.send_raw('{"id":5,"method":"chat.send","params":'
                             '{"text":%s,"client_msg_id":"d-1"}}' % deep)
            await c.drain(1.0)
            errs = [v for v in c.replies.values() if v.get("ok") is False]
            assert errs, c.replies
            assert errs[0]["error"]["code"] in ("bad_json", "bad_request",
                                                "too_large"), errs
            # The same connection goes on working.
            _, done = await c.chat("after deep", "d-2")
            assert done["text"] == "echo: after deep"
    run(go())
    still_serving(gate)


def test_ten_megabyte_json(gate):
    async def go():
        async with gate.client() as c:
            await c.open()
            big = json.dumps({"id": 9, "method": "chat.send", "params": {
                "text": "x" * (10 * 1024 * 1024), "client_msg_id": "b-1"}})
            try:
                await c.ws.send(big)
            except websockets.ConnectionClosed:
                pass
            code = await c.read_until_closed(10)
            assert code == 1009, code
            errs = [v for v in c.replies.values() if v.get("ok") is False]
            assert errs and errs[0]["error"]["code"] == "too_large", \
                c.replies
    run(go())
    still_serving(gate)


def raw_request(gate, head):
    s = socket.create_connection(("127.0.0.1", gate.port))
    s.settimeout(10)
    s.sendall(head)
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
            if b"\r\n\r\n" in got and b"Connection: keep-alive" in got:
                break
    except (ConnectionResetError, TimeoutError, socket.timeout):
        pass
    s.close()
    return got


def test_host_and_version_are_checked(gate):
    """RFC 9112: a 1.1 head without Host or with two is 400; a version
    other than 1.x is 505.  Each answer has its own reason phrase."""
    cases = [
        (b"GET / HTTP/1.1\r\n\r\n", b"HTTP/1.1 400 Bad Request\r\n"),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
         b"HTTP/1.1 400 Bad Request\r\n"),
        (b"GET / HTTP/9.9\r\nHost: a\r\n\r\n",
         b"HTTP/1.1 505 HTTP Version Not Supported\r\n"),
        (b"GET /healthz HTTP/1.0\r\n\r\n", b"HTTP/1.1 200 OK\r\n"),
        (b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", b"HTTP/1.1 200 OK\r\n"),
    ]
    for head, want in cases:
        got = raw_request(gate, head)
        assert got.startswith(want), (head, got)
    still_serving(gate)


def test_gone_has_its_reason(gate):
    from test_policy_share import create
    sid = create(gate)
    rc, _, err = gate.ctl("share", "revoke", sid)
    assert rc == 0, err
    got = raw_request(gate, b"GET /s/%s HTTP/1.1\r\nHost: a\r\n\r\n" %
                      sid.encode())
    assert got.startswith(b"HTTP/1.1 410 Gone\r\n"), got


def test_csp_forbids_base_and_forms(gate):
    st, hdrs, _ = gate.http_get("/")
    assert st == 200
    csp = hdrs["Content-Security-Policy"]
    assert "base-uri 'none'" in csp and "form-action 'none'" in csp, csp
