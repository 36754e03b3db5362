"""
Integration tests: start the real wxgated on 127.0.0.1 and drive it over
HTTP, WebSocket and its control socket (wxgatectl).

The binaries come from $WXGATE_BUILDDIR (scripts/test.sh sets it; default
<repo>/build-test), which must be configured with --enable-test-hooks for
the misbehaviour tests.  Run with Debian's /usr/bin/python3, which has
python3-pytest and python3-websockets 10.4.

Every test gets its own daemon, state directory and port (the `gate`
fixture, or `gate_factory` for a different config).  Teardown stops the
daemon and fails the test when the daemon died on its own, did not stop
cleanly, or a sanitizer reported anything.
"""

import asyncio
import contextlib
import copy
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time

import pytest
import websockets
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILDDIR = os.environ.get("WXGATE_BUILDDIR") or os.path.join(REPO,
                                                             "build-test")
WXGATED = os.path.join(BUILDDIR, "wxgated")
WXGATECTL = os.path.join(BUILDDIR, "wxgatectl")

START_TIMEOUT = 20      # generous: ASan builds start slowly

# Flood, chaos and outage tests run in the plain pass only: under ASan
# they would measure the sanitizer, and CI's time is better spent on the
# scenarios that find memory errors.  scripts/test.sh --asan sets this.
SANITIZED = os.environ.get("WXGATE_SANITIZED") == "1"
_sanitized_skip = pytest.mark.skipif(
    SANITIZED, reason="flood, chaos and outage tests run in the plain "
    "pass only")


# Outbox rows still to deliver (delivered ones stay, state 'sent').
QUEUED = "SELECT count(*) FROM outbox WHERE state = 'queued'"


def plain_only(test):
    """Plain pass only, and "serial": scripts/test.sh runs the rest two
    at a time (pytest-xdist) and these alone, as they load the machine
    on purpose."""
    return _sanitized_skip(pytest.mark.serial(test))


def pytest_configure(config):
    config.addinivalue_line("markers", "serial: run alone, not beside "
                            "another test (flood and outage tests)")
    config.addinivalue_line("markers", "cluster: a serial test of several "
                            "nodes on PostgreSQL; two of them may run at "
                            "once (scripts/test.sh)")


def pytest_collection_modifyitems(config, items):
    """The cluster files' serial tests spend their time waiting (lease
    TTLs, a stopped database), not computing: two at once on two cores
    pass as alone, in half the time."""
    for item in items:
        if os.path.basename(str(item.fspath)).startswith("test_cluster_") \
                and item.get_closest_marker("serial") is not None:
            item.add_marker(pytest.mark.cluster)
STOP_TIMEOUT = 10


def ensure_hub_user(name="wxgate"):
    """The hub runs as a user of its own (sandbox.hub_user); a root test
    run creates it as the README's commands do."""
    import pwd
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam(name)
    except KeyError:
        # Two pytest-xdist workers may both try: the user is what counts.
        subprocess.run(["useradd", "--system", "--user-group",
                        "--no-create-home", "--shell", "/usr/sbin/nologin",
                        name], capture_output=True)
        pwd.getpwnam(name)


ensure_hub_user()
SANITIZER_MARKS = ("AddressSanitizer", "runtime error:", "LeakSanitizer")

# Replies stream in 4 pieces 150 ms apart, so one is in flight for about
# half a second: long enough to interrupt it on purpose.
BASE_CONF = {
    "log": {"level": "info"},
    "supervisor": {
        "heartbeat_ms": 200,
        # A sanitized worker starting on a loaded machine can take a
        # second before its first pong: that is not a hang.
        "heartbeat_timeout_ms": 3000 if SANITIZED else 1000,
        "restart_min_ms": 100,
        "shutdown_grace_ms": 2000,
    },
    "webchat": {"workers": 2},
    "agents": [
        {"name": "default", "type": "echo",
         "echo": {"chunks": 4, "delay_ms": 150}},
    ],
}


def deep_merge(base, over):
    """A copy of base with the mappings of over merged in (lists replace)."""
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


_ports_given = set()


def free_port():
    """A port free now and not handed out before by this process: the
    kernel may give a just-released port again, and two such calls for
    one configuration (console and web chat) once got the same one.
    Ports taken meanwhile by another process are Gate.start's to move."""
    for _ in range(1000):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port
    raise AssertionError("no fresh loopback port in 1000 tries")


def wait_for(cond, timeout=5.0, interval=0.02, what="condition"):
    """Poll cond() until it returns something true; that value is returned."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" %
                                 (timeout, what))
        time.sleep(interval)


def stop_daemon(proc, ctl, timeout=STOP_TIMEOUT, error=AssertionError):
    """wxgatectl stop through ctl (SIGTERM when that fails), then wait up
    to timeout; returns the exit code, None if proc never started.  On
    timeout the daemon is SIGKILLed and error raised.  Gate.stop() and
    tests/chaos/chaos.py's Daemon.stop() share it."""
    if proc is None or proc.poll() is not None:
        return proc.returncode if proc else None
    if ctl("stop")[0] != 0:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise error("wxgated did not stop within %ds" % timeout)


STATUS_INTS = ("PID", "RESTARTS", "IN", "OUT", "SECCOMP")


def parse_channels(text):
    """The second table of wxgatectl status: {worker name: platform
    state} for channel workers that reported one."""
    lines = text.splitlines()
    if "" not in lines:
        return {}
    rest = lines[lines.index("") + 1:]
    assert rest[0].split() == ["CHANNEL", "PLATFORM"], text
    return dict(line.split(None, 1) for line in rest[1:] if line.strip())


def parse_status(text):
    """wxgatectl status output -> {name: {...}} keyed by the lowercased
    header names (last_exit for LAST-EXIT).  LAST-EXIT may hold spaces,
    so the columns are taken from both ends of the line, around it."""
    workers = {}
    lines = text.splitlines()
    assert lines and lines[0].split()[:2] == ["NAME", "KIND"], text
    head = lines[0].split()
    assert "LAST-EXIT" in head, head
    k = head.index("LAST-EXIT")
    nright = len(head) - k - 1
    for line in lines[1:]:
        # The channels' table follows after a blank line.
        if not line.strip():
            break
        p = line.split()
        assert len(p) >= len(head), "bad status line: %r" % line
        right = p[len(p) - nright:] if nright else []
        vals = dict(zip(head[:k], p[:k]))
        vals.update(zip(head[k + 1:], right))
        vals["LAST-EXIT"] = " ".join(p[k:len(p) - nright])
        w = {}
        for col, v in vals.items():
            key = col.lower().replace("-", "_")
            w[key] = int(v) if col in STATUS_INTS else v
        workers[w["name"]] = w
    return workers


class Client:
    """One WebSocket connection speaking the chat protocol.  Replies are
    matched by id; events seen meanwhile are kept in self.events."""

    def __init__(self, ws):
        self.ws = ws
        self.events = []
        self.replies = {}
        self.next_id = 1

    @property
    def local_port(self):
        return self.ws.transport.get_extra_info("sockname")[1]

    async def _recv(self, timeout):
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        assert isinstance(raw, str), "server sent a binary frame"
        msg = json.loads(raw)
        if "event" in msg:
            self.events.append(msg)
        else:
            self.replies[json.dumps(msg.get("id"))] = msg
        return msg

    async def send_raw(self, data):
        await self.ws.send(data)

    async def reply(self, req_id, timeout=5.0):
        """The reply with this id (None for errors without an id)."""
        key = json.dumps(req_id)
        deadline = time.monotonic() + timeout
        while key not in self.replies:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no reply to id %r" % (req_id,))
            await self._recv(left)
        return self.replies.pop(key)

    async def call(self, method, params=None, timeout=5.0):
        req_id = self.next_id
        self.next_id += 1
        req = {"id": req_id, "method": method}
        if params is not None:
            req["params"] = params
        await self.ws.send(json.dumps(req))
        return await self.reply(req_id, timeout)

    async def ok(self, method, params=None, timeout=5.0):
        r = await self.call(method, params, timeout)
        assert r.get("ok") is True, "%s failed: %r" % (method, r)
        return r["result"]

    async def open(self):
        # busy (a cluster's store not reachable yet, or behind) is sent
        # again later, as the page does.
        for _ in range(50):
            r = await self.call("session.open", {})
            err = r.get("error") or {}
            if r.get("ok") is not False or err.get("code") != "busy":
                break
            await asyncio.sleep(min(err.get("retry_after_ms", 100),
                                    1000) / 1000.0)
        assert r.get("ok") is True, "session.open failed: %r" % (r,)
        res = r["result"]
        assert isinstance(res.get("token"), str) and res["token"]
        return res["token"]

    async def resume(self, token):
        return await self.ok("session.resume", {"token": token})

    def dones(self, cmid):
        return [e for e in self.events
                if e.get("event") == "chat.done" and
                e.get("client_msg_id") == cmid]

    def deltas(self, cmid):
        return [e for e in self.events
                if e.get("event") == "chat.delta" and
                e.get("client_msg_id") == cmid]

    async def wait_event(self, pred, timeout=5.0, what="event"):
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events:
                if pred(e):
                    return e
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %s; events %r"
                                     % (what, self.events))
            await self._recv(left)

    async def wait_done(self, cmid, timeout=10.0):
        return await self.wait_event(
            lambda e: e.get("event") == "chat.done" and
            e.get("client_msg_id") == cmid, timeout, "chat.done " + cmid)

    async def wait_delta(self, cmid, timeout=5.0):
        return await self.wait_event(
            lambda e: e.get("event") == "chat.delta" and
            e.get("client_msg_id") == cmid, timeout, "chat.delta " + cmid)

    async def send(self, text, cmid, timeout=5.0):
        return await self.ok("chat.send",
                             {"text": text, "client_msg_id": cmid}, timeout)

    async def chat(self, text, cmid, timeout=10.0):
        """Send and wait for the whole reply; returns (status, done)."""
        res = await self.send(text, cmid)
        assert res["client_msg_id"] == cmid
        done = await self.wait_done(cmid, timeout)
        return res["status"], done

    async def drain(self, timeout=0.5):
        """Read what arrives within timeout; stop quietly on close."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                await self._recv(left)
        except (asyncio.TimeoutError, websockets.ConnectionClosed):
            return

    async def read_until_closed(self, timeout=5.0):
        """Read everything until the server closes; returns the close code.
        Fails when the connection stays open past timeout."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("connection still open")
                await self._recv(left)
        except websockets.ConnectionClosed as e:
            return e.rcvd.code if e.rcvd is not None else None
        except asyncio.TimeoutError:
            raise AssertionError("connection still open")


class Gate:
    """One wxgated under test."""

    # What runs it: a subclass may start it under a wrapper (setpriv).
    prefix = []

    def __init__(self, tmp_path, overrides=None):
        self.dir = str(tmp_path)
        self.state_dir = os.path.join(self.dir, "run")
        self.port = free_port()
        self.conf_path = os.path.join(self.dir, "wxgate.yaml")
        self.log_path = os.path.join(self.dir, "wxgated.log")
        control = os.path.join(self.state_dir, "control.sock")
        self._short_dir = None
        if len(control) > 100:      # sun_path holds 107 bytes
            self._short_dir = tempfile.mkdtemp(prefix="wxit")
            control = os.path.join(self._short_dir, "control.sock")
        self.sock = control
        base = deep_merge(BASE_CONF, {
            "state_dir": self.state_dir,
            "control": self.sock,
            "webchat": {"listen": "127.0.0.1:%d" % self.port},
        })
        self.conf = deep_merge(base, overrides)
        self.proc = None
        self.logf = None
        self.stopped_by_test = False
        # Only the sandbox tests make workers break their profile.
        self.allow_seccomp_kills = False

    # -- lifecycle ---------------------------------------------------

    def write_conf(self, conf=None, raw=None):
        with open(self.conf_path, "w") as f:
            if raw is not None:
                f.write(raw)
            else:
                yaml.safe_dump(conf if conf is not None else self.conf, f,
                               default_flow_style=False, sort_keys=False)

    def start(self):
        # free_port() closes the port it found: another test's daemon or
        # fake may take it before ours binds.  Then ours, refused, tries
        # again with that address (the web chat's, the console's, a
        # relay agent's, wherever the config names it) on another port;
        # tests read their ports back from self.conf.  That wxgated
        # refuses a taken port at all is test_chat.py's
        # test_a_taken_port_stops_the_start.
        for _ in range(3):
            try:
                return self._start()
            except AssertionError:
                taken = set(int(p) for p in re.findall(
                    r"listen 127\.0\.0\.1:(\d+): Address already in use",
                    self.log()))
                if self.proc is None or self.proc.poll() is None or \
                        not taken or not all(
                            self.moved_port(p) for p in taken):
                    raise
                self.logf.close()
        return self._start()

    def moved_port(self, old):
        """Every 127.0.0.1:old of the config on a new port: 1 if any."""
        new = free_port()
        was, now = "127.0.0.1:%d" % old, "127.0.0.1:%d" % new

        def walk(v):
            if isinstance(v, dict):
                return {k: walk(x) for k, x in v.items()}
            if isinstance(v, list):
                return [walk(x) for x in v]
            return now if v == was else v
        conf = walk(self.conf)
        if conf == self.conf:
            return 0
        self.conf.clear()
        self.conf.update(conf)
        if self.port == old:
            self.port = new
        return 1

    def _start(self):
        assert os.access(WXGATED, os.X_OK), \
            "%s missing: build it first (WXGATE_BUILDDIR)" % WXGATED
        self.write_conf()
        # Sanitizer builds keep the workers' stderr (sandbox/fds.c), so
        # every process's reports land in this log.  No log_path: a
        # sandboxed worker could not open the file.
        env = dict(os.environ)
        self.logf = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.prefix +
                                     [WXGATED, "-f", self.conf_path],
                                     cwd=self.dir, env=env,
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf)
        deadline = time.monotonic() + START_TIMEOUT

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("wxgated exited with %d:\n%s" %
                                     (self.proc.returncode, self.log()))
            try:
                if self.http_get("/healthz", timeout=1)[0] != 200:
                    return False
            except OSError:
                return False
            return self.all_running()

        wait_for(up, max(1, deadline - time.monotonic()), 0.05,
                 "wxgated to start")
        return self

    def all_running(self, names=None):
        try:
            st = self.status()
        except AssertionError:
            return False
        if names is not None and set(st) != set(names):
            return False
        if not st or not all(w["state"] == "running" and w["pid"] > 0
                             for w in st.values()):
            return False
        return st

    def stop(self):
        """wxgatectl stop, then wait; returns the daemon's exit code."""
        return stop_daemon(self.proc, self.ctl)

    def kill(self):
        """SIGKILL the supervisor, as a crash would, and wait until its
        workers are gone too (they die by PR_SET_PDEATHSIG); start()
        brings it back on the same state directory."""
        pids = [w["pid"] for w in self.status().values() if w["pid"] > 0]
        self.proc.kill()
        self.proc.wait()
        wait_for(lambda: not any(os.path.exists("/proc/%d" % p)
                                 for p in pids), 10, 0.05,
                 "the workers to die with their parent")

    def teardown(self):
        problems = []
        try:
            if self.proc is not None:
                if self.proc.poll() is not None and \
                        not self.stopped_by_test:
                    problems.append("wxgated died during the test (%d)" %
                                    self.proc.returncode)
                else:
                    try:
                        rc = self.stop()
                        if rc != 0 and not self.stopped_by_test:
                            problems.append("wxgated exited with %s" % rc)
                    except AssertionError as e:
                        problems.append(str(e))
        finally:
            if self.logf is not None:
                self.logf.close()
            if self._short_dir is not None:
                shutil.rmtree(self._short_dir, ignore_errors=True)
        text = self.log()
        for mark in SANITIZER_MARKS:
            if mark in text:
                problems.append("sanitizer report (%s)" % mark)
                break
        # No scenario here makes a worker break its seccomp profile.
        if "killed by seccomp" in text and not self.allow_seccomp_kills:
            problems.append("a worker was killed by seccomp")
        if problems:
            pytest.fail("; ".join(problems) + "\n--- log ---\n" + text[-20000:],
                        pytrace=False)

    # -- helpers -----------------------------------------------------

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, needle, timeout=5.0, start=0):
        """Wait until needle appears in the log after offset start."""
        return wait_for(lambda: needle in self.log()[start:], timeout,
                        0.02, "log line %r" % needle)

    def ctl(self, *args, sock=None, timeout=10):
        p = subprocess.run([WXGATECTL, "-s", sock or self.sock] +
                           [str(a) for a in args],
                           capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def status(self):
        rc, out, err = self.ctl("status")
        assert rc == 0, "wxgatectl status: rc %d: %s" % (rc, err)
        return parse_status(out)

    def rows(self, sql, args=()):
        """The store's rows for sql, read-only beside the running daemon."""
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(
            self.state_dir, "wxgate.db"), uri=True, timeout=5)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    @contextlib.contextmanager
    def store_rw(self, timeout=5.0):
        """The store, read-write beside the running daemon, as someone
        with the disk could change it: one transaction, committed when
        the block ends (rolled back if it raises).

        BEGIN IMMEDIATE takes the write lock first, waiting up to timeout
        for it.  The daemon holds that lock from a turn's first write to
        its group commit, and a console write answers before that commit:
        so what the block reads is what the daemon committed, not a
        snapshot from before it, and nothing it writes lands between the
        daemon's read and its write.  Keep the block short: the daemon's
        own BEGIN waits only STORE_BUSY_MS (2 s) for the lock."""
        db = sqlite3.connect(os.path.join(self.state_dir, "wxgate.db"),
                             timeout=timeout, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    def channels(self):
        """wxgatectl status's channel table: {worker: platform state}."""
        rc, out, err = self.ctl("status")
        assert rc == 0, "wxgatectl status: rc %d: %s" % (rc, err)
        return parse_channels(out)

    def stats(self):
        """wxgatectl stats as {name: int}."""
        rc, out, err = self.ctl("stats")
        assert rc == 0, "wxgatectl stats: rc %d: %s" % (rc, err)
        return {k: int(v) for k, v in
                (line.split() for line in out.splitlines() if line.strip())}

    def worker(self, name):
        return self.status().get(name)

    def reload(self, conf=None, raw=None, timeout=5.0):
        """Rewrite the config (a dict, or raw text) and send SIGHUP; wait
        until wxgated says it applied or refused it.  Returns True when
        it was applied."""
        if conf is not None:
            self.conf = copy.deepcopy(conf)
        start = len(self.log())
        self.write_conf(conf, raw)
        self.proc.send_signal(signal.SIGHUP)

        def done():
            tail = self.log()[start:]
            if "configuration %s applied" % self.conf_path in tail:
                return "applied"
            if "keeping the running configuration" in tail:
                return "refused"
            return None

        return wait_for(done, timeout, 0.02, "reload") == "applied"

    def http_get(self, path, timeout=5):
        c = http.client.HTTPConnection("127.0.0.1", self.port,
                                       timeout=timeout)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    @property
    def ws_url(self):
        return "ws://127.0.0.1:%d/ws" % self.port

    @contextlib.asynccontextmanager
    async def client(self, **kw):
        kw.setdefault("open_timeout", 10)
        kw.setdefault("close_timeout", 2)
        kw.setdefault("ping_interval", None)
        kw.setdefault("max_size", 4 * 1024 * 1024)
        ws = await websockets.connect(self.ws_url, **kw)
        try:
            yield Client(ws)
        finally:
            with contextlib.suppress(Exception):
                await ws.close()

    async def connect(self, **kw):
        """A Client the caller closes (await c.ws.close())."""
        kw.setdefault("open_timeout", 10)
        kw.setdefault("close_timeout", 2)
        kw.setdefault("ping_interval", None)
        kw.setdefault("max_size", 4 * 1024 * 1024)
        return Client(await websockets.connect(self.ws_url, **kw))

    def conn_owner(self, client_port):
        """PID of the webchat worker holding the server end of the
        connection whose client side is 127.0.0.1:client_port, found by
        socket inode (/proc/net/tcp) among the workers' fds."""
        inode = None
        want_local = ("%04X" % self.port)
        want_rem = ("%04X" % client_port)
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    next(f)
                    for line in f:
                        p = line.split()
                        if p[1].rsplit(":", 1)[1] == want_local and \
                                p[2].rsplit(":", 1)[1] == want_rem and \
                                p[9] != "0":
                            inode = p[9]
            except FileNotFoundError:
                continue
        assert inode is not None, \
            "no server socket for client port %d" % client_port
        target = "socket:[%s]" % inode
        for w in self.status().values():
            if w["kind"] != "webchat" or w["pid"] <= 0:
                continue
            fddir = "/proc/%d/fd" % w["pid"]
            for fd in os.listdir(fddir):
                try:
                    if os.readlink(os.path.join(fddir, fd)) == target:
                        return w["pid"], w["name"]
                except OSError:
                    continue
        raise AssertionError("no webchat worker holds %s" % target)

    async def client_on(self, name, tries=100):
        """Connect until a connection lands on worker `name`; returns the
        Client (caller closes it).  Others are closed."""
        extra = []
        try:
            for _ in range(tries):
                c = await self.connect()
                if self.conn_owner(c.local_port)[1] == name:
                    return c
                extra.append(c)
            raise AssertionError("no connection landed on %s" % name)
        finally:
            for c in extra:
                with contextlib.suppress(Exception):
                    await c.ws.close()


@pytest.fixture
def gate_factory(tmp_path):
    """gate_factory(overrides) starts a wxgated with BASE_CONF merged with
    overrides; all are stopped and checked at teardown."""
    gates = []

    def make(overrides=None, sub=None, cls=None):
        d = tmp_path if sub is None else tmp_path / sub
        d.mkdir(parents=True, exist_ok=True)
        g = (cls or Gate)(d, overrides)
        gates.append(g)
        return g.start()

    yield make
    errors = []
    for g in gates:
        try:
            g.teardown()
        except BaseException as e:      # pytest.fail raises Failed
            errors.append(e)
    if errors:
        raise errors[0]


@pytest.fixture
def gate(gate_factory):
    return gate_factory()


def run(coro):
    """Run one scenario coroutine to completion (no pytest-asyncio)."""
    return asyncio.run(coro)


# -- helpers for the policy tests (test_policy_*.py) ---------------------

def audit_rows(gate, where="1", args=()):
    """Rows of the audit table as dicts, read from the store file (WAL;
    the supervisor commits once per loop turn)."""
    import sqlite3
    path = os.path.join(gate.state_dir, "wxgate.db")
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
    try:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(
            "SELECT * FROM audit WHERE %s ORDER BY id" % where, args)]
    finally:
        db.close()


def ctl_link(gate, url_re, *args):
    """`wxgatectl ARGS` that answers with a link (share create, bind
    create): its first line matches url_re, whose group 1 is this gate's
    port, and a QR code drawn with half blocks follows.  The match."""
    rc, out, err = gate.ctl(*args)
    assert rc == 0, "%s: rc %d: %s" % (" ".join(args[:2]), rc, err)
    lines = out.splitlines()
    m = url_re.match(lines[0])
    assert m, "no URL in %r" % out
    assert int(m.group(1)) == gate.port
    assert len(lines) > 10 and any("\u2588" in ln for ln in lines[1:])
    return m


def check_config(conf):
    """Run `wxgated -n` on conf (a dict); returns (rc, stdout+stderr)."""
    with tempfile.TemporaryDirectory(prefix="wxcfg") as d:
        path = os.path.join(d, "wxgate.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(deep_merge(BASE_CONF, conf), f)
        p = subprocess.run([WXGATED, "-n", "-f", path], capture_output=True,
                           text=True, timeout=20)
        return p.returncode, p.stdout + p.stderr
