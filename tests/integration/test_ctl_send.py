"""wxgatectl send and outbox: an operator's message goes through the
outbox like any reply (cut, paced, retried) and ends in one of the
delivery states, the same words everywhere: queued, sent, failed,
undeliverable.  The test-only loopback kind writes first (KC_PROACTIVE)
and its peer "refuser" stands for a platform that refuses for good."""

from conftest import wait_for

ECHO = [{"name": "default", "type": "echo"}]


def lines(out):
    """"ID STATE CHANNEL TARGET[: DETAIL]" rows as (id, state, rest)."""
    res = []
    for ln in out.splitlines():
        i, state, rest = ln.split(" ", 2)
        res.append((int(i), state, rest))
    return res


def loopback(gate_factory, **chan):
    c = {"name": "t", "type": "loopback"}
    c.update(chan)
    return gate_factory({"agents": ECHO, "channels": [c]})


def test_send_is_queued_then_sent(gate_factory):
    gate = loopback(gate_factory)
    rc, out, err = gate.ctl("send", "t", "alice", "good morning")
    assert rc == 0, (out, err)
    (rid, state, rest), = lines(out)
    assert state == "queued" and rest == "t alice", out
    gate.wait_log("loopback t: to alice: good morning", 10)

    def sent():
        rc, out, _ = gate.ctl("outbox", rid)
        return rc == 0 and lines(out)[0][1] == "sent"
    wait_for(sent, 10, 0.05, "the row to read sent")
    # Delivered once; the row stays for the operator, without a token.
    assert gate.log().count("loopback t: to alice: good morning") == 1
    assert gate.rows("SELECT state, reply_ctx IS NULL, finished > 0 "
                "FROM outbox WHERE id = %d" % rid) == [("sent", 1, 1)]


def test_send_wait_reports_where_each_part_ended(gate_factory):
    """--wait follows every part of a cut text to its end: exit 0 when
    all were sent."""
    gate = loopback(gate_factory, text_chunk_limit=100)
    parts = ["%03d" % i * 25 + "\n" for i in range(3)]
    parts[-1] = parts[-1].strip()
    rc, out, err = gate.ctl("send", "--wait", "20", "t", "bob",
                            "".join(parts))
    assert rc == 0, (out, err)
    got = lines(out)
    assert [g[1] for g in got] == ["sent"] * 3, out
    assert [g[0] for g in got] == sorted(g[0] for g in got)
    log = gate.log()
    # In order, each once (a chunk ends after its newline, which the
    # log writes as "?": a line is one line).
    parts = ["%s%s\n" % (p.strip(), "?" if p.endswith("\n") else "")
             for p in parts]
    at = [log.index("loopback t: to bob: %s" % p) for p in parts]
    assert at == sorted(at), at
    for p in parts:
        assert log.count("loopback t: to bob: %s" % p) == 1


def test_send_refused_for_good_is_failed(gate_factory):
    gate = loopback(gate_factory)
    rc, out, err = gate.ctl("send", "--wait", "20", "t", "refuser", "hi")
    assert rc == 1, (out, err)
    (rid, state, rest), = lines(out)
    assert state == "failed", out
    assert rest == "t refuser: loopback: refuser takes nothing", out
    rc, out, err = gate.ctl("outbox", rid)
    assert rc == 0 and lines(out)[0][1] == "failed", (out, err)
    # Final: nothing of it waits for another try.
    assert gate.rows("SELECT count(*) FROM outbox WHERE state = "
                "'queued'") == [(0,)]


def test_send_bad_input_is_refused_clearly(gate_factory):
    gate = gate_factory({
        "agents": ECHO,
        "channels": [{"name": "t", "type": "loopback"},
                     {"name": "w", "type": "wechat",
                      "wechat": {"login_url": "http://127.0.0.1:9/",
                                 "base_url": "http://127.0.0.1:9/"}}],
    })
    rc, out, err = gate.ctl("send", "nosuch", "alice", "hi")
    assert rc == 1 and "no channel nosuch" in err, (out, err)
    # iLink lets a bot answer only: a first message is refused, named.
    rc, out, err = gate.ctl("send", "w", "alice", "hi")
    assert rc == 1 and "can only answer" in err, (out, err)
    rc, out, err = gate.ctl("send", "t", "alice", "   ")
    assert rc == 1 and "nothing to send" in err, (out, err)
    rc, out, err = gate.ctl("send", "t", "", "hi")
    assert rc == 2, (out, err)
    rc, out, err = gate.ctl("outbox", "999999")
    assert rc == 1 and "no such outbox row" in err, (out, err)
    rc, out, err = gate.ctl("outbox", "abc")
    assert rc == 2, (out, err)
    # Nothing half-made by the refusals.
    assert gate.rows("SELECT count(*) FROM outbox") == [(0,)]
