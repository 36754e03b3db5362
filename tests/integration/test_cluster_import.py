"""A node that was alone moves to a cluster (issue #18): wxgate-import
copies its SQLite store into a new PostgreSQL, and two cluster nodes on
that database go on with its web chat sessions, share links and
schedules, under ids above every imported one.  The node's file is
only read.

Needs Debian's postgresql (scripts/deps.sh test); skipped without it."""

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess

from conftest import BUILDDIR, ctl_link, run, wait_for
from pgfix import pg  # noqa: F401 (a fixture)

IMPORT = os.path.join(BUILDDIR, "wxgate-import")
URL_RE = re.compile(r"^http://127\.0\.0\.1:(\d+)/s/([0-9a-f]{32})$")
DONE_RE = re.compile(r"^(\d+) rows in (\d+) tables$")
TABLES = ["sessions", "messages", "share_links", "kv", "peers", "pairings",
          "audit", "outbox", "schedules"]


def node_conf(pg, name):
    return {"store": pg.uri, "node": name,
            "cluster": {"password_file": pg.password_file,
                        "lease_ttl_ms": 3000}}


def turns(history):
    return [(t["role"], t["text"]) for t in history["messages"]]


def digest(paths):
    h = hashlib.sha256()
    for p in paths:
        h.update(p.encode() + b"\0")
        if os.path.exists(p):
            with open(p, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def wx_import(pg, old, *opts, uri=None):
    p = subprocess.run([IMPORT] + list(opts) +
                       ["-p", pg.password_file, old, uri or pg.uri],
                       capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def pg_tables(pg):
    return [r[0] for r in pg.sql(
        "SELECT relname FROM pg_class c JOIN pg_namespace n ON "
        "n.oid = c.relnamespace WHERE nspname = current_schema() AND "
        "relkind = 'r' ORDER BY 1")]


def max_id(pg):
    """The highest row id of any table of the store's schema."""
    tabs = [r[0] for r in pg.sql(
        "SELECT table_name FROM information_schema.columns WHERE "
        "table_schema = current_schema() AND column_name = 'id'")]
    q = " UNION ALL ".join("SELECT max(id) FROM \"%s\"" % t for t in tabs)
    return max(int(r[0]) for r in pg.sql(q) if r and r[0] != "")


def sqlite_rows(path, tables):
    """Each table's rows as psql -A prints them, from a copy of path."""
    tmp = path + ".look"
    shutil.copy(path, tmp)

    def text(v):
        if v is None:
            return ""
        if isinstance(v, bytes):
            return "\\x" + v.hex()
        return str(v)
    try:
        db = sqlite3.connect(tmp)
        try:
            return {t: [[text(v) for v in r] for r in db.execute(
                "SELECT * FROM \"%s\" ORDER BY 1, 2" % t)] for t in tables}
        finally:
            db.close()
    finally:
        for tail in ("", "-wal", "-shm"):
            if os.path.exists(tmp + tail):
                os.unlink(tmp + tail)


def more_rows(path):
    """What a node of channels and schedules keeps, written as someone
    with the disk would (this node has no channel to make them): a
    cursor, a peer approved, a pairing waiting, an audit row, a reply
    sent, a paused schedule."""
    db = sqlite3.connect(path)
    try:
        db.executescript("""
            INSERT INTO kv VALUES ('wx', 'cursor', 'buf-42', 1700000000);
            INSERT INTO peers VALUES ('wx', 'friend', 'Friend', 1,
                1700000001, 1700000000, 1700000002);
            INSERT INTO pairings (account, peer, code, created, expires)
                VALUES ('wx', 'stranger', 'ABCDEFGH', 1700000000,
                4102444800);
            INSERT INTO audit (time, role, worker, method, detail)
                VALUES (1700000003, 'operator', 'ctl', 'test', 'import');
            INSERT INTO outbox (account, peer, body, created, next_try,
                state, finished) VALUES ('wx', 'friend', 'sent long ago',
                1700000004, 1700000004, 'sent', 1700000005);
            INSERT INTO schedules (name, every, tz, body, targets,
                catch_up, paused, last_slot, created) VALUES ('nightly',
                '1h', 'UTC', 'hello', 'wx:friend', 'latest', 1, 0,
                1700000006);
        """)
        db.commit()
    finally:
        db.close()


def test_a_lone_node_moves_to_a_cluster(pg, gate_factory, tmp_path):
    alone = gate_factory(None, sub="alone")
    want = []

    async def chat_alone():
        async with alone.client() as c:
            token = await c.open()
            for i in range(3):
                _, done = await c.chat("m%d" % i, "c%d" % i)
                assert done["text"] == "echo: m%d" % i
                want.extend([("user", "m%d" % i),
                             ("assistant", "echo: m%d" % i)])
            return token

    token = run(chat_alone())
    sid = ctl_link(alone, URL_RE, "share", "create").group(2)
    assert alone.stop() == 0
    alone.proc = None
    old = os.path.join(alone.state_dir, "wxgate.db")
    more_rows(old)
    files = [old, old + "-wal", old + "-shm"]
    before = digest(files)
    rows = sqlite_rows(old, TABLES)
    assert len(rows["messages"]) == 3 and len(rows["share_links"]) == 1
    assert all(rows[t] for t in TABLES), rows

    # A password in the URI is refused, as wxgated refuses it.
    rc, out, err = wx_import(pg, old, uri=pg.uri.replace(
        "wxgate@", "wxgate:secret@"))
    assert rc != 0 and "password in the URI" in err, (rc, out, err)
    assert pg_tables(pg) == []

    # A dry run does everything and leaves nothing, not even the schema.
    rc, out, err = wx_import(pg, old, "-n")
    assert rc == 0, err
    m = re.match(r"^dry run: (\d+) rows in (\d+) tables, rolled back$",
                 out.strip())
    assert m and int(m.group(1)) == sum(len(r) for r in rows.values()), \
        out
    assert pg_tables(pg) == []

    rc, out, err = wx_import(pg, old)
    assert rc == 0, err
    m = DONE_RE.match(out.strip())
    assert m and m.group(2) == str(len(TABLES)), out
    # Value for value, bytes and NULLs too.
    for t in TABLES:
        assert pg.sql("SELECT * FROM \"%s\" ORDER BY 1, 2" % t) == \
            rows[t], t
    # The description's version, then each step's (schema.c).
    assert pg.sql("SELECT version FROM wx_schema ORDER BY 1") == \
        [["17"], ["18"], ["19"], ["20"]]
    # Rows came table by table in name order (messages before the
    # sessions they refer to): every foreign key waits for the commit.
    assert pg.sql("SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
                  " AND NOT condeferred") == [["0"]]
    top = max_id(pg)

    # Once more into the same database: refused, nothing added.
    rc, out, err = wx_import(pg, old)
    assert rc != 0 and "refused" in err and "sessions" in err, \
        (rc, out, err)
    for t in TABLES:
        assert pg.sql("SELECT count(*) FROM \"%s\"" % t) == \
            [[str(len(rows[t]))]], t

    ns = {m: gate_factory(node_conf(pg, m), sub=m) for m in ("n1", "n2")}

    async def on_the_cluster():
        async with ns["n2"].client() as c:
            res = await c.resume(token)
            assert res.get("resumed") is True, res
            hist = await c.ok("chat.history", {"limit": 50})
            assert turns(hist) == want, turns(hist)
            status, done = await c.chat("after", "c-after")
            assert status == "accepted", status
            assert done["text"] == "echo: after"
        async with ns["n1"].client() as c:
            res = await c.ok("share.open", {"id": sid})
            assert "token" in res, res

    st, _, _ = ns["n1"].http_get("/s/" + sid)
    assert st == 200, st
    run(on_the_cluster())
    new = wait_for(lambda: pg.sql(
        "SELECT id FROM messages WHERE client_msg_id = 'c-after'"), 10,
        0.1, "the new message in PostgreSQL")
    assert int(new[0][0]) > top, (new, top)
    # The share link's visitor is a new session: above the imported
    # ids too, and no imported row was written over.
    wait_for(lambda: len(pg.sql("SELECT id FROM sessions")) ==
             len(rows["sessions"]) + 1, 10, 0.1, "the visitor's session")
    # (Columns that do not change: a session's last_seen does.)
    for t, cols in (("sessions", (0, 1)), ("share_links", (0, 1)),
                    ("messages", (0, 1, 2, 6, 8))):
        was = [[r[i] for i in cols] for r in rows[t]]
        now = [[r[i] for i in cols] for r in pg.sql(
            "SELECT * FROM \"%s\" ORDER BY 1, 2" % t)]
        for r in was:
            assert r in now, (t, r, now)
        for r in now:
            assert r in was or int(r[0]) > top, (t, r, top)

    # The node's file was only read.
    assert digest(files) == before
