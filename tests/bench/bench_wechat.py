"""Bench of a personal-WeChat account (the wechat worker, the supervisor's
channel path, the echo agent) against the fake iLink server
(tests/integration/fake_ilink.py), sends unpaced (send_gap_ms 0).

Prints "metric value unit" lines:
  wechat.roundtrip_p50/p99   one message at a time: injected at the fake
                             until its reply reaches the fake's sendmessage
                             (long poll wake-up, inbound.message, store,
                             agent, outbox, sendmessage)
  wechat.throughput          1,000 messages from 100 senders injected at
                             once: replies per second until the last
  wechat.answered / .duplicates / .violations   correctness of that burst;
                             the bench fails unless each was answered once
A sender's replies ride his newest context token, which iLink lets carry
10 messages (workers/wechat/budget.c): 10 messages a sender, not more,
or the rest would wait, by design, for the sender's next message.
Usage: bench_wechat.py BUILD_DIR
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from benchgate import BenchGate                # noqa: E402
from fake_ilink import FakeIlink                # noqa: E402

N_LAT = 200
N_BURST = 1000
SENDERS = 100


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def replies(fake):
    with fake.lock:
        return {s["text"]: s["time"] for s in fake.sent
                if s["outcome"] == "ok"}


def wait_replies(fake, want, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = replies(fake)
        if all(w in got for w in want):
            return got
        time.sleep(0.001)
    return replies(fake)


def main():
    build = sys.argv[1]
    fake = FakeIlink(longpoll_ms=30000).start()
    # Copies below: PyYAML writes a shared dict as an alias, which the
    # config refuses.
    fast = {"rate": "1000000/s", "burst": 1000000}
    conf = {"webchat": {"workers": 1},
            "agents": [{"name": "default", "type": "echo",
                        "echo": {"chunks": 1, "delay_ms": 0}}],
            "channels": [{"name": "bench", "type": "wechat",
                          "dm_policy": "open", "history_limit": 0,
                          "ratelimit": {"peer": dict(fast),
                                        "account": dict(fast)},
                          "wechat": {"login_url": fake.url,
                                     "send_gap_ms": 0,
                                     "poll_timeout_ms": 30000}}]}
    g = BenchGate(build, conf, "wechat")
    tok = g.path("token")
    with open(tok, "w") as f:
        f.write(fake.token)
    os.chmod(tok, 0o600)
    conf["channels"][0]["wechat"]["token_file"] = tok
    try:
        with g:
            run(fake)
    finally:
        fake.stop()


def run(fake):
    # Warm up: the first poll, the first agent request.
    fake.inject("warm@im.wechat", "warm")
    wait_replies(fake, ["echo: warm"], 10)
    lat = []
    for i in range(N_LAT):
        text = "lat%d" % i
        t0 = time.monotonic()
        fake.inject("u0@im.wechat", text)
        got = wait_replies(fake, ["echo: " + text], 10)
        if "echo: " + text in got:
            lat.append(got["echo: " + text] - t0)
    print("wechat.roundtrip_p50 %.2f ms" % (pct(lat, 50) * 1000))
    print("wechat.roundtrip_p99 %.2f ms" % (pct(lat, 99) * 1000))
    want = ["echo: b%d" % i for i in range(N_BURST)]
    t0 = time.monotonic()
    for i in range(N_BURST):
        fake.inject("u%d@im.wechat" % (i % SENDERS), "b%d" % i)
    got = wait_replies(fake, want, 120)
    done = [got[w] for w in want if w in got]
    if done:
        print("wechat.throughput %.0f msg/s" %
              (len(done) / (max(done) - t0)))
    print("wechat.answered %d count" % len(done))
    with fake.lock:
        texts = [s["text"] for s in fake.sent if s["outcome"] == "ok"]
        violations = len(fake.violations)
    dups = len(texts) - len(set(texts))
    print("wechat.duplicates %d count" % dups)
    print("wechat.violations %d count" % violations)
    if len(done) != N_BURST or dups or violations:
        sys.exit("bench_wechat: %d of %d answered, %d twice, %d protocol "
                 "violations" % (len(done), N_BURST, dups, violations))


if __name__ == "__main__":
    main()
