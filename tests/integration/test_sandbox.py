"""Acceptance for the sandbox: every worker kind runs with seccomp, no_new_privs
and (as root) an unprivileged uid; each forbidden action kills the worker (or
is refused, where that is the chosen action), the supervisor logs the cause
and restarts it, and the other workers keep serving.  --check-sandbox is
tested as root and as an unprivileged user.

Needs a build configured with --enable-test-hooks."""

import contextlib
import os
import pwd
import re
import shutil
import subprocess
import tempfile

import pytest
import yaml

from conftest import WXGATED, WXGATECTL, free_port, run, wait_for

ROOT = os.geteuid() == 0
WORKERS = {"webchat": "webchat.0", "agent": "agent.default"}

# test-hook action -> the syscall the supervisor must name
FORBIDDEN = [
    ("execve", "execve"),
    ("ptrace", "ptrace"),
    ("fork", "clone"),
    ("mount", "mount"),
    ("setuid", "setuid"),
    ("kill_parent", "kill"),
    ("connect", "socket"),
]


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def test_every_worker_kind_is_sandboxed(gate):
    st = gate.status()
    assert {w["kind"] for w in st.values()} == set(WORKERS)
    for name, w in st.items():
        ps = proc_status(w["pid"])
        assert ps["Seccomp"] == "2", (name, ps["Seccomp"])
        assert ps["NoNewPrivs"] == "1", (name, ps["NoNewPrivs"])
        if ROOT:
            assert all(u != "0" for u in ps["Uid"].split()), ps["Uid"]
            assert all(g != "0" for g in ps["Gid"].split()), ps["Gid"]
            assert ps["Groups"] == "", ps["Groups"]
            # The worker's root is an empty directory.
            assert os.listdir("/proc/%d/root/" % w["pid"]) == []
        # Its mount namespace is not ours; webchat's network neither.
        assert os.readlink("/proc/%d/ns/mnt" % w["pid"]) != \
            os.readlink("/proc/self/ns/mnt")
        if w["kind"] == "webchat":
            assert os.readlink("/proc/%d/ns/net" % w["pid"]) != \
                os.readlink("/proc/self/ns/net")
        # It said at start which layers are in force.
        line = "worker %s (pid %d): sandbox: " % (name, w["pid"])
        gate.wait_log(line)
        said = gate.log().split(line, 1)[1].split("\n", 1)[0]
        assert "seccomp on" in said and "no_new_privs on" in said, said
        if ROOT:
            # Root is dropped first; the namespaces come after, through
            # a user namespace of the worker's own.
            assert "uid-drop on" in said and "mountns on" in said, said
            assert "userns on" in said, said
            assert os.readlink("/proc/%d/ns/user" % w["pid"]) != \
                os.readlink("/proc/self/ns/user")
        # Issue #11: its config was decoded by the unprivileged user.
        rc, out, err = gate.ctl("test", name, "config_uid")
        assert rc == 0, (rc, out, err)
        gate.wait_log("worker %s (pid %d): test hook: config read as uid %s"
                      % (name, w["pid"], ps["Uid"].split()[0]))


def test_agent_backends_are_sandboxed(gate_factory):
    """The agents that dial out (openai) or run a program (command) get
    their own, wider profiles; they are still filtered and unprivileged,
    and so is the command agent's program."""
    from conftest import REPO
    gate = gate_factory({"agents": [
        {"name": "default", "type": "echo"},
        {"name": "gpt", "type": "openai",
         "openai": {"url": "http://127.0.0.1:9/v1/chat/completions",
                    "model": "m"}},
        {"name": "cmd", "type": "command",
         "command": {"argv": ["/usr/bin/python3",
                              os.path.join(REPO, "examples", "agent.py")]}},
    ]})
    st = gate.status()
    for name in ("agent.gpt", "agent.cmd"):
        pid = st[name]["pid"]
        pids = [pid]
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            pids += [int(x) for x in f.read().split()]
        for p in pids:
            ps = proc_status(p)
            assert ps["Seccomp"] == "2", (name, p, ps["Seccomp"])
            assert ps["NoNewPrivs"] == "1", (name, p)
            if ROOT:
                assert ps["Uid"].split()[0] != "0", (name, p, ps["Uid"])
    assert len(pids) >= 2, "the command agent's program is not running"


def wait_replaced(gate, name, old, seccomp_kills):
    def back():
        w = gate.worker(name)
        return w if (w["state"] == "running" and w["pid"] != old["pid"] and
                     w["seccomp"] == seccomp_kills) else None
    return wait_for(back, 5.0, 0.02, "%s to be restarted" % name)


async def forbidden_scenario(gate, kind, action, syscall):
    name = WORKERS[kind]
    old = gate.worker(name)
    start = len(gate.log())
    # A bystander on the other webchat worker has a reply in flight.
    c = await gate.client_on("webchat.1")
    try:
        await c.open()
        await c.send("through the storm", "s-1")
        await c.wait_delta("s-1")

        rc, out, err = gate.ctl("test", name, action)
        assert rc == 0, (rc, out, err)
        w = wait_replaced(gate, name, old, old["seccomp"] + 1)
        assert w["last_exit"] == \
            "killed by seccomp (SIGSYS): %s" % syscall, w["last_exit"]
        assert w["restarts"] == old["restarts"] + 1
        gate.wait_log("worker %s (pid %d) killed by seccomp (SIGSYS): %s, "
                      "restarting in" % (name, old["pid"], syscall),
                      start=start)

        # The bystander's reply completes exactly once, whole (after an
        # agent restart the request is sent again), and chatting goes on.
        done = await c.wait_done("s-1")
        assert done["text"] == "echo: through the storm"
        _, done = await c.chat("after", "s-2")
        assert done["text"] == "echo: after"
        await c.drain(0.3)
        assert len(c.dones("s-1")) == 1 and len(c.dones("s-2")) == 1
    finally:
        with contextlib.suppress(Exception):
            await c.ws.close()
    assert "FORBIDDEN" not in gate.log()
    st = gate.status()
    assert st["webchat.1"]["restarts"] == 0
    assert st["webchat.1"]["seccomp"] == 0


@pytest.mark.parametrize("kind", sorted(WORKERS))
@pytest.mark.parametrize("action,syscall", FORBIDDEN,
                         ids=[a for a, _ in FORBIDDEN])
def test_forbidden_action_kills_the_worker(gate, kind, action, syscall):
    gate.allow_seccomp_kills = True
    run(forbidden_scenario(gate, kind, action, syscall))


@pytest.mark.parametrize("kind", sorted(WORKERS))
def test_opening_a_file_is_refused(gate, kind):
    """open/openat fail with EACCES instead of killing (libc and OpenSSL
    probe files); the worker lives on and still sees no files."""
    name = WORKERS[kind]
    old = gate.worker(name)
    rc, out, err = gate.ctl("test", name, "open_shadow")
    assert rc == 0, (rc, out, err)
    gate.wait_log("worker %s (pid %d): test hook: open /etc/shadow: "
                  "Permission denied" % (name, old["pid"]))
    w = gate.worker(name)
    assert w["pid"] == old["pid"] and w["seccomp"] == 0
    assert "FORBIDDEN" not in gate.log()


def check_table(out):
    rows = {}
    for line in out.splitlines()[2:]:
        p = line.split(None, 3)
        rows[(p[0], p[1])] = (p[2] if p[2] != "in" else "in force",
                              line)
    return rows


def layer(rows, kind, name):
    return rows[(kind, name)][1]


def run_check(prefix=()):
    p = subprocess.run(list(prefix) + [WXGATED, "--check-sandbox"],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


@pytest.mark.skipif(not ROOT, reason="the root run needs root")
def test_check_sandbox_as_root():
    rc, out, err = run_check()
    assert rc == 0, (out, err)
    assert out.startswith("running as uid 0"), out
    for kind in WORKERS:
        for name in ("fds", "rlimits", "mountns", "ipcns", "utsns",
                     "uid-drop", "no_new_privs", "seccomp"):
            assert re.search(r"^%s +%s +in force" % (kind, name), out,
                             re.M), (kind, name, out)
        # Workers drop root before they read their config, then build
        # their namespaces in a user namespace (unmapped: not dumpable).
        assert re.search(r"^%s +userns +in force +uid 65534 unmapped" %
                         kind, out, re.M), out
        assert re.search(r"^%s +uid-drop +in force +uid 65534" % kind, out,
                         re.M), out
    assert re.search(r"^webchat +netns +in force", out, re.M), out
    assert re.search(r"^agent +netns +not used", out, re.M), out
    # The hub drops root first too, and builds its namespaces in a user
    # namespace that maps its own uid (its store's files stay its), ...
    hub_uid = pwd.getpwnam("wxgate").pw_uid
    assert re.search(r"^hub +userns +in force +uid %d mapped to itself" %
                     hub_uid, out, re.M), out
    assert re.search(r"^hub +mountns +in force +empty read-only root \+ "
                     r"\S+ \(rw\)", out, re.M), out
    assert re.search(r"^hub +netns +in force", out, re.M), out
    # ... and is tried as its own user, not the workers'.
    assert re.search(r"^hub +uid-drop +in force +uid %d " % hub_uid, out,
                     re.M), out
    # So does the configuration reader, as the workers' user, keeping
    # no directory (the parent reads a schedule's zone file for it).
    assert re.search(r"^conf +userns +in force +uid 65534 unmapped", out,
                     re.M), out
    assert re.search(r"^conf +mountns +in force +empty read-only root$",
                     out, re.M), out
    assert re.search(r"^conf +uid-drop +in force +uid 65534", out,
                     re.M), out


def test_check_sandbox_as_a_user():
    prefix = ()
    if ROOT:
        prefix = ("setpriv", "--reuid=65534", "--regid=65534",
                  "--clear-groups")
    rc, out, err = run_check(prefix)
    assert rc == 0, (out, err)
    assert not out.startswith("running as uid 0"), out
    for kind in WORKERS:
        # The two layers a worker cannot start without hold for anyone.
        assert re.search(r"^%s +no_new_privs +in force" % kind, out,
                         re.M), out
        assert re.search(r"^%s +seccomp +in force" % kind, out, re.M), out
        assert re.search(r"^%s +rlimits +in force" % kind, out, re.M), out
        assert re.search(r"^%s +uid-drop +not available +not root" % kind,
                         out, re.M), out
        # A user namespace is either there or its absence is explained.
        m = re.search(r"^%s +userns +(in force|not available) +(\S.*)$" %
                      kind, out, re.M)
        assert m, out
        if m.group(1) == "in force":
            assert re.search(r"^%s +mountns +in force" % kind, out,
                             re.M), out


@pytest.mark.skipif(not ROOT, reason="starts the daemon as nobody via setpriv")
def test_daemon_as_a_user_still_sandboxes_workers():
    """Not root: workers still get no_new_privs, seccomp and rlimits, and
    a user namespace where the kernel allows it; chat works."""
    # pytest's tmp_path is root's alone; nobody needs a way in.
    d = tempfile.mkdtemp(prefix="wxnobody")
    os.chmod(d, 0o755)
    state = os.path.join(d, "run")
    os.mkdir(state, 0o700)
    os.chown(state, 65534, 65534)
    port = free_port()
    conf = {
        "state_dir": state,
        "control": os.path.join(state, "control.sock"),
        "webchat": {"listen": "127.0.0.1:%d" % port, "workers": 1},
        "agents": [{"name": "default", "type": "echo",
                    "echo": {"chunks": 2, "delay_ms": 10}}],
    }
    path = os.path.join(d, "wxgate.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(conf, f)
    log = open(os.path.join(d, "log"), "wb")
    p = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534",
                          "--clear-groups", WXGATED, "-f", path],
                         cwd=state, stdout=log, stderr=log,
                         stdin=subprocess.DEVNULL)
    sock = conf["control"]
    try:
        def up():
            assert p.poll() is None, open(log.name).read()
            r = subprocess.run([WXGATECTL, "-s", sock, "status"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                return None
            rows = [l.split() for l in r.stdout.splitlines()[1:]]
            if len(rows) == 2 and all(x[3] == "running" for x in rows):
                return rows
            return None
        rows = wait_for(up, 20, 0.05, "wxgated as nobody")
        for row in rows:
            ps = proc_status(int(row[2]))
            assert ps["Seccomp"] == "2" and ps["NoNewPrivs"] == "1", ps
            assert ps["Uid"].split()[0] == "65534"
        import asyncio
        import json
        import websockets

        async def chat():
            async with websockets.connect(
                    "ws://127.0.0.1:%d/ws" % port) as ws:
                await ws.send(json.dumps({"id": 1, "method":
                                          "session.open", "params": {}}))
                assert json.loads(await ws.recv())["ok"]
                await ws.send(json.dumps({
                    "id": 2, "method": "chat.send",
                    "params": {"text": "hi", "client_msg_id": "n-1"}}))
                while True:
                    m = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if m.get("event") == "chat.done":
                        return m["text"]
        assert asyncio.run(chat()) == "echo: hi"
        text = open(log.name).read()
        assert "sandbox: " in text and "seccomp on" in text, text
        assert "killed by seccomp" not in text, text
    finally:
        subprocess.run([WXGATECTL, "-s", sock, "stop"], capture_output=True)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
        log.close()
        shutil.rmtree(d, ignore_errors=True)


def assert_confined(pid):
    """A channel worker as it runs: seccomp filter, no_new_privs, and as
    root's child no uid 0, no groups and an empty root."""
    ps = proc_status(pid)
    assert ps["Seccomp"] == "2" and ps["NoNewPrivs"] == "1", ps
    if ROOT:
        assert all(u != "0" for u in ps["Uid"].split()), ps["Uid"]
        assert ps["Groups"] == "", ps["Groups"]
        assert os.listdir("/proc/%d/root/" % pid) == []


def kill_with_each(gate, name, dials):
    """Make worker `name` try every forbidden action in turn; each must
    kill it by seccomp, naming the syscall, and it must come back.  A
    worker that dials out may connect: that is its job."""
    gate.allow_seccomp_kills = True
    kills = 0
    for action, syscall in FORBIDDEN:
        if action == "connect" and dials:
            continue
        old = gate.worker(name)
        rc, out, err = gate.ctl("test", name, action)
        assert rc == 0, (action, rc, out, err)
        kills += 1
        w = wait_replaced(gate, name, old, kills)
        assert w["last_exit"] == \
            "killed by seccomp (SIGSYS): %s" % syscall, (action, w)
    assert "FORBIDDEN" not in gate.log()


@pytest.mark.parametrize("backend", ["openai", "command"])
def test_forbidden_actions_in_dialling_agents(gate_factory, backend):
    """The wider agent profiles still forbid everything else.  (The openai
    agent may connect: that is its job, so connect is not tried.)"""
    from conftest import REPO
    agent = {"name": "x", "type": backend}
    if backend == "openai":
        agent["openai"] = {"url": "http://127.0.0.1:9/v1/chat/completions",
                           "model": "m"}
    else:
        agent["command"] = {"argv": ["/usr/bin/python3",
                                     os.path.join(REPO, "examples",
                                                  "agent.py")]}
    # Six deaths in a row: keep the doubling backoff short.
    gate = gate_factory({"agents": [{"name": "default", "type": "echo"},
                                    agent],
                         "supervisor": {"restart_max_ms": 400}})
    kill_with_each(gate, "agent.x", dials=backend == "openai")


@pytest.mark.parametrize("kind", ["wechat_mp", "wecom_app"])
def test_callback_kinds_are_sandboxed(gate_factory, tmp_path, kind):
    """The callback kinds (issue #14) accept on the socket the parent
    bound for their account and dial the platform's API: filtered,
    unprivileged, killed on every other forbidden action and restarted
    on the same socket, which still answers."""
    from fake_mp import FakeMP
    from test_channel_callback import channel, msg, USER
    from fake_mp import reply_content
    fake = FakeMP(wecom=kind == "wecom_app").start()
    try:
        gate = gate_factory({"agents": [{"name": "default",
                                         "type": "echo"}],
                             "channels": [channel(fake, tmp_path)],
                             "supervisor": {"restart_max_ms": 400}})
        name = kind + ".acct"
        w = gate.worker(name)
        ps = proc_status(w["pid"])
        assert ps["Seccomp"] == "2" and ps["NoNewPrivs"] == "1", ps
        if ROOT:
            assert all(u != "0" for u in ps["Uid"].split()), ps["Uid"]
            assert ps["Groups"] == "", ps["Groups"]
            assert os.listdir("/proc/%d/root/" % w["pid"]) == []
        kill_with_each(gate, name, dials=True)
        status, reply = fake.post(msg(fake, "after the storm", 3001))
        assert reply_content(reply, USER) == "echo: after the storm"
    finally:
        fake.stop()
