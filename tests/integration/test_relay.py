"""Relay agents (issue #19): a relay dials in to the agent's own listener
over WebSocket, says hello with a pairing token the operator made with
`wxgatectl relay token create`, and answers the agent's requests.

Checked here with a relay written in Python (pyrelay.py): tokens are
shown once and stored hashed, a revoked one is refused and its live
relays closed; no relay means agent_offline at once for the web chat and
a durable wait for a WeChat message (fake iLink), answered once a relay
comes; a relay lost mid-reply gives the request to another, answered
exactly once; two relays share the load; a relay that sends a frame for
a request it was not given, or an oversized frame, is disconnected; the
relay worker is sandboxed; an address with five failed hellos in a
minute is turned away.  wxgate-relay, the C client, is tested at the end
of the file against a fake OpenAI server (web chat and WeChat, SIGKILL
mid-reply, two of them, a revoked token, wss:// through a TLS proxy with
the certificate verified) and with a command backend."""

import asyncio
import os
import re
import sqlite3

import pytest

from conftest import free_port, run, wait_for
from pyrelay import PyRelay
from test_sandbox import ROOT, kill_with_each, proc_status

AGENT = "agent.default"


def relay_conf(port, **over):
    a = {"name": "default", "type": "relay",
         "relay": {"listen": "127.0.0.1:%d" % port}}
    a.update(over)
    return {"agents": [a], "supervisor": {"restart_max_ms": 400}}


def relay_url(gate, agent="default"):
    """Where the agent's relays connect, as the started gate has it (a
    taken port moves: conftest's Gate.start)."""
    (a,) = [a for a in gate.conf["agents"] if a["name"] == agent]
    return "ws://%s/relay" % a["relay"]["listen"]


def start(gate_factory, extra=None):
    conf = relay_conf(free_port())
    if extra:
        conf.update(extra)
    gate = gate_factory(conf)
    gate.relay_url = relay_url(gate)
    return gate


def token(gate, agent="default"):
    rc, out, err = gate.ctl("relay", "token", "create", agent)
    assert rc == 0, (rc, out, err)
    tok = out.strip()
    assert re.fullmatch(r"wxr_[A-Za-z0-9_-]{43}", tok), out
    return tok


def relay(gate, tok, **kw):
    return PyRelay(gate.relay_url, tok, **kw).start()


def test_tokens_shown_once_stored_hashed_and_revocable(gate_factory):
    gate = start(gate_factory)
    tok = token(gate)
    tok2 = token(gate)
    assert tok != tok2
    rc, out, err = gate.ctl("relay", "token", "list")
    assert rc == 0, err
    rows = out.strip().splitlines()[1:]
    assert len(rows) == 2 and all(" default " in r for r in rows), out
    assert tok not in out and tok2 not in out
    # Only hashes in the store; the token is in no file of the state dir.
    rows = gate.rows("SELECT agent, length(hash) FROM relay_tokens")
    assert rows == [("default", 32), ("default", 32)], rows
    for root, _, files in os.walk(gate.state_dir):
        for f in files:
            p = os.path.join(root, f)
            if os.path.isfile(p):
                with open(p, "rb") as fh:
                    assert tok.encode() not in fh.read(), p
    assert tok not in gate.log()
    # No such agent, no such token: refused.
    rc, out, err = gate.ctl("relay", "token", "create", "nosuch")
    assert rc == 1 and "no relay agent" in err, (rc, out, err)
    rc, out, err = gate.ctl("relay", "token", "revoke", "99")
    assert rc == 1 and "no such token" in err, (rc, out, err)
    # A live relay on the revoked token is closed; a new hello refused.
    r = relay(gate, tok).wait_ready()
    rc, out, err = gate.ctl("relay", "token", "revoke", "1")
    assert rc == 0, err
    assert r.closed.wait(10), "the revoked token's relay stays connected"
    gate.wait_log("token revoked")
    r2 = relay(gate, tok)
    assert r2.closed.wait(10)
    assert r2.refused and r2.welcome is None and r2.close_code == 1008, \
        (r2.refused, r2.welcome, r2.close_code)
    gate.wait_log("relay refused: revoked token")
    rc, out, err = gate.ctl("relay", "token", "list")
    assert out.strip().splitlines()[1].split()[-1] != "-", out
    # The other token still works; junk is refused.
    relay(gate, tok2).wait_ready().close()
    r3 = relay(gate, "wxr_" + "A" * 43)
    assert r3.closed.wait(10) and r3.refused
    gate.wait_log("relay refused: unknown token")


def test_failed_hellos_turn_an_address_away(gate_factory):
    gate = start(gate_factory)
    tok = token(gate)
    for i in range(5):
        r = relay(gate, "wxr_" + "B" * 43)
        assert r.closed.wait(10) and r.refused, i
    # The sixth try from 127.0.0.1, good token or not, is not heard.
    r = relay(gate, tok)
    assert r.closed.wait(10)
    assert r.turned_away and r.welcome is None and not r.refused
    # The agent worker's lines reach the log through the hub, after the
    # relay already saw its socket close.
    wait_for(lambda: gate.log().count("relay refused: unknown token") >= 5,
             10, 0.05, "five refusals logged")
    assert gate.log().count("relay refused: unknown token") == 5


def test_web_chat_offline_then_answered_by_a_relay(gate_factory):
    gate = start(gate_factory)
    tok = token(gate)

    async def offline():
        async with gate.client() as c:
            await c.open()
            await c.send("anyone there?", "w-1")
            e = await c.wait_event(lambda e: e.get("event") ==
                                   "chat.error", 5, "chat.error")
            assert e["code"] == "agent_offline", e
    run(offline())
    r = relay(gate, tok).wait_ready()

    async def online():
        async with gate.client() as c:
            await c.open()
            status, done = await c.chat("hello relay", "w-2")
            assert done["text"] == "relay: hello relay", done
            deltas = c.deltas("w-2")
            assert len(deltas) >= 2
            assert "".join(d["text"] for d in deltas) == done["text"]
    run(online())
    assert len(r.requests) == 1
    req = r.requests[0]
    assert req["messages"][-1] == {"role": "user",
                                   "content": "hello relay"}, req
    r.close()


def test_relay_lost_mid_reply_answered_exactly_once(gate_factory):
    gate = start(gate_factory)
    tok = token(gate)
    dying = relay(gate, tok, die_after=1, delay=0.2).wait_ready()

    async def go():
        async with gate.client() as c:
            await c.open()
            await c.send("survive this", "k-1")
            await c.wait_delta("k-1", 10)
            # The relay is gone mid-reply; the request waits for another.
            assert dying.closed.wait(10)
            ok = relay(gate, tok, name="second").wait_ready()
            done = await c.wait_done("k-1", 15)
            assert done["text"] == "relay: survive this", done
            await c.drain(0.5)
            assert len(c.dones("k-1")) == 1
            assert len(ok.requests) == 1
            ok.close()
    run(go())
    gate.wait_log("redelivered")
    rows = gate.rows("SELECT reply FROM messages WHERE client_msg_id = "
                     "'k-1'")
    assert rows == [("relay: survive this",)], rows


def test_two_relays_share_and_one_dies_without_loss(gate_factory):
    gate = start(gate_factory)
    tok = token(gate)
    a = relay(gate, tok, name="a").wait_ready()
    b = relay(gate, tok, name="b").wait_ready()

    async def go():
        async with gate.client() as c:
            await c.open()
            for i in range(6):
                _, done = await c.chat("n%d" % i, "s-%d" % i)
                assert done["text"] == "relay: n%d" % i
            assert len(a.requests) > 0 and len(b.requests) > 0, \
                (len(a.requests), len(b.requests))
            assert len(a.requests) + len(b.requests) == 6
            # a dies with requests of its own; b answers them all.
            a.stall = True
            b.delay = 0.05
            for i in range(6, 10):
                await c.send("n%d" % i, "s-%d" % i)
            wait_for(lambda: len(a.requests) > 3, 10, 0.05,
                     "a to hold requests")
            a.kill()
            for i in range(6, 10):
                done = await c.wait_done("s-%d" % i, 15)
                assert done["text"] == "relay: n%d" % i, done
            await c.drain(0.5)
            for i in range(10):
                assert len(c.dones("s-%d" % i)) == 1, i
    run(go())
    b.close()


def test_wechat_waits_for_a_relay(gate_factory, tmp_path):
    from fake_ilink import FakeIlink
    from test_channel_wechat import channel, sent_to, wait_sent
    fake = FakeIlink(longpoll_ms=1500).start()
    try:
        friend = "friend_0002@im.wechat"
        gate = start(gate_factory, {"channels": [
            channel(fake, tmp_path, allow_from=[friend],
                    dm_policy="allowlist")]})
        tok = token(gate)
        fake.inject(friend, "are you home?")
        # No relay: the message waits, stored, and nothing is sent.
        wait_for(lambda: "agent_offline" in gate.log() or
                 gate.rows("SELECT count(*) FROM messages WHERE "
                           "account = 'alice' AND state = 1")[0][0] == 1,
                 10, 0.1, "the message to wait")
        import time
        time.sleep(1.0)
        assert sent_to(fake, friend) == []
        r = relay(gate, tok).wait_ready()
        s = wait_sent(fake, friend, 1, 15)
        assert s[0]["text"] == "relay: are you home?", s
        time.sleep(0.5)
        assert len(sent_to(fake, friend)) == 1
        assert len(r.requests) == 1
        r.close()
    finally:
        fake.stop()


def test_misbehaving_relays_are_disconnected(gate_factory):
    gate = start(gate_factory)
    tok = token(gate)
    r = relay(gate, tok).wait_ready()
    r.send({"type": "delta", "id": 12345, "text": "not yours"})
    assert r.closed.wait(10)
    gate.wait_log("a frame for a request it was not given")
    r = relay(gate, tok).wait_ready()
    r.send({"type": "delta", "id": 1, "text": "x" * (200 * 1024)})
    assert r.closed.wait(10)
    assert r.close_code == 1009, r.close_code
    gate.wait_log("oversized frame")
    r = relay(gate, tok).wait_ready()
    r.send({"type": "done", "id": 1, "extra": True})
    assert r.closed.wait(10)
    gate.wait_log("bad frame: unknown or missing key")
    # A relay that floods one answer: the request fails, the relay goes.
    r = relay(gate, tok, stall=True).wait_ready()

    async def flood():
        async with gate.client() as c:
            await c.open()
            await c.send("flood me", "f-1")
            wait_for(lambda: r.requests, 10, 0.05, "the request")
            rid = r.requests[0]["id"]
            for _ in range(3):
                r.send({"type": "delta", "id": rid, "text": "y" * 60000})
            e = await c.wait_event(lambda e: e.get("event") ==
                                   "chat.error", 10, "chat.error")
            assert e["code"] == "agent_failed", e
    run(flood())
    assert r.closed.wait(10)
    gate.wait_log("floods deltas")
    # The worker is still serving, with a fresh relay.
    relay(gate, tok).wait_ready().close()
    assert gate.worker(AGENT)["state"] == "running"


def test_relay_worker_is_sandboxed(gate_factory):
    gate = start(gate_factory)
    w = gate.worker(AGENT)
    ps = proc_status(w["pid"])
    assert ps["Seccomp"] == "2" and ps["NoNewPrivs"] == "1", ps
    if ROOT:
        assert all(u != "0" for u in ps["Uid"].split()), ps["Uid"]
    kill_with_each(gate, AGENT, dials=False)
    # Back on the same socket: a relay connects and is answered.
    tok = token(gate)
    relay(gate, tok).wait_ready().close()


# -- wxgate-relay, the C client ---------------------------------------

import json
import signal
import subprocess
import time

from conftest import BUILDDIR
from fake_openai import Fake

WXGATE_RELAY = os.path.join(BUILDDIR, "wxgate-relay")


class CRelay:
    """One wxgate-relay process bridging to a fake OpenAI server."""

    def __init__(self, gate, tok, fake, tmp_path, name, ca=None,
                 backend=None, user=None, e2e=None):
        import pathlib
        import tempfile
        self.user = user if ROOT else None
        if self.user is not None:
            # Not under pytest's root-only tmp: the user must reach it.
            self.dir = pathlib.Path(tempfile.mkdtemp(prefix="wxrelay-"))
            os.chown(self.dir, self.user, self.user)
        else:
            self.dir = tmp_path / ("relay-" + name)
            self.dir.mkdir(exist_ok=True)
        tf = self.dir / "token"
        tf.write_text(tok + "\n")
        os.chmod(tf, 0o600)
        self.conf = self.dir / "relay.json"
        conf = {"server": gate.relay_url, "token_file": str(tf),
                "backend": {"type": "openai", "url": fake.url if fake else "",
                            "model": "fake-1", "timeout_s": 5}}
        if ca is not None:
            conf["ca_file"] = ca
        if backend is not None:
            conf["backend"] = backend
        secrets = [tf]
        if e2e is not None:
            # The passphrase of sealed console threads (test_e2e.py).
            pf = self.dir / "passphrase"
            pf.write_text(e2e + "\n")
            os.chmod(pf, 0o600)
            conf["e2e"] = {"passphrase_file": str(pf)}
            secrets.append(pf)
        self.conf.write_text(json.dumps(conf))
        self.log_path = self.dir / "relay.log"
        if self.user is not None:
            for f in secrets + [self.conf]:
                os.chown(f, self.user, self.user)
        self.proc = None
        self.start()

    def start(self):
        self.logf = open(self.log_path, "ab")
        kw = {}
        if self.user is not None:
            kw = {"user": self.user, "group": self.user,
                  "extra_groups": []}
        self.proc = subprocess.Popen([WXGATE_RELAY, "-f", str(self.conf)],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf,
                                     **kw)
        return self

    def log(self):
        return self.log_path.read_text(errors="replace")

    def welcomed(self, n=1, timeout=10):
        wait_for(lambda: self.log().count("welcomed by") >= n, timeout,
                 0.05, "wxgate-relay to be welcomed")
        return self

    def requests(self):
        return len(re.findall(r"wxgate-relay.*: request \d+", self.log()))

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)
        self.logf.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            assert self.proc.wait(5) == 0
            self.logf.close()


@pytest.fixture
def crelays():
    made = []
    yield made
    for r in made:
        if r.proc.poll() is None:
            r.proc.kill()
            r.proc.wait()
    # A sanitizer build's reports land in each relay's own log.
    import shutil
    for r in made:
        text = r.log()
        if r.user is not None:
            shutil.rmtree(r.dir, ignore_errors=True)
        assert "Sanitizer" not in text and "runtime error" not in text, \
            text[-5000:]


def crelay(gate, tok, fake, tmp_path, crelays, name="c"):
    r = CRelay(gate, tok, fake, tmp_path, name)
    crelays.append(r)
    return r


def test_wxgate_relay_answers_web_chat_and_wechat(gate_factory, tmp_path,
                                                   crelays):
    from fake_ilink import FakeIlink
    from test_channel_wechat import channel, sent_to, wait_sent
    fake = Fake(chunks=4, delay=0.02).start()
    ilink = FakeIlink(longpoll_ms=1500).start()
    try:
        friend = "friend_0002@im.wechat"
        gate = start(gate_factory, {"channels": [
            channel(ilink, tmp_path, allow_from=[friend],
                    dm_policy="allowlist")]})
        tok = token(gate)
        r = crelay(gate, tok, fake, tmp_path, crelays).welcomed()
        # The token never reaches its log or its argv.
        assert tok not in r.log()

        async def go():
            async with gate.client() as c:
                await c.open()
                _, done = await c.chat("from the browser", "c-1")
                assert done["text"] == "echo: from the browser", done
                assert len(c.deltas("c-1")) >= 2
        run(go())
        ilink.inject(friend, "from wechat")
        s = wait_sent(ilink, friend, 1, 15)
        assert s[0]["text"] == "echo: from wechat", s
        time.sleep(0.5)
        assert len(sent_to(ilink, friend)) == 1
        assert len(fake.requests) == 2
        assert fake.requests[0]["stream"] is True
        assert fake.requests[0]["messages"][-1] == {
            "role": "user", "content": "from the browser"}
        assert r.requests() == 2
        r.stop()
    finally:
        ilink.stop()
        fake.stop()


def test_wxgate_relay_killed_mid_reply_answers_once(gate_factory, tmp_path,
                                                     crelays):
    fake = Fake(chunks=8, delay=0.4).start()
    try:
        gate = start(gate_factory)
        tok = token(gate)
        r = crelay(gate, tok, fake, tmp_path, crelays).welcomed()

        async def go():
            async with gate.client() as c:
                await c.open()
                await c.send("long answer please", "k-1")
                await c.wait_delta("k-1", 10)
                r.kill()
                r.start()
                done = await c.wait_done("k-1", 30)
                assert done["text"] == "echo: long answer please", done
                await c.drain(1.0)
                assert len(c.dones("k-1")) == 1
        run(go())
        rows = gate.rows("SELECT reply FROM messages WHERE "
                         "client_msg_id = 'k-1'")
        assert rows == [("echo: long answer please",)], rows
        # The fake saw the first try cut off and the second run whole.
        assert len(fake.requests) == 2, len(fake.requests)
        assert r.log().count("welcomed by") == 2
    finally:
        fake.stop()


def test_two_wxgate_relays_share_and_one_dies(gate_factory, tmp_path,
                                              crelays):
    fake = Fake(chunks=4, delay=0.05).start()
    try:
        gate = start(gate_factory)
        tok = token(gate)
        a = crelay(gate, tok, fake, tmp_path, crelays, "a").welcomed()
        b = crelay(gate, tok, fake, tmp_path, crelays, "b").welcomed()

        async def go():
            async with gate.client() as c:
                await c.open()
                for i in range(6):
                    _, done = await c.chat("n%d" % i, "s-%d" % i)
                    assert done["text"] == "echo: n%d" % i
                assert a.requests() > 0 and b.requests() > 0, \
                    (a.requests(), b.requests())
                assert a.requests() + b.requests() == 6
                fake.delay = 0.5
                for i in range(6, 10):
                    await c.send("n%d" % i, "s-%d" % i)
                wait_for(lambda: a.requests() + b.requests() == 10, 10,
                         0.05, "the requests to be shared")
                assert a.requests() > 3
                a.kill()
                for i in range(6, 10):
                    done = await c.wait_done("s-%d" % i, 30)
                    assert done["text"] == "echo: n%d" % i, done
                await c.drain(0.5)
                for i in range(10):
                    assert len(c.dones("s-%d" % i)) == 1, i
        run(go())
        b.stop()
    finally:
        fake.stop()


def test_wxgate_relay_with_a_revoked_token_is_refused(gate_factory,
                                                      tmp_path, crelays):
    fake = Fake().start()
    try:
        gate = start(gate_factory)
        tok = token(gate)
        rc, out, err = gate.ctl("relay", "token", "revoke", "1")
        assert rc == 0, err
        r = crelay(gate, tok, fake, tmp_path, crelays)
        wait_for(lambda: "the server refused the token" in r.log(), 10,
                 0.05, "the refusal")
        assert "welcomed by" not in r.log()
        gate.wait_log("relay refused: revoked token")
        r.stop()
        assert fake.requests == []
    finally:
        fake.stop()


class TlsProxy:
    """A TLS terminator on 127.0.0.1 in front of the relay listener, as
    the README has nginx do: wss:// outside, ws:// to wxgated."""

    def __init__(self, cert, key, to_port):
        import ssl
        import threading
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.to_port = to_port
        self.port = free_port()
        self.ready = threading.Event()
        self.loop = None
        threading.Thread(target=lambda: asyncio.run(self._main()),
                         daemon=True).start()
        assert self.ready.wait(5)

    async def _pipe(self, r, w):
        try:
            while True:
                b = await r.read(65536)
                if not b:
                    break
                w.write(b)
                await w.drain()
        except (OSError, ConnectionError):
            pass
        finally:
            w.close()

    async def _conn(self, r, w):
        try:
            ur, uw = await asyncio.open_connection("127.0.0.1",
                                                   self.to_port)
        except OSError:
            w.close()
            return
        await asyncio.gather(self._pipe(r, uw), self._pipe(ur, w))

    async def _main(self):
        self.loop = asyncio.get_running_loop()
        self.stop_ev = asyncio.Event()
        srv = await asyncio.start_server(self._conn, "127.0.0.1",
                                         self.port, ssl=self.ctx)
        self.ready.set()
        async with srv:
            await self.stop_ev.wait()

    def stop(self):
        self.loop.call_soon_threadsafe(self.stop_ev.set)


def test_wxgate_relay_over_wss_verifies_the_server(gate_factory, tmp_path,
                                                   crelays):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    fake = Fake().start()
    gate = start(gate_factory)
    proxy = TlsProxy(str(cert), str(key),
                     int(gate.relay_url.rsplit(":", 1)[1].split("/")[0]))
    try:
        tok = token(gate)
        gate.relay_url = "wss://localhost:%d/relay" % proxy.port
        # The system's CAs do not vouch for this certificate: no hello.
        bad = crelay(gate, tok, fake, tmp_path, crelays, "untrusting")
        wait_for(lambda: "TLS:" in bad.log(), 10, 0.05, "a TLS refusal")
        assert "welcomed by" not in bad.log()
        bad.stop()
        # With the certificate as its CA file it is welcomed and serves.
        good = CRelay(gate, tok, fake, tmp_path, "trusting", ca=str(cert))
        crelays.append(good)
        good.welcomed()

        async def go():
            async with gate.client() as c:
                await c.open()
                _, done = await c.chat("over tls", "t-1")
                assert done["text"] == "echo: over tls", done
        run(go())
        good.stop()
    finally:
        proxy.stop()
        fake.stop()


def test_wxgate_relay_with_a_command_backend(gate_factory, tmp_path,
                                             crelays):
    from conftest import REPO
    gate = start(gate_factory)
    tok = token(gate)
    # The program never runs as root (command.c): run as nobody then.
    r = CRelay(gate, tok, None, tmp_path, "cmd", backend={
        "type": "command", "argv": ["/usr/bin/python3",
                                    os.path.join(REPO, "examples",
                                                 "agent.py")]},
        user=65534)
    crelays.append(r)
    r.welcomed()

    async def go():
        async with gate.client() as c:
            await c.open()
            _, done = await c.chat("run locally", "m-1")
            assert done["text"] == "echo: run locally", done
            assert len(c.deltas("m-1")) >= 2
    run(go())
    r.stop()
