#!/usr/bin/python3
"""Chaos: mixed load while workers, and sometimes the whole daemon, are
SIGKILLed at random moments; then count, from the clients' records, the
fakes' records and the store, that every message accepted was answered
exactly once and every message refused was told so (issue #10).

The daemon: two webchat workers on agent `default` (openai type, against
fake_openai.py, streaming) and a personal-WeChat account `alice`
(fake_ilink.py) on agent `cmd` (a command agent, cmd_agent.py).  Restart
backoff is shortened and crashloop_count raised so a hundred kills do not
park a worker; one that is parked anyway is restarted with `wxgatectl
restart` and counted.

The load: N web chat visitors (WebSocket), each sending messages with
unique client_msg_ids one after the other and resending the same id after
a disconnect, a refusal (busy, rate_limited, unavailable: waits
retry_after, capped) or a chat.error until it gets chat.done, or until a
resend hears `answered` and the stored error again (webchat.deadline_s,
shortened to seconds, ends a message with a `timeout` stored as its
answer; --stall-pct of the messages ask fake_openai for a reply that
never ends, so the deadline is exercised too); M WeChat senders
injecting messages into the fake iLink server, each with its own
context_token; a reply carries the newest token its sender gave
(wechat-ilink.md 1.4), never an older one than its message's.

The killer: every 100-300 ms SIGKILL one random worker or the hub (the
parent restarts it and hands it the same workers); every ~20 kills
SIGKILL the supervisor instead and start it again on the same state dir.
After K kills the load stops, the driver waits for quiescence, stops the
daemon cleanly and counts:
  web chat: a client_msg_id is accepted once the client saw accepted,
    answering or answered for it (or a reply); lost when it never got a
    final answer, or the store lacks its row in state 3; doubled when the
    client saw more than one non-replayed chat.done for it, or the store
    holds more than one row for it.
  WeChat: every injected message is delivered (the fake re-delivers from
    the cursor the worker stored); lost when no sendmessage with outcome
    ok carries its answer (each text is unique), unless the store says
    it ended in a timeout (answered with the notice), or the store lacks
    its row in state 3; doubled when more than one does (the fake already
    drops a resend with a client_id it has seen, as iLink does, recorded
    as outcome "dup"); wrong when the answer rides on another sender's
    token or one older than its message's.
Prints `metric value unit` lines.

    tests/chaos/chaos.py [-k kills] [-v visitors] [-s senders]
        [-d deadline_s] [--seed N] [--keep DIR] [build dir, default
        build-test]

Importable: run_chaos(builddir, workdir, kills=..., ...) returns the
counts as a dict (tests/chaos/test_chaos.py).
"""

import argparse
import asyncio
import collections
import http.client
import json
import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import websockets  # noqa: E402
import yaml  # noqa: E402

from conftest import free_port, parse_status, stop_daemon  # noqa: E402
from fake_ilink import FakeIlink  # noqa: E402
from fake_openai import Fake as FakeOpenai  # noqa: E402

START_TIMEOUT = 30          # a daemon start, under load on 2 cores
STOP_TIMEOUT = 20
QUIESCE_TIMEOUT = 180       # after the last kill, for every answer
STALL_S = 40                # silence about one message before a resend
REFUSAL_WAIT_MAX = 1.0      # cap on retry_after while refused
WORKERS = ("webchat.0", "webchat.1", "agent.default", "agent.cmd",
           "wechat.alice")
REFUSALS = ("busy", "rate_limited", "unavailable")
# fake_openai.py answers this with one piece and then silence: only
# webchat.deadline_s ends it, with a `timeout` stored as its answer.
STALL = "mode:stall"


def log(*a):
    print("# " + " ".join(str(x) for x in a), file=sys.stderr, flush=True)


def config(workdir, port, fake_oa, fake_il, token_file, deadline_s):
    """The daemon's config: windows shortened, limits raised past the
    load (refusals are still counted when they come)."""
    state = os.path.join(workdir, "run")
    sock = os.path.join(workdir, "control.sock")
    if len(sock) > 100:
        sock = os.path.join(tempfile.mkdtemp(prefix="wxch"), "control.sock")
    fast = {"rate": "1000/s", "burst": 100000}
    return {
        "state_dir": state,
        "control": sock,
        "log": {"level": "info"},
        "supervisor": {
            "heartbeat_ms": 200,
            "heartbeat_timeout_ms": 3000,
            "restart_min_ms": 10,
            "restart_max_ms": 200,
            "crashloop_count": 1000,
            "crashloop_window_s": 1,
            "shutdown_grace_ms": 2000,
        },
        "webchat": {"listen": "127.0.0.1:%d" % port, "workers": 2,
                    "agent": "default", "deadline_s": deadline_s},
        "policy": {"ratelimit": {"session": fast, "address": fast}},
        "agents": [
            # Small windows: web chat hears busy now and then, WeChat
            # messages wait in the store's backlog for room.
            {"name": "default", "type": "openai",
             "max_inflight": 3, "max_queued": 2, "client_share_pct": 100,
             "openai": {"url": fake_oa.url, "model": "fake-1",
                        "timeout_s": 5, "stream": True}},
            {"name": "cmd", "type": "command", "max_inflight": 2,
             "command": {"argv": ["/usr/bin/python3",
                                  os.path.join(HERE, "cmd_agent.py")],
                         "timeout_s": 10}},
        ],
        "channels": [
            {"name": "alice", "type": "wechat", "agent": "cmd",
             "dm_policy": "open", "allow_from": ["*"],
             "deadline_s": 2 * deadline_s,
             "ratelimit": {"peer": fast, "account": fast},
             "wechat": {"login_url": fake_il.url, "send_gap_ms": 0,
                        "poll_timeout_ms": 3000, "timeout_s": 5,
                        "token_file": token_file}},
        ],
    }


class NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


def descendants(pid):
    """pid's descendants, from /proc/PID/task/*/children."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir("/proc/%d/task" % p)
        except OSError:
            continue
        for t in tasks:
            try:
                with open("/proc/%d/task/%s/children" % (p, t)) as f:
                    kids = [int(x) for x in f.read().split()]
            except OSError:
                continue
            out.extend(kids)
            todo.extend(kids)
    return out


def hub_pid(parent):
    """The hub among the daemon's children (wxgated -x hub:main)."""
    for p in descendants(parent):
        try:
            with open("/proc/%d/cmdline" % p, "rb") as f:
                if b"hub:main" in f.read().split(b"\0"):
                    return p
        except OSError:
            continue
    return None


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Daemon:
    """One wxgated on a fixed state dir, started again after a kill."""

    def __init__(self, builddir, workdir, conf):
        self.wxgated = os.path.join(builddir, "wxgated")
        self.wxgatectl = os.path.join(builddir, "wxgatectl")
        self.workdir = workdir
        self.conf = conf
        self.conf_path = os.path.join(workdir, "wxgate.yaml")
        self.log_path = os.path.join(workdir, "wxgated.log")
        self.port = int(conf["webchat"]["listen"].rsplit(":", 1)[1])
        self.proc = None
        with open(self.conf_path, "w") as f:
            # Each mapping written out in full: the config has no aliases.
            yaml.dump(conf, f, Dumper=NoAliases, default_flow_style=False,
                      sort_keys=False)

    @property
    def db_path(self):
        return os.path.join(self.conf["state_dir"], "wxgate.db")

    def ctl(self, *args, timeout=10):
        try:
            p = subprocess.run([self.wxgatectl, "-s", self.conf["control"]] +
                               [str(a) for a in args], capture_output=True,
                               text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return 1, "", "timeout"
        return p.returncode, p.stdout, p.stderr

    def status(self):
        rc, out, _ = self.ctl("status")
        if rc != 0:
            return None
        try:
            return parse_status(out)
        except AssertionError:
            return None

    def healthy(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            c.request("GET", "/healthz")
            return c.getresponse().status == 200
        except OSError:
            return False
        finally:
            c.close()

    def start(self):
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.wxgated, "-f", self.conf_path],
                                     cwd=self.workdir,
                                     stdin=subprocess.DEVNULL,
                                     stdout=logf, stderr=logf)
        logf.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("wxgated exited with %d; see %s" %
                                   (self.proc.returncode, self.log_path))
            st = self.status() if self.healthy() else None
            if st and set(WORKERS) <= set(st) and all(
                    w["state"] == "running" and w["pid"] > 0
                    for w in st.values()):
                return
            time.sleep(0.05)
        raise RuntimeError("wxgated did not start within %ds; see %s" %
                           (START_TIMEOUT, self.log_path))

    def kill(self):
        """SIGKILL the supervisor; wait until every process of it is
        gone (workers die by PR_SET_PDEATHSIG)."""
        kids = descendants(self.proc.pid)
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        deadline = time.monotonic() + STOP_TIMEOUT
        while any(alive(p) for p in kids):
            if time.monotonic() > deadline:
                raise RuntimeError("workers outlived their supervisor: %r" %
                                   [p for p in kids if alive(p)])
            time.sleep(0.02)

    def stop(self):
        return stop_daemon(self.proc, self.ctl, STOP_TIMEOUT, RuntimeError)


class Chaos:
    def __init__(self, daemon, fake_il, kills, visitors, senders,
                 send_every=0.1, seed=None, stall_pct=0.0):
        self.d = daemon
        self.fake = fake_il
        self.kills_wanted = kills
        self.nvisitors = visitors
        self.nsenders = senders
        self.send_every = send_every
        self.stall_pct = stall_pct
        self.rng = random.Random(seed)
        self.t0 = time.monotonic()
        self.stop_load = threading.Event()
        self.killer_done = threading.Event()
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.web = {}           # client_msg_id -> record
        self.wechat = {}        # context_token -> {"id", "text"}
        self.events = []        # the killer's log

    def note(self, what):
        line = "t=%.3f %s" % (time.monotonic() - self.t0, what)
        with self.lock:
            self.events.append(line)

    # -- the killer ----------------------------------------------------

    def killer(self):
        try:
            self._killer()
        except BaseException as e:
            self.note("killer failed: %r" % (e,))
            self.counts["killer_errors"] += 1
            raise
        finally:
            self.killer_done.set()

    def _killer(self):
        rng = self.rng
        next_daemon = rng.randint(15, 25)
        while self.counts["kills"] < self.kills_wanted:
            time.sleep(rng.uniform(0.1, 0.3))
            if self.counts["kills"] + 1 >= next_daemon:
                self.note("kill supervisor pid %d" % self.d.proc.pid)
                self.d.kill()
                self.counts["kills"] += 1
                self.counts["daemon_restarts"] += 1
                self.d.start()
                self.note("daemon back, pid %d" % self.d.proc.pid)
                next_daemon = self.counts["kills"] + rng.randint(15, 25)
                continue
            st = self.d.status()
            if st is None:
                continue
            for name, w in st.items():
                if w["state"] == "failed":
                    self.note("%s failed: wxgatectl restart" % name)
                    self.d.ctl("restart", name)
                    self.counts["failed_restarts"] += 1
            live = [(n, st[n]["pid"]) for n in WORKERS
                    if n in st and st[n]["state"] == "running" and
                    st[n]["pid"] > 0]
            # The hub too: the parent restarts it and the workers stay.
            hub = hub_pid(self.d.proc.pid)
            if hub is not None:
                live.append(("hub", hub))
            if not live:
                continue
            name, pid = rng.choice(live)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            self.counts["kills"] += 1
            self.counts["kill_" + name] += 1
            self.note("kill %s pid %d" % (name, pid))

    # -- WeChat senders ------------------------------------------------

    def senders(self):
        n = 0
        while not self.stop_load.is_set():
            peer = self.rng.randrange(self.nsenders)
            n += 1
            ctx = "CT-%d-%d" % (peer, n)
            text = "w%d-%d" % (peer, n)
            mid = self.fake.inject("sender_%04d@im.wechat" % peer, text,
                                   context_token=ctx)
            with self.lock:
                self.wechat[ctx] = {"id": mid, "text": text, "peer": peer,
                                    "n": n}
            time.sleep(self.send_every)

    # -- web chat visitors ---------------------------------------------

    async def visitor(self, vid):
        v = Visitor(self, vid)
        seq = 0
        try:
            while not self.stop_load.is_set():
                seq += 1
                text = "hello from %d, number %d" % (vid, seq)
                if self.rng.random() * 100 < self.stall_pct:
                    text = STALL
                await v.deliver("v%d-%d" % (vid, seq), text)
                await asyncio.sleep(self.rng.uniform(0, 0.05))
        finally:
            await v.close()

    # -- the run -------------------------------------------------------

    async def run_async(self):
        loop = asyncio.get_running_loop()
        tasks = [asyncio.ensure_future(self.visitor(i))
                 for i in range(self.nvisitors)]
        sender = threading.Thread(target=self.senders, daemon=True)
        sender.start()
        killer = loop.run_in_executor(None, self.killer)
        try:
            await killer
        finally:
            self.stop_load.set()
        self.note("load stops after %d kills" % self.counts["kills"])
        await loop.run_in_executor(None, sender.join)
        done, pending = await asyncio.wait(tasks, timeout=QUIESCE_TIMEOUT)
        for t in pending:
            t.cancel()
            self.counts["visitors_stuck"] += 1
        await asyncio.gather(*tasks, return_exceptions=True)
        for t in done:
            if t.exception() is not None:
                self.note("visitor failed: %r" % (t.exception(),))
                self.counts["visitor_errors"] += 1
        await loop.run_in_executor(None, self.wait_wechat)

    def wechat_answered(self):
        """Each sender has had as many answers as it wrote messages."""
        answers = collections.Counter()
        with self.fake.lock:
            for s in self.fake.sent:
                if s["outcome"] == "ok":
                    answers[s["to"]] += 1
        wrote = collections.Counter()
        with self.lock:
            for m in self.wechat.values():
                wrote["sender_%04d@im.wechat" % m["peer"]] += 1
        return all(answers[p] >= n for p, n in wrote.items())

    def wait_wechat(self):
        deadline = time.monotonic() + QUIESCE_TIMEOUT
        while not self.wechat_answered() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)         # a late double shows up too

    def run(self):
        asyncio.run(self.run_async())
        self.elapsed = time.monotonic() - self.t0
        rc = self.d.stop()
        if rc != 0:
            self.counts["daemon_exit_errors"] += 1
        return self.count()

    # -- counting ------------------------------------------------------

    def store_rows(self):
        db = sqlite3.connect("file:%s?mode=ro" % self.d.db_path, uri=True,
                             timeout=10)
        try:
            web = db.execute(
                "SELECT client_msg_id, state, error, reply FROM messages "
                "WHERE client_msg_id IS NOT NULL").fetchall()
            chan = db.execute(
                "SELECT channel_msg_id, state, error, reply FROM messages "
                "WHERE account = 'alice'").fetchall()
        finally:
            db.close()
        return web, chan

    def count(self):
        c = self.counts
        lost, doubled = [], []
        web_rows, chan_rows = self.store_rows()
        by_cmid = collections.defaultdict(list)
        for cmid, state, err, reply in web_rows:
            by_cmid[cmid].append((state, err, reply))
        for cmid, r in sorted(self.web.items()):
            c["refused"] += r["refused"]
            c["resends"] += max(0, r["sends"] - 1)
            c["stalls"] += r["stalls"]
            if not r["accepted"]:
                continue
            c["accepted"] += 1
            c["web_accepted"] += 1
            fresh = [d for d in r["dones"] if not d.get("replayed")]
            rows = by_cmid.get(cmid, [])
            if r["final"] is None:
                lost.append("web %s: no final answer (sends %d)" %
                            (cmid, r["sends"]))
            elif r["final"] == "timeout":
                c["timeouts"] += 1
                if r["text"] != STALL:
                    c["web_timeouts_unexpected"] += 1
            elif r["final"] != "done":
                lost.append("web %s: ended with error %s" %
                            (cmid, r["final"]))
            elif r["final_text"] != "echo: " + r["text"]:
                c["wrong_text"] += 1
                self.note("web %s: answer %r" % (cmid, r["final_text"]))
            if len(fresh) > 1:
                doubled.append("web %s: %d chat.done" % (cmid, len(fresh)))
            if len(rows) > 1:
                doubled.append("web %s: %d store rows" % (cmid, len(rows)))
            if not any(st == 3 for st, _, _ in rows):
                lost.append("web %s: store rows %r" % (cmid, rows))
        by_text = collections.defaultdict(list)
        with self.fake.lock:
            sent = list(self.fake.sent)
            c["ilink_violations"] = len(self.fake.violations)
        for s in sent:
            if s["outcome"] == "dup":
                c["ilink_dups_dropped"] += 1
            if s["outcome"] == "ok":
                by_text[s.get("text")].append(s)
        chan_by_id = collections.defaultdict(list)
        for mid, state, err, reply in chan_rows:
            chan_by_id[str(mid)].append((state, err))
        for ctx, m in sorted(self.wechat.items()):
            c["accepted"] += 1
            c["wechat_delivered"] += 1
            got = by_text.get("echo: " + m["text"], [])
            rows = chan_by_id.get(str(m["id"]), [])
            if not got:
                if rows and rows[0][1] == "timeout":
                    c["timeouts"] += 1
                else:
                    lost.append("wechat %s (%s): never answered" %
                                (ctx, m["text"]))
            elif len(got) > 1:
                doubled.append("wechat %s (%s): answered %d times, "
                               "client_ids %r" % (ctx, m["text"], len(got),
                                                  [g["client_id"]
                                                   for g in got]))
            for g in got[:1]:
                # Its sender's token, this message's or a newer one.
                t = (g.get("context_token") or "").split("-")
                if len(t) != 3 or t[1] != str(m["peer"]) or \
                        not t[2].isdigit() or int(t[2]) < m["n"]:
                    c["wrong_text"] += 1
                    self.note("wechat %s: answer on token %r" %
                              (ctx, g.get("context_token")))
            if not any(st == 3 for st, _ in rows):
                lost.append("wechat %s (id %s): store rows %r" %
                            (ctx, m["id"], rows))
        c["lost"] = len(lost)
        c["doubled"] = len(doubled)
        self.lost, self.doubled = lost, doubled
        return c


class Visitor:
    """One web chat visitor: a connection it re-opens after a drop, a
    session it resumes, and one message at a time sent until final."""

    def __init__(self, chaos, vid):
        self.c = chaos
        self.vid = vid
        self.ws = None
        self.token = None
        self.next_id = 1
        self.replies = {}

    async def close(self):
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 2)
            except Exception:
                pass
            self.ws = None

    async def recv(self, timeout):
        msg = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        if "event" in msg:
            self.on_event(msg)
        else:
            self.replies[msg.get("id")] = msg
        return msg

    def on_event(self, e):
        r = self.c.web.get(e.get("client_msg_id"))
        if r is None:
            return
        r["last"] = time.monotonic()
        if e["event"] == "chat.done":
            r["dones"].append(e)
            r["accepted"] = True
            if r["final"] is None:
                r["final"] = "done"
                r["final_text"] = e.get("text")
        elif e["event"] == "chat.error":
            # An agent's error (its own timeout_s too) leaves the
            # message to a resend; the deadline's `timeout` is stored as
            # the answer, so a resend hears "answered" and it again.
            r["errors"].append(e.get("code"))
            if r["status"] == "answered" and r["final"] is None:
                r["final"] = e.get("code")
            else:
                r["retry"] = True

    async def call(self, method, params, timeout=10):
        rid = self.next_id
        self.next_id += 1
        await self.ws.send(json.dumps({"id": rid, "method": method,
                                       "params": params}))
        deadline = time.monotonic() + timeout
        while rid not in self.replies:
            left = deadline - time.monotonic()
            if left <= 0:
                raise asyncio.TimeoutError()
            await self.recv(left)
        return self.replies.pop(rid)

    async def connect(self):
        """A connection with a session on it, or an exception."""
        self.ws = await websockets.connect(
            "ws://127.0.0.1:%d/ws" % self.c.d.port, open_timeout=5,
            close_timeout=1, ping_interval=None)
        self.replies = {}
        while True:
            if self.token is not None:
                r = await self.call("session.resume", {"token": self.token})
            else:
                r = await self.call("session.open", {})
            if r.get("ok"):
                if self.token is None:
                    self.token = r["result"]["token"]
                return
            code = r.get("error", {}).get("code")
            if code in REFUSALS:
                await asyncio.sleep(0.1)
                continue
            # The session a committed token named is gone: a bug.
            self.c.counts["session_lost"] += 1
            self.c.note("visitor %d: session.resume: %r" % (self.vid, r))
            self.token = None

    async def deliver(self, cmid, text):
        r = {"text": text, "accepted": False, "refused": 0, "sends": 0,
             "stalls": 0, "dones": [], "errors": [], "final": None,
             "final_text": None, "retry": False, "last": 0,
             "status": None}
        self.c.web[cmid] = r
        while r["final"] is None:
            try:
                if self.ws is None:
                    await self.connect()
                await self.send_once(cmid, text, r)
            except (OSError, asyncio.TimeoutError,
                    websockets.WebSocketException) as e:
                if isinstance(e, asyncio.TimeoutError):
                    r["stalls"] += 1
                    self.c.note("web %s: stalled, resending" % cmid)
                await self.close()
                await asyncio.sleep(self.c.rng.uniform(0.05, 0.2))

    async def send_once(self, cmid, text, r):
        r["sends"] += 1
        r["retry"] = False
        r["status"] = None
        r["last"] = time.monotonic()
        rep = await self.call("chat.send", {"text": text,
                                            "client_msg_id": cmid},
                              timeout=STALL_S)
        if rep.get("ok"):
            r["accepted"] = True
            r["status"] = rep["result"]["status"]
        else:
            err = rep.get("error", {})
            if err.get("code") in REFUSALS:
                r["refused"] += 1
                wait = err.get("retry_after_ms", 100) / 1000.0
                await asyncio.sleep(min(wait, REFUSAL_WAIT_MAX))
                return
            if err.get("code") in ("no_session", "unknown_session",
                                   "session_expired"):
                self.c.counts["session_lost"] += 1
                self.c.note("visitor %d: %r" % (self.vid, rep))
                self.token = None
                await self.close()
                return
            raise RuntimeError("chat.send %s: %r" % (cmid, rep))
        while r["final"] is None and not r["retry"]:
            left = r["last"] + STALL_S - time.monotonic()
            if left <= 0:
                raise asyncio.TimeoutError()
            await self.recv(left)
        if r["retry"]:
            await asyncio.sleep(0.1)


def run_chaos(builddir, workdir, kills=100, visitors=8, senders=4,
              send_every=0.05, seed=None, deadline_s=3, stall_pct=0.5):
    """Start the fakes and the daemon in workdir, run, return
    (counts, chaos) after stopping everything."""
    # A killed agent leaves the fakes writing to closed sockets: noise.
    logging.getLogger("aiohttp").setLevel(logging.CRITICAL)
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    fake_oa = FakeOpenai(chunks=4, delay=0.01).start()
    fake_il = FakeIlink(longpoll_ms=1500).start()
    try:
        token_file = os.path.join(workdir, "alice.token")
        with open(token_file, "w") as f:
            f.write(fake_il.token + "\n")
        os.chmod(token_file, 0o600)
        conf = config(workdir, free_port(), fake_oa, fake_il, token_file,
                      deadline_s)
        d = Daemon(builddir, workdir, conf)
        d.start()
        ch = Chaos(d, fake_il, kills, visitors, senders, send_every, seed,
                   stall_pct)
        try:
            counts = ch.run()
        finally:
            if d.proc is not None and d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait()
        with open(os.path.join(workdir, "chaos.log"), "w") as f:
            f.write("\n".join(ch.events + ["LOST"] + ch.lost +
                              ["DOUBLED"] + ch.doubled) + "\n")
        return counts, ch
    finally:
        fake_il.stop()
        fake_oa.stop()


METRICS = ("kills", "kill_hub", "daemon_restarts", "accepted", "refused", "lost",
           "doubled", "web_accepted", "wechat_delivered", "resends",
           "stalls", "timeouts", "web_timeouts_unexpected", "wrong_text", "failed_restarts",
           "session_lost", "ilink_dups_dropped", "ilink_violations",
           "visitors_stuck", "visitor_errors", "daemon_exit_errors")


def print_metrics(counts, elapsed):
    for k in METRICS:
        print("chaos %s %d" % (k, counts.get(k, 0)))
    print("chaos elapsed %.1f s" % elapsed)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-k", "--kills", type=int, default=100)
    ap.add_argument("-v", "--visitors", type=int, default=8)
    ap.add_argument("-s", "--senders", type=int, default=4)
    ap.add_argument("--seed", type=int)
    ap.add_argument("-d", "--deadline", type=int, default=3,
                    help="webchat.deadline_s (channels: twice it)")
    ap.add_argument("--stall-pct", type=float, default=0.5,
                    help="percent of web chat messages only the deadline "
                    "answers")
    ap.add_argument("--keep", help="work in this directory and keep it")
    ap.add_argument("builddir", nargs="?",
                    default=os.path.join(REPO, "build-test"))
    a = ap.parse_args()
    workdir = a.keep or tempfile.mkdtemp(prefix="wxchaos")
    os.makedirs(workdir, exist_ok=True)
    log("chaos: work dir", workdir)
    counts, ch = run_chaos(os.path.abspath(a.builddir), workdir, a.kills,
                           a.visitors, a.senders, seed=a.seed,
                           deadline_s=a.deadline, stall_pct=a.stall_pct)
    print_metrics(counts, ch.elapsed)
    for line in ch.lost[:20] + ch.doubled[:20]:
        log(line)
    bad = counts["lost"] or counts["doubled"] or not counts["accepted"]
    if not a.keep and not bad:
        subprocess.run(["rm", "-rf", workdir])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
