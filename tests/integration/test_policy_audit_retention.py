"""Audit retention: rows older than policy.audit_max_age_days or beyond
policy.audit_max_rows are deleted by the supervisor's timer in bounded
batches, oldest first, while it keeps serving."""

import os
import sqlite3
import time

from conftest import audit_rows, run, wait_for

DAY = 86400


def test_audit_pruned_by_age_and_count(gate_factory):
    gate = gate_factory({"policy": {"audit_max_rows": 1000,
                                    "audit_max_age_days": 30}})
    gate.stop()
    gate.stopped_by_test = True
    # A backlog bigger than one batch: 1500 rows 40 days old (too old)
    # and 2500 recent ones (over the count).
    now = int(time.time())
    db = sqlite3.connect(os.path.join(gate.state_dir, "wxgate.db"))
    with db:
        db.executemany(
            "INSERT INTO audit (time, role, worker, method, detail)"
            " VALUES (?, 'webchat', 'webchat.0', 'x', ?)",
            [(now - 40 * DAY if i < 1500 else now - 100 + i // 100,
              "row %d" % i) for i in range(4000)])
    db.close()
    gate.stopped_by_test = False
    gate.start()

    def pruned():
        rows = audit_rows(gate)
        return len(rows) <= 1000 and rows
    rows = wait_for(pruned, 20, 0.1, "audit retention")
    assert len(rows) == 1000
    assert min(r["time"] for r in rows) >= now - 30 * DAY
    # The newest were kept.
    assert rows[-1]["detail"] == "row 3999"
    assert rows[0]["detail"] == "row 3000"

    # The gateway served throughout.
    async def chat():
        async with gate.client() as c:
            await c.open()
            st, done = await c.chat("hello", "m-1")
            assert done["text"]
    run(chat())
