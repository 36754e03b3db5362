"""wxgate-hub-pg's sandbox (issue #18): the hub of a cluster node runs
under its own uid with no_new_privs and seccomp like wxgate-hub; a
syscall its profile forbids kills it with SIGSYS, the log names the
syscall, the parent starts another, and the node's leased WeChat
accounts answer again, each message once.

Needs a build configured with --enable-test-hooks and Debian's
postgresql (scripts/deps.sh test); skipped only without the latter."""

import os
import pwd

from conftest import wait_for
from pgfix import pg  # noqa: F401 (a fixture)
from test_cluster_pg import Node, acct, ilink_fakes, node_conf, runs_on
from test_hub import HUB_USER, hub_pid, uids
from test_sandbox import proc_status

NACCT = 2
FRIEND = "friend_0004@im.wechat"


fakes = ilink_fakes(NACCT)


def ok_texts(f):
    with f.lock:
        return [s["text"] for s in f.sent if s["to"] == FRIEND and
                s["outcome"] == "ok"]


def answered_once(fakes, tags):
    """Every account answered each of tags once, and nothing else."""
    want = [sorted("echo: %s-%d" % (t, i) for t in tags)
            for i in range(NACCT)]
    wait_for(lambda: [sorted(ok_texts(f)) for f in fakes] == want or any(
        len(ok_texts(f)) > len(tags) for f in fakes), 30, 0.1,
        "every message answered")
    assert [sorted(ok_texts(f)) for f in fakes] == want
    for f in fakes:
        assert f.violations == [], f.violations


def check_hub(pid):
    """The hub of a cluster node: its binary, its own uid, no way back
    to more privilege, seccomp on."""
    exe = os.readlink("/proc/%d/exe" % pid)
    assert os.path.basename(exe) == "wxgate-hub-pg", exe
    st = proc_status(pid)
    assert st["NoNewPrivs"] == "1", st
    assert st["Seccomp"] == "2", st
    assert 0 not in uids(st), st["Uid"]
    if os.geteuid() == 0:
        assert uids(st) == {pwd.getpwnam(HUB_USER).pw_uid}, st["Uid"]


def test_hub_pg_forbidden_syscall_restarts_it(pg, fakes, gate_factory,
                                              tmp_path):
    node = gate_factory(node_conf(pg, fakes, tmp_path, "n1"), sub="n1",
                        cls=Node)
    node.allow_seccomp_kills = True
    names = {acct(i) for i in range(NACCT)}
    wait_for(lambda: runs_on(node, names), 30, 0.1,
             "the node running every account it leased")
    hub = wait_for(lambda: hub_pid(node), 5, 0.05, "the hub")
    check_hub(hub)
    for i, f in enumerate(fakes):
        f.inject(FRIEND, "a-%d" % i)
    answered_once(fakes, ["a"])

    start = len(node.log())
    rc, _, err = node.ctl("test", "hub", "syscall")
    assert rc == 0, err
    node.wait_log("killed by seccomp (SIGSYS): ptrace", 10, start)
    assert "FORBIDDEN" not in node.log()
    new = wait_for(lambda: hub_pid(node) not in (None, hub) and
                   hub_pid(node), 10, 0.05, "a new hub")
    # Checked once it serves: before, it is still making its sandbox.
    node.wait_log("hub ready", 10, start)
    check_hub(new)
    node.wait_log("restarting it; workers keep running", 10, start)
    # The new hub takes the leases again and the accounts answer.
    for a in sorted(names):
        node.wait_log("cluster: %s is ours" % a, 30, start)
    wait_for(lambda: runs_on(node, names), 30, 0.1,
             "the node running every account again")
    for i, f in enumerate(fakes):
        f.inject(FRIEND, "b-%d" % i)
    answered_once(fakes, ["a", "b"])
    assert hub_pid(node) == new
