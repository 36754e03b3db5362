"""End-to-end encrypted console threads (issue #19, docs/e2e.md): the
console page seals, wxgate-relay opens, and the gateway between them
keeps and forwards what it cannot read.  The browser's side is played
here by e2e_tool (the C side from the command line; the browser tests
hold e2e.js to the same); the relay is the real wxgate-relay against a
fake OpenAI server, which is where the plaintext must arrive.

Checked: the hub takes only its owner's sealed messages, numbered next,
and commands; a sealed thread has no branches; the relay opens the
history and the new message and seals the whole answer; the store and
the log hold none of the plaintext; a turn altered or moved in the
store, or a relay with another passphrase, fails the request without
reaching the model."""

import json
import os
import subprocess

from conftest import BUILDDIR, free_port, wait_for
from fake_openai import Fake
from test_console import login, page, start
from test_console_chat import poster_body
from test_relay import CRelay, crelays, relay_url, token  # noqa: F401

TOOL = os.path.join(BUILDDIR, "tests", "unit", "relay", "e2e_tool")
PASS = "correct horse battery staple"
KEY = "5a" * 32
OWNER = "root-op"


def tool(*args, data=""):
    p = subprocess.run([TOOL] + [str(a) for a in args], input=data.encode(),
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.decode()


def seal(thread, sender, seq, text):
    return tool("seal", KEY, "msg", thread, sender, seq, data=text).strip()


def unseal(thread, sender, seq, env):
    return tool("open", KEY, "msg", thread, sender, seq, data=env)


def gate_with_relay(gate_factory, **console):
    """A console and two agents: echo, and home, a relay with e2e."""
    agent = {"name": "home", "type": "relay",
             "relay": {"listen": "127.0.0.1:%d" % free_port(), "e2e": True}}
    plain = {"name": "default", "type": "echo"}
    gate = start(gate_factory, {"agents": [plain, agent]}, **console)
    gate.relay_url = relay_url(gate, "home")
    return gate


def relay(gate, fake, tmp_path, crelays, passphrase=PASS, name="c"):
    r = CRelay(gate, token(gate, "home"), fake, tmp_path, name,
               e2e=passphrase)
    crelays.append(r)
    return r.welcomed()


def nowhere_in_clear(gate, *texts):
    """None of texts in any file of the state dir (the store, its WAL)
    or in the log, byte for byte."""
    for root, _, files in os.walk(gate.state_dir):
        for f in files:
            path = os.path.join(root, f)
            if os.path.isfile(path):
                with open(path, "rb") as fh:
                    data = fh.read()
                for t in texts:
                    assert t.encode() not in data, (path, t)
    for t in texts:
        assert t not in gate.log(), t


def post_seal(post, tid, seq, env):
    st, _, body = post("/api/chat/seal?at=%d:%d" % (tid, seq), env.encode())
    return st, json.loads(body)


def settled(gate, admin, tid, n):
    def ok():
        o = page(gate, admin, "chat?thread=%d" % tid)
        m = o["messages"]
        return o if len(m) >= n and m[n - 1]["state"] in \
            ("answered", "failed") and not o["running"] else None
    return wait_for(ok, 20, 0.05, "message %d settled" % n)


def with_key(gate, admin, post):
    rec = tool("record-new", PASS, OWNER, 1024, 8, 1, KEY).strip()
    st, _, body = post("/api/e2e/key", rec.encode())
    assert st == 200, body
    assert page(gate, admin, "e2e") == {"owner": OWNER, "record": rec}
    return rec


def test_sealed_thread_reaches_the_model_and_nobody_else(gate_factory,
                                                         tmp_path, crelays):
    fake = Fake(chunks=3, delay=0.01).start()
    r = None
    try:
        gate = gate_with_relay(gate_factory)
        admin = login(gate)
        post = poster_body(gate, admin)
        # No key yet: the page must make one before a sealed thread.
        assert page(gate, admin, "e2e") == {"owner": OWNER, "record": None}
        st, _, body = post("/api/chat/new?agent=home")
        assert st == 409 and b"passphrase" in body, body
        assert post("/api/e2e/key", b'{"v":1}')[0] == 400
        with_key(gate, admin, post)
        agents = {a["name"]: a["e2e"] for a in page(gate, admin,
                                                     "chat")["agents"]}
        assert agents == {"default": False, "home": True}
        st, _, body = post("/api/chat/new?agent=home")
        assert st == 200, body
        tid = json.loads(body)["thread"]
        r = relay(gate, fake, tmp_path, crelays)

        secrets = ["the vault code is 4711", "and the spare key is blue"]
        for i, text in enumerate(secrets):
            st, b = post_seal(post, tid, i + 1, seal(tid, "operator", i + 1,
                                                      text))
            assert st == 200, b
            o = settled(gate, admin, tid, i + 1)
        assert o["thread"]["e2e"] is True
        msgs = o["messages"]
        assert [m["seq"] for m in msgs] == [1, 2]
        assert [m["state"] for m in msgs] == ["answered"] * 2, msgs
        # The model saw plaintext: the history opened, the new message.
        last = fake.requests[-1]["messages"]
        assert [t["content"] for t in last if t["role"] != "system"] == [
            secrets[0], "echo: " + secrets[0], secrets[1]], last
        # The replies are sealed to the message each answers.
        for i, m in enumerate(msgs):
            assert unseal(tid, "operator", i + 1, m["text"]) == secrets[i]
            assert unseal(tid, "agent", i + 1, m["reply"]) == \
                "echo: " + secrets[i]
        # ... and open as nothing else: another number or sender.
        p = subprocess.run([TOOL, "open", KEY, "msg", str(tid), "agent", "2"],
                           input=msgs[0]["reply"].encode(),
                           capture_output=True)
        assert p.returncode == 1
        # The listing's title of a sealed thread is not its ciphertext.
        (t,) = [t for t in page(gate, admin, "chat")["threads"]
                if t["id"] == tid]
        assert t["e2e"] is True and t["title"] is None, t
        # No plaintext in the store, its WAL, or the log.
        nowhere_in_clear(gate, *secrets)
        r.stop()
    finally:
        fake.stop()


def test_a_sealed_thread_refuses_what_is_not_its_owners_sealed_message(
        gate_factory):
    gate = gate_with_relay(gate_factory)
    admin = login(gate)
    post = poster_body(gate, admin)
    with_key(gate, admin, post)
    st, _, body = post("/api/chat/new?agent=home")
    tid = json.loads(body)["thread"]
    st, _, body = post("/api/chat/new?agent=default")
    plain = json.loads(body)["thread"]
    env = seal(tid, "operator", 1, "hello")
    # Plaintext is refused, a number that is not next is refused.
    st, _, body = post("/api/chat/send?thread=%d" % tid, b"hello")
    assert st == 400 and b"sealed" in body, body
    assert post_seal(post, tid, 2, env)[0] == 409
    assert post_seal(post, tid, 0, env)[0] == 404
    # Not an envelope's shape, even numbered.
    for bad in [b"hello", b'{"v":1,"n":"AAAA","c":"AAAA"}',
                env.replace('"}', 'A"}').encode(), env.encode()[:-1],
                env.replace('}', ',"x":1}').encode()]:
        st, _, body = post("/api/chat/seal?at=%d:1" % tid, bad)
        assert st == 400, (bad, body)
    # A plain thread takes no number.
    assert post_seal(post, plain, 1, env)[0] == 400
    # Commands are words to the gateway: in the clear.
    st, _, body = post("/api/chat/send?thread=%d" % tid, b"/help")
    assert st == 200, body
    assert post_seal(post, tid, 1, env)[0] == 200
    o = page(gate, admin, "chat?thread=%d" % tid)
    assert [(m["seq"], m["command"]) for m in o["messages"]] == \
        [(0, True), (1, False)]
    # No branch off a sealed thread.
    st, _, body = post("/api/chat/branch?msg=%d" % o["messages"][0]["id"])
    assert st == 404 and b"sealed" in body, body
    # Nothing reached the store as plaintext but the command.
    rows = gate.rows("SELECT text FROM messages WHERE seq IS NULL")
    assert rows == [("/help",)], rows


def test_altered_or_moved_turns_and_another_passphrase_fail(gate_factory,
                                                             tmp_path,
                                                             crelays):
    fake = Fake(chunks=2, delay=0.01).start()
    try:
        gate = gate_with_relay(gate_factory)
        admin = login(gate)
        post = poster_body(gate, admin)
        with_key(gate, admin, post)
        tids = []
        for _ in range(2):
            st, _, body = post("/api/chat/new?agent=home")
            tids.append(json.loads(body)["thread"])
        a, b = tids
        r = relay(gate, fake, tmp_path, crelays)
        assert post_seal(post, a, 1, seal(a, "operator", 1, "first"))[0] \
            == 200
        assert settled(gate, admin, a, 1)["messages"][0]["state"] == \
            "answered"
        assert post_seal(post, b, 1, seal(b, "operator", 1, "other"))[0] \
            == 200
        settled(gate, admin, b, 1)
        n = len(fake.requests)
        # Thread b's first message replaced by thread a's (a replay).
        with gate.store_rw() as db:
            (sa,) = db.execute(
                "SELECT session_id FROM console_threads WHERE id = ?",
                (a,)).fetchone()
            (sb,) = db.execute(
                "SELECT session_id FROM console_threads WHERE id = ?",
                (b,)).fetchone()
            (moved,) = db.execute("SELECT text FROM messages WHERE "
                                  "session_id = ?", (sa,)).fetchone()
            db.execute("UPDATE messages SET text = ? WHERE session_id = ?",
                       (moved, sb))
            # One character of thread a's reply changed (tampered).
            (rep,) = db.execute("SELECT reply FROM messages WHERE "
                                "session_id = ?", (sa,)).fetchone()
            i = rep.index('"c":"') + 8
            flip = rep[:i] + ("A" if rep[i] != "A" else "B") + rep[i + 1:]
            db.execute("UPDATE messages SET reply = ? WHERE session_id = ?",
                       (flip, sa))
        for tid in (a, b):
            assert post_seal(post, tid, 2, seal(tid, "operator", 2,
                                                "second"))[0] == 200
            m = settled(gate, admin, tid, 2)["messages"][1]
            assert m["state"] == "failed", m
        assert len(fake.requests) == n, "a bad turn reached the model"
        assert "altered, moved or replayed" in r.log()
        r.stop()
        # A relay with another passphrase opens nothing.
        st, _, body = post("/api/chat/new?agent=home")
        c = json.loads(body)["thread"]
        r2 = relay(gate, fake, tmp_path, crelays,
                   passphrase="not the passphrase", name="wrong")
        assert post_seal(post, c, 1, seal(c, "operator", 1, "x"))[0] == 200
        m = settled(gate, admin, c, 1)["messages"][0]
        assert m["state"] == "failed", m
        assert "passphrase does not open" in r2.log()
        assert len(fake.requests) == n
        r2.stop()
    finally:
        fake.stop()
