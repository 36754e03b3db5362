"""The flood of tests/integration/test_flood.py, longer, with its numbers:
48 addresses through a trusted proxy on a slow agent, a bystander
sending one message a second.  Prints `metric value unit` lines:
bystander chat.send latency p50/p99 (accepted or busy), the time to
answer busy, worker restarts, memory of the web chat workers at the end
of the flood.

    /usr/bin/python3 tests/bench/bench_flood.py BUILD_DIR [SECONDS]
"""

import os
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build-bench")
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 30
os.environ["WXGATE_BUILDDIR"] = build
sys.path.insert(0, os.path.join(here, "..", "integration"))

import conftest                 # noqa: E402
import test_flood               # noqa: E402


def pct(v, p):
    s = sorted(v)
    return s[min(len(s) - 1, int(len(s) * p))] if s else 0.0


def main():
    with tempfile.TemporaryDirectory(prefix="wxbench-flood") as d:
        gate = conftest.Gate(d, test_flood.CONF).start()
        try:
            out = conftest.run(test_flood.flood(gate, seconds))
            st = gate.status()
        finally:
            gate.stop()
    m = [
        ("flood.seconds", seconds, "s"),
        ("flood.sent", out["flood_sent"], "count"),
        ("flood.busy", out["flood_busy"], "count"),
        ("flood.busy_p50", pct(out["busy_lat"], 0.5) * 1000, "ms"),
        ("flood.busy_p99", pct(out["busy_lat"], 0.99) * 1000, "ms"),
        ("bystander.sent", out["by_sent"], "count"),
        ("bystander.busy", out["by_busy"], "count"),
        ("bystander.answered", out["by_done"], "count"),
        ("bystander.unanswered", len(out["by_missing"]), "count"),
        ("bystander.p50", pct(out["by_lat"], 0.5) * 1000, "ms"),
        ("bystander.p99", pct(out["by_lat"], 0.99) * 1000, "ms"),
        ("workers.restarts", sum(w["restarts"] for w in st.values()),
         "count"),
        ("workers.failed", sum(w["state"] == "failed" for w in st.values()),
         "count"),
        ("webchat.rss_end_of_flood", out["webchat_rss_kib"], "KiB"),
    ]
    for name, v, unit in m:
        print("%s %s %s" % (name, ("%.2f" % v) if isinstance(v, float)
                            else v, unit))


if __name__ == "__main__":
    main()
