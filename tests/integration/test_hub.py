"""The privilege line (issue #11): a root parent, the hub under a uid of
its own with seccomp and no_new_privs, the workers under theirs.  The hub
killed by a forbidden syscall is restarted by the parent with the same
workers, and every accepted message is answered exactly once."""

import contextlib
import os
import pwd
import re
import signal
import sqlite3
import subprocess

from conftest import run, wait_for
from test_sandbox import proc_status

HUB_USER = "wxgate"


def children(ppid):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == ppid:
            kids.append((int(d), [c.decode() for c in cmd if c]))
    return kids


def hub_pid(gate):
    hubs = [p for p, cmd in children(gate.proc.pid) if "hub:main" in cmd]
    assert len(hubs) <= 1, hubs
    return hubs[0] if hubs else None


def uids(st):
    return {int(u) for u in st["Uid"].split()}


def socket_inodes(pid):
    out = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            t = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", t)
        if m:
            out.add(int(m.group(1)))
    return out


def unix_peers():
    """{inode: peer inode} of every Unix socket, from ss."""
    p = subprocess.run(["ss", "-x", "-a", "-n", "-H"], capture_output=True,
                       text=True, check=True)
    peers = {}
    for line in p.stdout.splitlines():
        f = line.split()
        # Netid State Recv-Q Send-Q Local Inode Peer PeerInode
        if len(f) >= 8 and f[5].isdigit() and f[7].isdigit():
            peers[int(f[5])] = int(f[7])
    return peers


def test_process_table(gate):
    parent = gate.proc.pid
    assert uids(proc_status(parent)) == {0}
    hub = wait_for(lambda: hub_pid(gate), 5, 0.05, "the hub")
    st = proc_status(hub)
    assert uids(st) == {pwd.getpwnam(HUB_USER).pw_uid}, st["Uid"]
    assert st["Seccomp"] == "2", st
    assert st["NoNewPrivs"] == "1", st
    nobody = pwd.getpwnam("nobody").pw_uid
    workers = gate.status()
    assert workers
    hub_socks = socket_inodes(hub)
    peers = unix_peers()
    for name, w in workers.items():
        ws = proc_status(w["pid"])
        assert int(ws["PPid"]) == parent, name
        assert uids(ws) == {nobody}, (name, ws["Uid"])
        assert ws["Seccomp"] == "2" and ws["NoNewPrivs"] == "1", name
        # The worker's socket leads to the hub, which reads it.
        mine = socket_inodes(w["pid"])
        ends = {peers.get(i) for i in mine} - {None, 0}
        assert ends & hub_socks, (name, mine, ends)
    # The hub cannot read /proc (an empty root): the parent's figures,
    # read every few seconds.
    def figures():
        stats = gate.stats()
        return all(0 < stats.get("worker.%s.pss_kb" % n, 0) <=
                   stats.get("worker.%s.rss_kb" % n, 0) for n in workers)
    wait_for(figures, 10, 0.1, "RSS and PSS of every worker")


def test_hub_namespaces_in_a_user_namespace(gate):
    """The hub drops root first and builds its namespaces in a user
    namespace of its own that maps its uid and gid alone, as a worker
    does: it ends with the same view (its store's directory read-write,
    zoneinfo read-only, nothing else), no capability, and a store whose
    files are its own; the control socket is root's alone."""
    parent = gate.proc.pid
    hub = wait_for(lambda: hub_pid(gate), 5, 0.05, "the hub")
    pw = pwd.getpwnam(HUB_USER)
    for ns in ("user", "mnt", "net", "ipc", "uts"):
        assert os.readlink("/proc/%d/ns/%s" % (hub, ns)) != \
            os.readlink("/proc/%d/ns/%s" % (parent, ns)), ns
    for f, want in (("uid_map", pw.pw_uid), ("gid_map", pw.pw_gid)):
        with open("/proc/%d/%s" % (hub, f)) as m:
            assert m.read().split() == [str(want), str(want), "1"], f
    st = proc_status(hub)
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(st[cap], 16) == 0, (cap, st[cap])
    assert st["Seccomp"] == "2" and st["NoNewPrivs"] == "1", st
    # Its mounts, as its namespace has them: "/" is the empty tmpfs.
    with open("/proc/%d/mountinfo" % hub) as f:
        mounts = {ln.split()[4]: ln.split()[5].split(",")
                  for ln in f.read().splitlines()}
    state = os.path.realpath(gate.state_dir)
    want = {"/": "ro", state: "rw"}
    if os.path.isdir("/usr/share/zoneinfo"):
        want["/usr/share/zoneinfo"] = "ro"
    assert {m: o[0] for m, o in mounts.items()} == want, mounts
    for m, opts in mounts.items():
        assert {"nosuid", "nodev", "noexec"} <= set(opts), (m, opts)
    # What it made in its store is its own.
    for name in os.listdir(state):
        if name.startswith("wxgate.db"):
            sb = os.stat(os.path.join(state, name))
            assert (sb.st_uid, sb.st_gid) == (pw.pw_uid, pw.pw_gid), name
    assert os.stat(state).st_uid == pw.pw_uid
    # Root, outside the hub's namespace, is still an operator.
    rc, out, err = gate.ctl("status")
    assert rc == 0, err
    # There every uid but its own reads alike: the socket's mode is
    # what keeps the others out.
    assert os.stat(gate.sock).st_mode & 0o777 == 0o600


def test_root_owned_store_is_handed_to_the_hub(gate_factory):
    """A store a root supervisor made (before the hub had a uid of its
    own) is handed to the hub's uid by the parent, as root, before the
    hub starts; the hub, which drops root before it builds its
    namespaces, then opens it and finds what was said."""
    gate = gate_factory()

    async def first():
        async with gate.client() as c:
            tok = await c.open()
            _, done = await c.chat("before", "own-1")
            assert done["text"] == "echo: before"
            return tok
    tok = run(first())
    assert gate.stop() == 0
    state = gate.state_dir
    os.chown(state, 0, 0)
    for name in os.listdir(state):
        if name.startswith("wxgate.db"):
            os.chown(os.path.join(state, name), 0, 0)
    gate.start()
    pw = pwd.getpwnam(HUB_USER)
    assert "handed to uid %d (the hub's), once" % pw.pw_uid in gate.log()
    for name in [""] + [n for n in os.listdir(state)
                        if n.startswith("wxgate.db")]:
        sb = os.stat(os.path.join(state, name))
        assert (sb.st_uid, sb.st_gid) == (pw.pw_uid, pw.pw_gid), name

    async def again():
        async with gate.client() as c:
            await c.resume(tok)
            _, done = await c.chat("after", "own-2")
            assert done["text"] == "echo: after"
    run(again())
    rows = gate.rows("SELECT text FROM messages ORDER BY id")
    assert [r[0] for r in rows] == ["before", "after"], rows


def test_worker_cannot_ask_the_parent(gate):
    """A worker that sends one of the hub's requests to the parent (here:
    stop everything) reaches only the hub, which kills it as compromised;
    the daemon and the other workers go on."""
    before = gate.status()
    hub = hub_pid(gate)
    rc, out, err = gate.ctl("test", "agent.default", "ask_parent")
    assert rc == 0, err
    gate.wait_log("protocol violation", 5)

    def back():
        w = gate.worker("agent.default")
        return w if w["state"] == "running" and \
            w["pid"] != before["agent.default"]["pid"] else None
    wait_for(back, 5, 0.05, "the agent to restart")
    assert gate.proc.poll() is None
    assert hub_pid(gate) == hub
    st = gate.status()
    for name, w in before.items():
        if name != "agent.default":
            assert st[name]["pid"] == w["pid"], name


def test_hub_forbidden_syscall_restarts_it(gate_factory):
    """Visitors mid-conversation; the hub makes a syscall its profile
    forbids and dies of SIGSYS; the parent starts another hub that takes
    over the same workers (none restarted) and every message is answered
    exactly once."""
    gate = gate_factory({"webchat": {"workers": 2}})
    gate.allow_seccomp_kills = True
    before = gate.status()
    hub = hub_pid(gate)
    n = 6

    async def go():
        clients, tokens = [], []
        try:
            for i in range(n):
                c = await gate.connect()
                tokens.append(await c.open())
                clients.append(c)
            # One answered before, one in flight at the kill.
            for i, c in enumerate(clients):
                await c.chat("before %d" % i, "b-%d" % i)
            for i, c in enumerate(clients):
                res = await c.send("during %d" % i, "d-%d" % i)
                assert res["status"] == "accepted"
            start = len(gate.log())
            rc, _, err = gate.ctl("test", "hub", "syscall")
            assert rc == 0, err
            gate.wait_log("killed by seccomp (SIGSYS): ptrace", 10, start)
            wait_for(lambda: hub_pid(gate) not in (None, hub), 10, 0.05,
                     "a new hub")
            wait_for(lambda: gate.all_running(), 10, 0.05,
                     "the workers under the new hub")
            # The workers were taken over, not restarted.
            st = gate.status()
            assert {k: (w["pid"], w["restarts"]) for k, w in st.items()} \
                == {k: (w["pid"], w["restarts"])
                    for k, w in before.items()}
            # Each visitor comes back (its connection was closed with
            # 1012) and sends again what had no chat.done yet.
            for c in clients:
                await c.drain(0.3)
            again = []
            for i, tok in enumerate(tokens):
                c2 = await gate.connect()
                await c2.resume(tok)
                again.append(c2)
                old = clients[i]
                if not old.dones("d-%d" % i):
                    res = await c2.send("during %d" % i, "d-%d" % i)
                    assert res["status"] in ("accepted", "answering",
                                             "answered"), res
                    await c2.wait_done("d-%d" % i, timeout=15)
                res = await c2.send("after %d" % i, "a-%d" % i)
                await c2.wait_done("a-%d" % i, timeout=15)
            for c2 in again:
                await c2.drain(0.5)
            for i in range(n):
                got = clients[i].dones("d-%d" % i) + \
                    again[i].dones("d-%d" % i)
                fresh = [d for d in got if not d.get("replayed")]
                assert len(fresh) <= 1, got
                assert got and all(d["text"] == "echo: during %d" % i
                                   for d in got), got
            for c2 in again:
                await c2.ws.close()
        finally:
            for c in clients:
                with contextlib.suppress(Exception):
                    await c.ws.close()
    run(go())

    # The store has each message once and one answer to it.
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(
        gate.state_dir, "wxgate.db"), uri=True, timeout=5)
    try:
        rows = db.execute("SELECT client_msg_id, text, state, reply "
                          "FROM messages").fetchall()
        assert len(rows) == 3 * n, rows
        assert len({r[0] for r in rows}) == 3 * n, rows
        for cmid, text, state, reply in rows:
            assert state == 3 and reply == "echo: " + text, (cmid, reply)
    finally:
        db.close()
    log = gate.log()
    assert "taken over" in log
    assert "restarting it; workers keep running" in log


def test_runtime_account_through_the_parent(gate_factory):
    """The narrow request for accounts made at run time: the hub asks,
    the parent starts a channel worker with the slice it was handed
    (sandboxed and taken over by the hub like any other), refuses a kind
    that is not a channel, keeps the account out of reloads, and stops
    it when asked."""
    gate = gate_factory()
    start = len(gate.log())
    assert gate.ctl("test", "hub", "spawn_agent")[0] == 0
    gate.wait_log("hub asked to start agent.rt: not a channel account",
                  5, start)
    assert "agent.rt" not in gate.status()

    assert gate.ctl("test", "hub", "spawn_loopback")[0] == 0
    w = wait_for(lambda: (gate.worker("loopback.rt") or {}).get("state")
                 == "running" and gate.worker("loopback.rt"), 10, 0.05,
                 "the run-time account")
    st = proc_status(w["pid"])
    assert int(st["PPid"]) == gate.proc.pid
    assert st["Seccomp"] == "2" and st["NoNewPrivs"] == "1"
    assert "hub starts account loopback.rt" in gate.log()
    # A second request for the same account is refused.
    start = len(gate.log())
    assert gate.ctl("test", "hub", "spawn_loopback")[0] == 0
    gate.wait_log("hub asked to start loopback.rt: it exists", 5, start)

    # A reload of the file leaves it alone: it is not the file's.
    assert gate.reload(gate.conf)
    assert gate.worker("loopback.rt")["pid"] == w["pid"]

    assert gate.ctl("test", "hub", "unspawn_loopback")[0] == 0
    wait_for(lambda: "loopback.rt" not in gate.status(), 10, 0.05,
             "the account to stop")
    assert not os.path.exists("/proc/%d" % w["pid"]) or \
        proc_status(w["pid"]).get("State", "").startswith("Z")


def test_environment_stays_with_the_parent(gate_factory, monkeypatch):
    """A key in the daemon's environment (api_key_env) reaches no other
    process: the hub and the workers get a short fixed list only."""
    monkeypatch.setenv("WXGATE_TEST_SECRET", "sk-do-not-leak")
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    gate = gate_factory()

    def environ(pid):
        with open("/proc/%d/environ" % pid, "rb") as f:
            return dict(e.split(b"=", 1) for e in f.read().split(b"\0")
                        if b"=" in e)
    assert b"WXGATE_TEST_SECRET" in environ(gate.proc.pid)
    pids = [hub_pid(gate)] + [w["pid"] for w in gate.status().values()]
    for pid in pids:
        env = environ(pid)
        assert b"WXGATE_TEST_SECRET" not in env, pid
        # What curl needs to reach an agent through a proxy is kept.
        assert env.get(b"https_proxy") == b"http://127.0.0.1:9", pid


def test_relative_state_dir(gate_factory):
    """state_dir as the sample config gives it (relative, with "." and
    ".."): the hub gets a clean absolute path for its sandbox."""
    gate = gate_factory({"state_dir": "./run/../run"})

    async def go():
        async with gate.client() as c:
            await c.open()
            _, done = await c.chat("relative", "rel-1")
            assert done["text"] == "echo: relative"
    run(go())
    assert "hub ready: store %s/run/wxgate.db" % \
        os.path.realpath(gate.dir) in gate.log()


def test_backlog_expiry_tells_the_waiting_client(gate_factory):
    """After a hub restart two web chat messages wait in the store's
    backlog; their agent (stopped here, its one place taken) answers
    neither.  Their deadline passes, one in memory, one still in the
    backlog: both visitors, who sent again and heard `answering`, are
    told `timeout`, neither is left in silence (the chaos run's one
    stall, 2026-12-02, was a backlog row expiring without a word)."""
    gate = gate_factory({
        "agents": [{"name": "default", "type": "echo", "max_inflight": 1}],
        "webchat": {"deadline_s": 4},
        "supervisor": {"heartbeat_timeout_ms": 60000},
    })
    agent = gate.worker("agent.default")["pid"]

    async def go():
        first = [await gate.connect(), await gate.connect()]
        toks = [await c.open() for c in first]
        again = []
        os.kill(agent, signal.SIGSTOP)
        try:
            for i, c in enumerate(first):
                res = await c.send("m%d" % i, "m-%d" % i)
                assert res["status"] == "accepted", res
            hub = hub_pid(gate)
            mark = len(gate.log())
            os.kill(hub, signal.SIGKILL)
            wait_for(lambda: hub_pid(gate) not in (None, hub), 10, 0.05,
                     "a new hub")
            # A visitor who connects before the pool has heard of the
            # new hub is told 503 and tries again; this one waits.
            gate.wait_log("closed for the new hub", timeout=10, start=mark)
            for c in first:
                await c.drain(0.3)
            for i, tok in enumerate(toks):
                c = await gate.connect()
                await c.resume(tok)
                again.append(c)
                res = await c.send("m%d" % i, "m-%d" % i)
                assert res["status"] == "answering", res
            for i, c in enumerate(again):
                e = await c.wait_event(
                    lambda e: e.get("event") == "chat.error" and
                    e.get("client_msg_id") == "m-%d" % i, 10,
                    "chat.error m-%d" % i)
                assert e["code"] == "timeout", e
        finally:
            os.kill(agent, signal.SIGCONT)
        for c in first + again:
            with contextlib.suppress(Exception):
                await c.ws.close()
    run(go())
    # The hub's turn that told them commits the rows; a loaded machine
    # may read the file between the two.
    want = [("m-0", 3, "timeout"), ("m-1", 3, "timeout")]
    wait_for(lambda: gate.rows("SELECT client_msg_id, state, error FROM "
                               "messages ORDER BY id") == want, 10, 0.1,
             "both rows timed out in the store")


def test_no_restart_while_stopping(gate_factory):
    """An operator's restart that reaches the parent while it drains for
    a stop (here of an agent waiting out its backoff) starts nothing: a
    worker born then is told to drain by no one and holds wxgated up."""
    gate = gate_factory({"supervisor": {"restart_min_ms": 60000,
                                        "restart_max_ms": 60000,
                                        "heartbeat_timeout_ms": 60000,
                                        "shutdown_grace_ms": 3000}})
    assert gate.ctl("test", "agent.default", "crash")[0] == 0
    wait_for(lambda: gate.worker("agent.default")["state"] == "backoff",
             10, 0.05, "the agent in backoff")
    # One worker that does not drain keeps the stop going a while.
    assert gate.ctl("test", "webchat.0", "hang")[0] == 0
    start = len(gate.log())
    gate.proc.send_signal(signal.SIGTERM)
    gate.wait_log("stopping: draining workers", 5, start)
    assert gate.ctl("restart", "agent.default")[0] == 0
    gate.wait_log("restarts agent.default", 5, start)
    gate.stopped_by_test = True
    try:
        rc = gate.proc.wait(15)
    except subprocess.TimeoutExpired:
        rc = None
    assert "worker agent.default started" not in gate.log()[start:]
    assert rc == 0, "wxgated did not stop"


def test_relayed_log_line_forges_no_line(gate):
    """A worker's log text reaches root's log through the hub; a newline
    or an escape in it makes no line of its own, nor a terminal command:
    root writes a relayed line as one line."""
    start = len(gate.log())
    assert gate.ctl("test", "agent.default",
                    "x\n2030-01-01T00:00:00.000Z wxgated[1] info: FORGED"
                    "\x1b[2J")[0] == 0
    gate.wait_log("FORGED", 5, start)
    text = gate.log()[start:]
    assert not [l for l in text.splitlines() if l.startswith("2030-")], text
    assert "\x1b" not in text


def gone(pid):
    """Exited, or a zombie: it may go between any two reads of /proc."""
    try:
        return proc_status(pid).get("State", "").startswith("Z")
    except OSError:
        return True


def test_runtime_account_again_while_the_old_drains(gate_factory):
    """hub.spawn of an account whose last worker is still draining
    starts one more, once: a further hub.spawn finds that one, and
    hub.unspawn stops it, not the one already going."""
    gate = gate_factory({"supervisor": {"heartbeat_timeout_ms": 60000,
                                        "shutdown_grace_ms": 20000}})
    start = len(gate.log())
    started = "worker loopback.rt started, pid "

    def pids():
        return [int(l.split(started, 1)[1].split()[0])
                for l in gate.log()[start:].splitlines() if started in l]

    assert gate.ctl("test", "hub", "spawn_loopback")[0] == 0
    wait_for(lambda: (gate.worker("loopback.rt") or {}).get("state")
             == "running", 10, 0.05, "the run-time account")
    # The first does not drain: it goes at the grace period's end.
    assert gate.ctl("test", "loopback.rt", "hang")[0] == 0
    gate.wait_log("test hook: hang", 5, start)
    assert gate.ctl("test", "hub", "unspawn_loopback")[0] == 0
    assert gate.ctl("test", "hub", "spawn_loopback")[0] == 0
    wait_for(lambda: len(pids()) == 2, 10, 0.05, "a second worker")
    assert gate.ctl("test", "hub", "spawn_loopback")[0] == 0
    gate.wait_log("hub asked to start loopback.rt: it exists", 5, start)
    assert len(pids()) == 2, pids()
    old, new = pids()
    assert gate.ctl("test", "hub", "unspawn_loopback")[0] == 0
    wait_for(lambda: gone(new), 10, 0.05, "the second worker to stop")
    assert os.path.exists("/proc/%d" % old)
    os.kill(old, signal.SIGKILL)    # not the grace period's 20 s
