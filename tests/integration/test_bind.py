"""Self-service binding (issue #13): invitations made with wxgatectl
bind, the bound wechat accounts they make, listed and removed with
wxgatectl channels, kept across restarts and reloads, unbound by their
owner with /unbind; against a fake iLink server on 127.0.0.1.

Needs a build configured with --enable-test-hooks."""

import os
import re
import sqlite3
import time

import pytest

from conftest import check_config, run, wait_for
from fake_ilink import FakeIlink

URL_RE = re.compile(r"^http://127\.0\.0\.1:(\d+)/bind/([A-Za-z0-9_-]{22})$")
OWNER = "o9cq80_FAKEuSeRiD0000000000@im.wechat"


@pytest.fixture
def fake():
    f = FakeIlink(longpoll_ms=1500, qr_script=("wait",)).start()
    yield f
    f.stop()


def template(fake, **over):
    t = {"name": "staff", "dm_policy": "allowlist", "max_accounts": 5,
         "wechat": {"login_url": fake.url, "send_gap_ms": 0,
                    "poll_timeout_ms": 3000, "timeout_s": 5}}
    t.update(over)
    return t


def conf(fake, bind=None, **over):
    c = {"bind_templates": [template(fake, **over)]}
    if bind is not None:
        c["bind"] = bind
    return c


def create(gate, *args):
    rc, out, err = gate.ctl("bind", "create", "--template", "staff", *args)
    assert rc == 0, "bind create: rc %d: %s" % (rc, err)
    lines = out.splitlines()
    m = URL_RE.match(lines[0])
    assert m, "no URL in %r" % out
    assert int(m.group(1)) == gate.port
    assert len(lines) > 10 and any("\u2588" in ln for ln in lines[1:])
    return m.group(2)


def invites(gate):
    rc, out, err = gate.ctl("bind", "list")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["ID", "TEMPLATE", "CREATED", "EXPIRES"]
    rows = []
    for ln in lines[1:]:
        f = ln.split()
        rows.append({"id": int(f[0]), "template": f[1], "left": int(f[4]),
                     "used": int(f[5]), "revoked": f[6]})
    return rows


def channels(gate):
    rc, out, err = gate.ctl("channels", "list")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "SOURCE", "TEMPLATE",
                                "STATE", "OWNER"]
    rows = {}
    for ln in lines[1:]:
        f = ln.split()
        rows[f[0]] = {"kind": f[1], "source": f[2], "template": f[3],
                      "state": f[4], "owner": f[5]}
    return rows


def db_dump(gate):
    with open(os.path.join(gate.state_dir, "wxgate.db"), "rb") as f:
        return f.read().decode("latin-1")


def test_invitations_are_made_listed_and_revoked(gate_factory, fake):
    gate = gate_factory(conf(fake))
    tok = create(gate, "--ttl", "2h", "--uses", "3")
    create(gate)
    rows = invites(gate)
    assert [(r["id"], r["template"], r["left"], r["used"]) for r in rows] \
        == [(1, "staff", 3, 0), (2, "staff", 1, 0)]
    assert all(r["revoked"] == "-" for r in rows)
    # Only the token's hash is kept, and the listing never shows it.
    assert tok not in db_dump(gate)
    assert tok not in gate.ctl("bind", "list")[1]
    assert tok not in gate.log()
    rc, out, err = gate.ctl("bind", "revoke", "2")
    assert rc == 0 and "revoked" in out
    assert invites(gate)[1]["revoked"] != "-"
    rc, out, err = gate.ctl("bind", "revoke", "2")
    assert rc == 1 and "no such live invitation" in err
    rc, out, err = gate.ctl("bind", "create", "--template", "nobody")
    assert rc == 1 and 'no template "nobody"' in err
    # Shorter than bind.ttl_min_s (60 s by default): refused.
    rc, out, err = gate.ctl("bind", "create", "--template", "staff",
                            "--ttl", "5s")
    assert rc == 1 and "bind.ttl_min_s" in err


def test_channels_list_shows_the_files_accounts(gate_factory, fake,
                                                tmp_path):
    path = os.path.join(str(tmp_path), "alice.token")
    with open(path, "w") as f:
        f.write(fake.token + "\n")
    os.chmod(path, 0o600)
    c = conf(fake)
    c["channels"] = [{"name": "alice", "type": "wechat",
                      "wechat": {"login_url": fake.url, "token_file": path,
                                 "poll_timeout_ms": 3000}}]
    gate = gate_factory(c)
    rows = channels(gate)
    assert rows["alice"]["source"] == "config"
    assert rows["alice"]["kind"] == "wechat"
    assert rows["alice"]["state"] == "running"
    assert rows["alice"]["template"] == "-"
    rc, out, err = gate.ctl("channels", "remove", "alice")
    assert rc == 1 and "configuration file" in err
    rc, out, err = gate.ctl("channels", "remove", "nobody")
    assert rc == 1 and "no channel account nobody" in err


@pytest.mark.parametrize("tmpl,bind,field,what", [
    ({"name": "Bad Name"}, None, "bind_templates[0].name", "a-z"),
    ({"name": "t", "agent": "nobody"}, None, "bind_templates[0].agent",
     'no agent named "nobody"'),
    ({"name": "t", "dm_policy": "maybe"}, None,
     "bind_templates[0].dm_policy", "maybe"),
    ({"name": "t", "max_accounts": 0}, None,
     "bind_templates[0].max_accounts", ""),
    ({"name": "t", "wechat": {"token_file": "/etc/passwd"}}, None,
     "bind_templates[0].wechat.token_file", "QR code"),
    ({"name": "t", "wechat": {"stream_mode": "fast"}}, None,
     "bind_templates[0].wechat.stream_mode", "fast"),
    ({"name": "t"}, {"pending_max": 0}, "bind.pending_max", ""),
    ({"name": "t"}, {"ttl_min_s": 0}, "bind.ttl_min_s", ""),
])
def test_bad_templates_name_the_field(tmpl, bind, field, what):
    c = {"bind_templates": [tmpl]}
    if bind is not None:
        c["bind"] = bind
    rc, out = check_config(c)
    assert rc != 0 and field in out and what in out, out


def test_a_good_template_checks(fake):
    rc, out = check_config(conf(fake, bind={"pending_max": 4}))
    assert rc == 0 and "configuration OK" in out, out
    rc, out = check_config({"bind_templates": [template(fake),
                                               template(fake)]})
    assert rc != 0 and "duplicate template name" in out, out
