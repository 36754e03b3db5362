"""A worker that keeps crashing is parked as failed; wxgatectl restart
brings it back."""

from conftest import run, wait_for

CRASHLOOP = {"supervisor": {"crashloop_count": 3, "crashloop_window_s": 60}}


def test_crash_loop_parks_then_restart(gate_factory):
    gate = gate_factory(CRASHLOOP)
    seen = set()
    for n in range(1, 4):
        w = wait_for(lambda: (lambda w: w if w["state"] == "running"
                              else None)(gate.worker("webchat.0")), 10,
                     what="webchat.0 running before crash %d" % n)
        seen.add(w["pid"])
        rc, _, err = gate.ctl("test", "webchat.0", "crash")
        assert rc == 0, err
        if n < 3:
            wait_for(lambda: gate.worker("webchat.0")["pid"] not in seen
                     and gate.worker("webchat.0")["state"] == "running",
                     10, what="restart after crash %d" % n)

    w = wait_for(lambda: (lambda w: w if w["state"] == "failed"
                          else None)(gate.worker("webchat.0")), 10,
                 what="webchat.0 failed")
    assert w["pid"] == 0, w
    assert w["restarts"] == 2, w
    assert "SIGABRT" in w["last_exit"], w
    assert "wxgatectl restart webchat.0" in gate.log()
    # It stays parked.
    st = gate.status()
    assert st["webchat.0"]["state"] == "failed"
    assert st["webchat.1"]["state"] == "running"
    assert st["webchat.1"]["restarts"] == 0

    # The other worker carries the pool meanwhile.
    async def chat(cmid):
        async with gate.client() as c:
            await c.open()
            _, done = await c.chat("pool of one", cmid)
            assert done["text"] == "echo: pool of one"
    run(chat("c-1"))

    rc, _, err = gate.ctl("restart", "webchat.0")
    assert rc == 0, err
    w = wait_for(lambda: (lambda w: w if w["state"] == "running"
                          else None)(gate.worker("webchat.0")), 10,
                 what="webchat.0 back")
    assert w["pid"] not in seen and w["pid"] > 0
    assert w["restarts"] == 3, w

    # And it is restarted normally again after one more crash.
    rc, _, err = gate.ctl("test", "webchat.0", "crash")
    assert rc == 0, err
    w = wait_for(lambda: (lambda w: w if w["state"] == "running" and
                          w["restarts"] == 4 else None)(
                              gate.worker("webchat.0")), 10,
                 what="webchat.0 restarted after the operator restart")
    run(chat("c-2"))
