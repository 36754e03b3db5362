"""The console's take-over (issue #16): an admin writes into a channel
conversation as the bot.  The text goes the way `wxgatectl send` goes
(one durable outbox row), so the fake iLink server gets it exactly once,
through a failed send and a SIGKILL of the worker; the conversation
shows it with its delivery state.  A viewer is refused by the hub and
audited; an empty, too long or non-UTF-8 text is refused with a reason;
a peer the channel may not write to is refused, and shows no form."""

import json
import os
import signal

from conftest import audit_rows, wait_for
from test_console import (FRIEND, XSS, conversation, conversations_gate,
                          csrf_of, login, page, request, with_cookie)

TEXT = "the operator here: 你好 " + XSS


def sender(gate, session):
    """POST /api/conv/send as session: (status, JSON body)."""
    origin = "http://127.0.0.1:%d" % gate.console_port
    h = with_cookie(session, {"Origin": origin,
                              "X-CSRF-Token": csrf_of(gate, session)["csrf"]})

    def send(body, account="alice", peer=FRIEND):
        if isinstance(body, str):
            body = body.encode()
        st, _, b = request(gate.console_port, "POST",
                           "/api/conv/send?account=%s&peer=%s" %
                           (account, peer.replace("@", "%40")), h, body)
        return st, json.loads(b) if b else None
    return send


def sent_ok(fake, text):
    with fake.lock:
        return [s for s in fake.sent if s["to"] == FRIEND and
                s["text"] == text and s["outcome"] == "ok"]


def test_take_over_sends_once_through_a_kill_and_shows_it(gate_factory,
                                                          tmp_path):
    from fake_ilink import FakeIlink
    fake = FakeIlink(longpoll_ms=1500).start()
    try:
        gate = conversations_gate(gate_factory, fake, tmp_path)
        admin = login(gate)
        fake.inject(FRIEND, "hello bot")
        c = wait_for(lambda: (lambda r: r if r and r["messages"] and
                              r["messages"][-1]["delivery"] == "sent"
                              else None)(conversation(page(
                                  gate, admin, "conversations"), FRIEND)),
                     20, 0.1, "FRIEND's answered message")
        # iLink writes within the window FRIEND's message opened.
        assert c["send"] == 2000, c
        # The first try fails; the worker dies with the row queued.
        fake.fail(send_http=1)
        st, b = sender(gate, admin)(TEXT)
        assert st == 200 and b["ok"] and b["id"] > 0, (st, b)
        first = wait_for(lambda: [s for s in fake.sent
                                  if s["text"] == TEXT], 20, 0.05,
                         "the first, failed, try")
        assert first[0]["outcome"] == "http500", first
        w = gate.worker("wechat.alice")
        os.kill(w["pid"], signal.SIGKILL)
        wait_for(lambda: sent_ok(fake, TEXT), 30, 0.1, "the message")
        m = wait_for(lambda: (lambda r: r if r["delivery"] == "sent"
                              else None)(conversation(page(
                                  gate, admin, "conversations"), FRIEND)
                                         ["messages"][-1]),
                     10, 0.1, "the row sent on the page")
        assert m["sent"] is True and m["reply"] == TEXT, m
        assert m["text"] == "" and m["sender"] is None, m
        assert gate.worker("wechat.alice")["pid"] != w["pid"]
        assert "SIGKILL" in gate.worker("wechat.alice")["last_exit"]
        # Once: the outbox row is done, nothing left to resend.
        assert gate.rows("SELECT state FROM outbox WHERE id = ?",
                         (b["id"],)) == [("sent",)]
        assert len(sent_ok(fake, TEXT)) == 1, fake.sent
        # Audited with who, account and peer; the text nowhere.
        rows = audit_rows(gate, "method = 'conv.send'")
        assert len(rows) == 1, rows
        d = rows[0]["detail"]
        assert "root-op" in d and FRIEND in d and "alice" in d, d
        assert "你好" not in gate.log() and XSS not in d
        assert fake.violations == [], fake.violations
    finally:
        fake.stop()


def test_take_over_is_bounded_and_a_viewers_is_refused(gate_factory,
                                                        tmp_path):
    from fake_ilink import FakeIlink
    fake = FakeIlink(longpoll_ms=1500).start()
    try:
        gate = conversations_gate(gate_factory, fake, tmp_path)
        admin = login(gate)
        viewer = login(gate, "--operator", "watcher")
        fake.inject(FRIEND, "hello bot")
        wait_for(lambda: conversation(page(gate, admin, "conversations"),
                                      FRIEND), 20, 0.1, "the conversation")
        send = sender(gate, admin)
        for body, why in (("", "nothing to send"),
                          (" \n\t", "nothing to send"),
                          ("字" * 2001, "at most 2000 characters")):
            st, b = send(body)
            assert st == 400 and why in b["error"], (body[:9], st, b)
        # Exactly the limit, in characters not bytes, goes.
        st, b = send("字" * 2000)
        assert st == 200, (st, b)
        # Not UTF-8: the worker refuses it, and lives.
        pid = gate.worker("console.http")["pid"]
        st, b = send(b"caf\xe9")
        assert st == 400 and "UTF-8" in b["error"], (st, b)
        assert gate.worker("console.http")["pid"] == pid
        # A peer who never wrote: iLink only answers.
        st, b = send("hi", peer="stranger@im.wechat")
        assert st == 409 and "can only answer" in b["error"], (st, b)
        st, b = send("hi", account="nosuch")
        assert st == 404, (st, b)
        # A viewer: the hub refuses and audits, whatever the worker says.
        st, b = sender(gate, viewer)("from a viewer")
        assert st == 403 and "viewer" in b["error"], (st, b)
        rows = wait_for(lambda: audit_rows(
            gate, "role = 'console' AND method = 'conv.send' AND "
            "detail LIKE '%viewer%'"), 5, 0.05, "the refusal audited")
        assert "watcher is a viewer" in rows[-1]["detail"], rows
        wait_for(lambda: sent_ok(fake, "字" * 2000), 20, 0.1, "the long one")
        assert [s for s in fake.sent if s["text"] == "from a viewer"] == []
        assert len(audit_rows(gate, "method = 'conv.send' AND detail "
                              "LIKE '%root-op sends%'")) == 1
    finally:
        fake.stop()


def test_no_form_and_a_refusal_once_the_window_closes(gate_factory,
                                                      tmp_path):
    """iLink lets a bot write only within 24 h of the person's last
    message: past that the page offers no form (send 0) and the hub
    refuses the send, whatever the page did."""
    from fake_ilink import FakeIlink
    fake = FakeIlink(longpoll_ms=1500).start()
    try:
        gate = conversations_gate(gate_factory, fake, tmp_path)
        admin = login(gate)
        fake.inject(FRIEND, "hello bot")
        c = wait_for(lambda: conversation(page(gate, admin,
                                               "conversations"), FRIEND),
                     20, 0.1, "the conversation")
        assert c["send"] == 2000, c
        assert gate.ctl("test", "supervisor", "clock:+90000")[0] == 0
        admin = login(gate)     # the old session idled out meanwhile
        send = sender(gate, admin)
        c = conversation(page(gate, admin, "conversations"), FRIEND)
        assert c["send"] == 0, c
        st, b = send("too late")
        assert st == 409 and "can only answer" in b["error"], (st, b)
        assert [s for s in fake.sent if s["text"] == "too late"] == []
        assert gate.rows("SELECT count(*) FROM outbox WHERE body = "
                         "'too late'") == [(0,)]
    finally:
        fake.stop()
