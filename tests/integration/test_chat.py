"""The web chat protocol end to end: streaming, dedupe, history, resume,
errors, and the page's HTTP routes."""

import json

import websockets

from conftest import run

TEXT = "hello wxgate, this is a streamed message"


def agent_work(st):
    """Frames the agent sent beyond what it was sent: a request (1 OUT)
    is answered by its deltas and done (5 IN with 4 chunks).  Heartbeats
    are not messages and count neither way."""
    a = st["agent.default"]
    return a["in"] - a["out"]


def test_status_counts_messages_not_heartbeats(gate_factory):
    """Idle, the IN and OUT columns stand still through heartbeats; one
    chat moves the agent's by its request (OUT 1) and its four deltas
    and done (IN 5)."""
    import time
    gate = gate_factory({"supervisor": {"heartbeat_ms": 200,
                                        "heartbeat_timeout_ms": 2000}})
    before = gate.status()
    time.sleep(1.0)             # five heartbeats
    idle = gate.status()
    assert {k: (w["in"], w["out"]) for k, w in idle.items()} == \
        {k: (w["in"], w["out"]) for k, w in before.items()}

    async def go():
        async with gate.client() as c:
            await c.open()
            await c.chat(TEXT, "m-1")
    run(go())
    after = gate.status()["agent.default"]
    a = idle["agent.default"]
    assert (after["in"] - a["in"], after["out"] - a["out"]) == (5, 1), \
        (a, after)


def test_stream_deltas_make_the_reply(gate):
    async def go():
        async with gate.client() as c:
            await c.open()
            status, done = await c.chat(TEXT, "m-1")
            assert status == "accepted"
            deltas = c.deltas("m-1")
            assert len(deltas) >= 2, deltas
            assert "".join(d["text"] for d in deltas) == done["text"]
            assert done["text"] == "echo: " + TEXT
            assert done["replayed"] is False
            # Deltas come before the done, none after.
            i_done = c.events.index(done)
            assert all(c.events.index(d) < i_done for d in deltas)
    run(go())


def test_resend_is_replayed_not_asked_again(gate):
    async def go():
        async with gate.client() as c:
            await c.open()
            _, first = await c.chat(TEXT, "m-dup")
            await c.drain(0.3)
            before = agent_work(gate.status())
            ndeltas = len(c.deltas("m-dup"))

            res = await c.send("a different text, same id", "m-dup")
            assert res == {"client_msg_id": "m-dup", "status": "answered"}
            done = await c.wait_event(
                lambda e: e.get("event") == "chat.done" and
                e.get("replayed") is True, what="replayed chat.done")
            assert done["client_msg_id"] == "m-dup"
            assert done["text"] == first["text"] == "echo: " + TEXT
            # A fresh agent call would stream for ~0.6 s: wait longer.
            await c.drain(1.0)
            assert len(c.dones("m-dup")) == 2       # original + replay
            assert len(c.deltas("m-dup")) == ndeltas, "agent asked again"
            after = agent_work(gate.status())
            assert after - before <= 1, (before, after)
    run(go())


def test_history_in_order_and_resume(gate):
    async def go():
        async with gate.client() as c:
            token = await c.open()
            await c.chat("first", "h-1")
            await c.chat("second", "h-2")
            hist = await c.ok("chat.history", {"limit": 10})
        want = [
            {"role": "user", "text": "first"},
            {"role": "assistant", "text": "echo: first"},
            {"role": "user", "text": "second"},
            {"role": "assistant", "text": "echo: second"},
        ]
        assert hist["messages"] == want

        async with gate.client() as c2:
            res = await c2.resume(token)
            assert res.get("resumed") is True
            hist2 = await c2.ok("chat.history", {"limit": 10})
            assert hist2["messages"] == want
            # limit counts exchanges (a message and its reply), newest
            hist3 = await c2.ok("chat.history", {"limit": 1})
            assert hist3["messages"] == want[-2:]
            # a resumed session chats on
            _, done = await c2.chat("third", "h-3")
            assert done["text"] == "echo: third"

        async with gate.client() as c3:
            other = await c3.open()
            assert other != token
            hist4 = await c3.ok("chat.history", {})
            assert hist4["messages"] == []
    run(go())


def test_resume_unknown_token(gate):
    async def go():
        async with gate.client() as c:
            r = await c.call("session.resume", {"token": "0" * 32})
            assert r["ok"] is False
            assert r["error"]["code"] in ("unknown_session", "bad_token")
            r = await c.call("chat.send", {"text": "x",
                                           "client_msg_id": "x"})
            assert r["error"]["code"] == "no_session"
    run(go())


def assert_error(r, code, req_id):
    assert r["ok"] is False, r
    assert r["id"] == req_id, r
    assert r["error"]["code"] == code, r
    assert isinstance(r["error"]["message"], str)


async def still_serves(gate):
    """A fresh client can open a session and get a reply."""
    async with gate.client() as c:
        await c.open()
        _, done = await c.chat("still there?", "alive")
        assert done["text"] == "echo: still there?"


def test_request_errors_keep_connection(gate):
    async def go():
        async with gate.client() as c:
            # chat.send before a session
            r = await c.call("chat.send", {"text": "hi",
                                           "client_msg_id": "e-1"})
            assert_error(r, "no_session", 1)
            r = await c.call("chat.history", {"limit": 5})
            assert_error(r, "no_session", 2)

            # bad JSON: no id could be read
            await c.send_raw("{this is not json")
            assert_error(await c.reply(None), "bad_json", None)
            await c.send_raw("")
            assert_error(await c.reply(None), "bad_json", None)

            r = await c.call("no.such.method", {})
            assert_error(r, "unknown_method", 3)
            r = await c.call("session.close", {})
            assert_error(r, "unknown_method", 4)

            await c.open()          # id 5
            bad_params = [
                ("chat.send", {}),
                ("chat.send", {"text": "hi"}),
                ("chat.send", {"client_msg_id": "p-1"}),
                ("chat.send", {"text": 5, "client_msg_id": "p-1"}),
                ("chat.send", {"text": "hi", "client_msg_id": 7}),
                ("chat.send", {"text": "", "client_msg_id": "p-1"}),
                ("chat.send", {"text": "hi", "client_msg_id": "a b"}),
                ("chat.send", {"text": "hi", "client_msg_id": "p-1",
                               "extra": 1}),
                ("chat.send", None),
                ("chat.history", {"limit": "ten"}),
                ("chat.history", {"limit": -1}),
                ("session.resume", {}),
                ("session.resume", {"token": 12}),
            ]
            for method, params in bad_params:
                r = await c.call(method, params)
                assert r["ok"] is False, (method, params, r)
                assert r["error"]["code"] == "bad_request", \
                    (method, params, r)
            # params not an object, id of a bad type
            await c.send_raw(json.dumps({"id": 90, "method": "chat.send",
                                         "params": [1, 2]}))
            assert_error(await c.reply(90), "bad_request", 90)
            await c.send_raw(json.dumps({"id": [1], "method": "x"}))
            r = await c.reply(None)
            assert r["ok"] is False and r["error"]["code"] == "bad_request"
            await c.send_raw(json.dumps([1, 2, 3]))
            r = await c.reply(None)
            assert r["ok"] is False and r["error"]["code"] == "bad_request"

            # text over max_text (16384) but inside max_frame
            r = await c.call("chat.send", {"text": "x" * 20000,
                                           "client_msg_id": "big"})
            assert r["ok"] is False and r["error"]["code"] == "too_large"

            # string ids are echoed
            await c.send_raw(json.dumps({"id": "c-17", "method": "nope"}))
            assert_error(await c.reply("c-17"), "unknown_method", "c-17")

            # the connection still works after all that
            _, done = await c.chat("after errors", "ok-1")
            assert done["text"] == "echo: after errors"
        await still_serves(gate)
    run(go())


def test_binary_frame(gate):
    async def go():
        async with gate.client() as c:
            await c.open()
            await c.send_raw(b"\x00\x01binary")
            r = await c.reply(None)
            assert r["ok"] is False
            assert r["error"]["code"] == "binary_unsupported"
            # answered (and maybe closed): if still open it must work
            try:
                _, done = await c.chat("after binary", "b-1")
                assert done["text"] == "echo: after binary"
            except websockets.ConnectionClosed:
                pass
        await still_serves(gate)
    run(go())


def test_invalid_utf8_closes(gate):
    async def go():
        async with gate.client() as c:
            await c.open()
            # A text frame that is not UTF-8 (the library would refuse
            # to build one, so write the frame directly).
            await c.ws.write_frame(True, 0x1, b'{"id":1,"x":"\xff\xfe"}')
            code = await c.read_until_closed()
            errs = [r for r in c.replies.values() if r.get("ok") is False]
            assert errs and errs[0]["error"]["code"] == "bad_utf8", \
                c.replies
            assert code == 1007
        async with gate.client() as c:
            await c.open()
            # NUL is valid UTF-8 but not allowed in IPC text
            await c.ws.write_frame(True, 0x1, b'{"id":1,\x00}')
            await c.read_until_closed()
        await still_serves(gate)
    run(go())


def test_oversized_message_closes(gate):
    async def go():
        async with gate.client() as c:
            await c.open()
            big = json.dumps({"id": 1, "method": "chat.send",
                              "params": {"text": "y" * 70000,
                                         "client_msg_id": "big"}})
            try:
                await c.send_raw(big)
            except websockets.ConnectionClosed:
                pass
            code = await c.read_until_closed()
            errs = [r for r in c.replies.values() if r.get("ok") is False]
            assert errs and errs[0]["error"]["code"] == "too_large", \
                c.replies
            assert code == 1009
        await still_serves(gate)
    run(go())


def test_http_routes(gate):
    status, headers, body = gate.http_get("/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src" in csp and "script-src 'self'" in csp, csp
    assert b"<html" in body.lower()

    status, headers, body = gate.http_get("/nope")
    assert status == 404

    status, _, body = gate.http_get("/healthz")
    assert status == 200 and body.strip() == b"ok"

    # a WebSocket route without the upgrade is refused, not served
    status, _, _ = gate.http_get("/ws")
    assert 400 <= status < 500
    # No avatar configured: no route.
    assert gate.http_get("/avatar")[0] == 404


# The smallest GIF: 1x1, one colour; and a PNG by its magic numbers.
GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x0b\x5c\xad\xff\xff\xff"
       b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01"
       b"\x00\x00\x02\x02D\x01\x00;")


def test_avatar_served_as_its_bytes_say(gate_factory, tmp_path):
    """webchat.page.avatar: root reads the file, the worker serves it
    from memory at /avatar with the type its magic numbers give (a GIF
    named .png is a GIF), nosniff, and page.json says it is there."""
    f = tmp_path / "face.png"
    f.write_bytes(GIF)
    gate = gate_factory({"webchat": {"page": {"title": "Help",
                                              "avatar": str(f)}}})
    status, headers, body = gate.http_get("/avatar")
    assert status == 200 and body == GIF, (status, body[:16])
    assert headers["Content-Type"] == "image/gif", headers
    assert headers["X-Content-Type-Options"] == "nosniff", headers
    status, _, body = gate.http_get("/page.json")
    assert status == 200
    assert json.loads(body) == {"title": "Help", "avatar": True}
    # The file changing under a running gate changes nothing until a
    # reload reads it again.
    f.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(56))
    assert gate.http_get("/avatar")[1]["Content-Type"] == "image/gif"


def test_avatar_that_is_not_an_image_is_refused(tmp_path):
    """Refused at the check (wxgated -n), as at a start or reload: SVG
    can carry script, and anything not PNG, JPEG, GIF or WebP by its
    bytes is not served as a picture."""
    from conftest import check_config
    f = tmp_path / "face.png"
    f.write_bytes(b"<svg onload=alert(1)></svg>")
    rc, out = check_config({"webchat": {"page": {"avatar": str(f)}}})
    assert rc != 0, out
    assert "webchat.page.avatar: %s is not a PNG, JPEG, GIF or WebP " \
        "image" % f in out, out
    f.write_bytes(GIF)
    rc, out = check_config({"webchat": {"page": {"avatar": str(f)}}})
    assert rc == 0, out


def test_a_taken_port_stops_the_start(tmp_path):
    """A listen address someone else holds: wxgated says so and exits
    1 rather than running without its page."""
    import socket
    import subprocess
    import yaml
    from conftest import BASE_CONF, WXGATED, deep_merge
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        port = held.getsockname()[1]
        conf = deep_merge(BASE_CONF, {
            "state_dir": str(tmp_path / "run"),
            "control": str(tmp_path / "run" / "c.sock"),
            "webchat": {"listen": "127.0.0.1:%d" % port}})
        path = tmp_path / "wxgate.yaml"
        path.write_text(yaml.safe_dump(conf))
        p = subprocess.run([WXGATED, "-f", str(path)], capture_output=True,
                           text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert p.returncode == 1, p
    assert "listen 127.0.0.1:%d: Address already in use" % port in \
        p.stdout + p.stderr, p


def test_the_harness_moves_any_taken_address(gate_factory):
    """conftest's Gate.start: a port another process took between
    free_port() and the start (here the console's, held on purpose) is
    moved, in the config the test reads back, and the start retried."""
    import socket
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        port = held.getsockname()[1]
        gate = gate_factory({"console": {
            "listen": "127.0.0.1:%d" % port,
            "operators": [{"name": "op", "scope": "admin"}]}})
    moved = gate.conf["console"]["listen"]
    assert moved != "127.0.0.1:%d" % port, moved
    with socket.create_connection(tuple(
            [moved.split(":")[0], int(moved.split(":")[1])]), 5):
        pass
