"""Bench of WeCom AI bots (wecom_bot workers, the hub's channel path, the
echo agent) against the fake long-connection server
(tests/integration/fake_wecom.py), which acks every frame at once.  One
daemon serves NBOTS bots; the load goes to the first, the others idle.
Times are the fake's: when a callback left it and when a frame arrived.

Prints "metric value unit" lines:
  wecom.roundtrip_p50/p99     one message at a time: the user's
                              aibot_msg_callback out of the fake until the
                              reply's finish frame is back (callback,
                              inbound.message, store, agent, outbox, the
                              bubble's frames, at least stream_interval_ms
                              apart)
  wecom.first_frame_p50/p99   the same messages: until the bubble's first
                              aibot_respond_msg (the "thinking" frame)
  wecom.throughput            1,000 messages from 50 users sent at once:
                              answers per second until the last
  wecom.answered / .pushed / .unfinished_bubbles / .duplicates /
  .violations                 that burst: answers seen, how many came as
                              aibot_send_msg instead of in their bubble,
                              bubbles opened and never finished, texts
                              answered twice, frames the fake refused
  wecom.inflight3_*           the same burst as WeCom delivers it: at most
                              3 messages of one user in flight (A.10)
  wecom.log_abandoned / .log_not_kept   the worker's warnings that put
                              answers in pushes, both bursts (too many
                              open bubbles, too many messages awaiting
                              the hub)
  wecom.worker_pss / _rss     the loaded bot's worker after the bursts
                              (/proc/PID/smaps_rollup)
  wecom.idle_worker_pss_mean / _max   the other bots' workers
  wecom.subscribes            subscribes the fake accepted (NBOTS if no
                              connection was lost)
  webhook.*                   a group robot (wecom_webhook) in the same
                              daemon against tests/integration/
                              fake_webhook.py, its window shortened to
                              HOOK_WINDOW_S: HOOK_BURST wxgatectl sends at
                              once; delivered, the most delivered in any
                              window (rate_max 20 is the bound), the span of
                              the burst in windows, the shortest time
                              between a request and the rate_max-th after
                              it (at least HOOK_WINDOW_S when paced right),
                              refusals, violations
Usage: bench_wecom.py BUILD_DIR [NBOTS, default 20]
"""

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from benchgate import BenchGate                 # noqa: E402
from fake_wecom import FakeWecom                # noqa: E402
from fake_webhook import FakeWebhook            # noqa: E402
from soak import processes, smaps               # noqa: E402

N_LAT = 200
N_BURST = 1000
USERS = 50
INFLIGHT = 3            # a user's messages in flight with one bot (A.10)
STREAM_MS = 100         # the least stream_interval_ms the config allows
HOOK_WINDOW_S = 2       # B.6's 60 s window, shortened
HOOK_RATE = 20          # B.6: 20 messages a window
HOOK_BURST = 60


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


class Seen:
    """The bot's frames read so far, as they arrive: answers (text ->
    time its finish or push frame arrived) and first frames (callback
    req_id -> time its first aibot_respond_msg arrived)."""

    def __init__(self, fake, bot):
        self.fake = fake
        self.bot = bot
        self.n = 0
        self.answers = {}
        self.first = {}
        self.closed = set()         # req_ids whose bubble finished

    def update(self):
        with self.fake.lock:
            new = self.bot.frames[self.n:]
        self.n += len(new)
        for _, t, f in new:
            b = f.get("body") or {}
            if f.get("cmd") == "aibot_respond_msg":
                self.first.setdefault(f["headers"]["req_id"], t)
                if (b.get("stream") or {}).get("finish"):
                    self.answers.setdefault(b["stream"]["content"], t)
                    self.closed.add(f["headers"]["req_id"])
            elif f.get("cmd") == "aibot_send_msg":
                self.answers.setdefault(
                    (b.get("markdown") or {}).get("content"), t)

    def wait(self, want, timeout, poll):
        deadline = time.monotonic() + timeout
        while True:
            self.update()
            if all(w in self.answers for w in want) or \
                    time.monotonic() > deadline:
                return self.answers
            time.sleep(poll)


def main():
    build = sys.argv[1]
    nbots = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    bots = [("aibBENCHbot%04d" % i, "s3cret-BENCH-%04d" % i)
            for i in range(nbots)]
    fake = FakeWecom(bots=bots).start()
    robot = FakeWebhook(rate_max=HOOK_RATE, window=HOOK_WINDOW_S).start()
    # Copies below: PyYAML writes a shared dict as an alias, which the
    # config refuses.
    fast = {"rate": "1000000/s", "burst": 1000000}
    conf = {"webchat": {"workers": 1},
            "agents": [{"name": "default", "type": "echo",
                        "echo": {"chunks": 1, "delay_ms": 0}}],
            "channels": []}
    g = BenchGate(build, conf, "wecom")
    for i, (bot_id, secret) in enumerate(bots):
        path = g.path("bot%02d.secret" % i)
        with open(path, "w") as f:
            f.write(secret + "\n")
        os.chmod(path, 0o600)
        conf["channels"].append({
            "name": "bot%02d" % i, "type": "wecom_bot", "dm_policy": "open",
            "history_limit": 0,
            "ratelimit": {"peer": dict(fast), "account": dict(fast)},
            "wecom_bot": {"url": fake.url, "bot_id": bot_id,
                          "secret_file": path,
                          "stream_interval_ms": STREAM_MS}})
    path = g.path("robot.key")
    with open(path, "w") as f:
        f.write(robot.key + "\n")
    os.chmod(path, 0o600)
    conf["channels"].append({
        "name": "ops", "type": "wecom_webhook",
        "wecom_webhook": {"url": robot.url(), "key_file": path,
                          "rate_max": HOOK_RATE,
                          "rate_window_s": HOOK_WINDOW_S}})
    print("# wxgate wecom bench: %d bots, echo 1 chunk 0 ms, "
          "stream_interval_ms %d, %d cpus" % (nbots, STREAM_MS,
                                              os.cpu_count()))
    try:
        with g:
            deadline = time.monotonic() + 60
            while not all(fake.ready(b) for b, _ in bots):
                if time.monotonic() > deadline:
                    sys.exit("bench: not every bot subscribed")
                time.sleep(0.05)
            run(fake, fake.bot(bots[0][0]))
            memory(g)
            with open(g.path("log"), errors="replace") as f:
                log = f.read()
            # Why answers were pushed: bubbles past LANES_MAX, messages
            # past IN_WAIT_MAX (workers/wecom_bot/reply.c, inbound.c).
            print("wecom.log_abandoned %d count" %
                  log.count("too many open replies"))
            print("wecom.log_not_kept %d count" %
                  log.count("not kept for a resync"))
            print("wecom.subscribes %d count" % fake.subscribes)
            webhook(g, robot)
    finally:
        fake.stop()
        robot.stop()


def run(fake, bot):
    b = bot.bot_id
    seen = Seen(fake, bot)
    # Warm up: the first agent request, the first store writes.
    fake.msg("warm", "warm", bot=b)
    seen.wait(["echo: warm"], 10, 0.001)
    lat, first = [], []
    for i in range(N_LAT):
        text = "lat%d" % i
        req = fake.msg("u0", text, bot=b)
        got = seen.wait(["echo: " + text], 10, 0.001)
        with fake.lock:
            t0 = bot.pushed[req]
        if "echo: " + text in got:
            lat.append(got["echo: " + text] - t0)
        if req in seen.first:
            first.append(seen.first[req] - t0)
    print("wecom.roundtrip_p50 %.2f ms" % (pct(lat, 50) * 1000))
    print("wecom.roundtrip_p99 %.2f ms" % (pct(lat, 99) * 1000))
    print("wecom.first_frame_p50 %.2f ms" % (pct(first, 50) * 1000))
    print("wecom.first_frame_p99 %.2f ms" % (pct(first, 99) * 1000))
    sys.stdout.flush()

    burst(fake, bot, seen, "wecom.", "b", None)
    burst(fake, bot, seen, "wecom.inflight3_", "p", INFLIGHT)


def burst(fake, bot, seen, pre, tag, inflight):
    """N_BURST messages from USERS users, all at once (inflight None) or
    at most inflight unanswered per user."""
    b = bot.bot_id
    text = ["%s%d" % (tag, i) for i in range(N_BURST)]
    want = ["echo: " + t for t in text]
    queue = {u: [i for i in range(N_BURST) if i % USERS == u]
             for u in range(USERS)}
    open_ = {u: [] for u in range(USERS)}    # indices awaiting answers
    reqs = []
    deadline = time.monotonic() + 120
    while any(queue.values()) and time.monotonic() < deadline:
        for u in range(USERS):
            open_[u] = [i for i in open_[u] if want[i] not in seen.answers]
            while queue[u] and (inflight is None or
                                len(open_[u]) < inflight):
                i = queue[u].pop(0)
                reqs.append(fake.msg("u%d" % u, text[i], bot=b))
                open_[u].append(i)
        if any(queue.values()):
            time.sleep(0.001)
            seen.update()
    with fake.lock:
        t0 = min(bot.pushed[r] for r in reqs)
    got = seen.wait(want, 120, 0.01)
    done = [got[w] for w in want if w in got]
    if done:
        print("%sthroughput %.0f msg/s" % (pre, len(done) / (max(done) - t0)))
    print("%sanswered %d count" % (pre, len(done)))
    time.sleep(0.5)
    wanted = set(want)
    with fake.lock:
        ans = [a["text"] for a in bot.answers if a["text"] in wanted]
        pushed = sum(1 for a in bot.answers
                     if a["via"] == "push" and a["text"] in wanted)
        violations = len(fake.violations)
    print("%spushed %d count" % (pre, pushed))
    seen.update()
    print("%sunfinished_bubbles %d count" % (pre, sum(
        1 for r in reqs if r in seen.first and r not in seen.closed)))
    print("%sduplicates %d count" % (pre, len(ans) - len(set(ans))))
    print("%sviolations %d count" % (pre, violations))
    sys.stdout.flush()


def webhook(g, robot):
    ctl = os.path.join(g.build, "wxgatectl")
    for i in range(HOOK_BURST):
        subprocess.run([ctl, "-s", g.path("control.sock"), "send", "ops",
                        "group", "notice %03d" % i], capture_output=True)
    deadline = time.monotonic() + 10 * HOOK_WINDOW_S * HOOK_BURST / HOOK_RATE
    while len(robot.contents()) < HOOK_BURST and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    with robot.lock:
        at = [t for t, _ in robot.got]
        tries = list(robot.tries)
        violations = len(robot.violations)
    most = max((sum(1 for u in at if t <= u < t + HOOK_WINDOW_S)
                for t in at), default=0)
    print("webhook.delivered %d count" % len(at))
    print("webhook.per_window_max %d msg/window" % most)
    if at:
        print("webhook.span %.1f windows" %
              ((max(at) - min(at)) / HOOK_WINDOW_S))
    if len(tries) > HOOK_RATE:
        # Requests i and i + rate_max: under a window is one too many.
        print("webhook.tightest_window %.1f ms" % (1000 * min(
            tries[i + HOOK_RATE] - tries[i]
            for i in range(len(tries) - HOOK_RATE))))
    print("webhook.refused %d count" % (len(tries) - len(at)))
    print("webhook.violations %d count" % violations)


def memory(g):
    procs = processes(g)
    loaded = smaps(procs.get("wecom_bot.bot00", 0))
    for k in ("pss", "rss"):
        if k in loaded:
            print("wecom.worker_%s %d KiB" % (k, loaded[k]))
    idle = [smaps(pid).get("pss") for n, pid in procs.items()
            if n.startswith("wecom_bot.") and n != "wecom_bot.bot00"]
    idle = [p for p in idle if p is not None]
    if idle:
        print("wecom.idle_worker_pss_mean %d KiB" % (sum(idle) / len(idle)))
        print("wecom.idle_worker_pss_max %d KiB" % max(idle))


if __name__ == "__main__":
    main()
