"""The console's Chat page (issue #16): an operator talks to a
configured agent in threads kept in the store, branches a thread off a
message, and reads the reply as it grows by polling /api/chat; chat
commands work there as on every surface.  Only an admin writes: a
viewer reads threads, and the hub refuses and audits its writes."""

import json
import os
import threading

from conftest import wait_for
from test_console import csrf_of, login, page, refused_and_audited, \
    request, start, with_cookie

HERE = os.path.dirname(os.path.abspath(__file__))
# Answers with the user turns it was given, joined by " | ".
TURNS = {"name": "turns", "type": "command", "command": {
    "argv": ["/usr/bin/python3", os.path.join(HERE, "agent_turns.py")]}}
ECHO = {"name": "default", "type": "echo",
        "echo": {"chunks": 20, "delay_ms": 150}}
CONF = {"agents": [ECHO, TURNS]}


def send(post, thread, text):
    """POST text as the body of chat.send: (status, decoded body)."""
    st, _, body = post("/api/chat/send?thread=%d" % thread,
                       text.encode())
    return st, json.loads(body)


def poster_body(gate, session):
    """POST path, with a body, as session with its origin and token."""
    origin = "http://127.0.0.1:%d" % gate.console_port
    h = with_cookie(session, {"Origin": origin,
                              "X-CSRF-Token": csrf_of(gate, session)["csrf"]})
    return lambda path, body=b"": request(gate.console_port, "POST", path,
                                          h, body)


def thread(gate, session, tid, since=None):
    q = "chat?thread=%d" % tid + ("&since=%d" % since if since else "")
    return page(gate, session, q)


def answered(gate, session, tid, n):
    """The thread once its n-th message is answered."""
    def ok():
        o = thread(gate, session, tid)
        m = o["messages"]
        return o if len(m) >= n and m[n - 1]["state"] == "answered" and \
            not o["running"] else None
    return wait_for(ok, 15, 0.05, "message %d answered" % n)


def new_thread(post, agent):
    st, _, body = post("/api/chat/new?agent=" + agent)
    assert st == 200, body
    return json.loads(body)["thread"]


def test_send_streams_stores_and_keeps_history(gate_factory):
    gate = start(gate_factory, CONF)
    admin = login(gate)
    post = poster_body(gate, admin)
    o = page(gate, admin, "chat")
    assert [a["name"] for a in o["agents"]] == ["default", "turns"]
    assert o["threads"] == [] and o["more"] is False
    tid = new_thread(post, "default")
    st, b = send(post, tid, "hello there, operator speaking")
    assert st == 200 and b == {"ok": True, "thread": tid}, b
    # The reply grows: some poll sees part of it, running, before the end.
    partial = wait_for(lambda: [m for m in thread(gate, admin, tid)
                                ["messages"] if m["state"] == "running"
                                and m["reply"]], 15, 0.02,
                       "a partial reply")
    assert "echo: hello there, operator speaking".startswith(
        partial[0]["reply"]) and partial[0]["reply"] != \
        "echo: hello there, operator speaking", partial
    o = answered(gate, admin, tid, 1)
    (m,) = o["messages"]
    assert m["text"] == "hello there, operator speaking"
    assert m["reply"] == "echo: hello there, operator speaking"
    assert o["thread"]["agent"] == "default" and o["thread"]["parent"] == 0
    # Since the first message: nothing newer yet.
    assert thread(gate, admin, tid, m["id"])["messages"] == []
    lst = page(gate, admin, "chat")["threads"]
    assert [(t["id"], t["count"], t["operator"]) for t in lst] == \
        [(tid, 1, "root-op")]


def test_history_reaches_the_agent_across_a_reload_and_a_branch(
        gate_factory):
    gate = start(gate_factory, CONF)
    admin = login(gate)
    post = poster_body(gate, admin)
    tid = new_thread(post, "turns")
    for i, word in enumerate(["one", "two", "three"]):
        assert send(post, tid, word)[0] == 200
        answered(gate, admin, tid, i + 1)
    msgs = thread(gate, admin, tid)["messages"]
    assert [m["reply"] for m in msgs] == \
        ["one", "one | two", "one | two | three"]
    # The store keeps it: a fresh login (a reload) reads the same.
    again = login(gate)
    assert thread(gate, again, tid)["messages"] == msgs
    # A branch off the second message: its history, then its own way.
    st, _, body = post("/api/chat/branch?msg=%d" % msgs[1]["id"])
    assert st == 200, body
    br = json.loads(body)["thread"]
    o = thread(gate, admin, br)
    assert o["thread"]["parent"] == tid and \
        o["thread"]["parent_msg"] == msgs[1]["id"]
    assert [m["reply"] for m in o["messages"]] == ["one", "one | two"]
    assert send(post, br, "four")[0] == 200
    assert answered(gate, admin, br, 3)["messages"][2]["reply"] == \
        "one | two | four"
    # The parent is untouched.
    assert len(thread(gate, admin, tid)["messages"]) == 3
    # Not a message of any thread: nothing to branch from.
    assert post("/api/chat/branch?msg=999999")[0] == 404
    assert post("/api/chat/branch?msg=x")[0] == 404


def test_the_next_turn_starts_while_the_last_answer_commits(gate_factory):
    """An answer the page shows as answered frees the thread's turn,
    even while its commit is still to come (CI saw a 429 in that gap)."""
    gate = start(gate_factory, CONF)
    admin = login(gate)
    post = poster_body(gate, admin)
    tid = new_thread(post, "default")
    assert send(post, tid, "one")[0] == 200
    wait_for(lambda: [m for m in thread(gate, admin, tid)["messages"]
                      if m["state"] == "running" and m["reply"]], 15, 0.02,
             "a partial reply")
    # The answer ends while commits are held: shown, not yet durable.
    rc, out, err = gate.ctl("test", "supervisor", "commit_hold_on")
    assert rc == 0, (out, err)
    answered(gate, admin, tid, 1)
    got = {}
    second = threading.Thread(target=lambda: got.update(
        two=send(post, tid, "two")))
    second.start()
    # Not refused: it waits, as every send does, for its commit.
    second.join(1)
    assert second.is_alive() and "two" not in got, got
    rc, out, err = gate.ctl("test", "supervisor", "commit_hold_off")
    assert rc == 0, (out, err)
    second.join(15)
    assert got["two"][0] == 200, got
    assert answered(gate, admin, tid, 2)["messages"][1]["reply"] == \
        "echo: two"


def test_commands_work_in_a_console_thread(gate_factory):
    gate = start(gate_factory, CONF)
    admin = login(gate)
    post = poster_body(gate, admin)
    tid = new_thread(post, "turns")
    assert send(post, tid, "a")[0] == 200
    answered(gate, admin, tid, 1)
    assert send(post, tid, "/model large")[0] == 200
    o = thread(gate, admin, tid)
    m = o["messages"][1]
    assert m["command"] is True and m["state"] == "answered"
    assert m["reply"].startswith("This chat's agent has one model"), m
    assert o["thread"]["models"] == []
    assert send(post, tid, "/new")[0] == 200
    assert send(post, tid, "b")[0] == 200
    # /new: the agent no longer sees "a"; commands never reach it.
    assert answered(gate, admin, tid, 4)["messages"][3]["reply"] == "b"
    assert send(post, tid, "/help")[0] == 200
    assert thread(gate, admin, tid)["messages"][4]["reply"].startswith(
        "/help")


def test_stop_ends_a_running_reply(gate_factory):
    gate = start(gate_factory, CONF)
    admin = login(gate)
    post = poster_body(gate, admin)
    tid = new_thread(post, "default")
    assert send(post, tid, "a long one to stop")[0] == 200
    wait_for(lambda: thread(gate, admin, tid)["running"], 10, 0.02,
             "running")
    # One reply at a time: another message waits for it.
    st, b = send(post, tid, "meanwhile")
    assert st == 429 and "/stop" in b["error"], b
    assert send(post, tid, "/stop")[0] == 200
    o = answered(gate, admin, tid, 1)
    assert o["messages"][1]["reply"] == "Stopped."
    assert o["messages"][0]["reply"] != "echo: a long one to stop"


def test_a_viewer_reads_but_cannot_chat(gate_factory):
    gate = start(gate_factory, CONF)
    admin = login(gate)
    viewer = login(gate, "--operator", "watcher")
    apost = poster_body(gate, admin)
    tid = new_thread(apost, "turns")
    assert send(apost, tid, "from the admin")[0] == 200
    answered(gate, admin, tid, 1)
    # The viewer reads the thread.
    assert thread(gate, viewer, tid)["messages"][0]["reply"] == \
        "from the admin"
    vpost = poster_body(gate, viewer)
    refused_and_audited(gate, vpost, "/api/chat/new?agent=turns",
                        "chat.new")
    refused_and_audited(gate, lambda p: vpost(p, b"sneaky"),
                        "/api/chat/send?thread=%d" % tid, "chat.send")
    refused_and_audited(gate, vpost, "/api/chat/branch?msg=1",
                        "chat.branch")
    assert len(thread(gate, admin, tid)["messages"]) == 1
    assert len(page(gate, admin, "chat")["threads"]) == 1


def test_bad_requests_are_refused(gate_factory):
    gate = start(gate_factory, CONF)
    admin = login(gate)
    post = poster_body(gate, admin)
    assert post("/api/chat/new?agent=nobody")[0] == 404
    tid = new_thread(post, "default")
    assert send(post, tid + 1, "x")[0] == 404
    st, _, body = post("/api/chat/send?thread=%d" % tid)
    assert st == 400, body
    st, _, _ = request(gate.console_port, "GET", "/api/chat?thread=abc",
                       with_cookie(admin))
    assert st == 400
    st, _, _ = request(gate.console_port, "GET", "/api/chat?thread=%d"
                       % (tid + 5), with_cookie(admin))
    assert st == 404
    # Markup is data: stored and shown as the text it is.
    x = "<img src=x onerror=alert(1)>"
    assert send(post, tid, x)[0] == 200
    o = answered(gate, admin, tid, 1)
    assert o["messages"][0]["text"] == x
    assert o["messages"][0]["reply"] == "echo: " + x


def test_chat_routes_need_a_session_and_utf8(gate_factory):
    gate = start(gate_factory, CONF)
    p = gate.console_port
    origin = {"Origin": "http://127.0.0.1:%d" % p}
    for method, path in [("GET", "/api/chat"), ("GET", "/api/chat?thread=1"),
                         ("GET", "/chat.js"), ("GET", "/chat.css"),
                         ("POST", "/api/chat/new?agent=default"),
                         ("POST", "/api/chat/send?thread=1"),
                         ("POST", "/api/chat/branch?msg=1")]:
        st, _, body = request(p, method, path, origin,
                              b"hi" if method == "POST" else b"")
        assert st == 401, (method, path, st, body)
    admin = login(gate)
    post = poster_body(gate, admin)
    tid = new_thread(post, "default")
    pid = gate.worker("console.http")["pid"]
    # A body that is not UTF-8 is the browser's error, not a frame the
    # hub would refuse (and kill its sender for).
    st, _, body = post("/api/chat/send?thread=%d" % tid, b"\xff\xfe ok")
    assert st == 400, (st, body)
    assert thread(gate, admin, tid)["messages"] == []
    assert gate.worker("console.http")["pid"] == pid
    assert send(post, tid, "still here")[0] == 200


def test_model_picked_among_the_agents_models(gate_factory):
    from fake_openai import Fake
    fake = Fake(chunks=1, delay=0).start()
    try:
        gate = start(gate_factory, {"agents": [{
            "name": "default", "type": "openai",
            "openai": {"url": fake.url, "model": "small", "timeout_s": 5,
                       "models": ["small", "large"]}}]})
        admin = login(gate)
        post = poster_body(gate, admin)
        lst = page(gate, admin, "chat")
        assert lst["agents"][0]["models"] == ["small", "large"]
        tid = new_thread(post, "default")
        assert thread(gate, admin, tid)["thread"]["model"] == "small"
        assert send(post, tid, "one")[0] == 200
        answered(gate, admin, tid, 1)
        assert fake.requests[-1]["model"] == "small"
        # The page's selector sends /model NAME: command.c decides.
        assert send(post, tid, "/model huge")[0] == 200
        assert thread(gate, admin, tid)["messages"][1]["reply"].startswith(
            "No model huge")
        assert send(post, tid, "/model large")[0] == 200
        assert thread(gate, admin, tid)["thread"]["model"] == "large"
        assert send(post, tid, "two")[0] == 200
        answered(gate, admin, tid, 4)
        assert fake.requests[-1]["model"] == "large"
        # A branch keeps its parent's pick; another thread the default.
        msgs = thread(gate, admin, tid)["messages"]
        st, _, body = post("/api/chat/branch?msg=%d" % msgs[3]["id"])
        assert st == 200, body
        br = json.loads(body)["thread"]
        assert thread(gate, admin, br)["thread"]["model"] == "large"
        other = new_thread(post, "default")
        assert thread(gate, admin, other)["thread"]["model"] == "small"
        # Commands never reached the model.
        assert len(fake.requests) == 2
    finally:
        fake.stop()


def test_an_agent_error_is_shown_and_the_thread_goes_on(gate_factory):
    from conftest import free_port
    gate = start(gate_factory, {"agents": [{
        "name": "default", "type": "openai",
        "openai": {"url": "http://127.0.0.1:%d/v1/chat/completions" %
                   free_port(), "model": "m", "timeout_s": 2}}]})
    admin = login(gate)
    post = poster_body(gate, admin)
    tid = new_thread(post, "default")
    assert send(post, tid, "anyone there?")[0] == 200
    m = wait_for(lambda: [m for m in thread(gate, admin, tid)["messages"]
                          if m["state"] == "failed"], 15, 0.05,
                 "the failure")[0]
    assert m["error"] == "unreachable" and m["reply"] is None, m
    assert not thread(gate, admin, tid)["running"]
    # Not busy: the next message is taken.
    assert send(post, tid, "again")[0] == 200


def test_threads_outlive_the_daemon_and_a_cut_reply_is_answered(
        gate_factory):
    gate = start(gate_factory, CONF)
    admin = login(gate)
    post = poster_body(gate, admin)
    tid = new_thread(post, "default")
    assert send(post, tid, "before the crash")[0] == 200
    wait_for(lambda: thread(gate, admin, tid)["running"], 10, 0.02,
             "running")
    gate.kill()
    gate.start()
    wait_for(lambda: (gate.worker("console.http") or {}).get("state") ==
             "running", 10, 0.05, "the console worker")
    admin = login(gate)
    # The message the crash cut is asked again and answered in place.
    o = answered(gate, admin, tid, 1)
    assert o["messages"][0]["reply"] == "echo: before the crash"
    assert [t["id"] for t in page(gate, admin, "chat")["threads"]] == [tid]


def test_a_poll_with_what_it_has_waits_for_more(gate_factory):
    gate = start(gate_factory, CONF)
    admin = login(gate)
    post = poster_body(gate, admin)
    tid = new_thread(post, "default")
    text = "a reply that grows in twenty steps"
    assert send(post, tid, text)[0] == 200
    m = wait_for(lambda: [m for m in thread(gate, admin, tid)["messages"]
                          if m["state"] == "running" and m["length"] > 0],
                 15, 0.02, "a running reply")[0]
    assert m["length"] == len(m["reply"].encode())
    # Not what the page has: answered at once, not held.
    o = page(gate, admin, "chat?thread=%d&have=%d" % (tid, m["length"] + 1))
    assert "held" not in o
    # What it has: held until the reply grows or ends.  One that grew
    # in between is answered at once, with the new text.
    seen, held = m["length"], 0
    while True:
        o = page(gate, admin, "chat?thread=%d&have=%d" % (tid, seen))
        held += o.get("held", False)
        (n,) = o["messages"]
        if n["state"] == "answered":
            break
        assert n["state"] == "running" and n["length"] > seen, (seen, o)
        assert n["reply"].startswith(m["reply"])
        seen = n["length"]
    assert n["reply"] == "echo: " + text and n["length"] == -1
    assert held > 0
    # Nothing running: never held.
    assert "held" not in page(gate, admin, "chat?thread=%d&have=0" % tid)


def test_console_commands_are_policy(gate_factory):
    """policy.commands.console grants the Chat's commands, as for the
    other surfaces: one not granted is answered so and audited."""
    from conftest import audit_rows
    conf = dict(CONF, policy={"commands": {"console": ["help"]}})
    gate = start(gate_factory, conf)
    admin = login(gate)
    post = poster_body(gate, admin)
    tid = new_thread(post, "turns")
    assert send(post, tid, "/new")[0] == 200
    assert send(post, tid, "/help")[0] == 200
    msgs = thread(gate, admin, tid)["messages"]
    assert msgs[0]["reply"] == "/new is not available in this chat."
    assert msgs[1]["reply"].startswith("/help")
    rows = wait_for(lambda: [r for r in audit_rows(gate)
                             if "/new" in str(r) and
                             "policy.commands" in str(r)], 5, 0.05,
                    "the refusal audited")
    assert rows
