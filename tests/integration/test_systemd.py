"""systemd's Type=notify and watchdog (issue #17), against a notify
socket the test makes, since systemd is not PID 1 here: READY=1 comes
once every worker serves, with the daemon's pid; WATCHDOG=1 comes at
half WATCHDOG_USEC; a reload says RELOADING=1 then READY=1 again, a
stop STOPPING=1; no other process inherits the socket's name."""

import os
import signal
import socket
import time

from conftest import wait_for
from test_hub import hub_pid


class Manager:
    """What systemd's notify socket would receive, in order."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(path)
        self.s.settimeout(0.05)
        self.got = []

    def poll(self):
        while True:
            try:
                self.got.append(self.s.recv(4096).decode())
            except socket.timeout:
                return self.got

    def wait(self, pred, timeout, what):
        return wait_for(lambda: pred(self.poll()), timeout, 0.05, what)


def environ(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        return dict(e.split(b"=", 1) for e in f.read().split(b"\0")
                    if b"=" in e)


def test_ready_watchdog_reload_stop(gate_factory, tmp_path, monkeypatch):
    path = os.path.join(str(tmp_path), "notify.sock")
    m = Manager(path)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "400000")
    gate = gate_factory()
    m.wait(lambda g: any(x.startswith("READY=1") for x in g), 10, "READY")
    ready = [x for x in m.got if x.startswith("READY=1")]
    assert ready == ["READY=1\nMAINPID=%d" % gate.proc.pid], m.got
    # Ready means serving: by then every worker had come up.
    assert all(w["state"] == "running" for w in gate.status().values())
    n = m.got.count("WATCHDOG=1")
    time.sleep(1.2)
    assert m.poll().count("WATCHDOG=1") - n >= 3, m.got
    for pid in [hub_pid(gate)] + [w["pid"] for w in
                                  gate.status().values()]:
        assert b"NOTIFY_SOCKET" not in environ(pid), pid
        assert b"WATCHDOG_USEC" not in environ(pid), pid
    # A reload: reloading, then ready again.
    start = len(m.got)
    os.kill(gate.proc.pid, signal.SIGHUP)
    m.wait(lambda g: "READY=1\nMAINPID=%d" % gate.proc.pid in g[start:],
           10, "READY after the reload")
    seen = [x for x in m.got[start:] if x != "WATCHDOG=1"]
    assert seen[:2] == ["RELOADING=1", "READY=1\nMAINPID=%d" %
                        gate.proc.pid], seen
    assert gate.stop() == 0
    gate.stopped_by_test = True
    assert "STOPPING=1" in m.poll(), m.got


def test_without_a_notify_socket_nothing_is_sent(gate_factory, monkeypatch):
    """No NOTIFY_SOCKET: a watchdog request alone is logged, not obeyed."""
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setenv("WATCHDOG_USEC", "400000")
    gate = gate_factory()
    gate.wait_log("WATCHDOG_USEC without NOTIFY_SOCKET: no watchdog", 5)


def test_unit_hardening_score():
    """The unit's exposure as systemd-analyze scores it offline: 4.7
    before Type=notify's change (PrivateMounts, SystemCallFilter); it
    must not creep back up."""
    import re
    import shutil
    import subprocess

    import pytest
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.skip("systemd-analyze is not installed")
    unit = os.path.join(os.path.dirname(__file__), "..", "..", "etc",
                        "wxgated.service")
    p = subprocess.run([exe, "security", "--offline=true", unit],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for wxgated.service: "
                  r"([0-9.]+)", p.stdout + p.stderr)
    assert m, p.stdout + p.stderr
    assert float(m.group(1)) <= 2.9, m.group(0)
    # The README says the score the unit has.
    with open(os.path.join(os.path.dirname(unit), "..", "README.md")) as f:
        said = re.search(r"etc/wxgated\.service` scores it ([0-9.]+)",
                         re.sub(r"\s+", " ", f.read()))
    assert said and said.group(1) == m.group(1), (said, m.group(0))
    with open(unit) as f:
        text = f.read()
    assert "Type=notify\n" in text and "WatchdogSec=" in text


def test_unit_grants_what_the_sandbox_uses():
    """RestrictNamespaces= lists exactly the namespaces sandbox/ns.c
    creates, and CAP_SYS_ADMIN is not in the bounding set: every process
    drops root before it builds its namespaces, in a user namespace
    (sandbox_drop takes no namespace step; test_sandbox's
    --check-sandbox rows show each kind's userns in force)."""
    import re
    top = os.path.join(os.path.dirname(__file__), "..", "..")
    with open(os.path.join(top, "etc", "wxgated.service")) as f:
        unit = f.read()
    with open(os.path.join(top, "sandbox", "ns.c")) as f:
        ns = f.read()
    with open(os.path.join(top, "supervisor", "specs.c")) as f:
        specs = f.read()
    names = {"USER": "user", "NS": "mnt", "NET": "net", "IPC": "ipc",
             "UTS": "uts", "PID": "pid", "CGROUP": "cgroup",
             "TIME": "time"}
    made = {names[f] for f in re.findall(r"CLONE_NEW([A-Z]+)", ns)}
    allowed = set(re.search(r"^RestrictNamespaces=(.*)$", unit,
                            re.M).group(1).split())
    assert allowed == made, (allowed, made)
    caps = re.search(r"^CapabilityBoundingSet=(.*)$", unit,
                     re.M).group(1).split()
    assert "CAP_SYS_ADMIN" not in caps and "CAP_CHOWN" not in caps, caps
    # The hand-over is a privileged step of its own, and systemd does
    # not take the directory back at each start (no StateDirectory=).
    assert re.search(r"^ExecStartPre=\+\S*wxgated -O ", unit, re.M), unit
    assert not re.search(r"^StateDirectory", unit, re.M), unit
    with open(os.path.join(top, "sandbox", "sandbox.c")) as f:
        sb = f.read()
    drop = re.search(r"^sandbox_drop\(.*?^}", sb, re.M | re.S).group(0)
    assert "sandbox_ns(" not in drop and "sandbox_build(" not in drop, drop
    # The hub's maps its own uid (its store's files stay its).
    hub = re.search(r"^hub_spec\(.*?^}", specs, re.M | re.S).group(0)
    assert "SB_S_OWNUID" in hub, hub


def caps_prefix(caps):
    """Run as the unit would: its bounding set, no_new_privs."""
    return ["setpriv", "--no-new-privs", "--bounding-set", caps]


def unit_caps():
    """The unit's CapabilityBoundingSet= as setpriv's list."""
    import re
    top = os.path.join(os.path.dirname(__file__), "..", "..")
    with open(os.path.join(top, "etc", "wxgated.service")) as f:
        caps = re.search(r"^CapabilityBoundingSet=(.*)$", f.read(),
                         re.M).group(1).split()
    return "-all," + ",".join("+" + c[4:].lower() for c in caps)


def unit_proc():
    """The procfs mount options the unit's ProtectProc= and ProcSubset=
    ask systemd for (hidepid=, subset=), or None."""
    import re
    top = os.path.join(os.path.dirname(__file__), "..", "..")
    with open(os.path.join(top, "etc", "wxgated.service")) as f:
        unit = f.read()
    opts = []
    m = re.search(r"^ProtectProc=(\S+)$", unit, re.M)
    if m and m.group(1) != "default":
        opts.append("hidepid=" + m.group(1))
    m = re.search(r"^ProcSubset=(\S+)$", unit, re.M)
    if m and m.group(1) != "all":
        opts.append("subset=" + m.group(1))
    return ",".join(opts) or None


def proc_prefix(opts):
    """A mount namespace of its own whose /proc is a procfs mounted with
    opts, as systemd mounts it for the unit; then the command, in
    place (exec), so the daemon keeps the pid the test started."""
    if opts is None:
        return []
    return ["unshare", "-m", "--propagation", "private", "sh", "-c",
            'mount -t proc -o %s proc /proc && exec "$@"' % opts, "sh"]


def test_the_units_capabilities_run_the_daemon(gate_factory, tmp_path):
    """wxgated as etc/wxgated.service starts it, as near as a test gets
    without systemd: root with only the unit's capability bounding set
    (no CAP_DAC_*, no CAP_SYS_PTRACE, no CAP_SYS_ADMIN) and
    no_new_privs, by setpriv, and a /proc as its ProtectProc= and
    ProcSubset= mount it (no other uid's processes, nothing but the
    processes' files).  Its state directory is made root's,
    mode 0700, as an older unit's StateDirectory= or a root supervisor
    left it: the daemon, without CAP_CHOWN, refuses it and names what
    hands it over; "wxgated -O" does, with full privileges, as the
    unit's ExecStartPre=+ runs it, and once only; then a message is
    answered, a worker's RSS and PSS are shown
    though the parent may not read its smaps_rollup (the worker says
    them); then a second start, into the hub's directory that root can
    no longer look into, answers with the first message's history."""
    import shutil
    import subprocess
    import tempfile

    import pytest
    from conftest import WXGATED, Gate, run
    if os.geteuid() != 0:
        pytest.skip("needs root, as the unit does")
    caps = unit_caps()
    top = tempfile.mkdtemp(prefix="wxunit")
    os.chmod(top, 0o755)        # /var/lib's
    state = os.path.join(top, "state")
    ctl = os.path.join(top, "ctl")          # /run/wxgate's
    os.mkdir(state, 0o700)
    os.mkdir(ctl, 0o750)

    proc = unit_proc()

    class UnitGate(Gate):
        prefix = proc_prefix(proc) + caps_prefix(caps)

        def __init__(self, d, overrides):
            super().__init__(d, overrides)
            self.state_dir = state
            self.sock = os.path.join(ctl, "control.sock")
            self.conf["state_dir"] = state
            self.conf["control"] = self.sock

    async def say(gate, token, text, cmid):
        """(the session's token, its history after text's answer)"""
        async with gate.client() as c:
            if token is None:
                token = await c.open()
            else:
                assert (await c.resume(token)).get("resumed") is True
            st, done = await c.chat(text, cmid)
            assert done["text"] == "echo: " + text, done
            hist = await c.ok("chat.history", {"limit": 10})
        return token, [m["text"] for m in hist["messages"]]

    try:
        # Refused without CAP_CHOWN, and nothing handed.
        d = tmp_path / "refused"
        d.mkdir()
        g = UnitGate(d, None)
        g.write_conf()
        r = subprocess.run(UnitGate.prefix + [WXGATED, "-f", g.conf_path],
                           capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        assert r.returncode != 0 and "cannot hand it to the hub" in \
            r.stderr and '"wxgated -O"' in r.stderr, r
        assert os.stat(state).st_uid == 0
        # ExecStartPre=+: handed once; a second -O finds it the hub's.
        for n in (1, 2):
            r = subprocess.run([WXGATED, "-O", "-f", g.conf_path],
                               capture_output=True, text=True, timeout=60,
                               stdin=subprocess.DEVNULL)
            assert r.returncode == 0, r
            assert ("handed to uid" in r.stderr) == (n == 1), r

        gate = gate_factory(cls=UnitGate)
        pid = gate.proc.pid
        with open("/proc/%d/status" % pid) as f:
            status = f.read()
        assert "NoNewPrivs:\t1" in status, status
        # The daemon's /proc is the unit's: other uids' processes hidden,
        # /proc/sys gone; ours, the test's, is the host's.
        assert proc == "hidepid=invisible,subset=pid", proc
        with open("/proc/%d/mountinfo" % pid) as f:
            procs = [ln for ln in f if ln.split()[4] == "/proc"]
        assert procs and "hidepid=invisible" in procs[-1] and \
            "subset=pid" in procs[-1], procs
        want = int([ln.split()[1] for ln in status.splitlines()
                    if ln.startswith("CapBnd:")][0], 16)
        assert want & (1 << 21) == 0 and want & (1 << 19) == 0 and \
            want & (1 << 1) == 0 and want & (1 << 2) == 0 and \
            want & (1 << 0) == 0, hex(want)
        st = os.stat(state)
        hub = pwd_uid("wxgate")
        assert (st.st_uid, st.st_mode & 0o777) == (hub, 0o700), st
        assert "handed to uid" not in gate.log()
        token, _ = run(say(gate, None, "first", "m1"))

        # The parent may not read the worker's smaps_rollup here...
        w = gate.worker("webchat.0")
        r = subprocess.run(caps_prefix(caps) + [
            "cat", "/proc/%d/smaps_rollup" % w["pid"]],
            capture_output=True, text=True, timeout=10)
        assert r.returncode != 0 and "Permission denied" in r.stderr, r
        # ... so its figures are its own (worker.c: worker_figures).

        def figures():
            m = dict(ln.rsplit(" ", 1) for ln in gate.ctl("metrics")[1]
                     .splitlines() if 'worker="webchat.0"' in ln)
            f = [int(m.get('wxgate_worker_%s_bytes{worker="webchat.0",'
                           'kind="webchat"}' % x, -1))
                 for x in ("rss", "pss")]
            return f if f[0] > 0 and 0 < f[1] <= f[0] else None
        wait_for(figures, 15, 0.2, "webchat.0's RSS and PSS")
        # And still after the parent's next read (every 5 s), whose
        # PSS would be 0: the first may have been of the worker's start.
        time.sleep(6)
        assert figures(), gate.ctl("metrics")[1]
        assert gate.worker("webchat.0")["pid"] == w["pid"], gate.log()
        assert gate.stop() == 0
        gate.stopped_by_test = True

        again = gate_factory(cls=UnitGate, sub="again")
        assert "handed to uid" not in again.log()
        _, texts = run(say(again, token, "second", "m2"))
        assert texts == ["first", "echo: first", "second", "echo: second"], \
            texts
    finally:
        shutil.rmtree(top, ignore_errors=True)


def pwd_uid(name):
    import pwd
    return pwd.getpwnam(name).pw_uid
