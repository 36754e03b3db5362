"""Bench of many personal-WeChat accounts on one box (issue #13, "A
thousand accounts per box"): for each N, a fresh wxgated with N `wechat`
accounts, each logged in with a token of its own (pre-seeded in a
token_file, as tests/integration/test_channel_wechat.py does), against
ONE fake iLink server on 127.0.0.1 that serves them all (MultiIlink
below: tests/integration/fake_ilink.py with a message queue per token).
The echo agent answers; sends are unpaced (send_gap_ms 0).

Prints "metric value unit" lines, for each N:
  accounts.N.time_to_polling   s from starting wxgated until every
                               account has sent the fake its first
                               getupdates (logged in and polling)
  accounts.N.pss_per_account   MiB: what one account costs, read from
                               /proc/PID/smaps_rollup a few seconds after
                               all are polling, before any message:
                                 ( sum of Pss of the N wechat workers
                                 + Pss of their zygote, if any
                                 + parent Pss(N) - parent Pss(N=1)
                                 + hub Pss(N) - hub Pss(N=1) ) / N
                               so at N=1 it is the one worker's Pss; the
                               web chat and agent workers, which do not
                               grow with accounts, are left out
  accounts.N.rss_per_account   MiB: mean Rss of one wechat worker (shared
                               pages counted in full by every worker)
  accounts.N.parent_pss        MiB: Pss of the root parent
  accounts.N.hub_pss           MiB: Pss of the hub
  accounts.N.zygote_pss        MiB: Pss of the wechat zygote (0: none)
  accounts.N.replies_per_s     N messages, one to each account, injected
                               at once: replies per second, from the
                               first injection until the last reply
                               reached the fake's sendmessage
  accounts.N.answered / .duplicates / .misrouted   that burst: replies
                               seen, texts answered twice, replies sent
                               by another account than the addressed one
  accounts.N.pss_per_account_after_reply   the same Pss sum, after the
                               burst (every worker has handled a message)
  accounts.N.restarts          worker restarts in the log (a start-up
                               that overruns heartbeats shows here)
  accounts.N.violations        requests the fake found malformed
The N=1 run comes first: its parent and hub Pss are the baseline of the
growth.  wxgated is stopped (wxgatectl stop, then SIGKILL) even when a
step fails, and its workers die with it (PR_SET_PDEATHSIG).
Usage: bench_accounts.py BUILD_DIR [N ...]   (default: 1 100 1000)
"""

import asyncio
import json
import os
import resource
import secrets
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from aiohttp import web                         # noqa: E402

from benchgate import BenchGate, children       # noqa: E402
from fake_ilink import FakeIlink, cursor_of, index_of   # noqa: E402
from soak import smaps                          # noqa: E402

LONGPOLL_MS = 30000
SETTLE_S = 3


class _Forget(list):
    """FakeIlink keeps every request's headers; at a thousand accounts
    polling that is only memory, so this list keeps none."""

    def append(self, x):
        pass


class Account:
    def __init__(self, name):
        self.name = name
        self.bot_id = "%s@im.bot" % name
        self.token = "%s:%s" % (self.bot_id, secrets.token_hex(19))
        self.messages = []
        self.cond = None            # made on the fake's loop
        self.first_poll = None


class MultiIlink(FakeIlink):
    """FakeIlink for many accounts: a bot token per account, each with
    its own message queue and cursor; the checks of every request are
    FakeIlink's.  inject(account, peer, text) queues for one account;
    sent records carry the account whose token sent them."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.requests = _Forget()
        self.accounts = {}          # token -> Account

    def add(self, name):
        a = Account(name)
        self.accounts[a.token] = a
        return a

    def account_of(self, request):
        auth = request.headers.get("Authorization", "")
        a = self.accounts.get(auth[7:]) if auth.startswith("Bearer ") \
            else None
        if a is None:
            with self.lock:
                self.unauthorized += 1
        return a

    def authorized(self, request):
        return self.account_of(request) is not None

    def inject_to(self, acct, peer, text):
        return self._call(self._inject_to, acct, peer, text)

    async def _inject_to(self, acct, peer, text):
        mid = next(self.next_id)
        m = {"seq": len(acct.messages) + 1, "message_id": mid,
             "from_user_id": peer, "to_user_id": acct.bot_id,
             "client_id": "fake_inbox_%d" % len(acct.messages),
             "create_time_ms": int(time.time() * 1000), "session_id": "",
             "message_type": 1, "message_state": 2,
             "context_token": "AARzJWAF" + secrets.token_hex(8),
             "item_list": [{"type": 1, "msg_id": str(mid + 1),
                            "text_item": {"text": text}}]}
        if acct.cond is None:
            acct.cond = asyncio.Condition()
        async with acct.cond:
            acct.messages.append(m)
            acct.cond.notify_all()
        return mid

    async def getupdates(self, request):
        self.check_headers(request, "bot")
        b = await self.body(request)
        cur = b.get("get_updates_buf")
        if not isinstance(cur, str):
            self.violation(request, "get_updates_buf %r" % (cur,))
            cur = ""
        n = index_of(cur)
        if n is None:
            self.violation(request, "unknown cursor %r" % cur)
            n = 0
        a = self.account_of(request)
        if a is None:
            return web.json_response({"errcode": -14,
                                      "errmsg": "session timeout"})
        if a.first_poll is None:
            a.first_poll = time.monotonic()
        if a.cond is None:
            a.cond = asyncio.Condition()
        deadline = time.monotonic() + self.hold_s
        async with a.cond:
            while len(a.messages) <= n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    await asyncio.wait_for(a.cond.wait(), left)
                except asyncio.TimeoutError:
                    break
            msgs = a.messages[n:n + self.batch_max]
        return web.Response(content_type="application/json", text=json.dumps({
            "ret": 0, "msgs": msgs,
            "get_updates_buf": cursor_of(n + len(msgs)) if msgs else "",
            "longpolling_timeout_ms": self.longpoll_ms}))

    async def sendmessage(self, request):
        self.check_headers(request, "bot")
        b = await self.body(request)
        rec = self.check_send(request, b) or {"to": None, "text": None}
        a = self.account_of(request)
        rec["account"] = a.name if a is not None else None
        with self.lock:
            if a is None:
                rec["outcome"] = "-14"
                resp = {"errcode": -14, "errmsg": "session timeout"}
            elif rec.get("client_id") in self.client_ids:
                rec["outcome"] = "dup"
                resp = {"ret": 0}
            else:
                self.client_ids.add(rec.get("client_id"))
                rec["outcome"] = "ok"
                resp = {"ret": 0, "message_id": next(self.next_id)}
            self.sent.append(rec)
        return web.Response(content_type="application/json",
                            text=json.dumps(resp))


def mib(kb):
    return kb / 1024.0


class Gate(BenchGate):
    """BenchGate, with a stop that waits for a thousand workers to drain,
    and a kill for a wxgated left running by a failed start."""

    def __init__(self, *a):
        super().__init__(*a)
        self.stop_s = 60

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def figures(g):
    """(parent, hub, [wechat workers], zygote) smaps_rollup dicts."""
    parent = smaps(g.proc.pid)
    hub, workers, zygote = {}, [], {}
    for pid, argv in children(g.proc.pid):
        if b"hub:main" in argv:
            hub = smaps(pid)
        elif any(a.startswith(b"wechat:") for a in argv):
            workers.append(smaps(pid))
        elif any(a.startswith(b"zygote:wechat") for a in argv):
            zygote = smaps(pid)
    return parent, hub, workers, zygote


def per_account(n, parent, hub, workers, zygote, base):
    pss = sum(w.get("pss", 0) for w in workers) + zygote.get("pss", 0)
    pss += parent.get("pss", 0) - base[0] + hub.get("pss", 0) - base[1]
    return mib(pss) / n


def run(build, n, base):
    fake = MultiIlink(longpoll_ms=LONGPOLL_MS).start()
    conf = {"webchat": {"workers": 1},
            "log": {"level": "warn"},
            "agents": [{"name": "default", "type": "echo",
                        "max_inflight": 512,
                        "echo": {"chunks": 1, "delay_ms": 0}}],
            "channels": []}
    g = Gate(build, conf, "accounts")
    accts = []
    for i in range(n):
        a = fake.add("a%04d" % i)
        tok = g.path("%s.token" % a.name)
        with open(tok, "w") as f:
            f.write(a.token + "\n")
        os.chmod(tok, 0o600)
        accts.append(a)
        conf["channels"].append({
            "name": a.name, "type": "wechat", "dm_policy": "open",
            "history_limit": 0,
            "wechat": {"login_url": fake.url, "send_gap_ms": 0,
                       "poll_timeout_ms": LONGPOLL_MS, "token_file": tok}})
    g.conf["channels"] = conf["channels"]
    p = "accounts.%d." % n
    try:
        t0 = time.monotonic()
        with g:
            deadline = t0 + 60 + n * 0.3
            while time.monotonic() < deadline:
                if all(a.first_poll is not None for a in accts):
                    break
                if g.proc.poll() is not None:
                    sys.exit("wxgated exited")
                time.sleep(0.05)
            polled = [a.first_poll for a in accts if a.first_poll]
            if len(polled) < n:
                print(p + "polling %d count" % len(polled))
            else:
                print(p + "time_to_polling %.2f s" % (max(polled) - t0))
            time.sleep(SETTLE_S)
            parent, hub, workers, zygote = figures(g)
            if base is None:
                base = (parent.get("pss", 0), hub.get("pss", 0))
            print(p + "workers %d count" % len(workers))
            print(p + "pss_per_account %.3f MiB" %
                  per_account(n, parent, hub, workers, zygote, base))
            print(p + "rss_per_account %.3f MiB" %
                  (mib(sum(w.get("rss", 0) for w in workers)) /
                   max(1, len(workers))))
            print(p + "parent_pss %.3f MiB" % mib(parent.get("pss", 0)))
            print(p + "hub_pss %.3f MiB" % mib(hub.get("pss", 0)))
            print(p + "zygote_pss %.3f MiB" % mib(zygote.get("pss", 0)))
            sys.stdout.flush()
            burst(fake, accts, p)
            parent, hub, workers, zygote = figures(g)
            print(p + "pss_per_account_after_reply %.3f MiB" %
                  per_account(n, parent, hub, workers, zygote, base))
            sys.stdout.flush()
    finally:
        g.kill()
        fake.stop()
        print(p + "restarts %d count" % g.logtext.count("restarting in"))
        with fake.lock:
            print(p + "violations %d count" % len(fake.violations))
    return base


def burst(fake, accts, p):
    want = {}
    t0 = time.monotonic()
    for i, a in enumerate(accts):
        text = "m%d" % i
        want["echo: " + text] = a.name
        fake.inject_to(a, "u%d@im.wechat" % i, text)
    deadline = time.monotonic() + 60 + len(accts) * 0.2
    while time.monotonic() < deadline:
        with fake.lock:
            got = {s["text"] for s in fake.sent if s["outcome"] == "ok"}
        if all(w in got for w in want):
            break
        time.sleep(0.05)
    with fake.lock:
        ok = [s for s in fake.sent if s["outcome"] == "ok"]
    done = [s["time"] for s in ok if s["text"] in want]
    if done:
        print(p + "replies_per_s %.0f msg/s" %
              (len({s["text"] for s in ok if s["text"] in want}) /
               (max(done) - t0)))
    texts = [s["text"] for s in ok]
    print(p + "answered %d count" % len({t for t in texts if t in want}))
    print(p + "duplicates %d count" % (len(texts) - len(set(texts))))
    print(p + "misrouted %d count" %
          sum(1 for s in ok if want.get(s["text"], s["account"]) !=
              s["account"]))


def main():
    build = sys.argv[1]
    ns = [int(a) for a in sys.argv[2:]] or [1, 100, 1000]
    # The fake holds a poll and a send connection per account.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 4 * max(ns) + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    # SIGTERM unwinds like ^C, through the finally that stops wxgated.
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit("terminated"))
    if ns[0] != 1:
        ns = [1] + ns       # the baseline of parent and hub growth
    base = None
    for n in ns:
        base = run(build, n, base)


if __name__ == "__main__":
    main()
