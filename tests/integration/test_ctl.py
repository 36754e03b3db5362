"""Acceptance: wxgatectl status/restart/stop, its exit codes, and SIGHUP
reloads that grow and shrink the web chat pool."""

import copy
import os
import socket
import subprocess
import threading
import time

from conftest import WXGATECTL, run, wait_for


def pids(st):
    return {n: w["pid"] for n, w in st.items()}


def test_status_lists_every_worker(gate):
    rc, out, err = gate.ctl("status")
    assert rc == 0, err
    header = out.splitlines()[0].split()
    assert header[:2] == ["NAME", "KIND"]
    assert {"PID", "STATE", "UPTIME", "RESTARTS", "LAST-EXIT", "IN",
            "OUT"} <= set(header), header
    st = gate.status()
    assert sorted(st) == ["agent.default", "webchat.0", "webchat.1"]
    assert st["agent.default"]["kind"] == "agent"
    assert st["webchat.0"]["kind"] == st["webchat.1"]["kind"] == "webchat"
    for w in st.values():
        assert w["state"] == "running" and w["pid"] > 0, w
        assert w["restarts"] == 0 and w["last_exit"] == "-", w
        assert os.path.exists("/proc/%d" % w["pid"])
    assert len(set(pids(st).values())) == 3


def test_restart_one_worker(gate):
    before = gate.status()
    rc, out, err = gate.ctl("restart", "webchat.0")
    assert rc == 0, err

    def restarted():
        w = gate.worker("webchat.0")
        return w if (w["state"] == "running" and
                     w["pid"] != before["webchat.0"]["pid"]) else None
    w = wait_for(restarted, 10, 0.02, "webchat.0 restart")
    assert w["restarts"] == 1, w
    after = gate.status()
    assert after["webchat.1"]["pid"] == before["webchat.1"]["pid"]
    assert after["agent.default"]["pid"] == \
        before["agent.default"]["pid"]
    assert after["webchat.1"]["restarts"] == 0
    assert after["agent.default"]["restarts"] == 0
    assert "restarts webchat.0" in gate.log()

    async def chat():
        async with gate.client() as c:
            await c.open()
            _, done = await c.chat("after restart", "r-1")
            assert done["text"] == "echo: after restart"
    run(chat())


def test_restart_agent_keeps_webchat(gate):
    before = gate.status()
    rc, _, err = gate.ctl("restart", "agent.default")
    assert rc == 0, err
    wait_for(lambda: gate.worker("agent.default")["pid"] not in
             (0, before["agent.default"]["pid"]) and
             gate.worker("agent.default")["state"] == "running", 10)
    after = gate.status()
    for n in ("webchat.0", "webchat.1"):
        assert after[n]["pid"] == before[n]["pid"]


def test_exit_codes(gate):
    rc, _, err = gate.ctl("restart", "nosuch")
    assert rc == 1, err
    assert "no such worker" in err

    for args in ([], ["frobnicate"], ["restart"], ["restart", "a", "b"],
                 ["status", "extra"], ["-q", "status"]):
        p = subprocess.run([WXGATECTL, "-s", gate.sock] + args,
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert "usage" in p.stderr, (args, p.stderr)

    missing = os.path.join(gate.dir, "no-such.sock")
    rc, _, err = gate.ctl("status", sock=missing)
    assert rc == 3, (rc, err)
    # A path that exists but is not a socket is just as unreachable.
    rc, _, err = gate.ctl("status", sock=gate.conf_path)
    assert rc == 3, (rc, err)
    # nothing above disturbed the daemon
    assert gate.all_running()


def test_no_answer_times_out(tmp_path):
    """A wedged hub: the control socket takes the connection and the
    request and never answers.  wxgatectl gives up after -t seconds with
    exit status 4, and says so; it does not hang."""
    path = str(tmp_path / "wedged.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)
    held = []

    def accept():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            held.append(c)      # kept open, never read, never answered
    threading.Thread(target=accept, daemon=True).start()
    try:
        for args in (["status"], ["top", "--once"],
                     ["send", "--wait", "5", "ch", "peer", "hi"]):
            t0 = time.monotonic()
            p = subprocess.run([WXGATECTL, "-s", path, "-t", "1"] + args,
                               capture_output=True, text=True, timeout=15)
            took = time.monotonic() - t0
            assert p.returncode == 4, (args, p.returncode, p.stderr)
            assert "wxgatectl: no answer from wxgated within 1 s" in \
                p.stderr, (args, p.stderr)
            assert took < 10, (args, took)
        # The deadline must be a count of seconds, 1 or more.
        for bad in ("0", "-1", "x", "1.5"):
            p = subprocess.run([WXGATECTL, "-s", path, "-t", bad,
                                "status"], capture_output=True, text=True,
                               timeout=15)
            assert p.returncode == 2, (bad, p.returncode, p.stderr)
    finally:
        srv.close()
        for c in held:
            c.close()


def test_timeout_option_keeps_answers(gate):
    """-t changes nothing when wxgated answers."""
    rc, out, err = gate.ctl("-t", "5", "status")
    assert rc == 0, err
    assert out.splitlines()[0].split()[:2] == ["NAME", "KIND"]


def test_reload_grows_and_shrinks_pool(gate):
    before = gate.status()
    conf = copy.deepcopy(gate.conf)
    conf["webchat"]["workers"] = 3
    assert gate.reload(conf)
    st = wait_for(lambda: gate.all_running(
        ["agent.default", "webchat.0", "webchat.1", "webchat.2"]), 10,
        what="webchat.2")
    for n in before:
        assert st[n]["pid"] == before[n]["pid"], (n, before[n], st[n])
    assert st["webchat.2"]["kind"] == "webchat"

    # The new worker serves clients from the shared socket.
    async def chat_on(name):
        c = await gate.client_on(name)
        try:
            await c.open()
            _, done = await c.chat("hello " + name, "g-1")
            assert done["text"] == "echo: hello " + name
        finally:
            await c.ws.close()
    run(chat_on("webchat.2"))

    conf = copy.deepcopy(gate.conf)
    conf["webchat"]["workers"] = 1
    assert gate.reload(conf)
    st = wait_for(lambda: gate.all_running(["agent.default", "webchat.0"]),
                  10, what="webchat.1 and .2 to go")
    assert st["webchat.0"]["pid"] == before["webchat.0"]["pid"]
    assert st["agent.default"]["pid"] == before["agent.default"]["pid"]
    for w in ("webchat.1", "webchat.2"):
        assert "removing %s" % w in gate.log()
    run(chat_on("webchat.0"))


def test_reload_invalid_config_keeps_running(gate):
    before = gate.status()
    conf = copy.deepcopy(gate.conf)
    conf["webchat"]["workers"] = 65
    assert gate.reload(conf) is False
    assert "webchat.workers" in gate.log()
    assert gate.reload(raw="webchat: [unclosed\n") is False
    assert gate.reload(raw="no_such_key: 1\n") is False
    st = gate.status()
    assert pids(st) == pids(before)
    assert all(w["state"] == "running" for w in st.values())

    async def chat():
        async with gate.client() as c:
            await c.open()
            _, done = await c.chat("still here", "i-1")
            assert done["text"] == "echo: still here"
    run(chat())
    # A valid file after the bad ones is applied again.
    conf["webchat"]["workers"] = 2
    assert gate.reload(conf) is True
    assert pids(gate.status()) == pids(before)


def test_stop(gate):
    worker_pids = list(pids(gate.status()).values())
    rc, out, err = gate.ctl("stop")
    assert rc == 0, err
    gate.stopped_by_test = True
    assert gate.proc.wait(10) == 0
    assert not os.path.exists(gate.sock)
    wait_for(lambda: not any(os.path.exists("/proc/%d" % p)
                             for p in worker_pids), 5,
             what="workers to exit")
    rc, _, _ = gate.ctl("status")
    assert rc == 3
    assert "stopped" in gate.log().splitlines()[-1]
