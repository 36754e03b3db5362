"""Memory of the web chat workers holding many connections (issue 10):
silent TCP connections (accepted, nothing sent) and slow readers (they
pipeline page requests and read nothing), each from 127.0.0.2.  Prints
"webchat.<metric> value unit" lines; RSS is the sum of VmRSS over the
webchat worker processes, read from /proc.

    /usr/bin/python3 tests/bench/bench_conns.py BUILD_DIR [N]
"""

import os
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchgate import BenchGate, children  # noqa: E402

SRC = "127.0.0.2"


def webchat_pids(parent):
    return [pid for pid, argv in children(parent)
            if any(b"webchat" in a for a in argv)]


def rss_kb(pids):
    total = 0
    for p in pids:
        with open("/proc/%d/status" % p) as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    total += int(ln.split()[1])
    return total


def connect(port, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((SRC, 0))
    s.connect(("127.0.0.1", port))
    return s


def settle(pids, secs=2.0):
    time.sleep(secs)
    return rss_kb(pids)


def main():
    build = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 2 * n + 256), hard))
    conf = {
        "log": {"level": "info"},
        "webchat": {"workers": 2, "max_conns": 4096,
                    "head_timeout_s": 300, "idle_timeout_s": 300},
        "policy": {"tcp_conns_per_peer": 2 * n + 16,
                   "tcp_conns_total": 2 * n + 16},
        "agents": [{"name": "default", "type": "echo"}],
    }
    with BenchGate(build, conf, "webchat") as g:
        pids = webchat_pids(g.proc.pid)
        base = settle(pids, 0.5)
        print("webchat.workers %d count" % len(pids))
        print("webchat.rss_idle %d KiB" % base)

        silent = [connect(g.port) for _ in range(n)]
        held = settle(pids)
        print("webchat.silent_conns %d count" % n)
        print("webchat.rss_silent %d KiB" % held)
        print("webchat.rss_per_silent_conn %d bytes" %
              ((held - base) * 1024 // max(n, 1)))
        for s in silent:
            s.close()
        after_silent = settle(pids)

        # Slow readers: each asks for the script again and again and
        # reads nothing, so its answers pile up in the worker.
        req = b"GET /chat.js HTTP/1.1\r\nHost: x\r\n\r\n" * 500
        slow = []
        for _ in range(n):
            s = connect(g.port, rcvbuf=4096)
            s.setblocking(False)
            try:
                s.send(req)
            except BlockingIOError:
                pass
            slow.append(s)
        held = settle(pids, 4.0)
        print("webchat.slow_readers %d count" % n)
        print("webchat.rss_slow %d KiB" % held)
        print("webchat.rss_per_slow_reader %d bytes" %
              ((held - after_silent) * 1024 // max(n, 1)))
        for s in slow:
            s.close()
        with open(g.path("log"), errors="replace") as f:
            dropped = f.read().count("over max_out_total")
        print("webchat.slow_dropped %d count" % dropped)


if __name__ == "__main__":
    main()
