"""Accounts forked from their kind's zygote (workers/zygote.c,
supervisor/zygote.c): each a child of the root parent, sandboxed as an
exec'd worker is, sharing the zygote's layout (which is what makes them
cheap); a zygote that dies or hangs costs a fallback to exec, never a
message."""
import os
import signal

import pytest

from conftest import wait_for
from fake_ilink import FakeIlink
from test_channel_wechat import sent_to, wait_sent, no_violations
from test_hub import children
from test_sandbox import proc_status

NAMES = ["alice", "bob", "carol"]
FRIEND = "friend_0002@im.wechat"


@pytest.fixture
def fakes():
    fs = [FakeIlink(longpoll_ms=1500).start() for _ in NAMES]
    yield fs
    for f in fs:
        f.stop()


def start(gate_factory, fakes, tmp_path, **sandbox):
    chans = []
    for name, fake in zip(NAMES, fakes):
        path = os.path.join(str(tmp_path), name + ".token")
        with open(path, "w") as f:
            f.write(fake.token + "\n")
        os.chmod(path, 0o600)
        chans.append({"name": name, "type": "wechat", "allow_from": ["*"],
                      "wechat": {"login_url": fake.url, "send_gap_ms": 0,
                                 "poll_timeout_ms": 3000, "timeout_s": 5,
                                 "token_file": path}})
    conf = {"channels": chans, "supervisor": {"restart_min_ms": 50}}
    if sandbox:
        conf["sandbox"] = sandbox
    return gate_factory(conf)


def zygotes(gate):
    return [p for p, cmd in children(gate.proc.pid)
            if any(c.startswith("zygote:wechat") for c in cmd)]


def exe_base(pid):
    """Where the wxgated executable is mapped: the same in processes
    forked from one another, different (ASLR) in exec'd ones."""
    exe = os.readlink("/proc/%d/exe" % pid)
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            if line.rstrip().endswith(exe):
                return line.split("-", 1)[0]
    raise AssertionError("no mapping of %s in %d" % (exe, pid))


def cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return [a.decode().strip() for a in f.read().split(b"\0") if a]


def back(gate, name, old, timeout=10):
    """Wait for account name's worker to run again under a new pid."""
    w = "wechat." + name
    wait_for(lambda: gate.worker(w)["pid"] not in (old, None) and
             gate.worker(w)["state"] == "running", timeout, 0.05,
             name + " back")
    return gate.worker(w)["pid"]


def answered(fakes, text):
    for fake in fakes:
        fake.inject(FRIEND, text)
    for fake in fakes:
        s = wait_sent(fake, FRIEND, 1, timeout=20)
        assert [x["text"] for x in s] == ["echo: " + text], s


def test_accounts_are_forked_from_the_zygote(gate_factory, fakes,
                                             tmp_path):
    """Each account's worker is the root parent's child, forked from the
    zygote (its layout), named for its account in ps, sandboxed and
    unprivileged like any worker, under the zygote's seccomp filter and
    its own; the zygote holds the sandbox user, no_new_privs and a
    filter, and every account answers."""
    gate = start(gate_factory, fakes, tmp_path)
    answered(fakes, "hi")
    zs = zygotes(gate)
    assert len(zs) == 1, children(gate.proc.pid)
    z = zs[0]
    zst = proc_status(z)
    assert zst["Uid"].split()[0] != "0" and zst["NoNewPrivs"] == "1", zst
    assert zst["Seccomp"] == "2" and zst["Seccomp_filters"] == "1", zst
    kids = {p for p, _ in children(gate.proc.pid)}
    base = exe_base(z)
    for name in NAMES:
        pid = gate.worker("wechat." + name)["pid"]
        assert pid in kids, (pid, kids)
        assert "wechat:" + name in cmdline(pid), cmdline(pid)
        ps = proc_status(pid)
        assert ps["Seccomp"] == "2" and ps["NoNewPrivs"] == "1", ps
        assert int(ps["Seccomp_filters"]) >= 2, ps
        assert ps["Uid"].split() == zst["Uid"].split(), (ps, zst)
        assert exe_base(pid) == base, name
    # The hub is exec'd: its own layout.
    hub = [p for p, cmd in children(gate.proc.pid) if "hub:main" in cmd][0]
    assert exe_base(hub) != base
    gate.wait_log("zygote wechat started")
    for fake in fakes:
        no_violations(fake)


def test_sigkilled_account_comes_back_from_the_zygote(gate_factory, fakes,
                                                      tmp_path):
    """SIGKILL of an account's worker while a message is on its way: a
    new one is forked from the same zygote, and the message is answered
    once."""
    gate = start(gate_factory, fakes, tmp_path)
    answered(fakes, "hi")
    z = zygotes(gate)[0]
    old = gate.worker("wechat.bob")["pid"]
    fakes[1].inject(FRIEND, "again")
    os.kill(old, signal.SIGKILL)
    back(gate, "bob", old)
    s = wait_sent(fakes[1], FRIEND, 2, timeout=30)
    assert [x["text"] for x in s].count("echo: again") == 1, s
    new = gate.worker("wechat.bob")["pid"]
    assert exe_base(new) == exe_base(z)
    assert zygotes(gate) == [z]
    assert "SIGKILL" in gate.worker("wechat.bob")["last_exit"]


def test_zygote_death_costs_no_worker(gate_factory, fakes, tmp_path):
    """SIGKILL of the zygote: the accounts' workers live on and answer;
    the next birth starts another zygote."""
    gate = start(gate_factory, fakes, tmp_path)
    answered(fakes, "hi")
    z = zygotes(gate)[0]
    pids = [gate.worker("wechat." + n)["pid"] for n in NAMES]
    os.kill(z, signal.SIGKILL)
    gate.wait_log("zygote wechat (pid %d) died" % z, 10)
    assert [gate.worker("wechat." + n)["pid"] for n in NAMES] == pids
    for fake in fakes:
        fake.inject(FRIEND, "still here")
    for fake in fakes:
        assert wait_sent(fake, FRIEND, 2, timeout=20)[1]["text"] == \
            "echo: still here"
    os.kill(pids[0], signal.SIGKILL)
    back(gate, "alice", pids[0])
    zs = zygotes(gate)
    assert len(zs) == 1 and zs[0] != z, (zs, z)
    assert exe_base(gate.worker("wechat.alice")["pid"]) == exe_base(zs[0])


def test_hung_zygote_falls_back_to_exec(gate_factory, fakes, tmp_path):
    """A zygote that stops answering: past its deadline the birth is
    done by fork and exec instead, the zygote is ended, and the account
    answers."""
    gate = start(gate_factory, fakes, tmp_path)
    answered(fakes, "hi")
    z = zygotes(gate)[0]
    old = gate.worker("wechat.carol")["pid"]
    os.kill(z, signal.SIGSTOP)
    os.kill(old, signal.SIGKILL)
    gate.wait_log("zygote wechat (pid %d): no answer; starting workers "
                  "by exec" % z, 20)
    new = back(gate, "carol", old, timeout=20)
    assert exe_base(new) != exe_base(gate.worker("wechat.alice")["pid"])
    assert "wechat:carol" in cmdline(new)
    wait_for(lambda: z not in zygotes(gate), 10, 0.05, "the hung one gone")
    fakes[2].inject(FRIEND, "exec'd")
    assert wait_sent(fakes[2], FRIEND, 2, timeout=20)[1]["text"] == \
        "echo: exec'd"


def test_zygote_off_execs_every_worker(gate_factory, fakes, tmp_path):
    """sandbox.zygote: false starts no zygote: each account's worker is
    exec'd, with a layout of its own."""
    gate = start(gate_factory, fakes, tmp_path, zygote=False)
    answered(fakes, "hi")
    assert zygotes(gate) == []
    bases = {exe_base(gate.worker("wechat." + n)["pid"]) for n in NAMES}
    assert len(bases) == len(NAMES), bases


def test_zygote_forbidden_syscall_kills_it(gate_factory, fakes, tmp_path):
    """A zygote that makes a call its filter forbids dies of SIGSYS; the
    accounts it started live on, and the next birth starts another."""
    gate = start(gate_factory, fakes, tmp_path)
    answered(fakes, "hi")
    z = zygotes(gate)[0]
    pids = [gate.worker("wechat." + n)["pid"] for n in NAMES]
    os.kill(z, signal.SIGUSR1)      # test hook: ptrace(PTRACE_TRACEME)
    gate.wait_log("zygote wechat (pid %d) died (Bad system call)" % z, 10)
    assert [gate.worker("wechat." + n)["pid"] for n in NAMES] == pids
    os.kill(pids[1], signal.SIGKILL)
    back(gate, "bob", pids[1])
    zs = zygotes(gate)
    assert len(zs) == 1 and zs[0] != z, (zs, z)
    fakes[1].inject(FRIEND, "after")
    assert wait_sent(fakes[1], FRIEND, 2, timeout=20)[1]["text"] == \
        "echo: after"


def test_zygote_cannot_name_a_pid_for_root_to_kill(gate_factory, fakes,
                                                   tmp_path):
    """A zygote runs as the sandbox user: the pid it answers for a birth
    is a claim, not a fact.  One that names a process that is not the
    root parent's child (here a bystander's) is dropped and the birth is
    done by exec; root never kills that process."""
    import ctypes
    import subprocess
    gate = start(gate_factory, fakes, tmp_path)
    answered(fakes, "hi")
    z = zygotes(gate)[0]
    victim = subprocess.Popen(["sleep", "600"])
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        # Test hook: the next fork answers victim's pid, forks nothing.
        assert libc.sigqueue(z, signal.SIGUSR2,
                             ctypes.c_long(victim.pid)) == 0
        old = gate.worker("wechat.bob")["pid"]
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: victim.poll() is not None or
                 "zygote wechat (pid %d): " % z in gate.log(), 10, 0.05,
                 "the zygote dropped, or the bystander killed")
        assert victim.poll() is None, "root killed the bystander"
        new = back(gate, "bob", old, timeout=20)
        assert new != victim.pid
        fakes[1].inject(FRIEND, "exec'd")
        assert wait_sent(fakes[1], FRIEND, 2, timeout=20)[1]["text"] == \
            "echo: exec'd"
        assert victim.poll() is None, "root killed the bystander"
    finally:
        victim.kill()
        victim.wait()
