"""wxgatectl schedule against a running wxgated (issue #15): add, list,
show, pause, resume and remove round trip; a definition wxgated cannot
run is refused naming the field and leaves nothing behind; schedules
from the configuration file are read-only from wxgatectl.  Runs need
the hub's timer and are tested with it, not here."""

import time

ECHO = [{"name": "default", "type": "echo"}]
LIST_HEAD = ["NAME", "NEXT", "LAST", "STATE", "FLAGS", "WHAT", "WHEN"]


def sched_gate(gate_factory, **over):
    conf = {"agents": ECHO, "channels": [{"name": "t", "type": "loopback"}]}
    conf.update(over)
    return gate_factory(conf)


def add(gate, name, *opts):
    return gate.ctl("schedule", "add", name, *opts)


def listing(gate):
    """schedule list as {name: {column: value}}; WHEN keeps its spaces."""
    rc, out, err = gate.ctl("schedule", "list")
    assert rc == 0, (out, err)
    lines = out.splitlines()
    assert lines[0].split() == LIST_HEAD, out
    rows = {}
    for ln in lines[1:]:
        p = ln.split(None, len(LIST_HEAD) - 1)
        rows[p[0]] = dict(zip([h.lower() for h in LIST_HEAD], p))
    return rows


def show(gate, name):
    """schedule show as {key: value}, target lines as a list."""
    rc, out, err = gate.ctl("schedule", "show", name)
    assert rc == 0, (out, err)
    res = {"target": []}
    for ln in out.splitlines():
        k, v = ln.split(": ", 1)
        if k == "target":
            res[k].append(v)
        else:
            res[k] = v
    return res


def epoch(iso):
    return int(time.mktime(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")) -
               time.timezone)


def test_add_list_show_pause_resume_remove(gate_factory):
    gate = sched_gate(gate_factory)
    rc, out, err = gate.ctl("schedule", "list")
    assert rc == 0 and out.split() == LIST_HEAD, (out, err)
    before = int(time.time())
    rc, out, err = add(gate, "morning", "--cron", "0 8 * * 1-5", "--tz",
                       "Europe/Berlin", "--text", "good morning",
                       "--to", "t:alice", "--to", "t:bob")
    assert rc == 0 and out.strip() == "added", (out, err)
    rc, out, err = add(gate, "poll", "--every", "30m", "--agent", "default",
                       "--prompt", "anything new?", "--to", "t:carol",
                       "--hold-until-contact", "2h", "--catch-up", "none")
    assert rc == 0, (out, err)
    after = int(time.time())

    rows = listing(gate)
    assert sorted(rows) == ["morning", "poll"], rows
    m, p = rows["morning"], rows["poll"]
    assert (m["last"], m["state"], m["flags"], m["what"], m["when"]) == \
        ("-", "-", "-", "text", "0 8 * * 1-5 Europe/Berlin"), m
    assert (p["flags"], p["what"], p["when"]) == \
        ("-", "agent:default", "every 30m"), p
    # An interval counts from when it was added.
    assert before + 1800 <= epoch(p["next"]) <= after + 1800, p
    # 08:00 in Berlin is 06:00 or 07:00 UTC, on a weekday.
    t = time.gmtime(epoch(m["next"]))
    assert t.tm_hour in (6, 7) and t.tm_min == 0 and t.tm_wday < 5, m

    s = show(gate, "morning")
    assert s["cron"] == "0 8 * * 1-5" and s["tz"] == "Europe/Berlin", s
    assert s["text"] == "good morning" and "agent" not in s, s
    assert s["target"] == ["t:alice", "t:bob"], s
    assert (s["hold_until_contact"], s["catch_up"], s["paused"],
            s["config"], s["last"]) == ("0", "latest", "no", "no", "-"), s
    s = show(gate, "poll")
    assert (s["every"], s["agent"], s["prompt"], s["target"],
            s["hold_until_contact"], s["catch_up"]) == \
        ("30m", "default", "anything new?", ["t:carol"], "2h", "none"), s

    rc, out, err = gate.ctl("schedule", "pause", "morning")
    assert rc == 0 and out.strip() == "paused", (out, err)
    m = listing(gate)["morning"]
    assert m["flags"] == "paused" and m["next"] == "-", m
    assert show(gate, "morning")["paused"] == "yes"
    rc, out, err = gate.ctl("schedule", "resume", "morning")
    assert rc == 0 and out.strip() == "resumed", (out, err)
    m = listing(gate)["morning"]
    assert m["flags"] == "-" and m["next"] != "-", m

    rc, out, err = gate.ctl("schedule", "remove", "morning")
    assert rc == 0 and out.strip() == "removed", (out, err)
    assert sorted(listing(gate)) == ["poll"]
    rc, out, err = gate.ctl("schedule", "show", "morning")
    assert rc == 1 and "no schedule morning" in err, (out, err)
    assert gate.rows("SELECT name FROM schedules") == [("poll",)]


def test_unknown_names_are_refused(gate_factory):
    gate = sched_gate(gate_factory)
    assert add(gate, "poll", "--every", "1h", "--text", "hi",
               "--to", "t:alice")[0] == 0
    for cmd in ("pause", "resume", "remove", "history"):
        rc, out, err = gate.ctl("schedule", cmd, "nosuch")
        assert rc == 1 and "no schedule nosuch" in err, (cmd, out, err)
    # A schedule that never ran has an empty history, as do all.
    for args in (("history", "poll"), ("history",)):
        rc, out, err = gate.ctl("schedule", *args)
        assert rc == 0 and out == "", (args, out, err)
    assert sorted(listing(gate)) == ["poll"]


def test_bad_input_is_refused_and_creates_nothing(gate_factory):
    gate = sched_gate(gate_factory)
    assert add(gate, "poll", "--every", "1h", "--text", "hi",
               "--to", "t:alice")[0] == 0
    good = ["--text", "hi", "--to", "t:alice"]
    refused = [
        # (options, words the error must hold: the field, the value)
        (["--cron", "61 * * * *"] + good, ["minute", "61"]),
        (["--cron", "0 8 * * *", "--tz", "Mars/Olympus"] + good,
         ["tz", "Mars/Olympus"]),
        (["--every", "5s"] + good, ["every"]),
        (["--every", "1h", "--text", "hi", "--to", "nosuch:alice"],
         ["nosuch"]),
        (["--every", "1h", "--agent", "nobody", "--prompt", "hi",
          "--to", "t:alice"], ["agent", "nobody"]),
    ]
    for opts, words in refused:
        rc, out, err = add(gate, "bad", *opts)
        assert rc == 1, (opts, out, err)
        for w in words:
            assert w in err, (opts, w, err)
    # The same name twice: the first stays as it was.
    rc, out, err = add(gate, "poll", "--every", "2h", "--text", "other",
                       "--to", "t:bob")
    assert rc == 1 and "name poll is taken" in err, (out, err)
    # Text and an agent at once is wxgatectl's to refuse (usage).
    rc, out, err = add(gate, "bad", "--every", "1h", "--text", "hi",
                       "--agent", "default", "--prompt", "hi",
                       "--to", "t:alice")
    assert rc == 2, (out, err)
    assert sorted(listing(gate)) == ["poll"]
    s = show(gate, "poll")
    assert (s["every"], s["text"], s["target"]) == \
        ("1h", "hi", ["t:alice"]), s
    assert gate.rows("SELECT count(*) FROM schedules") == [(1,)]


def test_config_schedule_is_read_only(gate_factory):
    gate = sched_gate(gate_factory, schedules=[
        {"name": "daily", "cron": "0 9 * * *", "text": "standup",
         "to": ["t:team"]}])
    rows = listing(gate)
    assert rows["daily"]["flags"] == "config", rows
    assert show(gate, "daily")["config"] == "yes"
    for cmd in ("pause", "resume", "remove"):
        rc, out, err = gate.ctl("schedule", cmd, "daily")
        assert rc == 1, (cmd, out, err)
        assert "declared in the configuration file" in err, (cmd, err)
    assert listing(gate)["daily"]["flags"] == "config"
    # Its name is taken for wxgatectl too.
    rc, out, err = add(gate, "daily", "--every", "1h", "--text", "hi",
                       "--to", "t:alice")
    assert rc == 1 and "name daily is taken" in err, (out, err)


def test_clock_hook_sets_when_schedules_start(gate_factory):
    """wxgatectl test supervisor clock:... (test hooks only) moves the
    hub's clock, and a schedule added then starts from that time."""
    gate = sched_gate(gate_factory)
    e = 1893456000      # 2030-01-01T00:00:00Z, a Tuesday

    def clock(action):
        rc, out, err = gate.ctl("test", "supervisor", "clock:" + action)
        assert rc == 0 and out.startswith("clock "), (action, out, err)
        return int(out.split()[1])

    assert e <= clock("@%d" % e) <= e + 1
    assert add(gate, "poll", "--every", "30m", "--text", "hi",
               "--to", "t:alice")[0] == 0
    assert add(gate, "nine", "--cron", "0 9 * * *", "--text", "hi",
               "--to", "t:alice")[0] == 0
    rows = listing(gate)
    assert e + 1800 <= epoch(rows["poll"]["next"]) <= e + 1802, rows
    assert rows["nine"]["next"] == "2030-01-01T09:00:00Z", rows
    (created, last_slot), = gate.rows("SELECT created, last_slot FROM "
                                      "schedules WHERE name = 'nine'")
    assert e <= created == last_slot <= e + 2
    assert e + 3600 <= clock("+3600") <= e + 3603
    assert e - 3600 <= clock("-7200") <= e - 3597
    for bad in ("+", "+1h", "@-5", "5", "+99999999999999999999"):
        rc, out, err = gate.ctl("test", "supervisor", "clock:" + bad)
        assert rc == 1 and "clock:" in err, (bad, out, err)
