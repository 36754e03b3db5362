"""Several wxgated nodes on one PostgreSQL store (issue #18): twenty
personal-WeChat accounts, each against its own fake iLink server, leased
over two nodes; each message is answered exactly once (counted at the
fakes); a SIGKILLed node's accounts are answered by the other once its
leases lapse; the node comes back and gets its fair share again, and
nothing is answered twice.

Needs a build configured with --enable-test-hooks and Debian's
postgresql (scripts/deps.sh test); skipped only without the latter."""

import os
import signal
import time

import pytest

from conftest import Gate, parse_status, plain_only, wait_for
from fake_ilink import FakeIlink
from pgfix import pg  # noqa: F401 (a fixture)
from test_hub import hub_pid

NACCT = 20
FRIEND = "friend_0002@im.wechat"
TTL_MS = 3000


def acct(i):
    return "acct%02d" % i


class Node(Gate):
    """One wxgated of the cluster: its channel workers run only where
    their lease is, so "up" means every other worker runs."""

    def all_running(self, names=None):
        try:
            st = parse_status(self.ctl("status")[1])
        except (AssertionError, IndexError):
            return False
        others = [w for w in st.values()
                  if not w["name"].startswith("wechat.")]
        return bool(others) and all(w["state"] == "running" and
                                    w["pid"] > 0 for w in others) and st


def ilink_fakes(n):
    """A fixture of n fake iLink servers, one an account, stopped after
    (test_cluster_outage.py and test_cluster_sandbox.py take it too)."""
    @pytest.fixture
    def fakes():
        fs = [FakeIlink(longpoll_ms=1000).start() for _ in range(n)]
        yield fs
        for f in fs:
            f.stop()
    return fakes


fakes = ilink_fakes(NACCT)


@pytest.fixture
def nodes(gate_factory):
    return lambda name, conf: gate_factory(conf, sub=name, cls=Node)


def node_conf(pg, fakes, tmp_path, name, ttl_ms=TTL_MS):
    channels = []
    for i, f in enumerate(fakes):
        path = os.path.join(str(tmp_path), "%s.token" % acct(i))
        if not os.path.exists(path):
            with open(path, "w") as fh:
                fh.write(f.token + "\n")
            os.chmod(path, 0o600)
        channels.append({
            "name": acct(i), "type": "wechat", "dm_policy": "pairing",
            "allow_from": ["*"],
            "ratelimit": {"peer": {"rate": "1000/s", "burst": 1000},
                          "account": {"rate": "1000/s", "burst": 1000}},
            "wechat": {"login_url": f.url, "token_file": path,
                       "send_gap_ms": 0, "poll_timeout_ms": 2000,
                       "timeout_s": 5}})
    return {"store": pg.uri, "node": name,
            "cluster": {"password_file": pg.password_file,
                        "lease_ttl_ms": ttl_ms},
            "agents": [{"name": "default", "type": "echo",
                        "echo": {"chunks": 1, "delay_ms": 20}}],
            "channels": channels}


def held(pg):
    """{node: accounts} of the live leases (not "@schedules", a job
    outside the accounts' fair share)."""
    out = {}
    for node, account in pg.sql("SELECT node, account FROM leases "
                                "WHERE expires > now() AND "
                                "account NOT LIKE '@%'"):
        out.setdefault(node, set()).add(account)
    return out


def fair(pg, names):
    """The live leases, when every account is held and each of names
    holds its share (the counts differ by one at most)."""
    h = held(pg)
    lo, hi = NACCT // len(names), -(-NACCT // len(names))
    return set(h) == set(names) and \
        sum(len(v) for v in h.values()) == NACCT and \
        all(lo <= len(v) <= hi for v in h.values()) and h


def ok_texts(f):
    with f.lock:
        return [s["text"] for s in f.sent if s["to"] == FRIEND and
                s["outcome"] == "ok"]


def inject_round(fakes, tag):
    for i, f in enumerate(fakes):
        f.inject(FRIEND, "%s-%d" % (tag, i))


def want(tags):
    return [sorted("echo: %s-%d" % (t, i) for t in tags)
            for i in range(NACCT)]


def answered(fakes, tags):
    return [sorted(ok_texts(f)) for f in fakes] == want(tags)


def check_once(fakes, tags, timeout):
    """Every message of tags answered once at its account's fake, and
    after a settling second still once."""
    wait_for(lambda: answered(fakes, tags) or any(
        len(ok_texts(f)) > len(tags) for f in fakes), timeout, 0.1,
        "every message answered")
    time.sleep(1.0)
    got = [sorted(ok_texts(f)) for f in fakes]
    assert got == want(tags), got
    for f in fakes:
        assert f.violations == [], f.violations


def runs_on(node, accounts):
    """The node runs a worker for exactly these accounts."""
    st = parse_status(node.ctl("status")[1])
    up = {w["name"][len("wechat."):] for w in st.values()
          if w["name"].startswith("wechat.") and w["state"] == "running"}
    return up == set(accounts)


@plain_only
@pytest.mark.parametrize("count", [2, 3])
def test_nodes_share_twenty_accounts_and_survive_a_sigkill(
        pg, fakes, nodes, tmp_path, count):
    names = ["n%d" % (k + 1) for k in range(count)]
    ns = {m: nodes(m, node_conf(pg, fakes, tmp_path, m)) for m in names}

    def spread(names):
        h = wait_for(lambda: fair(pg, names), 40, 0.2,
                     "the accounts spread over %s" % names)
        wait_for(lambda: all(runs_on(ns[m], h[m]) for m in names), 20,
                 0.1, "each node running the accounts it holds")

    spread(names)
    inject_round(fakes, "a")
    check_once(fakes, ["a"], 30)

    # Messages in flight on n1 when it dies: it held them, others
    # answer them once its leases lapse.
    inject_round(fakes, "b")
    time.sleep(0.05)
    t0 = time.monotonic()
    ns["n1"].kill()
    ns["n1"].stopped_by_test = True
    wait_for(lambda: fair(pg, names[1:]), TTL_MS / 1000.0 + 20, 0.1,
             "the survivors holding every account")
    print("takeover after SIGKILL: %.1f s" % (time.monotonic() - t0))
    inject_round(fakes, "c")
    check_once(fakes, ["a", "b", "c"], 40)

    # n1 again: the accounts spread back, none answered twice.
    ns["n1"].stopped_by_test = False
    ns["n1"].start()
    spread(names)
    inject_round(fakes, "d")
    check_once(fakes, ["a", "b", "c", "d"], 30)


def cluster_view(node):
    """wxgatectl cluster: ({node: state}, {account: (node, worker)})."""
    rc, out, err = node.ctl("cluster")
    assert rc == 0, err
    nodes, leases, part = {}, {}, None
    for ln in out.splitlines():
        f = ln.split()
        if not f:
            continue
        if f[0] in ("NODE", "ACCOUNT"):
            part = f[0]
        elif part == "NODE":
            nodes[f[0]] = f[1]
        elif part == "ACCOUNT" and f[0] == "@schedules":
            continue    # a job with no worker: test_cluster_schedule.py
        elif part == "ACCOUNT" and f[3] != "lapsed":
            leases[f[0]] = (f[1], f[5])
    return nodes, leases


@plain_only
def test_a_pin_the_cluster_view_and_a_drain(pg, fakes, nodes, tmp_path):
    """acct00 pinned to n2 runs there; `wxgatectl cluster` on either
    node shows both nodes and every lease, with the asking node's
    workers; an account is paused only by the node that runs it, and
    stays paused when it moves; `wxgatectl drain` on n1 hands all its
    accounts to n2, which answers them, once."""
    names = ["n1", "n2"]
    confs = {m: node_conf(pg, fakes, tmp_path, m) for m in names}
    for m in names:
        confs[m]["channels"][0]["node"] = "n2"
    ns = {m: nodes(m, confs[m]) for m in names}
    h = wait_for(lambda: fair(pg, names), 40, 0.2, "the accounts spread")
    assert acct(0) in h["n2"]
    wait_for(lambda: all(runs_on(ns[m], h[m]) for m in names), 20, 0.1,
             "each node running the accounts it holds")
    for m in names:
        seen, leases = cluster_view(ns[m])
        assert seen == {"n1": "alive", "n2": "alive"}, seen
        assert {a: n for a, (n, _) in leases.items()} == \
            {a: n for n in h for a in h[n]}, leases
        assert all(w == ("running" if n == m else "-")
                   for n, w in leases.values()), (m, leases)
    inject_round(fakes, "a")
    check_once(fakes, ["a"], 30)

    rc, _, err = ns["n1"].ctl("account", "pause", acct(0))
    assert rc == 1 and "runs on another node" in err, err
    moved = sorted(h["n1"])[0]
    rc, _, err = ns["n1"].ctl("account", "pause", moved)
    assert rc == 0, err
    wait_for(lambda: cluster_view(ns["n1"])[1][moved][1] == "paused", 10,
             0.1, "the pause shown")

    rc, out, err = ns["n1"].ctl("drain")
    assert rc == 0 and "draining: %d accounts" % len(h["n1"]) in out, \
        (rc, out, err)
    wait_for(lambda: set(held(pg)) == {"n2"} and
             len(held(pg)["n2"]) == NACCT, TTL_MS / 1000.0 + 20, 0.1,
             "n2 holding every account")
    # The paused account moved paused: its worker stays down on n2.
    wait_for(lambda: runs_on(ns["n1"], []) and
             runs_on(ns["n2"], held(pg)["n2"] - {moved}), 20, 0.1,
             "the workers moved to n2")
    assert cluster_view(ns["n2"])[1][moved][1] == "paused"
    assert cluster_view(ns["n2"])[0]["n1"] == "draining"
    rc, _, err = ns["n2"].ctl("account", "resume", moved)
    assert rc == 0, err
    wait_for(lambda: runs_on(ns["n2"], held(pg)["n2"]), 20, 0.1,
             "the resumed account running")
    inject_round(fakes, "b")
    check_once(fakes, ["a", "b"], 30)


@plain_only
def test_a_lease_lapsed_at_a_live_node_is_that_nodes(pg, fakes, nodes,
                                                     tmp_path):
    """A lease that lapses while its node lives (an outage of the
    database or of that node's link to it) is taken again by that node,
    under a new token, and by no other: that node may still hold what
    its worker learnt meanwhile (a reply sent), which a new owner would
    not see and would send again.  Nineteen accounts on two nodes: the
    one holding nine is below its share and takes a lapsed lease when
    it may.  The database lets the other's leases lapse while that
    node's hub is stopped for less than a ttl (so it still counts as
    alive), which gives the first a whole renewal round to take them;
    it takes none, and the other takes all its own again."""
    ttl_ms = 6000
    names = ["n1", "n2"]
    confs = {m: node_conf(pg, fakes[:NACCT - 1], tmp_path, m, ttl_ms)
             for m in names}
    for c in confs.values():
        # The hub is stopped for seconds on purpose: not hung.
        c["supervisor"] = {"heartbeat_timeout_ms": 15000}
    ns = {m: nodes(m, confs[m]) for m in names}

    def spread():
        h = held(pg)
        return set(h) == set(names) and \
            sorted(len(v) for v in h.values()) == [9, 10] and h
    h = wait_for(spread, 40, 0.2, "the accounts spread")
    full = max(names, key=lambda m: len(h[m]))
    other = min(names, key=lambda m: len(h[m]))
    wait_for(lambda: all(runs_on(ns[m], h[m]) for m in names), 20, 0.1,
             "each node running the accounts it holds")
    before = dict(pg.sql("SELECT account, token FROM leases"))
    hub = hub_pid(ns[full])
    os.kill(hub, signal.SIGSTOP)
    try:
        pg.sql("UPDATE leases SET expires = now() - interval '1 second' "
               "WHERE node = '%s'" % full)
        # More than the other's renewal period (a third of the ttl),
        # less than a ttl since the stopped node's last beat.
        time.sleep(ttl_ms / 1000.0 / 3 * 1.5)
        assert held(pg) == {other: h[other]}, held(pg)
    finally:
        os.kill(hub, signal.SIGCONT)

    def retaken():
        now = {a: (n, int(t)) for a, n, t in pg.sql(
            "SELECT account, node, token FROM leases WHERE expires > "
            "now() AND account NOT LIKE '@%'")}
        return all(a in now and now[a][1] > int(before[a])
                   for a in h[full]) and now
    now = wait_for(retaken, ttl_ms / 1000.0 * 2 + 10, 0.1,
                   "the lapsed leases taken again")
    assert {a for a, (n, _) in now.items() if n == full} == h[full], now
    assert all(now[a][1] == int(before[a]) + 1 for a in h[full]), now
    assert not any("lease: %s: taken" % a in ns[other].log()
                   for a in h[full]), ns[other].log()
    wait_for(lambda: runs_on(ns[full], h[full]), 20, 0.1,
             "the workers running again")


def test_a_node_alone_has_no_cluster_to_show(gate):
    for cmd in ("cluster", "drain"):
        rc, out, err = gate.ctl(cmd)
        assert rc == 1 and "not a node of a cluster" in err, (cmd, err)


def test_a_password_in_the_uri_is_refused(pg, tmp_path):
    """The password comes from a file or the environment, never from
    the URI (ps and the logs would show it)."""
    import subprocess
    from conftest import WXGATED
    conf = tmp_path / "wxgate.yaml"
    conf.write_text("store: postgresql://wxgate:hunter2@127.0.0.1:%d/x\n"
                    "node: n1\n" % pg.port)
    p = subprocess.run([WXGATED, "-n", "-f", str(conf)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "password in the URI" in p.stderr, p.stderr
    assert "hunter2" not in p.stderr + p.stdout


one_fake = ilink_fakes(1)


@pytest.mark.parametrize("move", ["drain", "sigkill"])
def test_a_context_budget_follows_its_account(pg, one_fake, nodes,
                                              tmp_path, move):
    """§7.2 across a takeover: a reply of 14 parts on one context token,
    its account moved to n2 (drained, or n1 SIGKILLed) after some went.
    n2's worker counts on from the rows the store has as sent on the
    token, so the token carries at most 10 and the server never answers
    -2; the rest goes on the person's next token, none lost."""
    f = one_fake[0]
    confs = {}
    for m in ("n1", "n2"):
        confs[m] = node_conf(pg, one_fake, tmp_path, m)
        confs[m]["channels"][0]["text_chunk_limit"] = 100
        confs[m]["channels"][0]["wechat"]["send_gap_ms"] = 300
    ns = {"n1": nodes("n1", confs["n1"])}

    def holds(m):
        try:
            return held(pg) == {m: {acct(0)}} and runs_on(ns[m], [acct(0)])
        except AssertionError:
            return False        # no leases table until a node made it
    wait_for(lambda: holds("n1"), 30, 0.1, "n1 running acct00")
    ns["n2"] = nodes("n2", confs["n2"])
    lines = ["%02d " % i + chr(ord("a") + i) * 90 for i in range(14)]
    answer = "echo: " + "\n".join(lines)
    f.inject(FRIEND, "\n".join(lines), context_token="CTX-ONE")
    wait_for(lambda: len(ok_texts(f)) >= 4, 20, 0.05, "four parts sent")
    if move == "drain":
        rc, out, err = ns["n1"].ctl("drain")
        assert rc == 0, (rc, out, err)
    else:
        ns["n1"].kill()
        ns["n1"].stopped_by_test = True
    wait_for(lambda: holds("n2"), TTL_MS / 1000.0 + 20, 0.1,
             "n2 running acct00")
    assert len(ok_texts(f)) < 10, ok_texts(f)
    f.ten_then_the_rest(FRIEND, answer, wait_for, timeout=40)
