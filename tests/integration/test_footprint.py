"""Idle footprint (issue #17): libcurl and its thirty libraries are
mapped only by the workers that dial (workers/net/curl_dl.c), and the
processes that never use OpenSSL skip its initialisation.  The figures
themselves are measured by tests/bench/run.sh (idle.rss_*, idle.pss_*,
idle.dirty_*), not asserted here."""

import os

import pytest

from conftest import free_port, run, wait_for
from fake_webhook import FakeWebhook
from test_channel_webhook import channel
from test_hub import hub_pid
from test_metrics_http import scrape


@pytest.fixture
def robot():
    f = FakeWebhook(window=3).start()
    yield f
    f.stop()


def maps(pid):
    with open("/proc/%d/maps" % pid) as f:
        return f.read()


def libs(pid):
    return {os.path.basename(line.split()[-1]).split(".so")[0]
            for line in maps(pid).splitlines()
            if ".so" in line.split()[-1]}


def test_only_dialling_workers_map_libcurl(gate_factory, robot, tmp_path):
    gate = gate_factory({
        "agents": [{"name": "default", "type": "echo"}],
        "channels": [channel(robot, tmp_path)]})
    ws = gate.status()
    byname = {n: w["pid"] for n, w in ws.items()}
    hook = [p for n, p in byname.items() if n.endswith("ops")]
    assert len(hook) == 1, ws
    # The webhook worker loaded it before its sandbox, and it works.
    wait_for(lambda: "libcurl" in libs(hook[0]), what="libcurl in webhook")
    rc, out, err = gate.ctl("send", "--wait", "10", "ops", "group", "hi")
    assert rc == 0, (out, err)
    assert "sent" in out, out
    # No other process maps it: root's parent, the hub, web chat, echo.
    others = [gate.proc.pid, hub_pid(gate)] + \
        [p for n, p in byname.items() if not n.endswith("ops")]
    assert len(others) == 5, ws
    for pid in others:
        got = libs(pid)
        assert "libcurl" not in got, (pid, sorted(got))
        assert "libgnutls" not in got, (pid, sorted(got))
    for line in gate.log().splitlines():
        assert "libcurl is not loaded" not in line, line


# What only the hub, the configuration and the heavier kinds link.
HEAVY = {"libcrypto", "libssl", "libsqlite3", "libevent_openssl-2",
         "libyaml-0", "libcyaml"}


def exe(pid):
    return os.path.basename(os.readlink("/proc/%d/exe" % pid))


def test_light_kinds_run_from_wxgate_light(gate_factory, robot, tmp_path):
    """The web chat pool, the echo agent and the metrics listener run
    wxgate-light, which maps no OpenSSL, SQLite or YAML; the hub runs
    wxgate-hub, which maps SQLite but no OpenSSL; a channel kind runs
    wxgate-child and maps OpenSSL.  Each still does its job: a web chat
    message is answered, and the exposition is served."""
    port = free_port()
    gate = gate_factory({
        "agents": [{"name": "default", "type": "echo"}],
        "metrics": {"listen": "127.0.0.1:%d" % port},
        "channels": [channel(robot, tmp_path)]})
    wait_for(lambda: (gate.worker("metrics.http") or {}).get("state") ==
             "running", what="the metrics worker")
    ws = gate.status()
    light = {n: w["pid"] for n, w in ws.items()
             if n.startswith(("webchat.", "agent.", "metrics."))}
    assert len(light) == 4, ws
    for name, pid in light.items():
        assert exe(pid) == "wxgate-light", (name, exe(pid))
        got = libs(pid)
        assert not got & HEAVY, (name, sorted(got & HEAVY))
    hook = [w["pid"] for n, w in ws.items() if n.endswith("ops")]
    assert len(hook) == 1, ws
    assert exe(hook[0]) == "wxgate-child", exe(hook[0])
    assert "libcrypto" in libs(hook[0])
    hub = hub_pid(gate)
    assert exe(hub) == "wxgate-hub", exe(hub)
    assert "libsqlite3" in libs(hub)
    assert not libs(hub) & {"libcrypto", "libssl", "libevent_openssl-2"}
    assert exe(gate.proc.pid) == "wxgated"
    # They work: a chat is answered, the exposition is served.

    async def go():
        c = await gate.connect()
        await c.open()
        _, done = await c.chat("hi", "m-1")
        assert done["text"] == "echo: hi"
    run(go())
    status, _, body = scrape(port)
    assert status == 200, (status, body[:200])
    assert b"wxgate_worker_up" in body
