"""Chat commands (issue #16, "Chat commands on every surface"): /help,
/new, /stop and /model are answered by wxgate, the same in the web chat and on a
channel account, stored with their message and never given to the
agent; anything else, other "/words" included, is the agent's."""

import os

from conftest import run, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
# Answers with the user turns it was given, joined by " | ".
TURNS = [{"name": "default", "type": "command", "command": {
    "argv": ["/usr/bin/python3", os.path.join(HERE, "agent_turns.py")]}}]
SLOW = [{"name": "default", "type": "echo",
         "echo": {"chunks": 40, "delay_ms": 250}}]


def test_webchat_help_new_and_unknown(gate_factory):
    gate = gate_factory({"agents": TURNS})

    async def go():
        async with gate.client() as c:
            await c.open()
            assert (await c.chat("a", "m1"))[1]["text"] == "a"
            assert (await c.chat("b", "m2"))[1]["text"] == "a | b"
            status, done = await c.chat("  /HELP ", "m3")
            assert status == "accepted"
            assert done["text"].splitlines()[0].startswith("/help"), done
            assert [l.split()[0] for l in done["text"].splitlines()] == \
                ["/help", "/new", "/stop", "/model"]
            # /help is not the agent's context; what came before is.
            assert (await c.chat("c", "m4"))[1]["text"] == "a | b | c"
            done = (await c.chat("/new", "m5"))[1]
            assert done["text"].startswith("A new conversation"), done
            assert (await c.chat("d", "m6"))[1]["text"] == "d"
            # Not a command: the agent reads it.
            assert (await c.chat("/weather", "m7"))[1]["text"] == \
                "d | /weather"
            # Sent again, a command is answered again, not run again.
            res = await c.send("/new", "m5")
            assert res["status"] == "answered"
            assert (await c.chat("e", "m8"))[1]["text"] == \
                "d | /weather | e"
    run(go())
    assert gate.rows("SELECT text, command FROM messages WHERE"
                     " client_msg_id IN ('m3', 'm5', 'm7') ORDER BY id") \
        == [("  /HELP ", 1), ("/new", 1), ("/weather", 0)]


def test_webchat_stop_ends_the_answer_being_written(gate_factory):
    gate = gate_factory({"agents": SLOW})

    async def go():
        async with gate.client() as c:
            await c.open()
            await c.send("a long answer to stop " * 4, "long")
            await c.wait_delta("long", 10)
            status, done = await c.chat("/stop", "stop")
            assert done["text"] == "Stopped.", done
            long = await c.wait_done("long", 10)
            assert long["aborted"] is True, long
            assert long["text"] and len(long["text"]) < \
                len("echo: " + "a long answer to stop " * 4), long
            done = (await c.chat("/stop", "stop2"))[1]
            assert done["text"] == "No answer is being written.", done
    run(go())


def test_channel_commands(gate_factory):
    gate = gate_factory({"agents": TURNS,
                         "channels": [{"name": "t", "type": "loopback",
                                       "dm_policy": "open"}]})

    def say(text):
        rc, out, err = gate.ctl("test", "loopback.t", "say:ann:" + text)
        assert rc == 0, (out, err)

    def replies():
        return [r[0] for r in gate.rows(
            "SELECT reply FROM messages WHERE account = 't' AND"
            " state = 3 ORDER BY id")]

    say("x")
    wait_for(lambda: replies() == ["x"], 10, 0.05, "x answered")
    say("/new")
    wait_for(lambda: len(replies()) == 2, 10, 0.05, "/new answered")
    gate.wait_log("loopback t: to ann: A new conversation", 10)
    say("y")
    wait_for(lambda: len(replies()) == 3, 10, 0.05, "y answered")
    assert replies()[2] == "y"
    say("/help")
    wait_for(lambda: len(replies()) == 4, 10, 0.05, "/help answered")
    gate.wait_log("loopback t: to ann: /help", 10)
    assert "t: /new from a peer" in gate.log()


def test_model_picks_among_the_agents_models(gate_factory):
    from fake_openai import Fake
    fake = Fake(chunks=1, delay=0).start()
    try:
        gate = gate_factory({"agents": [{
            "name": "default", "type": "openai",
            "openai": {"url": fake.url, "model": "small", "timeout_s": 5,
                       "models": ["small", "large"]}}]})

        async def go():
            async with gate.client() as c:
                await c.open()
                await c.chat("one", "m1")
                assert fake.requests[-1]["model"] == "small"
                done = (await c.chat("/model", "m2"))[1]
                assert done["text"] == "Models:\n* small\n  large", done
                done = (await c.chat("/model huge", "m3"))[1]
                assert done["text"].startswith("No model huge"), done
                done = (await c.chat("/Model  large ", "m4"))[1]
                assert done["text"] == "This chat now uses large.", done
                await c.chat("two", "m5")
                assert fake.requests[-1]["model"] == "large"
                # A sentence that starts with the word is the agent's.
                await c.chat("/model is it good?", "m6")
                assert fake.requests[-1]["messages"][-1]["content"] == \
                    "/model is it good?"
                assert fake.requests[-1]["model"] == "large"
            # Another conversation keeps the default.
            async with gate.client() as c:
                await c.open()
                await c.chat("three", "m7")
                assert fake.requests[-1]["model"] == "small"
        run(go())
        # Commands never reached the model.
        assert len(fake.requests) == 4
    finally:
        fake.stop()


def test_model_on_an_agent_with_one(gate_factory):
    gate = gate_factory({"agents": TURNS})

    async def go():
        async with gate.client() as c:
            await c.open()
            done = (await c.chat("/model x", "m1"))[1]
            assert done["text"] == "This chat's agent has one model.", done
    run(go())


def test_commands_are_policy(gate_factory):
    """policy.commands grants them per surface, as roles grant methods:
    one not granted is answered so, audited, and runs nothing."""
    from conftest import audit_rows
    gate = gate_factory({"agents": SLOW,
                         "policy": {"commands": {"webchat": ["help"]}}})

    async def go():
        async with gate.client() as c:
            await c.open()
            await c.send("a long answer " * 4, "long")
            await c.wait_delta("long", 10)
            done = (await c.chat("/stop", "s"))[1]
            assert done["text"] == "/stop is not available in this chat."
            long = await c.wait_done("long", 20)
            assert long["aborted"] is False, long
            done = (await c.chat("/help", "h"))[1]
            assert done["text"].startswith("/help"), done
    run(go())
    rows = audit_rows(gate)
    assert any("/stop" in str(r) and "policy.commands" in str(r)
               for r in rows), rows
