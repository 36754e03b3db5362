"""`wxgatectl pairing list|approve|deny`: the operator's side of pairing.
No channel issues codes yet, so the test writes pending rows into the
store itself, the way a channel will through the supervisor."""

import os
import sqlite3
import time


def db(gate, ro=False):
    path = os.path.join(gate.state_dir, "wxgate.db")
    if ro:
        return sqlite3.connect("file:%s?mode=ro" % path, uri=True,
                               timeout=5)
    return sqlite3.connect(path, timeout=5)


def add_pairing(gate, account, peer, code, ttl):
    now = int(time.time())
    c = db(gate)
    try:
        with c:
            c.execute("INSERT INTO pairings (account, peer, code, created,"
                      " expires) VALUES (?, ?, ?, ?, ?)",
                      (account, peer, code, now, now + ttl))
    finally:
        c.close()


def allowed(gate, account, peer):
    c = db(gate, ro=True)
    try:
        r = c.execute("SELECT allowed FROM peers WHERE account = ? AND"
                      " peer = ?", (account, peer)).fetchone()
        return bool(r and r[0])
    finally:
        c.close()


def test_pairing_list_approve_deny(gate):
    rc, out, err = gate.ctl("pairing", "list")
    assert rc == 0, err
    assert out.split() == ["CODE", "ACCOUNT", "CREATED", "EXPIRES", "PEER"]

    add_pairing(gate, "wecom", "alice smith", "K7Q2M9", 600)
    add_pairing(gate, "wecom", "bob", "P4X8D3", 600)
    add_pairing(gate, "mp", "carol", "Z1Z1Z1", -5)
    rc, out, err = gate.ctl("pairing", "list")
    assert rc == 0, err
    rows = [ln.split(None, 4) for ln in out.splitlines()[1:]]
    assert [(r[0], r[1], r[4]) for r in rows] == [
        ("K7Q2M9", "wecom", "alice smith"), ("P4X8D3", "wecom", "bob"),
        ("Z1Z1Z1", "mp", "carol")]

    rc, out, err = gate.ctl("pairing", "approve", "K7Q2M9")
    assert rc == 0 and "approved" in out, err
    rc, out, err = gate.ctl("pairing", "approve", "K7Q2M9")
    assert rc == 1 and "no such pairing code" in err
    rc, out, err = gate.ctl("pairing", "deny", "P4X8D3")
    assert rc == 0 and "denied" in out, err
    rc, out, err = gate.ctl("pairing", "approve", "Z1Z1Z1")
    assert rc == 1 and "expired" in err

    # The supervisor commits once per loop turn; ctl answered after it.
    deadline = time.monotonic() + 5
    while not allowed(gate, "wecom", "alice smith"):
        assert time.monotonic() < deadline, "approval not stored"
        time.sleep(0.05)
    assert not allowed(gate, "wecom", "bob")
    assert not allowed(gate, "mp", "carol")
    rc, out, err = gate.ctl("pairing", "list")
    assert rc == 0 and len(out.splitlines()) == 1, out

    rc, out, err = gate.ctl("pairing", "frobnicate")
    assert rc == 2
    rc, out, err = gate.ctl("pairing", "approve")
    assert rc == 2
