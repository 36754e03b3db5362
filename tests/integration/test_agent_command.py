"""The command agent backend: a small example agent (examples/agent.py)
started sandboxed by the agent worker, speaking JSON lines."""

import os

from conftest import REPO, run

AGENT = os.path.join(REPO, "examples", "agent.py")
TEXT = "hello wxgate, this is a streamed message"


def conf(**over):
    c = {"argv": ["/usr/bin/python3", AGENT]}
    c.update(over)
    return {"agents": [{"name": "default", "type": "command",
                        "command": c}]}


def test_command_agent_streams(gate_factory):
    gate = gate_factory(conf())

    async def go():
        async with gate.client() as c:
            await c.open()
            status, done = await c.chat(TEXT, "m-1")
            assert status == "accepted"
            deltas = c.deltas("m-1")
            assert len(deltas) >= 2, deltas
            assert "".join(d["text"] for d in deltas) == done["text"]
            assert done["text"] == "echo: " + TEXT
            i_done = c.events.index(done)
            assert all(c.events.index(d) < i_done for d in deltas)
            _, done = await c.chat("second", "m-2")
            assert done["text"] == "echo: second"
    run(go())


def test_command_agent_is_sandboxed(gate_factory):
    gate = gate_factory(conf())
    pid = gate.status()["agent.default"]["pid"]
    kids = open("/proc/%d/task/%d/children" % (pid, pid)).read().split()
    assert len(kids) == 1, kids
    with open("/proc/%s/status" % kids[0]) as f:
        st = dict(line.split(":", 1) for line in f if ":" in line)
    assert st["Seccomp"].strip() == "2"
    assert st["NoNewPrivs"].strip() == "1"
    with open("/proc/%d/status" % pid) as f:
        st = dict(line.split(":", 1) for line in f if ":" in line)
    assert st["Seccomp"].strip() == "2"
