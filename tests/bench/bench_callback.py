"""Bench of a callback account (a wechat_mp worker, issue #14) with the
echo agent, against tests/integration/fake_mp.py posting encrypted
callbacks to its listener.  Times are the fake's: from the POST's
first byte to the decrypted passive reply.

Prints "metric value unit" lines:
  callback.passive_p50/p99   one message at a time: POST until the
                             encrypted passive reply is read and opened
                             (request, decrypt, XML, inbound.message,
                             store, agent, outbox, outbound.message,
                             the encrypted reply)
  callback.throughput        N_BURST messages from USERS users, CONC at
                             a time: answered messages per second
  callback.passive / .empty  that burst: answered passively, or empty
                             (past the budget: by the API then)
  callback.api_sends         replies that went by message/custom/send
  callback.violations        requests the fake refused
Usage: bench_callback.py BUILD_DIR
"""

import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from benchgate import BenchGate, free_port      # noqa: E402
from fake_mp import FakeMP, text_xml            # noqa: E402

N_LAT = 200
N_BURST = 1000
USERS = 50
CONC = 16


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def main():
    build = os.path.abspath(sys.argv[1])
    fake = FakeMP().start()
    fake.listen_port = free_port()
    fast = {"rate": "100000/s", "burst": 100000}
    # The platform posts from many addresses; the bench from one, so the
    # front door's per-address bounds are opened for it.
    conf = {"agents": [{"name": "default", "type": "echo"}],
            "channels": [],
            "policy": {"ratelimit": {"address": dict(fast)},
                       "tcp_conns_per_peer": 1024}}
    g = BenchGate(build, conf, "callback")
    files = {}
    for name, value in (("token", fake.token), ("aes", fake.key43),
                        ("secret", fake.secret)):
        files[name] = g.path(name)
        with open(files[name], "w") as f:
            f.write(value + "\n")
        os.chmod(files[name], 0o600)
    g.conf["channels"].append({
        "name": "mp", "type": "wechat_mp", "dm_policy": "open",
        "history_limit": 0,
        "ratelimit": {"peer": dict(fast), "account": dict(fast)},
        "wechat_mp": {"app_id": fake.id, "token_file": files["token"],
                      "encoding_aes_key_file": files["aes"],
                      "secret_file": files["secret"],
                      "listen": "127.0.0.1:%d" % fake.listen_port,
                      "api_url": fake.url()}})
    with g:
        lat = []
        for i in range(N_LAT):
            t = time.monotonic()
            status, reply = fake.post(text_xml("gh_fake0001", "oUSER0",
                                               "lat %d" % i, 10000 + i))
            if status == 200 and reply not in (None, "success"):
                lat.append(time.monotonic() - t)
        print("callback.passive_p50 %.1f ms" % (pct(lat, 50) * 1000))
        print("callback.passive_p99 %.1f ms" % (pct(lat, 99) * 1000))
        print("callback.passive_answered %d count" % len(lat))

        counts = {"passive": 0, "empty": 0, "error": 0}
        lock = threading.Lock()
        nxt = iter(range(N_BURST))

        def worker():
            for i in nxt:
                m = text_xml("gh_fake0001", "oUSER%d" % (i % USERS),
                             "burst %d" % i, 50000 + i)
                try:
                    status, reply = fake.post(m)
                except OSError:
                    status, reply = 0, None
                key = "error" if status != 200 else \
                    "empty" if reply in (None, "success") else "passive"
                with lock:
                    counts[key] += 1

        t0 = time.monotonic()
        ts = [threading.Thread(target=worker) for _ in range(CONC)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        span = time.monotonic() - t0
        print("callback.throughput %.1f msg/s" % (N_BURST / span))
        for k in ("passive", "empty", "error"):
            print("callback.%s %d count" % (k, counts[k]))
        time.sleep(2)
        print("callback.api_sends %d count" % len(fake.contents()))
        print("callback.violations %d count" % len(fake.violations))
    fake.stop()


if __name__ == "__main__":
    main()
