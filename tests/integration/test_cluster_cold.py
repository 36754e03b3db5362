"""A cluster node that takes an account over reads the history only of
the people who wrote lately (issue #18: the takeover read does not grow
with everyone who ever wrote); a person silent for days comes cold, and
when they write again their history is read before the agent answers,
so the agent sees every turn.

Needs a build configured with --enable-test-hooks and Debian's
postgresql (scripts/deps.sh test); skipped only without the latter."""

import os
import sqlite3

from conftest import plain_only, wait_for
from pgfix import pg  # noqa: F401 (a fixture)
from test_cluster_pg import FRIEND, held, ilink_fakes, node_conf, nodes  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
fakes = ilink_fakes(1)
OTHER = "friend_0003@im.wechat"


def conf(pg, fakes, tmp_path, name):
    c = node_conf(pg, fakes, tmp_path, name)
    c["agents"] = [{"name": "default", "type": "command", "command": {
        "argv": ["/usr/bin/python3", os.path.join(HERE, "agent_turns.py")],
        "timeout_s": 30}}]
    return c


def history_here(node, peer):
    """Messages of peer's conversation in the node's working set."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(
        node.dir, "run", "node.db"), uri=True, timeout=5)
    try:
        return db.execute("SELECT count(*) FROM messages m JOIN sessions s"
                          " ON s.id = m.session_id WHERE s.peer = ?",
                          (peer,)).fetchone()[0]
    finally:
        db.close()


def said(f, to):
    with f.lock:
        return [s["text"] for s in f.sent if s["to"] == to and
                s["outcome"] == "ok"]


@plain_only
def test_a_cold_persons_history_is_read_when_they_write(pg, fakes, nodes,
                                                         tmp_path):
    f = fakes[0]
    ns = {m: nodes(m, conf(pg, fakes, tmp_path, m)) for m in ("n1", "n2")}
    h = wait_for(lambda: held(pg).get("n1", set()) |
                 held(pg).get("n2", set()) and held(pg), 40, 0.2,
                 "the account leased")
    first = [m for m in h if "acct00" in h[m]][0]
    other = "n2" if first == "n1" else "n1"
    for text, reply in (("one", "one"), ("two", "one | two")):
        f.inject(FRIEND, text)
        wait_for(lambda: reply in said(f, FRIEND), 30, 0.1, reply)
    f.inject(OTHER, "hi")
    wait_for(lambda: "hi" in said(f, OTHER), 30, 0.1, "hi")
    # FRIEND last wrote four days ago; OTHER just now.
    pg.sql("UPDATE sessions SET last_seen = last_seen - 345600"
           " WHERE account = 'acct00' AND peer = '%s'" % FRIEND)
    ns[first].kill()
    ns[first].stopped_by_test = True
    wait_for(lambda: "acct00" in held(pg).get(other, set()), 30, 0.2,
             "the account taken over")
    # Read in: the warm one's history, not the cold one's.
    wait_for(lambda: history_here(ns[other], OTHER) == 1, 30, 0.1,
             "the account read in")
    assert history_here(ns[other], FRIEND) == 0
    # Both answered as if nothing moved: the cold one's history read
    # when they wrote, the warm one's with the account.
    f.inject(FRIEND, "three")
    f.inject(OTHER, "there")
    wait_for(lambda: "one | two | three" in said(f, FRIEND), 30, 0.1,
             "the cold person's answer with their history")
    wait_for(lambda: "hi | there" in said(f, OTHER), 30, 0.1,
             "the warm person's answer")
    assert said(f, FRIEND) == ["one", "one | two", "one | two | three"]
    assert said(f, OTHER) == ["hi", "hi | there"]
    assert f.violations == [], f.violations
