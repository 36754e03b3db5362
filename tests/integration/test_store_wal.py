"""The store's write-ahead log stays bounded under load: with small
supervisor.wal_checkpoint_bytes and wal_max_bytes, hundreds of chat
turns from many clients never grow the -wal file past wal_max_bytes,
and `wxgatectl stats` shows the checkpoints that kept it there."""

import asyncio
import os
import subprocess
import threading

import yaml

from conftest import WXGATED, run

CKPT = 64 * 1024
MAX = 512 * 1024
CLIENTS = 10
TURNS = 40

OVERRIDES = {
    "supervisor": {"wal_checkpoint_bytes": CKPT, "wal_max_bytes": MAX},
    "agents": [{"name": "default", "type": "echo",
                "echo": {"chunks": 2, "delay_ms": 0}}],
    "policy": {"ratelimit": {
        "session": {"rate": "1000000/min", "burst": 1000000},
        "address": {"rate": "1000000/min", "burst": 1000000}}},
}


def stats(gate):
    rc, out, err = gate.ctl("stats")
    assert rc == 0, "stats: rc %d: %s" % (rc, err)
    return {k: int(v) for k, v in (ln.split() for ln in out.splitlines())}


class WalWatch:
    """Samples the -wal file's size until stopped; keeps the largest."""

    def __init__(self, path):
        self.path = path
        self.largest = 0
        self.samples = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.largest = max(self.largest, os.stat(self.path).st_size)
            except FileNotFoundError:
                pass
            self.samples += 1
            self._stop.wait(0.002)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


async def chatter(gate, n):
    async with gate.client() as c:
        await c.open()
        # A long text makes every turn write a few pages.
        text = ("client %d " % n) * 200
        for i in range(TURNS):
            await c.chat(text + str(i), "m-%d-%d" % (n, i), timeout=30)


def test_wal_stays_under_max(gate_factory):
    gate = gate_factory(OVERRIDES)
    wal = os.path.join(gate.state_dir, "wxgate.db-wal")
    before = stats(gate)

    async def scenario():
        await asyncio.gather(*(chatter(gate, n) for n in range(CLIENTS)))

    with WalWatch(wal) as w:
        run(scenario())
    after = stats(gate)
    assert after["commits"] > before["commits"]
    # Without checkpoints between commits this many turns write several
    # times MAX into the WAL: the bound is the checkpoints' doing.
    assert after["checkpoints"] > before["checkpoints"]
    assert w.samples > 0
    # The bound is checked after each commit: the group commit that
    # crosses it lands whole (one loop turn's writes, far below CKPT).
    assert w.largest <= MAX + CKPT, "WAL reached %d bytes, max %d" % (
        w.largest, MAX)
    assert after["wal_bytes"] <= MAX
    assert after["window_commits"] > 0
    assert after["commit_p99_us"] >= after["commit_p50_us"]


def test_wal_limits_checked(tmp_path):
    """wal_max_bytes must exceed wal_checkpoint_bytes; both have ranges."""
    for sup, needle in (
            ({"wal_checkpoint_bytes": 1048576, "wal_max_bytes": 1048576},
             "must exceed wal_checkpoint_bytes"),
            ({"wal_checkpoint_bytes": 1024}, "out of range"),
            ({"wal_max_bytes": 4294967295}, "out of range")):
        p = tmp_path / "c.yaml"
        p.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "run"),
                                     "supervisor": sup}))
        r = subprocess.run([WXGATED, "-n", "-f", str(p)],
                           capture_output=True, text=True)
        assert r.returncode != 0 and needle in r.stderr, r.stderr
