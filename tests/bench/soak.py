#!/usr/bin/python3
"""Soak: a steady offered rate of web chat messages (default 400 msg/s
from 20 clients, echo agent) for N minutes, printing every minute one
"metric value unit" line each for: the store's WAL and database sizes,
RSS and PSS of every wxgated process (/proc/PID/smaps_rollup), the
round-trip p50/p99 of that minute (bench_roundtrip), and the store's
commit and checkpoint times (wxgatectl stats, since the previous minute).

    tests/bench/soak.py [-m minutes] [-w window_s] [-r rate] [-c clients]
        [--check]
        [build dir, default build-bench]

-w shortens each "minute" to that many seconds (CI: two of 30 s).

--check (CI) fails when the WAL ever exceeds supervisor.wal_max_bytes
plus slack, or the parent's or the hub's RSS at the end exceeds 1.5x its RSS
after the first minute.  Sizes, not times: a slow machine passes.
"""

import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchgate import BenchGate, children  # noqa: E402

WAL_MAX = 64 * 1024 * 1024      # the default, stated for --check
WAL_SLACK = 8 * 1024 * 1024     # one large turn past the bound
RSS_GROWTH = 1.5


def smaps(pid):
    out = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for ln in f:
                p = ln.split()
                if p[0] in ("Rss:", "Pss:"):
                    out[p[0][:-1].lower()] = int(p[1])
    except OSError:
        pass
    return out


def hub_of(parent):
    """The hub's pid: the parent's child started as wxgated -x hub:main."""
    for pid, argv in children(parent):
        if b"hub:main" in argv:
            return pid
    return None


def processes(g):
    """{name: pid} of the parent ("supervisor"), the hub and every
    worker."""
    procs = {"supervisor": g.proc.pid}
    hub = hub_of(g.proc.pid)
    if hub is not None:
        procs["hub"] = hub
    r = subprocess.run([os.path.join(g.build, "wxgatectl"), "-s",
                        g.path("control.sock"), "status"],
                       capture_output=True, text=True)
    for ln in r.stdout.splitlines()[1:]:
        p = ln.split()
        if len(p) > 2 and p[2].isdigit() and int(p[2]) > 0:
            procs[p[0]] = int(p[2])
    return procs


def store_stats(g):
    r = subprocess.run([os.path.join(g.build, "wxgatectl"), "-s",
                        g.path("control.sock"), "stats"],
                       capture_output=True, text=True)
    return {k: int(v) for k, v in (ln.split() for ln in
                                   r.stdout.splitlines() if ln.strip())}


def minute(g, bench, rate, clients, secs=60):
    """One window (a minute unless -w says) of load; the bench's latency
    lines as {name: ms}."""
    n = max(1, int(rate * secs / clients))
    r = subprocess.run([bench, "-c", str(clients), "-n", str(n), "-r",
                        str(rate), "-t", "30", str(g.port)],
                       capture_output=True, text=True)
    lat = {}
    for ln in r.stdout.splitlines():
        m = re.match(r"^(roundtrip_p50|roundtrip_p99|roundtrip_max)"
                     r" ([0-9.]+) ms$", ln)
        if m:
            lat[m.group(1)] = float(m.group(2))
    if r.returncode != 0:
        print("# bench_roundtrip status %d: %s" % (r.returncode,
              r.stderr.strip()[:200]))
    return lat, r.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-m", "--minutes", type=int, default=30)
    # CI's short soak: the same number of windows, each this long.
    ap.add_argument("-w", "--window", type=int, default=60)
    ap.add_argument("-r", "--rate", type=float, default=400)
    ap.add_argument("-c", "--clients", type=int, default=20)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("build", nargs="?", default="build-bench")
    a = ap.parse_args()
    bench = os.path.join(a.build, "tests", "bench", "bench_roundtrip")
    conf = {
        "webchat": {"workers": 2},
        "policy": {"ratelimit": {
            "session": {"rate": "1000000/s", "burst": 1000000},
            "address": {"rate": "1000000/s", "burst": 1000000}},
            "conns_per_address": 65536},
        "agents": [{"name": "default", "type": "echo",
                    "echo": {"chunks": 4, "delay_ms": 0}}],
    }
    failed = 0
    with BenchGate(a.build, conf, "soak") as g:
        db = g.path("wxgate.db")
        print("# soak: %d windows of %d s at %.0f msg/s, %d clients, "
              "echo agent" % (a.minutes, a.window, a.rate, a.clients))
        wal_peak = 0
        rss_first, rss_last = {}, {}
        store_stats(g)          # starts the first latency window
        for i in range(1, a.minutes + 1):
            lat, rc = minute(g, bench, a.rate, a.clients, a.window)
            failed |= rc != 0
            st = store_stats(g)
            wal_peak = max(wal_peak, st.get("wal_bytes", 0))
            pre = "soak.m%02d." % i
            print("%swal_size %d bytes" % (pre, st.get("wal_bytes", 0)))
            print("%sdb_size %d bytes" % (pre, st.get("db_bytes", 0)))
            for k in ("roundtrip_p50", "roundtrip_p99", "roundtrip_max"):
                if k in lat:
                    print("%s%s %.3f ms" % (pre, k, lat[k]))
            for k in ("commit_p50_us", "commit_p99_us", "commit_max_us",
                      "checkpoint_p50_us", "checkpoint_p99_us",
                      "checkpoint_max_us"):
                print("%s%s %d us" % (pre, k[:-3], st.get(k, 0)))
            for k in ("window_commits", "window_checkpoints"):
                print("%s%s %d count" % (pre, k, st.get(k, 0)))
            for name, pid in sorted(processes(g).items()):
                m = smaps(pid)
                for k in ("rss", "pss"):
                    if k in m:
                        print("%s%s_%s %d KiB" % (pre, name, k, m[k]))
                # The parent's and the hub's: neither may grow.
                if name in ("supervisor", "hub") and "rss" in m:
                    if i == 1:
                        rss_first[name] = m["rss"]
                    rss_last[name] = m["rss"]
            sys.stdout.flush()
        # The -wal file is sampled once a minute; its peak is bounded by
        # the checkpoints between commits, which the integration test
        # (test_store_wal.py) checks at a fine grain.
        print("soak.wal_peak %d bytes" % wal_peak)
        if a.check:
            if wal_peak > WAL_MAX + WAL_SLACK:
                print("soak: FAIL: WAL reached %d bytes" % wal_peak)
                failed = 1
            if "hub" not in rss_first:
                print("soak: FAIL: no hub process found")
                failed = 1
            for name, first in sorted(rss_first.items()):
                last = rss_last.get(name, 0)
                if last > RSS_GROWTH * first:
                    print("soak: FAIL: %s RSS %d KiB at the end, %d KiB "
                          "after the first minute" % (name, last, first))
                    failed = 1
        del db
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
