"""Memory per idle WebSocket connection (issue 17): N clients from
127.0.0.2 each upgrade /ws and open a session as the page does
(workers/webchat/assets/chat.js: session.open once the socket is open),
then stay silent.  Prints "webchat.<metric> value unit" lines: the growth
of the webchat workers (summed) and of the hub, each divided by N, as PSS
and RSS, and their heap view (smaps_rollup's Private_Dirty), at each N.

    /usr/bin/python3 tests/bench/bench_idle_ws.py BUILD_DIR [N ...]

Defaults to N = 1000 and 10000.  PSS moves with whatever else on the
machine maps the same libraries (another daemon starting can make its
growth negative); its anonymous part (Pss_Anon: the heap and the
stacks) and Private_Dirty are the steady figures.  The "total" lines add
the hub's growth to the workers'.  Run as root (or as the daemon's user)
to read the sandboxed workers' smaps_rollup; without it PSS is printed
as -1 and only RSS (from /proc/PID/status) is measured.
"""

import base64
import json
import os
import resource
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchgate import BenchGate, children  # noqa: E402

SRC = "127.0.0.2"


def kind_pids(parent, kind):
    """Workers of a kind: wxgated -x <kind>:<name> ..."""
    return [pid for pid, argv in children(parent)
            if len(argv) > 2 and argv[1] == b"-x" and
            argv[2].startswith(kind + b":")]


def rollup(pid):
    """{field: kB} from smaps_rollup, VmRSS from status as a fallback."""
    out = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for ln in f:
                parts = ln.split()
                if len(parts) == 3 and parts[2] == "kB":
                    out[parts[0].rstrip(":")] = int(parts[1])
    except OSError:
        pass
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                out["VmRSS"] = int(ln.split()[1])
    return out


def mem(pids):
    """Summed over pids; all but Rss -1 when unreadable."""
    tot = {"Pss": 0, "Pss_Anon": 0, "Rss": 0, "Private_Dirty": 0}
    unread = False
    for p in pids:
        r = rollup(p)
        tot["Rss"] += r.get("VmRSS", 0)
        if "Pss" not in r:
            unread = True
            continue
        tot["Pss"] += r["Pss"]
        tot["Pss_Anon"] += r.get("Pss_Anon", 0)
        tot["Private_Dirty"] += r.get("Private_Dirty", 0)
    if unread:
        tot["Pss"] = tot["Pss_Anon"] = tot["Private_Dirty"] = -1
    return tot


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            raise ConnectionError("closed by the server")
        buf += d
    return buf


def read_head(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(1)
        if not d:
            raise ConnectionError("closed during the handshake")
        buf += d
    return buf


def read_frame(s):
    b0, b1 = recv_exact(s, 2)
    n = b1 & 0x7f
    if n == 126:
        n = struct.unpack("!H", recv_exact(s, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", recv_exact(s, 8))[0]
    return b0 & 0x0f, recv_exact(s, n)


def masked_text(payload):
    key = os.urandom(4)
    hdr = bytes([0x81])
    n = len(payload)
    if n < 126:
        hdr += bytes([0x80 | n])
    else:
        hdr += bytes([0x80 | 126]) + struct.pack("!H", n)
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return hdr + key + body


def open_ws(port):
    """One upgraded connection with an open session, as the page has."""
    s = socket.socket()
    s.settimeout(30)
    s.bind((SRC, 0))
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
               "User-Agent: bench_idle_ws\r\n\r\n" % (port, key)).encode())
    head = read_head(s)
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError("upgrade refused: %r" % head[:80])
    s.sendall(masked_text(json.dumps(
        {"id": 1, "method": "session.open", "params": {}}).encode()))
    op, data = read_frame(s)
    msg = json.loads(data)
    if op != 1 or msg.get("id") != 1 or msg.get("ok") is not True:
        raise RuntimeError("session.open: %r" % msg)
    return s


def settle(pids, secs):
    time.sleep(secs)
    return mem(pids)


def per_conn(kb_after, kb_before, n):
    return (kb_after - kb_before) * 1024 // max(n, 1)


def report(tag, name, before, after, n):
    for field, metric in (("Pss", "pss"), ("Pss_Anon", "pss_anon"),
                          ("Rss", "rss"),
                          ("Private_Dirty", "private_dirty")):
        if before[field] < 0 or after[field] < 0:
            v = -1
        else:
            v = per_conn(after[field], before[field], n)
        print("%s.idle_ws_%s_bytes_per_conn_%d %d bytes" %
              (name, metric, n, v))
    print("%s.idle_ws_%s_kib_%d %d KiB" % (name, tag, n, after["Pss"]))


def main():
    build = sys.argv[1]
    ns = [int(a) for a in sys.argv[2:]] or [1000, 10000]
    top = max(ns)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = top + 512
    if hard < want:
        try:
            hard = want
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        except (ValueError, OSError):
            sys.exit("RLIMIT_NOFILE hard limit below %d" % want)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    cap = top + 64
    # A worker's RLIMIT_NOFILE is 4096 (sandbox/rlimit.c): a full one
    # stops accepting and leaves the listening socket to the others.
    workers = max(2, -(-top // 3000))
    conf = {
        "log": {"level": "warn"},
        "webchat": {"workers": workers, "max_conns": 4000,
                    "head_timeout_s": 300, "idle_timeout_s": 3600},
        "policy": {"tcp_conns_per_peer": min(65536, cap),
                   "tcp_conns_total": cap, "conns_per_address":
                   min(65536, cap), "conns_total": cap,
                   "ratelimit": {"address": {"burst": 1000000,
                                             "rate": "1000000/min"}},
                   "sessions": {"idle_ttl_s": 7200}},
        "agents": [{"name": "default", "type": "echo"}],
    }
    with BenchGate(build, conf, "webchat") as g:
        wpids = kind_pids(g.proc.pid, b"webchat")
        hpids = kind_pids(g.proc.pid, b"hub")
        if not wpids or not hpids:
            sys.exit("no webchat worker or hub among %r" %
                     children(g.proc.pid))
        # A first batch warms up what every connection shares (the
        # store's pages, the event loop's arrays at their first size).
        warm = [open_ws(g.port) for _ in range(50)]
        for s in warm:
            s.close()
        w0 = settle(wpids, 1.0)
        h0 = settle(hpids, 0.0)
        print("webchat.workers %d count" % len(wpids))
        print("webchat.idle_ws_worker_base_pss %d KiB" % w0["Pss"])
        print("webchat.idle_ws_hub_base_pss %d KiB" % h0["Pss"])
        held = []
        for n in sorted(ns):
            while len(held) < n:
                held.append(open_ws(g.port))
            w1 = settle(wpids, 2.0)
            h1 = mem(hpids)
            print("webchat.idle_ws_conns_%d %d count" % (n, len(held)))
            report("worker_pss", "webchat", w0, w1, n)
            report("hub_pss", "hub", h0, h1, n)
            both = {k: (w1[k] + h1[k] - w0[k] - h0[k]
                        if min(w0[k], w1[k], h0[k], h1[k]) >= 0 else -1024)
                    for k in w1}
            print("total.idle_ws_pss_bytes_per_conn_%d %d bytes" %
                  (n, both["Pss"] * 1024 // n))
            print("total.idle_ws_pss_anon_bytes_per_conn_%d %d bytes" %
                  (n, both["Pss_Anon"] * 1024 // n))
            print("total.idle_ws_private_dirty_bytes_per_conn_%d %d bytes" %
                  (n, both["Private_Dirty"] * 1024 // n))
        for s in held:
            s.close()
        if g.proc.poll() is not None:
            print("webchat.daemon_died 1 count")


if __name__ == "__main__":
    main()
