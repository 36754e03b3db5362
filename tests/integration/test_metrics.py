"""wxgatectl metrics (issue #17): Prometheus' text exposition from the
hub.  After one web chat message and one WeChat message every
documented family is there, with the counts those two imply.  No
promtool in Debian's base: the format is checked by the parser below
(HELP and TYPE before a family's samples, names and labels by the
format's grammar, histogram buckets cumulative up to +Inf = _count)."""

import re

from conftest import run, wait_for
from fake_ilink import FakeIlink
from test_channel_wechat import FRIEND, channel as wechat_channel

FAMILIES = {
    "wxgate_worker_up": "gauge",
    "wxgate_worker_restarts_total": "counter",
    "wxgate_worker_seccomp_kills_total": "counter",
    "wxgate_worker_messages_received_total": "counter",
    "wxgate_worker_messages_sent_total": "counter",
    "wxgate_worker_queue_frames": "gauge",
    "wxgate_worker_rss_bytes": "gauge",
    "wxgate_worker_pss_bytes": "gauge",
    "wxgate_webchat_connections": "gauge",
    "wxgate_webchat_messages_total": "counter",
    "wxgate_webchat_errors_total": "counter",
    "wxgate_agent_requests_total": "counter",
    "wxgate_agent_inflight": "gauge",
    "wxgate_agent_queued": "gauge",
    "wxgate_agent_busy_total": "counter",
    "wxgate_agent_timeouts_total": "counter",
    "wxgate_agent_first_delta_seconds": "histogram",
    "wxgate_agent_answer_seconds": "histogram",
    "wxgate_channel_messages_received_total": "counter",
    "wxgate_channel_messages_sent_total": "counter",
    "wxgate_channel_delivery_failures_total": "counter",
    "wxgate_channel_delivery_retries_total": "counter",
    "wxgate_channel_backlog": "gauge",
    "wxgate_channel_refused_total": "counter",
    "wxgate_outbox_rows": "gauge",
    "wxgate_schedule_runs_total": "counter",
    "wxgate_schedule_failed_total": "counter",
    "wxgate_schedule_running": "gauge",
    "wxgate_store_db_bytes": "gauge",
    "wxgate_store_wal_bytes": "gauge",
    "wxgate_store_commits_total": "counter",
    "wxgate_store_commit_failures_total": "counter",
    "wxgate_store_commit_seconds": "histogram",
    "wxgate_queue_overflows_total": "counter",
    "wxgate_media_stored_bytes": "gauge",
    "wxgate_media_stored_parts": "gauge",
}

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE = re.compile(r"^(%s)(?:\{((?:%s)(?:,%s)*)\})? ([0-9]+(?:\.[0-9]+)?)$"
                    % (NAME, LABEL, LABEL))


def parse(text):
    """{family: (type, [(name, {labels}, value)])}, or AssertionError."""
    fams, cur = {}, None
    assert text.endswith("\n"), "the exposition ends with a newline"
    for ln in text.splitlines():
        if ln.startswith("# HELP "):
            name = ln.split(" ", 3)[2]
            assert re.fullmatch(NAME, name), ln
            assert name not in fams, "family %s twice" % name
            cur = name
            fams[name] = [None, []]
        elif ln.startswith("# TYPE "):
            _, _, name, typ = ln.split(" ")
            assert name == cur and fams[name][0] is None, ln
            assert typ in ("counter", "gauge", "histogram"), ln
            fams[name][0] = typ
        else:
            m = SAMPLE.match(ln)
            assert m, "not a sample: %r" % ln
            name = m.group(1)
            base = re.sub(r"_(bucket|sum|count)$", "", name) \
                if fams.get(cur, [None])[0] == "histogram" else name
            assert base == cur, "sample %s outside its family %s" % (
                name, cur)
            labels = dict(re.findall(LABEL, m.group(2) or ""))
            fams[cur][1].append((name, labels, float(m.group(m.lastindex))))
    for name, (typ, samples) in fams.items():
        if typ != "histogram":
            continue
        series = {}
        for n, lab, v in samples:
            key = tuple(sorted((k, x) for k, x in lab.items() if k != "le"))
            series.setdefault(key, {"b": [], "count": None})
            if n.endswith("_bucket"):
                series[key]["b"].append((lab["le"], v))
            elif n.endswith("_count"):
                series[key]["count"] = v
        for key, s in series.items():
            vals = [v for _, v in s["b"]]
            assert vals == sorted(vals), (name, key, s)
            assert s["b"][-1][0] == "+Inf" and vals[-1] == s["count"], \
                (name, key, s)
    return {k: (t, s) for k, (t, s) in fams.items()}


def value(fams, name, **labels):
    fam = re.sub(r"_(bucket|sum|count)$", "", name)
    if fam not in fams:
        fam = name
    got = [v for n, lab, v in fams[fam][1]
           if n == name and all(lab.get(k) == x for k, x in labels.items())]
    assert len(got) == 1, (name, labels, fams[fam][1])
    return got[0]


def test_metrics_after_one_web_and_one_wechat_message(gate_factory,
                                                     tmp_path):
    fake = FakeIlink(longpoll_ms=1500).start()
    try:
        gate = gate_factory({"channels": [wechat_channel(
            fake, tmp_path, dm_policy="allowlist", allow_from=[FRIEND])]})
        fake.inject(FRIEND, "hello bot", context_token="CTX-1")
        wait_for(lambda: gate.rows("SELECT count(*) FROM outbox WHERE "
                                   "state = 'sent'") == [(1,)], 10, 0.05,
                 "the WeChat answer sent")

        async def go():
            async with gate.client() as c:
                await c.open()
                await c.chat("hi", "m-1")
                rc, out, err = gate.ctl("metrics")
                assert rc == 0, err
                return out
        fams = parse(run(go()))
        for name, typ in FAMILIES.items():
            assert name in fams, "%s missing" % name
            assert fams[name][0] == typ, (name, fams[name][0])
        assert set(fams) == set(FAMILIES), set(fams) ^ set(FAMILIES)
        for w in gate.status():
            assert value(fams, "wxgate_worker_up", worker=w) == 1
        assert value(fams, "wxgate_webchat_connections") == 1
        assert value(fams, "wxgate_webchat_messages_total") == 1
        assert value(fams, "wxgate_agent_requests_total",
                     agent="default") == 2
        assert value(fams, "wxgate_agent_answer_seconds_count",
                     agent="default") == 2
        assert value(fams, "wxgate_agent_first_delta_seconds_count",
                     agent="default") == 2
        assert value(fams, "wxgate_channel_messages_received_total",
                     channel="alice", status="accepted") == 1
        assert value(fams, "wxgate_channel_messages_received_total",
                     channel="alice", status="denied") == 0
        assert value(fams, "wxgate_channel_messages_sent_total",
                     channel="alice") == 1
        assert value(fams, "wxgate_channel_backlog", channel="alice") == 0
        assert value(fams, "wxgate_outbox_rows", state="sent") == 1
        assert value(fams, "wxgate_outbox_rows", state="queued") == 0
        assert value(fams, "wxgate_store_commits_total") > 0
        assert value(fams, "wxgate_store_commit_seconds_count") > 0
        assert value(fams, "wxgate_worker_rss_bytes",
                     worker="agent.default") >= 0
    finally:
        fake.stop()


def test_the_parser_refuses_what_the_format_forbids():
    """The checker is not a rubber stamp."""
    import pytest
    ok = "# HELP a_total x\n# TYPE a_total counter\na_total 1\n"
    parse(ok)
    for bad in ("a_total 1\n",                          # no HELP/TYPE
                ok + "a_total 2\n" + ok,                # family twice
                ok.replace("a_total 1", 'a_total{l="x} 1'),
                ok.replace("a_total 1", "a-total 1"),
                "# HELP h x\n# TYPE h histogram\n"
                'h_bucket{le="1.0"} 3\nh_bucket{le="+Inf"} 2\n'
                "h_sum 1\nh_count 2\n"):
        with pytest.raises(AssertionError):
            parse(bad)


def test_top_once_and_json_show_every_worker(gate):
    """wxgatectl top --once prints every worker and the agent's row;
    --json gives the same as one object, latencies known after one
    answer."""
    import json

    async def go():
        async with gate.client() as c:
            await c.open()
            await c.chat("hi", "m-1")
    run(go())
    names = set(gate.status())
    rc, out, err = gate.ctl("top", "--once")
    assert rc == 0, err
    rows = {ln.split()[0] for ln in out.splitlines() if ln.strip()}
    assert names <= rows, (names, out)
    agent = [ln.split() for ln in out.splitlines()
             if ln.startswith("default ")]
    assert agent and agent[0][3] == "1", out        # REQUESTS
    rc, out, err = gate.ctl("top", "--json")
    assert rc == 0, err
    top = json.loads(out)
    assert {w["name"] for w in top["workers"]} == names
    assert all(w["state"] == "running" and w["pid"] > 0
               for w in top["workers"])
    (a,) = top["agents"]
    assert a["name"] == "default" and a["requests"] == 1, a
    assert a["answer_p50_s"] is not None and a["answer_p50_s"] > 0, a
    assert top["webchat"]["connections"] == 0, top
    rc, out, err = gate.ctl("top", "--bogus")
    assert rc == 2, (out, err)
