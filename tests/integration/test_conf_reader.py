"""The configuration reader (issue #11): the root parent no longer parses
its file; a one-shot `wxgated -x conf:read` does, as the workers' user,
under seccomp and no_new_privs, in an empty root, before it reads a byte.
A reader that hangs or makes a forbidden syscall fails the start (here
`wxgated -n`, which runs the reader too) with a clear line; the secret
files it needs are read by root with root's checks, so a careless mode
or a foreign owner is still refused.

Needs a build configured with --enable-test-hooks (WXGATE_TEST_READER)."""

import os
import pwd
import subprocess
import tempfile
import time

import pytest
import yaml

from conftest import BASE_CONF, WXGATED, deep_merge, run

ROOT = os.geteuid() == 0


def write_conf(d, conf):
    path = os.path.join(d, "wxgate.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(deep_merge(BASE_CONF, conf), f)
    return path


def check(conf, env=None, timeout=30):
    with tempfile.TemporaryDirectory(prefix="wxrd") as d:
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.run([WXGATED, "-n", "-f", write_conf(d, conf)],
                           capture_output=True, text=True, timeout=timeout,
                           env=e)
        return p.returncode, p.stdout + p.stderr


def children(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        return [int(x) for x in f.read().split()]


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def webhook_conf(key):
    return {"channels": [{"name": "hook", "type": "wecom_webhook",
                          "wecom_webhook": {"key_file": str(key)}}]}


def test_reader_is_sandboxed_and_a_hung_one_fails_the_start():
    """A reader kept hanging by the test hook: its /proc shows the
    workers' uid, seccomp filter mode and no_new_privs, and no root
    filesystem but zoneinfo; past its deadline the parent kills it and
    the check fails naming the reader."""
    env = {"WXGATE_TEST_READER": "hang", "WXGATE_TEST_READER_MS": "8000"}
    with tempfile.TemporaryDirectory(prefix="wxrd") as d:
        e = dict(os.environ)
        e.update(env)
        p = subprocess.Popen([WXGATED, "-n", "-f", write_conf(d, {})],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=e)
        try:
            st = None
            for _ in range(400):
                kids = children(p.pid)
                if kids:
                    st = proc_status(kids[0])
                    # Past its exec and its sandbox: seccomp is last.
                    if st.get("Seccomp") == "2":
                        break
                time.sleep(0.01)
            assert st is not None and st.get("Seccomp") == "2", st
            assert st["NoNewPrivs"] == "1"
            uid = int(st["Uid"].split()[0])
            if ROOT:
                assert uid == pwd.getpwnam("nobody").pw_uid
                assert uid != 0
                assert st["Groups"] == ""
                root = os.listdir("/proc/%d/root/" % kids[0])
                assert "etc" not in root and "root" not in root, root
            else:
                assert uid == os.geteuid()
            out, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert p.returncode == 1
    assert "configuration reader did not answer within 8000 ms; killed" \
        in err, err
    assert "configuration OK" not in out


def test_a_forbidden_syscall_fails_the_start():
    rc, out = check({}, {"WXGATE_TEST_READER": "syscall"})
    assert rc == 1
    assert "configuration reader died before its answer: killed by " \
        "seccomp (SIGSYS): socket" in out, out


def test_a_worker_name_out_of_bounds_fails_the_start():
    """Root takes a worker's name from the reader only as the file
    could spell it (a-z, 0-9, _ and -): a reader taken over that names
    one "x/y" fails the start (it once only refused a name with a
    dot in it)."""
    rc, out = check({}, {"WXGATE_TEST_READER": "badid"})
    assert rc == 1
    assert ("configuration reader: worker agent.x/y of no kind, named "
            "out of bounds, or twice") in out, out
    assert "configuration OK" not in out


def test_secret_files_are_judged_by_root(tmp_path):
    """The reader asks the parent for a secret file: a good one passes;
    one group or others may read, or one of another owner, is refused
    with the message config_load gave."""
    key = tmp_path / "key"
    key.write_text("abcdef\n")
    os.chmod(key, 0o600)
    rc, out = check(webhook_conf(key))
    assert rc == 0, out
    assert "configuration OK" in out
    os.chmod(key, 0o644)
    rc, out = check(webhook_conf(key))
    assert rc == 1
    assert ("channels[0].wecom_webhook.key_file: %s: group or others may "
            "access it (chmod 600)" % key) in out, out
    if ROOT:
        # The reader runs as nobody: had it judged the file itself, a
        # file of nobody's would have passed as its own.
        os.chmod(key, 0o600)
        nobody = pwd.getpwnam("nobody").pw_uid
        os.chown(key, nobody, -1)
        rc, out = check(webhook_conf(key))
        assert rc == 1
        assert "%s: owned by uid %d, not by us or root" % (key, nobody) \
            in out, out


def test_missing_secret_and_program_are_named(tmp_path):
    rc, out = check(webhook_conf(tmp_path / "nonexistent"))
    assert rc == 1
    assert "%s: No such file or directory" % (tmp_path / "nonexistent") \
        in out, out
    prog = tmp_path / "agent.sh"
    prog.write_text("#!/bin/sh\n")
    os.chmod(prog, 0o644)
    rc, out = check({"agents": [{"name": "default", "type": "command",
                                 "command": {"argv": [str(prog)]}}]})
    assert rc == 1
    assert "agents[0].command.argv: %s: Permission denied" % prog in out, out
    os.chmod(prog, 0o755)
    rc, out = check({"agents": [{"name": "default", "type": "command",
                                 "command": {"argv": [str(prog)]}}]})
    assert rc == 0, out


def test_schedule_zones_are_checked_in_the_sandbox(tmp_path):
    """The reader's root holds nothing: it asks the parent for a zone's
    file.  A real zone passes (an alias too), an unknown one is
    refused, and so are a directory and a file that is not TZif."""
    key = tmp_path / "key"
    key.write_text("abcdef\n")
    os.chmod(key, 0o600)
    conf = webhook_conf(key)
    conf["schedules"] = [{"name": "x", "cron": "0 8 * * *",
                          "tz": "Europe/Berlin", "text": "hi",
                          "to": ["hook:group"]}]
    rc, out = check(conf)
    assert rc == 0, out
    conf["schedules"].append(dict(conf["schedules"][0], name="y",
                                  tz="US/Pacific", to=["hook:group"]))
    rc, out = check(conf)
    assert rc == 0, out
    for tz, why in [("Nowhere/Zone", 'unknown time zone "Nowhere/Zone"'),
                    ("Europe", '"Europe" is not a time zone file'),
                    ("zone.tab", '"zone.tab" is not a time zone file')]:
        conf["schedules"][0]["tz"] = tz
        rc, out = check(conf)
        assert rc == 1
        assert "schedules[0].tz: " + why in out, (tz, out)


@pytest.mark.parametrize("bad", ["range", "syntax"])
def test_a_bad_file_is_the_readers_error_verbatim(bad):
    """The reader's error is the configuration's own line."""
    if bad == "range":
        rc, out = check({"webchat": {"workers": 0}})
        assert rc == 1
        assert "webchat.workers" in out, out
    else:
        with tempfile.TemporaryDirectory(prefix="wxrd") as d:
            path = os.path.join(d, "wxgate.yaml")
            with open(path, "w") as f:
                f.write("webchat: [\n")
            p = subprocess.run([WXGATED, "-n", "-f", path],
                               capture_output=True, text=True, timeout=30)
        assert p.returncode == 1
        assert p.stderr.startswith("wxgated: %s:" % path), p.stderr


def hub_pids(gate):
    out = []
    for pid in children(gate.proc.pid):
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            if b"hub:main" in f.read():
                out.append(pid)
    return out


def test_a_reload_whose_reader_hangs_keeps_the_running_file(gate_factory,
                                                              monkeypatch):
    """The first reading is a good one; the reload's reader hangs past
    its deadline (longer than the hub's heartbeat timeout): the reload
    is refused with the reader named, no worker restarts, the hub is the
    same process and chat still works."""
    monkeypatch.setenv("WXGATE_TEST_READER", "hang")
    monkeypatch.setenv("WXGATE_TEST_READER_AFTER", "1")
    monkeypatch.setenv("WXGATE_TEST_READER_MS", "3000")
    gate = gate_factory()
    before = {n: w["pid"] for n, w in gate.status().items()}
    hub = hub_pids(gate)
    assert len(hub) == 1
    conf = dict(gate.conf)
    conf["webchat"] = dict(conf["webchat"], workers=3)
    assert gate.reload(conf, timeout=20) is False
    assert "configuration reader did not answer within 3000 ms; killed" \
        in gate.log()
    assert "killing the hub" not in gate.log()
    assert hub_pids(gate) == hub
    assert {n: w["pid"] for n, w in gate.status().items()} == before

    async def chat():
        async with gate.client() as c:
            await c.open()
            _, done = await c.chat("still here", "r-1")
            assert done["text"] == "echo: still here"
    run(chat())


@pytest.mark.skipif(not ROOT, reason="only root drops to these users")
def test_the_users_processes_drop_to_are_checked():
    """The workers' and the hub's users must exist, be no root, and the
    hub's must be its own: each refusal names the key it is about."""
    cases = [
        ({"user": "wxgate-no-such"}, "sandbox.user: no such user"),
        ({"group": "wxgate-no-such"}, "sandbox.group: no such group"),
        ({"user": "root", "group": "root"}, "workers may not run as root"),
        ({"hub_user": "wxgate-no-such"},
         "sandbox.hub_user: no such user \"wxgate-no-such\" (create it: "
         "useradd"),
        ({"hub_group": "wxgate-no-such"},
         "sandbox.hub_group: no such group"),
        ({"hub_user": "nobody", "hub_group": "nogroup"},
         "the hub needs a uid of its own"),
    ]
    for sb, want in cases:
        rc, out = check({"sandbox": sb})
        assert rc == 1 and want in out, (sb, out)
    rc, out = check({})
    assert rc == 0 and "configuration OK" in out, out
