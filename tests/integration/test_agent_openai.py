"""The openai agent backend against a fake OpenAI-compatible server on
loopback (fake_openai.py): streaming, the non-streaming fallback, every
error a user can act on, conversation context, and abort."""

import asyncio
import os
import signal
import time

import pytest

from conftest import run, wait_for
from fake_openai import Fake
from test_hub import hub_pid

TEXT = "hello model, stream this back please"


@pytest.fixture
def fake():
    f = Fake(chunks=4, delay=0.02).start()
    yield f
    f.stop()


def conf(fake, **over):
    o = {"url": fake.url, "model": "fake-1", "timeout_s": 2}
    o.update(over)
    return {"agents": [{"name": "default", "type": "openai",
                        "system_prompt": "You are terse.",
                        "openai": o}]}


def agent_pid(gate):
    return gate.status()["agent.default"]["pid"]


def test_streamed_deltas_in_order(gate_factory, fake, tmp_path):
    key = tmp_path / "key"
    key.write_text("sk-fake-secret\n")
    os.chmod(key, 0o600)
    gate = gate_factory(conf(fake, api_key_file=str(key),
                             headers=["X-Test: yes"]))

    async def go():
        async with gate.client() as c:
            await c.open()
            status, done = await c.chat(TEXT, "o-1")
            assert status == "accepted"
            deltas = c.deltas("o-1")
            assert len(deltas) >= 2, deltas
            assert "".join(d["text"] for d in deltas) == done["text"]
            assert done["text"] == "echo: " + TEXT
            assert done["aborted"] is False
            i_done = c.events.index(done)
            assert all(c.events.index(d) < i_done for d in deltas)
    run(go())
    req = fake.requests[-1]
    assert req["model"] == "fake-1" and req["stream"] is True
    assert req["messages"][0] == {"role": "system",
                                  "content": "You are terse."}
    h = fake.headers[-1]
    assert h["Authorization"] == "Bearer sk-fake-secret"
    assert h["X-Test"] == "yes"
    assert "sk-fake-secret" not in gate.log()


def test_non_streaming(gate_factory, fake):
    gate = gate_factory(conf(fake, stream=False))

    async def go():
        async with gate.client() as c:
            await c.open()
            _, done = await c.chat(TEXT, "n-1")
            assert done["text"] == "echo: " + TEXT
            # A server that ignores stream: true and answers whole.
    run(go())
    assert fake.requests[-1]["stream"] is False


def test_json_answer_to_a_stream_request(gate_factory, fake):
    gate = gate_factory(conf(fake))

    async def go():
        async with gate.client() as c:
            await c.open()
            _, done = await c.chat("mode:json", "j-1")
            assert done["text"] == "whole reply"
    run(go())


@pytest.mark.parametrize("mode,code,tries", [
    ("401", "unauthorized", 1),
    ("429", "rate_limited", 1),
    ("500", "upstream_error", 2),       # retried once: nothing sent yet
    ("stall", "timeout", 1),            # a delta went out: no retry
    ("garbage", "bad_response", 1),
    ("cut", "upstream_error", 1),       # deltas went out: no retry
])
def test_errors_reach_the_client(gate_factory, fake, mode, code, tries):
    gate = gate_factory(conf(fake, timeout_s=1))
    pid = agent_pid(gate)

    async def go():
        async with gate.client() as c:
            await c.open()
            await c.send("mode:" + mode, "e-1")
            err = await c.wait_event(
                lambda e: e.get("event") == "chat.error", timeout=15,
                what="chat.error")
            assert err["client_msg_id"] == "e-1"
            assert err["code"] == code, err
            assert err["message"]
            if mode == "429":
                assert err["retry_after_ms"] == 7000
            else:
                assert "retry_after_ms" not in err
            assert not c.dones("e-1")
            # The worker is healthy: the next message is answered.
            _, done = await c.chat(TEXT, "e-2")
            assert done["text"] == "echo: " + TEXT
    run(go())
    assert fake.count(mode) == tries
    assert agent_pid(gate) == pid, "the agent worker was restarted"
    # Logged once, with the detail, by the agent worker.
    assert gate.log().count("openai: request") >= 1


def test_unreachable(gate_factory):
    # A port nothing listens on.
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    gate = gate_factory({"agents": [{"name": "default", "type": "openai",
                                     "openai": {"url": "http://127.0.0.1:%d/v1"
                                                "/chat/completions" % port,
                                                "model": "m"}}]})

    async def go():
        async with gate.client() as c:
            await c.open()
            await c.send("hi", "u-1")
            err = await c.wait_event(
                lambda e: e.get("event") == "chat.error", timeout=10)
            assert err["code"] == "unreachable"
    run(go())


def test_history_limit(gate_factory, fake):
    gate = gate_factory(dict(conf(fake), webchat={"history_limit": 2}))

    async def go():
        async with gate.client() as c:
            await c.open()
            for i in range(4):
                await c.chat("turn %d" % i, "h-%d" % i)
    run(go())
    msgs = fake.requests[-1]["messages"]
    # system, then exactly 2 earlier exchanges, then the new message.
    assert msgs == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "turn 1"},
        {"role": "assistant", "content": "echo: turn 1"},
        {"role": "user", "content": "turn 2"},
        {"role": "assistant", "content": "echo: turn 2"},
        {"role": "user", "content": "turn 3"},
    ]


def test_abort_mid_stream(gate_factory, fake):
    gate = gate_factory(conf(fake, timeout_s=5))

    async def go():
        async with gate.client() as c:
            await c.open()
            await c.send("mode:slow", "a-1")
            await c.wait_delta("a-1")
            res = await c.ok("chat.abort", {"client_msg_id": "a-1"})
            assert res["status"] == "aborted"
            done = await c.wait_done("a-1")
            assert done["aborted"] is True
            assert done["text"].startswith("w0 ")
            # Not running any more: a second abort says so.
            r = await c.call("chat.abort", {"client_msg_id": "a-1"})
            assert r["ok"] is False
            assert r["error"]["code"] == "not_running"
            await c.drain(0.5)
            assert len(c.dones("a-1")) == 1
            # The partial reply is what is stored and replayed.
            res = await c.send("mode:slow", "a-1")
            assert res["status"] == "answered"
    run(go())
    wait_for(lambda: fake.closed >= 1, 5, what="upstream connection closed")


def test_stall_is_cut_at_timeout_s(gate_factory, fake):
    """timeout_s means seconds of silence: a stream that sends its headers
    and one chunk and then nothing is cut (the server sees the connection
    close) and the client gets `timeout`, well before curl's low-speed
    check would have (about 4 x timeout_s).  The bound allows generous
    slack; it checks the cut happens, not how fast."""
    timeout_s = 2
    gate = gate_factory(conf(fake, timeout_s=timeout_s))

    async def go():
        async with gate.client() as c:
            await c.open()
            await c.send("mode:stall", "s-1")
            await c.wait_delta("s-1")
            t0 = time.monotonic()
            err = await c.wait_event(
                lambda e: e.get("event") == "chat.error", timeout=15,
                what="chat.error")
            waited = time.monotonic() - t0
            assert err["code"] == "timeout", err
            assert waited < 3 * timeout_s, \
                "cut after %.1fs of silence, timeout_s %d" % (waited,
                                                              timeout_s)
    run(go())
    wait_for(lambda: fake.closed >= 1, 5, what="upstream connection closed")
    assert "no data for %ds" % timeout_s in gate.log()


def test_done_ends_a_stream_the_server_holds_open(gate_factory, fake):
    """A server that sends the whole reply and [DONE] but keeps the
    response open: the answer is complete at [DONE], so the client gets
    chat.done with it, not `timeout` once timeout_s of silence passes,
    and the upstream connection is closed."""
    gate = gate_factory(conf(fake, timeout_s=2))

    async def go():
        async with gate.client() as c:
            await c.open()
            await c.send("mode:linger", "l-1")
            ev = await c.wait_event(
                lambda e: e.get("event") in ("chat.done", "chat.error"),
                timeout=15, what="chat.done or chat.error")
            assert ev["event"] == "chat.done", ev
            assert ev["text"] == "all of it"
            assert ev["aborted"] is False
    run(go())
    wait_for(lambda: fake.closed >= 1, 5, what="upstream connection closed")


def test_a_fast_stream_outlives_a_stalled_hub(gate_factory):
    """The hub stalls (SIGSTOP: a slow commit, say) while the model
    streams many small pieces: the worker must hold the text for the
    hub, not send a frame per piece until its queue to the hub is full
    and it dies (every request then starts over)."""
    fast = Fake(tokens=["x"] * 100000, delay=0).start()
    try:
        gate = gate_factory({"agents": [{"name": "default",
                                         "type": "openai",
                                         "openai": {"url": fast.url,
                                                    "model": "fake-1",
                                                    "timeout_s": 60}}],
                             "webchat": {"deadline_s": 120},
                             "supervisor": {"heartbeat_timeout_ms":
                                            60000}})

        async def go():
            async with gate.client() as c:
                await c.open()
                await c.send("go", "f-1")
                await c.wait_delta("f-1")
                hub = hub_pid(gate)
                os.kill(hub, signal.SIGSTOP)
                try:
                    await asyncio.sleep(4)
                finally:
                    os.kill(hub, signal.SIGCONT)
                done = await c.wait_done("f-1", timeout=60)
                assert done["text"] == "x" * 100000
        run(go())
        assert gate.status()["agent.default"]["restarts"] == 0
        assert "supervisor queue full" not in gate.log()
    finally:
        fast.stop()
