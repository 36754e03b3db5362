"""Every query of the store's C code, planned by SQLite on the schema a
real wxgated made: none walks a table that grows with traffic
(messages, sessions, outbox, media, audit) unless it is listed below
with the reason its walk is bounded.  The hub is one thread: a query
that walks every message ever stored stalls every chat while it runs,
and gets slower every day (the backlog sweep, the console's list and
the outbox's foreign key each did; see docs/architecture.md).

The SQL is read from supervisor/store*.c as the adjacent string
literals that begin with a statement keyword; a few are built with a
macro and cannot be planned alone, and are counted, not ignored."""

import os
import re
import sqlite3

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
GROWING = ("messages", "sessions", "outbox", "media", "audit")

# (file, start of the statement, why its walk is bounded)
ALLOWED = [
    ("store_bind.c", "DELETE FROM messages WHERE account",
     "deleting an account: its rows are the point"),
    ("store_bind.c", "DELETE FROM media WHERE account",
     "deleting an account"),
    ("store_capture.c", "DELETE FROM messages WHERE account",
     "a cluster node forgetting an account once per lease it takes, "
     "before the account's rows come from PostgreSQL"),
    ("store_capture.c", "DELETE FROM media WHERE account",
     "the same, once per lease taken; media.stored_max_bytes bounds "
     "the table"),
    ("store.c", "SELECT id FROM sessions WHERE anonymous = 1",
     "the expiry sweep, at most once a minute (hub.c SWEEP_MAX_S), over "
     "live sessions only: expired ones are what it deletes"),
    ("store_channel.c", "DELETE FROM outbox WHERE state <> 'queued'",
     "the prune walks finished rows by outbox_finished, at most "
     "CH_KEEP_ROWS and what expired"),
    ("store_channel.c", "SELECT time, role, worker, session, method,",
     "the newest ?1 by rowid, from the end"),
    ("store_sched.c", "SELECT state, count(*) FROM outbox",
     "metrics: finished rows are pruned to CH_KEEP_ROWS, queued ones "
     "bounded by the channels' queues"),
    ("store_media.c", "SELECT coalesce(sum(size), 0), count(*) FROM media",
     "media.stored_max_bytes bounds the table"),
    ("store_media.c", "DELETE FROM media WHERE id IN",
     "media.stored_max_bytes bounds the table"),
    ("store_audit.c", "DELETE FROM audit WHERE id IN",
     "the prune, by audit_max_rows and age, in batches"),
]

# Partial indexes that hold only unanswered messages (bounded by the
# backlog) or queued outbox rows (bounded by the channels' queues).
BOUNDED_INDEXES = ("messages_backlog", "outbox_due")

LITERAL = re.compile(r'(?:"(?:[^"\\\n]|\\.)*"\s*)+')
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
STATEMENT = re.compile(r"\s*(SELECT|UPDATE|DELETE|INSERT|WITH)\b")


def statements():
    d = os.path.join(ROOT, "supervisor")
    for f in sorted(os.listdir(d)):
        if not (f.startswith("store") and f.endswith(".c")):
            continue
        src = open(os.path.join(d, f)).read()
        for m in LITERAL.finditer(src):
            sql = " ".join("".join(STRING.findall(m.group(0))).split())
            if STATEMENT.match(sql):
                yield f, src.count("\n", 0, m.start()) + 1, sql


def plan(db, sql):
    """The plan's lines, binding NULL to as many parameters as it has;
    None when the text is not a whole statement."""
    for n in range(0, 16):
        try:
            return [r[3] for r in
                    db.execute("EXPLAIN QUERY PLAN " + sql, [None] * n)]
        except sqlite3.ProgrammingError:
            continue
        except sqlite3.Error:
            return None
    return None


def walks(sql, lines):
    """The plan lines that walk a growing table (by name or alias)."""
    names = set(GROWING)
    for t in GROWING:
        for a in re.findall(r"\b%s\s+(?:AS\s+)?([a-z])\b" % t, sql):
            names.add(a)
    bad = []
    for ln in lines:
        m = re.match(r"SCAN (\w+)", ln)
        if m and m.group(1) in names and \
                not any(ix in ln for ix in BOUNDED_INDEXES):
            bad.append(ln)
        # An account's every message: the platform-id index by account
        # alone (account NULL is the whole web chat).
        if "sqlite_autoindex_messages_2 (account=?)" in ln:
            bad.append(ln)
    return bad


def test_no_query_walks_a_growing_table(gate):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(
        gate.state_dir, "wxgate.db"), uri=True, timeout=5)
    # The store's own function (store.c), here only to be planned.
    db.create_function("wx_id", 0, lambda: None)
    # The marks beside the file, made at each open (store_cold.c).
    db.executescript(
        "ATTACH DATABASE ':memory:' AS wx;"
        "CREATE TABLE wx.cold (session_id INTEGER PRIMARY KEY,"
        " account TEXT NOT NULL, wanted INTEGER NOT NULL DEFAULT 0);"
        "CREATE INDEX wx.cold_account ON cold (account);"
        "CREATE INDEX wx.cold_wanted ON cold (session_id)"
        " WHERE wanted = 1;")
    planned, unplanned, found = 0, [], []
    used = set()
    for f, line, sql in statements():
        lines = plan(db, sql)
        if lines is None:
            unplanned.append("%s:%d" % (f, line))
            continue
        planned += 1
        bad = walks(sql, lines)
        if not bad:
            continue
        ok = [a for a in ALLOWED if a[0] == f and sql.startswith(a[1])]
        if ok:
            used.add(ok[0][:2])
            continue
        found.append("%s:%d: %s\n    %s" % (f, line, sql[:160],
                                             "\n    ".join(bad)))
    db.close()
    # The reader must have found the queries, or this proves nothing.
    assert planned >= 150, planned
    # Built from a macro (SCHED_COLS and the like): few, and known.
    assert len(unplanned) <= 12, unplanned
    assert not found, "queries that walk a growing table:\n" + \
        "\n".join(found)
    # An entry that no longer matches anything is stale: drop it.
    stale = [a for a in ALLOWED if a[:2] not in used]
    assert not stale, stale


def test_every_foreign_key_is_indexed(gate):
    """With foreign_keys on, deleting a parent row looks its key up in
    each child table: without an index whose first column is the child's
    column, that is a walk of the child table per row deleted (the
    expiry sweep deleting a session's messages walked the outbox)."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(
        gate.state_dir, "wxgate.db"), uri=True, timeout=5)
    tables = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")]
    missing, fks = [], 0
    for t in tables:
        firsts = {r[0] for r in db.execute(
            "SELECT ii.name FROM pragma_index_list(?1) il,"
            " pragma_index_info(il.name) ii WHERE ii.seqno = 0", (t,))}
        for (col, parent) in db.execute(
                'SELECT "from", "table" FROM pragma_foreign_key_list(?1)',
                (t,)):
            fks += 1
            if col not in firsts:
                missing.append("%s.%s -> %s" % (t, col, parent))
    db.close()
    assert fks >= 10, fks
    assert not missing, missing


def test_every_new_row_takes_its_id_from_the_node(gate):
    """On several nodes each one's rows take ids from its own block
    (store_ids, wx_id()): an insert into a table keyed by a row id that
    let SQLite pick (max + 1) would give two nodes' rows one id."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(
        gate.state_dir, "wxgate.db"), uri=True, timeout=5)
    keyed = {r[0] for r in db.execute(
        "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c"
        " WHERE m.type = 'table' AND c.pk = 1 AND upper(c.type) ="
        " 'INTEGER' AND m.sql NOT LIKE '%WITHOUT ROWID%'"
        " AND (SELECT count(*) FROM pragma_table_info(m.name)"
        " WHERE pk > 0) = 1")}
    db.close()
    assert {"sessions", "messages", "outbox", "media"} <= keyed, keyed
    inserts, bad = 0, []
    for f, line, sql in statements():
        m = re.match(r"INSERT (?:OR \w+ )?INTO (\w+) \(([^)]*)\)", sql)
        if not m or m.group(1) not in keyed:
            continue
        inserts += 1
        cols = [c.strip() for c in m.group(2).split(",")]
        if cols[0] != "id" or "wx_id()" not in sql:
            bad.append("%s:%d: %s" % (f, line, sql[:100]))
    assert inserts >= 20, inserts
    assert not bad, "inserts that let SQLite pick the id:\n" + \
        "\n".join(bad)
