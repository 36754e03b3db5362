"""Messages per second of 1, 2 and 3 wxgated nodes on one PostgreSQL
store (issue #18): 20 personal-WeChat accounts, each against its own
fake iLink server (tests/integration/fake_ilink.py), leased over the
nodes; the echo agent answers at once.  For each node count, a database
of its own (the nodes make the schema), the nodes started, the leases
waited for until spread fairly and each node runs the workers it holds,
one warm-up message per account, then the burst: every fake holds its
updates while 20 x K messages, each from a sender of its own, are
injected, all are let go at once, and the clock runs until the last
reply reaches a fake.

Prints "metric value unit" lines, for N in 1, 2, 3:
  cluster.nodesN.msgs_per_s    replies per second of the burst
  cluster.nodesN.answered / .lost / .doubled / .violations
                               each message answered once at its fake
                               (outcome "ok"), and the fakes' protocol
                               checks; any of the last three nonzero
                               fails the bench (exit 1)
Usage (tests/bench/run_cluster.sh does it):
  tests/pgserver.sh run bench_cluster.py BUILD_DIR [K [N...]]
"""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from benchgate import BenchGate                # noqa: E402
from fake_ilink import FakeIlink                # noqa: E402

NACCT = 20
TTL_MS = 3000       # the shortest allowed: a node's share moves fast
WARN = re.compile(r" (warn|error|fatal|crit)[a-z]*:")


def acct(i):
    return "acct%02d" % i


def psql_bin():
    """The newest server version's psql, as pgfix.py finds it."""
    vers = sorted(os.listdir("/usr/lib/postgresql"), reverse=True) \
        if os.path.isdir("/usr/lib/postgresql") else []
    for v in vers:
        p = os.path.join("/usr/lib/postgresql", v, "bin", "psql")
        if os.access(p, os.X_OK):
            return p
    return shutil.which("psql") or "psql"


class Pg:
    """The server tests/pgserver.sh run started, over TCP with its
    password, as the nodes reach it."""

    def __init__(self):
        dsn = os.environ.get("WXGATE_PG_DSN")
        if not dsn:
            sys.exit("bench_cluster: run under tests/pgserver.sh run "
                     "(tests/bench/run_cluster.sh does)")
        kv = dict(p.split("=", 1) for p in dsn.split())
        self.host, self.port = kv["host"], int(kv["port"])
        self.password_file = os.environ["WXGATE_PG_PASSWORD_FILE"]
        with open(self.password_file) as f:
            self.env = dict(os.environ, PGPASSWORD=f.read().strip())
        self.psql = psql_bin()

    def sql(self, query, db="wxgate"):
        p = subprocess.run([self.psql, "-h", self.host, "-p",
                            str(self.port), "-U", "wxgate", "-d", db,
                            "-XAtq", "-F", "\t", "-c", query],
                           capture_output=True, text=True, timeout=30,
                           env=self.env)
        if p.returncode != 0:
            raise RuntimeError("psql: %s" % p.stderr.strip())
        return [ln.split("\t") for ln in p.stdout.splitlines() if ln]

    def uri(self, db):
        return "postgresql://wxgate@%s:%d/%s" % (self.host, self.port, db)


def node_conf(pg, db, fakes, tokdir, name):
    fast = {"rate": "1000000/s", "burst": 1000000}
    channels = []
    for i, f in enumerate(fakes):
        # New dicts each time: PyYAML writes a shared one as an alias,
        # which the config refuses.
        channels.append({
            "name": acct(i), "type": "wechat", "dm_policy": "open",
            "history_limit": 0,
            "ratelimit": {"peer": dict(fast), "account": dict(fast)},
            "wechat": {"login_url": f.url,
                       "token_file": os.path.join(tokdir, acct(i)),
                       "send_gap_ms": 0, "poll_timeout_ms": 30000}})
    return {"store": pg.uri(db), "node": name,
            "cluster": {"password_file": pg.password_file,
                        "lease_ttl_ms": TTL_MS},
            "webchat": {"workers": 1},
            "agents": [{"name": "default", "type": "echo",
                        "echo": {"chunks": 1, "delay_ms": 0}}],
            "channels": channels}


def held(pg, db):
    """{node: set of accounts} of the live leases ("@schedules", a job
    outside the fair share, left out)."""
    out = {}
    for node, account in pg.sql("SELECT node, account FROM leases "
                                "WHERE expires > now() AND "
                                "account NOT LIKE '@%'", db):
        out.setdefault(node, set()).add(account)
    return out


def fair(pg, db, names):
    try:
        h = held(pg, db)
    except RuntimeError:        # no leases table before the first node
        return None
    lo, hi = NACCT // len(names), -(-NACCT // len(names))
    ok = set(h) == set(names) and \
        sum(len(v) for v in h.values()) == NACCT and \
        all(lo <= len(v) <= hi for v in h.values())
    return h if ok else None


def running_channels(g):
    """Names of the channel accounts whose worker runs on node g."""
    p = subprocess.run([os.path.join(g.build, "wxgatectl"), "-s",
                        g.path("control.sock"), "status"],
                       capture_output=True, text=True, timeout=10)
    up = set()
    for line in p.stdout.splitlines()[1:]:
        if not line.strip():
            break           # the channels' table follows
        f = line.split()
        if f[0].startswith("wechat.") and f[3] == "running":
            up.add(f[0][len("wechat."):])
    return up


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise RuntimeError("timed out after %ds waiting for %s" %
                               (timeout, what))
        time.sleep(0.1)


def sent(f):
    with f.lock:
        return list(f.sent)


def ok_texts(f):
    return [s["text"] for s in sent(f) if s["outcome"] == "ok"]


def answered(fakes, tag, k):
    """Whether every message of tag has at least one reply."""
    for f in fakes:
        got = set(ok_texts(f))
        if any("echo: %s%d" % (tag, j) not in got for j in range(k)):
            return False
    return True


def inject(fakes, tag, k):
    """k messages to each account, each from a sender of its own: the
    replies to a sender go on his newest context token, which carries 10
    (§7.2), so one who wrote 11 times before the first reply would have
    the 11th answered only when he writes again."""
    for f in fakes:
        for j in range(k):
            f.inject("%s%d@im.wechat" % (tag, j), "%s%d" % (tag, j))


def stop_all(nodes):
    """Ask every node to stop at once: one by one, each stop would hand
    its accounts to the nodes still up first."""
    ps = [subprocess.Popen([os.path.join(g.build, "wxgatectl"), "-s",
                            g.path("control.sock"), "stop"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL) for g in nodes]
    for p in ps:
        p.wait(15)


def run(build, pg, n, k):
    db = "wxgate_n%d" % n
    pg.sql("DROP DATABASE IF EXISTS %s" % db)
    pg.sql("CREATE DATABASE %s" % db)
    pre = "cluster.nodes%d" % n
    names = ["n%d" % (i + 1) for i in range(n)]
    tokdir = tempfile.mkdtemp(prefix="wxbench-tok")
    fakes = []
    nodes = []
    bad = 0
    try:
        fakes = [FakeIlink(longpoll_ms=30000).start()
                 for _ in range(NACCT)]
        for i, f in enumerate(fakes):
            path = os.path.join(tokdir, acct(i))
            with open(path, "w") as fh:
                fh.write(f.token + "\n")
            os.chmod(path, 0o600)
        with contextlib.ExitStack() as stack:
            for m in names:
                g = BenchGate(build, node_conf(pg, db, fakes, tokdir, m),
                              pre)
                nodes.append(g)
                stack.enter_context(g)
            stack.callback(stop_all, nodes)
            h = wait_for(lambda: fair(pg, db, names), 60,
                         "the accounts spread over %s" % names)
            wait_for(lambda: all(running_channels(g) == h[m]
                                 for m, g in zip(names, nodes)), 30,
                     "each node running the accounts it holds")

            inject(fakes, "w", 1)
            wait_for(lambda: answered(fakes, "w", 1), 30, "the warm-up")

            for f in fakes:
                f.hold_updates(True)
            inject(fakes, "b", k)
            t0 = time.monotonic()
            for f in fakes:
                f.hold_updates(False)
            try:
                wait_for(lambda: answered(fakes, "b", k), 60,
                         "every reply of the burst")
                last = max(s["time"] for f in fakes for s in sent(f)
                           if s["outcome"] == "ok" and
                           s["text"].startswith("echo: b"))
                print("%s.msgs_per_s %.1f msg/s" %
                      (pre, NACCT * k / (last - t0)))
            except RuntimeError as e:     # .lost says how many
                print("bench_cluster: %d nodes: %s" % (n, e),
                      file=sys.stderr)
            # A late second answer would come within a turn or two.
            time.sleep(1.0)
            after = fair(pg, db, names)
            if after != h:
                print("bench_cluster: %d nodes: the leases moved during "
                      "the burst: %s" % (n, after), file=sys.stderr)
        # Counted once the nodes are gone: a reply sent again as they
        # stop and hand their accounts over counts too.
        want = {"echo: %s%d" % (t, j) for t, kk in (("w", 1), ("b", k))
                for j in range(kk)}
        lost = doubled = violations = 0
        for f in fakes:
            got = ok_texts(f)
            lost += len(want - set(got))
            doubled += len(got) - len(set(got))
            violations += len(f.violations)
        print("%s.answered %d count" % (pre, NACCT * (k + 1) - lost))
        print("%s.lost %d count" % (pre, lost))
        print("%s.doubled %d count" % (pre, doubled))
        print("%s.violations %d count" % (pre, violations))
        bad = lost + doubled + violations
    finally:
        for f in fakes:
            f.stop()
        shutil.rmtree(tokdir, ignore_errors=True)
        bad += report_logs(n, names, nodes)
    return bad


def report_logs(n, names, nodes):
    """The nodes' warnings on stderr (the level is warn); the count of
    seccomp kills, which BenchGate prints and which fail the bench."""
    kills = 0
    for m, g in zip(names, nodes):
        warns = [ln for ln in g.logtext.splitlines() if WARN.search(ln)]
        if warns:
            print("bench_cluster: %d nodes: %s warned:" % (n, m),
                  file=sys.stderr)
            for ln in warns[-10:]:
                print("  " + ln, file=sys.stderr)
        kills += "killed by seccomp" in g.logtext
    return kills


def main():
    if len(sys.argv) < 2:
        sys.exit("Usage" + __doc__.rsplit("Usage", 1)[1])
    build = sys.argv[1]
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    counts = [int(a) for a in sys.argv[3:]] or [1, 2, 3]
    pg = Pg()
    bad = 0
    for n in counts:
        try:
            bad += run(build, pg, n, k)
        except RuntimeError as e:
            print("bench_cluster: %d nodes: %s" % (n, e), file=sys.stderr)
            bad += 1
        sys.stdout.flush()
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
