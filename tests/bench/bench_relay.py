"""Bench of relay agents over loopback: a web chat message answered by
wxgate-relay bridging to the fake OpenAI server (fixed 20-token streamed
reply), against the same fake served by an openai agent in wxgated.

Prints "metric value unit" lines:
  relay_rtt_p50/p99     chat.send to chat.done through a relay
  relay_openai_p50/p99  the same with an openai agent in wxgated
  relay_added_p50/p99   the difference: the relay hop's cost
Usage: bench_relay.py BUILD_DIR
"""

import asyncio
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from bench_openai import BenchFake, TOKENS, chat, open_ws, pct  # noqa: E402
from benchgate import BenchGate, free_port                      # noqa: E402

N_LAT = 300
N_WARM = 30


async def rtts(port):
    out = []
    ws = await open_ws(port)
    for i in range(N_WARM + N_LAT):
        t = time.monotonic()
        m = await chat(ws, "x", "r-%d" % i)
        if i >= N_WARM:
            out.append(time.monotonic() - t)
        assert m.get("text") == "".join(TOKENS), m
    await ws.close()
    return out


def base_conf(agent):
    return {"webchat": {"history_limit": 0},
            "policy": {"ratelimit": {
                "session": {"rate": "1000000/s", "burst": 1000000},
                "address": {"rate": "1000000/s", "burst": 1000000}}},
            "agents": [agent]}


def with_relay(build, fake):
    rport = free_port()
    conf = base_conf({"name": "default", "type": "relay",
                      "relay": {"listen": "127.0.0.1:%d" % rport}})
    with BenchGate(build, conf, "relay") as g:
        tok = subprocess.run([os.path.join(build, "wxgatectl"), "-s",
                              g.path("control.sock"), "relay", "token",
                              "create", "default"], capture_output=True,
                             text=True, check=True).stdout.strip()
        tf = g.path("token")
        with open(os.open(tf, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(tok + "\n")
        rc = g.path("relay.json")
        with open(rc, "w") as f:
            json.dump({"server": "ws://127.0.0.1:%d/relay" % rport,
                       "token_file": tf,
                       "backend": {"type": "openai", "url": fake.url,
                                   "model": "m", "timeout_s": 30}}, f)
        log = open(g.path("relay.log"), "wb")
        p = subprocess.Popen([os.path.join(build, "wxgate-relay"), "-f",
                              rc], stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 10
            while b"welcomed by" not in open(g.path("relay.log"),
                                             "rb").read():
                if time.monotonic() > deadline:
                    sys.exit("wxgate-relay was not welcomed")
                time.sleep(0.05)
            return asyncio.run(rtts(g.port))
        finally:
            p.terminate()
            p.wait(5)
            log.close()


def main():
    build = sys.argv[1]
    fake = BenchFake().start()
    try:
        r = with_relay(build, fake)
        with BenchGate(build, base_conf({
                "name": "default", "type": "openai",
                "openai": {"url": fake.url, "model": "m",
                           "timeout_s": 30}}), "relay_openai") as g:
            d = asyncio.run(rtts(g.port))
        for name, xs in (("rtt", r), ("openai", d)):
            print("relay_%s_p50 %.2f ms" % (name, pct(xs, 50) * 1000))
            print("relay_%s_p99 %.2f ms" % (name, pct(xs, 99) * 1000))
        print("relay_added_p50 %.2f ms" % ((pct(r, 50) - pct(d, 50)) * 1000))
        print("relay_added_p99 %.2f ms" % ((pct(r, 99) - pct(d, 99)) * 1000))
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
