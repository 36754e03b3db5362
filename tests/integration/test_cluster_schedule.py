"""Schedules on several nodes sharing one PostgreSQL (issue #18: each
slot runs once cluster-wide).  Four WeChat accounts over two nodes,
each against its own fake iLink server; one schedule with a fixed text
to a person on every account, and one whose prompt the echo agent
answers.  The hub's wall clock is moved on every node over three
hourly slots: each slot's text reaches every person exactly once,
whichever node runs their account, and every target settles as sent
in the history of the node that runs schedules (the one holding the
"@schedules" lease).  The other node refuses changes through
`wxgatectl schedule`, naming that node, and lists the cluster's.  Then the scheduler is SIGKILLed: the survivor takes
"@schedules" and the accounts, and runs the next slot, once.

Needs a build configured with --enable-test-hooks and Debian's
postgresql (scripts/deps.sh test); skipped only without the latter."""

import time

import pytest

from conftest import plain_only, wait_for
from pgfix import pg  # noqa: F401 (a fixture)
from test_relay import crelays  # noqa: F401 (a fixture)
from test_cluster_pg import Node, ilink_fakes, node_conf
from test_schedule import clock, history

NACCT = 4
FRIEND = "friend_0002@im.wechat"
TTL_MS = 3000
TEXT = "tick from the schedule"
PROMPT = "the hourly prompt"

fakes = ilink_fakes(NACCT)


@pytest.fixture
def nodes(gate_factory):
    return lambda name, conf: gate_factory(conf, sub=name, cls=Node)


def conf(pg, fakes, tmp_path, name):
    c = node_conf(pg, fakes, tmp_path, name, TTL_MS)
    to = ["acct%02d:%s" % (i, FRIEND) for i in range(NACCT)]
    c["schedules"] = [
        {"name": "tick", "cron": "0 * * * *", "tz": "UTC", "text": TEXT,
         "to": to},
        {"name": "ask", "cron": "0 * * * *", "tz": "UTC",
         "agent": "default", "prompt": PROMPT, "to": to[:2]},
    ]
    return c


def leases(pg):
    """{account: node} of the live leases, "@schedules" included."""
    return {a: n for n, a in pg.sql("SELECT node, account FROM leases "
                                    "WHERE expires > now()")}


def texts(f, text):
    with f.lock:
        return [s for s in f.sent if s["to"] == FRIEND and
                s["outcome"] == "ok" and s["text"] == text]


def counts(fakes, text):
    return [len(texts(f, text)) for f in fakes]


def exactly(fakes, text, want, timeout=30):
    """Every fake got text want[i] times, and a moment later still."""
    wait_for(lambda: counts(fakes, text) == want or any(
        c > w for c, w in zip(counts(fakes, text), want)), timeout, 0.1,
        "%r %r times" % (text, want))
    time.sleep(2.0)
    assert counts(fakes, text) == want, (text, counts(fakes, text))


def spread(pg, names):
    """The leases, once each node holds half the accounts and one holds
    "@schedules"."""
    def done():
        ls = leases(pg)
        per = {m: [a for a, n in ls.items() if n == m and a[0] != "@"]
               for m in names}
        return "@schedules" in ls and \
            all(len(v) == NACCT // 2 for v in per.values()) and ls
    return wait_for(done, 40, 0.2, "accounts spread, schedules taken")


def runs_schedules(n):
    """Does n run schedules?  A change is the scheduler's alone: another
    node refuses it naming the scheduler, before looking for the name
    (list and history answer everywhere)."""
    rc, out, err = n.ctl("schedule", "pause", "nosuch")
    return rc != 0 and "no schedule nosuch" in err


def next_hour(t):
    return t - t % 3600 + 3600


@plain_only
def test_each_slot_once_across_nodes_and_a_takeover(pg, fakes, nodes,
                                                    tmp_path):
    names = ["n1", "n2"]
    ns = {m: nodes(m, conf(pg, fakes, tmp_path, m)) for m in names}

    ls = spread(pg, names)
    sched = ls["@schedules"]
    other = [m for m in names if m != sched][0]
    # Accounts on both nodes: the test is about the one not running
    # schedules delivering what the other queued.
    assert {ls["acct%02d" % i] for i in range(NACCT)} == set(names), ls

    # iLink lets a bot write only to a person who wrote within a day.
    for i, f in enumerate(fakes):
        f.inject(FRIEND, "hello %d" % i, context_token="CTX-%d" % i)
    for i, f in enumerate(fakes):
        wait_for(lambda: texts(f, "echo: hello %d" % i), 30, 0.1,
                 "acct%02d answered" % i)

    # Not here: the node that runs schedules is named.
    rc, out, err = ns[other].ctl("schedule", "add", "x", "--every", "1h",
                                 "--text", "x", "--to",
                                 "acct00:" + FRIEND)
    assert rc != 0 and "schedules run on node %s" % sched in err, \
        (rc, out, err)
    rc, out, err = ns[other].ctl("schedule", "run", "tick")
    assert rc != 0 and "schedules run on node %s" % sched in err, \
        (rc, out, err)

    # Three slots; every node's clock moves, as wall clocks would.
    t = next_hour(int(time.time()))
    for k in range(1, 4):
        for m in names:
            clock(ns[m], t + 5)
        exactly(fakes, TEXT, [k] * NACCT)
        exactly(fakes, "echo: " + PROMPT, [k, k, 0, 0])
        t += 3600

    def settled(n):
        h = [r for r in history(ns[sched], "tick")]
        return len(h) == n and all(
            r[3] == "done" and len(r[5]) == NACCT and
            all(x.split(" ")[1] == "sent" for x in r[5]) for r in h) and h
    h = wait_for(lambda: settled(3), 20, 0.2, "three runs settled as sent")
    assert len({r[2] for r in h}) == 3, h
    runs = pg.sql("SELECT name, count(*), count(DISTINCT slot) FROM "
                  "schedule_runs GROUP BY name ORDER BY name")
    assert runs == [["ask", "3", "3"], ["tick", "3", "3"]], runs

    # The scheduler dies; the other node takes schedules and accounts.
    ns[sched].kill()
    ns[sched].stopped_by_test = True
    wait_for(lambda: set(leases(pg).values()) == {other} and
             len(leases(pg)) == NACCT + 1, TTL_MS / 1000.0 + 20, 0.2,
             "%s holding schedules and every account" % other)
    wait_for(lambda: runs_schedules(ns[other]), 20, 0.2,
             "%s running schedules" % other)
    clock(ns[other], t + 5)
    exactly(fakes, TEXT, [4] * NACCT, 40)
    exactly(fakes, "echo: " + PROMPT, [4, 4, 0, 0])
    runs = pg.sql("SELECT name, count(*), count(DISTINCT slot) FROM "
                  "schedule_runs GROUP BY name ORDER BY name")
    assert runs == [["ask", "4", "4"], ["tick", "4", "4"]], runs
    for f in fakes:
        assert f.violations == [], f.violations


@plain_only
def test_a_hold_on_another_nodes_account_ends(pg, fakes, nodes, tmp_path):
    """hold_until_contact to a person who never wrote, on an account the
    node running schedules does not run: the row waits, held, on the
    account's node, whose own tick ends it when the hold does (only
    the scheduler's sweep did, which has no such row), and the target
    settles undeliverable, with why, in the scheduler's history."""
    stranger = "stranger_0009@im.wechat"
    names = ["n1", "n2"]
    confs = {}
    for m in names:
        c = node_conf(pg, fakes, tmp_path, m, TTL_MS)
        c["schedules"] = [{"name": "held", "every": "1h", "text": TEXT,
                           "catch_up": "none", "hold_until_contact": "2h",
                           "to": ["acct%02d:%s" % (i, stranger)
                                  for i in range(NACCT)]}]
        confs[m] = c
    ns = {m: nodes(m, confs[m]) for m in names}

    ls = spread(pg, names)
    sched = ls["@schedules"]
    wait_for(lambda: runs_schedules(ns[sched]), 20, 0.2,
             "%s running schedules" % sched)
    rc, out, err = ns[sched].ctl("schedule", "run", "held")
    assert rc == 0, (out, err)
    h = wait_for(lambda: history(ns[sched], "held"), 10, 0.2, "the run")
    # Held: said so where the scheduler runs the account, and only
    # queued where another node does (that node judges the contact).
    assert all(t.split(" ")[1].rstrip(":") == "queued"
               for t in h[0][5]) and len(h[0][5]) == NACCT, h
    # Taken in on the other node, still held.
    other = [m for m in names if m != sched][0]
    mine = sorted(a for a, n in ls.items() if n == other and a[0] != "@")
    time.sleep(2.5)
    t = int(time.time()) + 2 * 3600 + 300
    for m in names:
        clock(ns[m], t)

    def ended():
        h = history(ns[sched], "held")
        return all(x.split(" ")[1].rstrip(":") == "undeliverable"
                   for x in h[0][5]) and h
    h = wait_for(ended, 20, 0.2, "every target ended")
    for x in h[0][5]:
        assert x.endswith("undeliverable: the peer did not write again "
                          "within hold_until_contact"), h
    assert {x.split(":")[0] for x in h[0][5]} >= set(mine), h
    # Written to now, the person gets an answer and not the held text:
    # the account's node ended its own copy.
    for i, f in enumerate(fakes):
        f.inject(stranger, "late %d" % i, context_token="CTX-L%d" % i)
    for i, f in enumerate(fakes):
        wait_for(lambda: any(s["to"] == stranger and s["text"] ==
                             "echo: late %d" % i for s in f.sent), 30, 0.1,
                 "acct%02d answered" % i)
    time.sleep(2.0)
    for f in fakes:
        with f.lock:
            assert [s for s in f.sent if s["text"] == TEXT] == [], f.sent


def console_node(pg, fakes, tmp_path, nodes, name, relay=False):
    """A node with a console; its port read back (Gate.start may move
    it).  With relay, a second agent, "home", a relay with e2e."""
    from conftest import free_port
    from test_console import OPERATORS
    from test_relay import relay_url
    c = node_conf(pg, fakes, tmp_path, name, TTL_MS)
    c["console"] = {"listen": "127.0.0.1:%d" % free_port(),
                    "operators": OPERATORS}
    if relay:
        c["agents"].append({"name": "home", "type": "relay", "relay": {
            "listen": "127.0.0.1:%d" % free_port(), "e2e": True}})
    n = nodes(name, c)
    n.console_port = int(n.conf["console"]["listen"].rsplit(":", 1)[1])
    if relay:
        n.relay_url = relay_url(n, "home")
    return n


def console_run(o, name):
    """The schedule named on a schedules page, once its one run is done
    and its one target sent; else None."""
    s = [x for x in o["schedules"] if x["name"] == name]
    if len(s) != 1 or len(s[0]["runs"]) != 1:
        return None
    r = s[0]["runs"][0]
    return r["state"] == "done" and \
        [t["state"] for t in r["targets"]] == ["sent"] and s[0]


@plain_only
def test_the_console_shows_the_clusters_schedules_on_every_node(
        pg, fakes, nodes, tmp_path):
    """The console's schedules page on either node lists what the
    cluster runs, with its runs: the node that does not run schedules
    reads them from PostgreSQL (its working set has none), says where
    they run and refuses to change them there, naming that node.  A
    database that does not answer makes the page a 503 that says so,
    within the console's wait, not a hang."""
    import subprocess
    from pgfix import _psql
    from test_console import login, page, poster, request, with_cookie
    names = ["n1", "n2"]
    ns = {m: console_node(pg, fakes, tmp_path, nodes, m) for m in names}
    ls = spread(pg, names)
    sched = ls["@schedules"]
    other = [m for m in names if m != sched][0]
    wait_for(lambda: runs_schedules(ns[sched]), 20, 0.2,
             "%s running schedules" % sched)
    fakes[0].inject(FRIEND, "hello", context_token="CTX-0")
    wait_for(lambda: texts(fakes[0], "echo: hello"), 30, 0.1,
             "acct00 answered")
    rc, out, err = ns[sched].ctl("schedule", "add", "hourly", "--cron",
                                 "0 * * * *", "--text", TEXT, "--to",
                                 "acct00:" + FRIEND)
    assert rc == 0, (out, err)
    t = next_hour(int(time.time()))
    for m in names:
        clock(ns[m], t + 5)
    exactly(fakes, TEXT, [1, 0, 0, 0])

    sessions = {m: login(ns[m]) for m in names}
    shown = {}
    for m in (sched, other):
        shown[m] = wait_for(lambda: console_run(page(
            ns[m], sessions[m], "schedules"), "hourly"), 20, 0.2,
            "the run on %s's console" % m)
    for m in names:
        s = shown[m]
        assert (s["cron"], s["text"], s["targets"], s["paused"],
                s["from_config"]) == ("0 * * * *", TEXT,
                                      "acct00:" + FRIEND, False, False), s
        (r,) = s["runs"]
        assert r["manual"] is False and r["started"] >= t, r
        assert [(x["channel"], x["target"]) for x in r["targets"]] == \
            [("acct00", FRIEND)], r
    assert shown[sched]["id"] == shown[other]["id"]
    assert shown[sched]["runs"][0]["id"] == shown[other]["runs"][0]["id"]
    assert shown[sched]["next_run"] == shown[other]["next_run"] > t
    o = page(ns[other], sessions[other], "schedules")
    assert "schedules run on node %s" % sched in o["elsewhere"], o
    assert "elsewhere" not in page(ns[sched], sessions[sched], "schedules")

    # Changes are the scheduler's: refused here, naming it.
    post = poster(ns[other], sessions[other])
    for verb in ("run", "pause"):
        st, _, body = post("/api/schedule/%s?name=hourly" % verb)
        assert st == 409 and ("schedules run on node %s" % sched).encode() \
            in body, (verb, st, body)
    st, _, body = post("/api/schedule/seal")
    assert st == 409 and ("schedules run on node %s" % sched).encode() \
        in body, (st, body)

    # wxgatectl schedule list, show and history there read the cluster
    # too, and say the same as on the scheduler.
    from test_ctl_schedule import listing, show
    lists = {m: listing(ns[m]) for m in names}
    assert lists[sched]["hourly"]["flags"] == "-", lists
    assert lists[other] == lists[sched], lists
    assert show(ns[other], "hourly") == show(ns[sched], "hourly")
    assert show(ns[other], "hourly")["text"] == TEXT
    hs = {m: history(ns[m], "hourly") for m in names}
    assert len(hs[sched]) == 1 and hs[sched][0][3] == "done" and \
        hs[sched][0][5] == ["acct00:%s sent" % FRIEND], hs
    assert hs[other] == hs[sched], hs
    assert history(ns[other]) == history(ns[sched])
    for cmd in ("show", "history"):
        rc, out, err = ns[other].ctl("schedule", cmd, "nosuch")
        assert rc != 0 and "no schedule nosuch" in err, (cmd, out, err)

    # The schedules table locked: the page says the store does not
    # answer, before the console worker's own 5 s, and wxgatectl too
    # (3 s, then 5 s: the lock outlives both, and the pool's 10 s).
    holder = subprocess.Popen(
        [_psql(), "-h", pg.dir, "-p", str(pg.port), "-U", "wxgate", "-d",
         "wxgate", "-Xq", "-c", "BEGIN; LOCK TABLE schedules IN ACCESS "
         "EXCLUSIVE MODE; SELECT pg_sleep(11); COMMIT;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: pg.sql("SELECT count(*) FROM pg_locks WHERE "
                                "relation = 'schedules'::regclass AND "
                                "mode = 'AccessExclusiveLock' AND "
                                "granted")[0][0] == "1", 5, 0.05,
                 "the lock")
        t0 = time.monotonic()
        st, _, body = request(ns[other].console_port, "GET",
                              "/api/schedules",
                              with_cookie(sessions[other]))
        assert st == 503 and b"the cluster's store does not answer" in \
            body, (st, body)
        assert time.monotonic() - t0 < 4.5
        rc, out, err = ns[other].ctl("schedule", "list")
        assert rc != 0 and "the cluster's store does not answer" in err, \
            (out, err)
    finally:
        holder.wait(30)
    assert console_run(page(ns[other], sessions[other], "schedules"),
                       "hourly")


@plain_only
def test_a_long_sealed_text_comes_whole_on_every_node(pg, fakes, nodes,
                                                      tmp_path, crelays):
    """A sealed prompt and a run's sealed summary too long for the
    schedules page (issue #19's "long") come whole from GET
    /api/schedule/sealed on the node that does not run schedules too,
    read from PostgreSQL, and open there as on the scheduler."""
    from fake_openai import Fake
    from test_console import login
    from test_console_chat import poster_body
    from test_e2e import KEY, PASS, tool, with_key
    from test_e2e_sched import ended, fetch_sealed, listed, open_summary, \
        sealed
    from test_relay import CRelay, token
    names = ["n1", "n2"]
    ns = {m: console_node(pg, fakes, tmp_path, nodes, m, relay=True)
          for m in names}
    sched = spread(pg, names)["@schedules"]
    other = [m for m in names if m != sched][0]
    wait_for(lambda: runs_schedules(ns[sched]), 20, 0.2,
             "%s running schedules" % sched)
    fake = Fake(chunks=2, delay=0.01).start()
    try:
        g = ns[sched]
        admin = login(g)
        post = poster_body(g, admin)
        with_key(g, admin, post)
        r = CRelay(g, token(g, "home"), fake, tmp_path, "c", e2e=PASS)
        crelays.append(r)
        r.welcomed()
        secret = "".join("line %05d of the long sealed brief\n" % i
                         for i in range(600))
        sid = sealed(g, admin, post, "longish", secret)
        assert g.ctl("schedule", "run", "longish")[0] == 0
        run = ended(g, admin, "longish", 1)["runs"][0]
        assert run["state"] == "done" and run["summary"] == "long", \
            (run["state"], str(run["summary"])[:80])
        here = {q: fetch_sealed(g, admin, q) for q in
                ("id=%d" % sid, "id=%d&run=%d" % (sid, run["id"]))}
        assert [st for st, _ in here.values()] == [200, 200], here

        o = ns[other]
        viewer = login(o, "--operator", "watcher")
        s = wait_for(lambda: [x for x in listed(o, viewer, "longish")[
            "runs"] if x["summary"] == "long"] and
            listed(o, viewer, "longish"), 20, 0.2, "the run on " + other)
        assert s["prompt"] == "long", s["prompt"][:80]
        for q, (st, want) in here.items():
            assert fetch_sealed(o, viewer, q) == (200, want), q
        st, body = fetch_sealed(o, viewer, "id=%d" % sid)
        assert tool("open", KEY, "sched", sid, "operator", 0,
                    data=body["sealed"]) == secret
        st, body = fetch_sealed(o, viewer, "id=%d&run=%d" % (sid, run["id"]))
        assert open_summary(sid, run["slot"], body["sealed"]) == \
            "echo: " + secret
        for q, want in [("id=%d" % (sid + 99), 404),
                        ("id=%d&run=%d" % (sid, run["id"] + 99), 404),
                        ("id=x", 400), ("", 400)]:
            st, body = fetch_sealed(o, viewer, q)
            assert st == want and "error" in body, (q, st, body)
        r.stop()
    finally:
        fake.stop()
