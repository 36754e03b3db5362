"""The shipped etc/wxgate.yaml works as documented: copied with only its
paths and port rewritten, share links open and chat (share.open is among
the web chat methods).  And a share link's secret never reaches the log,
not even at debug level: only a short hash of it does."""

import hashlib
import os
import re

from conftest import REPO, Gate, run

SAMPLE = os.path.join(REPO, "etc", "wxgate.yaml")
URL_RE = re.compile(r"/s/([0-9a-f]{32})$")


class RawGate(Gate):
    """A Gate whose config file is given text, not a dict."""

    def __init__(self, tmp_path, text):
        super().__init__(tmp_path)
        self.raw = text

    def write_conf(self, conf=None, raw=None):
        with open(self.conf_path, "w") as f:
            f.write(raw if raw is not None else self.raw)


def sample_text(gate_dir, port, level=None):
    with open(SAMPLE) as f:
        text = f.read()
    run_dir = os.path.join(gate_dir, "run")
    subs = [(r"(?m)^state_dir: .*$", "state_dir: %s" % run_dir),
            (r"(?m)^store: .*$", "store: %s/wxgate.db" % run_dir),
            (r"(?m)^  listen: .*$", "  listen: 127.0.0.1:%d" % port)]
    if level is not None:
        subs.append((r"(?m)^  level: .*$", "  level: %s" % level))
    for pat, rep in subs:
        text, n = re.subn(pat, rep, text)
        assert n == 1, pat
    return text


def start(tmp_path, level=None):
    g = RawGate(tmp_path, "")
    g.raw = sample_text(g.dir, g.port, level)
    # The control socket: the sample's relative path, unless the test
    # directory makes it too long for sun_path.
    ctl = g.sock
    g.raw = re.sub(r"(?m)^control: .*$", "control: %s" % ctl, g.raw)
    return g.start()


def share_flow(g):
    rc, out, err = g.ctl("share", "create")
    assert rc == 0, err
    m = URL_RE.search(out.splitlines()[0])
    assert m, out
    sid = m.group(1)
    st, _, _ = g.http_get("/s/" + sid)
    assert st == 200
    st, _, _ = g.http_get("/s/%s/qr.svg" % sid)
    assert st == 200

    async def scenario():
        async with g.client() as c:
            res = await c.ok("share.open", {"id": sid})
            assert res["read_only"] is False
            status, done = await c.chat("hello via the sample", "sc-1")
            assert status == "accepted"
            assert done["text"]
    run(scenario())
    return sid


def test_sample_config_share_link(tmp_path):
    g = start(tmp_path)
    try:
        share_flow(g)
    finally:
        g.teardown()


def test_share_secret_never_logged(tmp_path):
    g = start(tmp_path, level="debug")
    try:
        sid = share_flow(g)
        log = g.log()
    finally:
        g.teardown()
    # Debug logging was on, and the link's requests were logged ...
    assert "conn_route" in log
    short = hashlib.sha256(sid.encode()).hexdigest()[:8]
    assert short in log
    # ... but never the secret, nor any long piece of it.
    assert sid not in log
    assert sid[:16] not in log and sid[16:] not in log
