"""metrics.listen (issue #17): the exposition on a loopback HTTP listener
served by a sandboxed worker, never by the root process.  The parent
binds the socket and hands it to the `metrics` worker; the hub answers
its metrics.get.  Checked here: the same families as `wxgatectl
metrics` after one web chat message, with that message counted; only
GET /metrics answers; a non-loopback address is refused; the worker is
sandboxed, killed on each forbidden action and restarted on the same
socket; a reload that moves the address moves the worker."""

import asyncio
import copy
import os
import socket

import pytest

from conftest import free_port, run, wait_for
from test_metrics import FAMILIES, parse, value
from test_sandbox import ROOT, kill_with_each, proc_status

NAME = "metrics.http"


def start(gate_factory, port=None):
    port = port or free_port()
    gate = gate_factory({"metrics": {"listen": "127.0.0.1:%d" % port},
                         "supervisor": {"restart_max_ms": 400}})
    gate.metrics_port = port
    wait_for(lambda: (gate.worker(NAME) or {}).get("state") == "running",
             10, 0.05, "the metrics worker")
    return gate


def request(port, raw, timeout=10):
    """The whole answer to raw bytes: (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout) as s:
        s.sendall(raw)
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split(" ")[1])
    hdrs = {k.lower(): v.strip() for k, _, v in
            (ln.partition(":") for ln in lines[1:])}
    return status, hdrs, body


def scrape(port, path="/metrics"):
    return request(port, ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" %
                          path).encode())


def test_get_metrics_is_the_exposition(gate_factory):
    gate = start(gate_factory)

    async def go():
        c = await gate.connect()
        await c.open()
        _, done = await c.chat("counted", "m-1")
        assert done["text"] == "echo: counted"
    run(go())
    status, hdrs, body = scrape(gate.metrics_port)
    assert status == 200, (status, body[:200])
    assert hdrs["content-type"].startswith("text/plain; version=0.0.4"), \
        hdrs
    fams = parse(body.decode())
    missing = sorted(set(FAMILIES) - set(fams))
    assert not missing, missing
    for name, typ in FAMILIES.items():
        assert fams[name][0] == typ, (name, fams[name][0])
    assert value(fams, "wxgate_webchat_messages_total") == 1
    assert value(fams, "wxgate_worker_up", worker=NAME, kind="metrics") == 1
    # The same families as the control socket's.
    rc, out, err = gate.ctl("metrics")
    assert rc == 0, err
    assert set(parse(out)) == set(fams)
    # A query string is the same resource.
    assert scrape(gate.metrics_port, "/metrics?x=1")[0] == 200


def test_only_get_metrics_answers(gate_factory):
    gate = start(gate_factory)
    p = gate.metrics_port
    assert scrape(p, "/")[0] == 404
    assert scrape(p, "/metrics/x")[0] == 404
    assert request(p, b"POST /metrics HTTP/1.1\r\nHost: a\r\n"
                   b"Content-Length: 0\r\n\r\n")[0] == 405
    assert request(p, b"\x16\x03\x01 not http\r\n\r\n")[0] == 400
    # An oversized head is refused, not buffered.
    big = b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 8000 + b"\r\n\r\n"
    assert request(p, big)[0] in (400, 413, 431)
    assert scrape(p)[0] == 200
    assert "FORBIDDEN" not in gate.log()


def test_many_scrapes_at_once_all_answer(gate_factory):
    """Concurrent scrapes share one metrics.get; all get the whole text."""
    gate = start(gate_factory)

    async def one():
        r, w = await asyncio.open_connection("127.0.0.1", gate.metrics_port)
        w.write(b"GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
        data = await asyncio.wait_for(r.read(), 15)
        w.close()
        return data

    async def go():
        return await asyncio.gather(*[one() for _ in range(20)])
    outs = run(go())
    for data in outs:
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        assert "wxgate_worker_up" in parse(body.decode())


@pytest.mark.parametrize("addr", ["0.0.0.0:%d", "192.0.2.1:%d",
                                  "[::]:%d", "localhost:%d"])
def test_a_non_loopback_address_is_refused(gate_factory, addr):
    gate = start(gate_factory)
    conf = copy.deepcopy(gate.conf)
    conf["metrics"]["listen"] = addr % free_port()
    mark = len(gate.log())
    assert not gate.reload(conf)
    assert "metrics.listen" in gate.log()[mark:]
    assert scrape(gate.metrics_port)[0] == 200


def test_metrics_worker_is_sandboxed_and_restarted(gate_factory):
    gate = start(gate_factory)
    w = gate.worker(NAME)
    ps = proc_status(w["pid"])
    assert ps["Seccomp"] == "2" and ps["NoNewPrivs"] == "1", ps
    if ROOT:
        assert all(u != "0" for u in ps["Uid"].split()), ps["Uid"]
        assert ps["Groups"] == "", ps["Groups"]
        assert os.listdir("/proc/%d/root/" % w["pid"]) == []
    assert os.readlink("/proc/%d/ns/net" % w["pid"]) != \
        os.readlink("/proc/self/ns/net")
    kill_with_each(gate, NAME, dials=False)
    # Restarted on the socket the parent kept.
    wait_for(lambda: scrape(gate.metrics_port)[0] == 200, 10, 0.1,
             "the restarted worker answers")
    old = gate.worker(NAME)
    os.kill(old["pid"], 9)
    wait_for(lambda: (gate.worker(NAME) or {}).get("pid") not in
             (None, old["pid"]), 10, 0.05, "a new metrics worker")
    wait_for(lambda: scrape(gate.metrics_port)[0] == 200, 10, 0.1,
             "it answers after SIGKILL")


def test_reload_moves_and_removes_the_listener(gate_factory):
    gate = start(gate_factory)
    old = gate.metrics_port
    conf = copy.deepcopy(gate.conf)
    new = free_port()
    conf["metrics"]["listen"] = "127.0.0.1:%d" % new
    assert gate.reload(conf)
    wait_for(lambda: _answers(new), 10, 0.1, "the new address")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", old), 1).close()
    del conf["metrics"]
    assert gate.reload(conf)
    wait_for(lambda: NAME not in gate.status(), 10, 0.1, "the worker gone")
    wait_for(lambda: not _answers(new), 10, 0.1, "the socket closed")


def _answers(port):
    try:
        return scrape(port)[0] == 200
    except OSError:
        return False
