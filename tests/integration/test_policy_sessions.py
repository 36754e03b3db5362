"""Central policy, anonymous sessions: idle and absolute TTLs answered
with session_expired, a sweep that deletes expired sessions, and
`anonymous: false` turning the public chat off."""

import asyncio
import os
import sqlite3
import time

from conftest import run, wait_for


def session_rows(gate):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(
        gate.state_dir, "wxgate.db"), uri=True, timeout=5)
    try:
        return db.execute("SELECT count(*) FROM sessions").fetchone()[0]
    finally:
        db.close()


def test_idle_ttl_expires_session(gate_factory):
    gate = gate_factory({"policy": {"sessions": {
        "idle_ttl_s": 2, "absolute_ttl_s": 3600}}})

    async def scenario():
        async with gate.client() as c:
            token = await c.open()
            await c.chat("remember me", "i-1")
            await asyncio.sleep(3.5)
            r = await c.call("chat.send", {"text": "late",
                                           "client_msg_id": "i-2"})
            assert r["error"]["code"] == "session_expired", r
            # The connection is unbound, not dropped.
            r = await c.call("chat.history", {})
            assert r["error"]["code"] == "no_session"
            r = await c.call("session.resume", {"token": token})
            assert r["error"]["code"] in ("session_expired",
                                          "unknown_session"), r
            # A fresh session works at once, with no history.
            await c.open()
            res = await c.ok("chat.history", {})
            assert res["messages"] == []
    run(scenario())
    # The sweep deleted the expired one.
    wait_for(lambda: session_rows(gate) == 1, 10, 0.2, "sweep")


def test_resume_after_idle_ttl_is_expired(gate_factory):
    gate = gate_factory({"policy": {"sessions": {
        "idle_ttl_s": 2, "absolute_ttl_s": 3600}}})

    async def scenario():
        async with gate.client() as c:
            token = await c.open()
        await asyncio.sleep(2.5)
        async with gate.client() as c:
            r = await c.call("session.resume", {"token": token})
            assert r["error"]["code"] in ("session_expired",
                                          "unknown_session"), r
    run(scenario())


def test_activity_keeps_session_until_absolute_ttl(gate_factory):
    gate = gate_factory({"policy": {"sessions": {
        "idle_ttl_s": 3, "absolute_ttl_s": 3}}})

    async def scenario():
        async with gate.client() as c:
            await c.open()
            t0 = time.monotonic()
            ok = 0
            while True:
                r = await c.call("chat.history", {})
                if not r["ok"]:
                    assert r["error"]["code"] == "session_expired", r
                    break
                ok += 1
                assert time.monotonic() - t0 < 30, "never expired"
                await asyncio.sleep(0.5)
            assert ok >= 2
    run(scenario())


def test_anonymous_false_disables_public_chat(gate_factory):
    gate = gate_factory({"policy": {"sessions": {"anonymous": False}}})

    async def scenario():
        async with gate.client() as c:
            r = await c.call("session.open", {})
            assert r["error"]["code"] == "disabled"
            r = await c.call("session.resume", {"token": "0" * 32})
            assert r["error"]["code"] == "disabled"
            r = await c.call("chat.send", {"text": "x",
                                           "client_msg_id": "d-1"})
            assert r["error"]["code"] == "no_session"
    run(scenario())
    assert gate.http_get("/")[0] == 200
