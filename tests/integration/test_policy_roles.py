"""Central policy, roles (policy/role.c, supervisor/admit.c): a browser
calling another role's method gets `forbidden` and an audit row; a
webchat worker sending another role's IPC type is killed as compromised
and audited; a config may narrow webchat but never widen it."""

import os
import re

import pytest

from conftest import REPO, audit_rows, check_config, run, wait_for


def catalogue_methods():
    """Every method of another role, read from the sources themselves so
    that a message added to ipc/ipc_msg.h (or a name reserved in
    policy/role.c) is tried without editing this file: role -> names."""
    out = {"ROLE_OPERATOR": [], "ROLE_CHANNEL": [], "ROLE_AGENT": []}
    with open(os.path.join(REPO, "ipc", "ipc_msg.h")) as f:
        for m in re.finditer(r'X\(\s*\w+,\s*\d+,\s*"([\w.]+)",\s*(ROLE_\w+),'
                             r'\s*([\w|\s]+),', f.read()):
            name, role, flags = m.groups()
            if role in out and "MSG_INTERNAL" not in flags:
                out[role].append(name)
    with open(os.path.join(REPO, "policy", "role.c")) as f:
        for m in re.finditer(r'\{ "([\w.]+)",\s*(ROLE_\w+) \}', f.read()):
            if m.group(2) in out:
                out[m.group(2)].append(m.group(1))
    return out


METHODS = catalogue_methods()
OPERATOR_METHODS = METHODS["ROLE_OPERATOR"]
CHANNEL_METHODS = METHODS["ROLE_CHANNEL"]
AGENT_METHODS = METHODS["ROLE_AGENT"]


def test_the_method_lists_are_whole():
    """The parse above found what the design names (a guard on it)."""
    for name in ("ctl.status", "share.create", "pairing.approve",
                 "audit.list", "login.show", "workers.list", "send"):
        assert name in OPERATOR_METHODS, name
    assert sorted(CHANNEL_METHODS) == sorted([
        "inbound.message", "inbound.media", "delivery.ack",
        "delivery.fail", "state.get", "state.put", "login.qr"])
    # agent.restart, agent.online and relay.auth: a relay agent's
    # worker (workers/agent/relay*.c).
    assert sorted(AGENT_METHODS) == ["agent.delta", "agent.done",
                                     "agent.error", "agent.file",
                                     "agent.online", "agent.restart",
                                     "relay.auth"]


def test_browser_calling_other_roles_methods_is_forbidden(gate_factory):
    methods = OPERATOR_METHODS + CHANNEL_METHODS + AGENT_METHODS
    # Each denial spends a token, as any call does: room for all of them
    # and the chat after, however many methods the catalogue grows to.
    gate = gate_factory({"policy": {"ratelimit": {"session": {
        "rate": "10/s", "burst": len(methods) + 10}}}})

    async def scenario():
        async with gate.client() as c:
            await c.open()
            for m in methods:
                r = await c.call(m, {"name": "webchat.0"})
                assert r["ok"] is False, (m, r)
                assert r["error"]["code"] == "forbidden", (m, r)
            # Nobody's method stays unknown, and is not a denial.
            r = await c.call("no.such.method", {})
            assert r["error"]["code"] == "unknown_method"
            # The connection still works.
            status, done = await c.chat("still here", "after-1")
            assert status == "accepted" and done["text"]
    run(scenario())

    rows = wait_for(lambda: (lambda r: r if len(r) >= len(methods) else
                             None)(audit_rows(gate, "role = 'webchat'")),
                    10, 0.1, "audit rows")
    assert [r["method"] for r in rows] == methods
    for r in rows:
        assert r["worker"].startswith("webchat.")
        assert r["session"] is not None
        assert r["time"] > 0
    # Nobody was killed for it: the worker only passed the name on.
    assert all(w["restarts"] == 0 for w in gate.status().values())


def test_worker_sending_operator_type_is_killed_and_audited(gate):
    old = gate.worker("webchat.0")
    rc, out, err = gate.ctl("test", "webchat.0", "wrong_role_operator")
    assert rc == 0, err
    gate.wait_log("ctl.status not allowed for webchat", 10)

    def back():
        w = gate.worker("webchat.0")
        return w if w["state"] == "running" and w["pid"] != old["pid"] \
            else None
    wait_for(back, 10, 0.05, "webchat.0 restarted")
    rows = wait_for(lambda: audit_rows(gate, "method = 'ctl.status'"),
                    10, 0.1, "audit row")
    assert len(rows) == 1
    assert rows[0]["role"] == "webchat"
    assert rows[0]["worker"] == "webchat.0"
    assert "compromised" in rows[0]["detail"]


def test_worker_sending_agent_type_is_audited(gate):
    rc, out, err = gate.ctl("test", "webchat.1", "wrong_role")
    assert rc == 0, err
    rows = wait_for(lambda: audit_rows(gate, "method = 'agent.delta'"),
                    10, 0.1, "audit row")
    assert rows[0]["worker"] == "webchat.1"
    wait_for(lambda: gate.worker("webchat.1")["state"] == "running" and
             gate.worker("webchat.1")["restarts"] == 1, 10, 0.05,
             "webchat.1 restarted")


@pytest.mark.parametrize("method,role", [
    ("ctl.restart", "operator"), ("share.create", "operator"),
    ("state.get", "channel"), ("agent.delta", "agent"),
])
def test_config_widening_webchat_is_refused(method, role):
    rc, out = check_config({"policy": {"roles": {
        "webchat": ["session.open", "chat.send", method]}}})
    assert rc != 0
    assert method in out and role in out, out
    assert "policy.roles.webchat[2]" in out, out


def test_config_unknown_method_is_refused():
    rc, out = check_config({"policy": {"roles": {"webchat": ["chat.sned"]}}})
    assert rc != 0 and "chat.sned" in out, out


def test_config_narrowing_is_accepted():
    rc, out = check_config({"policy": {"roles": {
        "webchat": ["session.open", "chat.send"]}}})
    assert rc == 0, out


def test_narrowed_webchat_forbids_and_audits(gate_factory):
    gate = gate_factory({"policy": {"roles": {
        "webchat": ["session.open", "session.resume", "chat.send"]}}})

    async def scenario():
        async with gate.client() as c:
            await c.open()
            await c.chat("hello", "n-1")
            r = await c.call("chat.history", {"limit": 5})
            assert r["error"]["code"] == "forbidden"
            r = await c.call("chat.abort", {"client_msg_id": "n-1"})
            assert r["error"]["code"] == "forbidden"
            await c.chat("still fine", "n-2")
    run(scenario())
    rows = wait_for(lambda: (lambda r: r if len(r) >= 2 else None)(
        audit_rows(gate, "detail LIKE '%narrowed%'")), 10, 0.1, "audit")
    assert [r["method"] for r in rows] == ["chat.history", "chat.abort"]
    assert all(w["restarts"] == 0 for w in gate.status().values())
