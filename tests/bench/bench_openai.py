"""Bench of the openai agent backend against the fake OpenAI server
(tests/integration/fake_openai.py), fixed 20-token streamed reply.

Prints "metric value unit" lines:
  openai.direct_p50/p99    the fake server called directly (aiohttp)
  openai.wxgate_p50/p99    the same through wxgate (WebSocket chat)
  openai.added_p50/p99     the difference: wxgate's cost
  openai.max_streams       most concurrent streams one agent worker
                           completed, all correct (1 s streams)
Usage: bench_openai.py BUILD_DIR
"""

import asyncio
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import aiohttp                                  # noqa: E402
import websockets                               # noqa: E402
from benchgate import BenchGate                # noqa: E402
from fake_openai import Fake                    # noqa: E402

TOKENS = ["tok%02d " % i for i in range(20)]
N_LAT = 200
LEVELS = (100, 250, 500, 1000, 2000)
N_WARM = 20


class BenchFake(Fake):
    """Delay 0, or 50 ms per token (a 1 s stream) for "slow:" messages."""

    async def handle(self, request):
        body = await request.json()
        slow = body["messages"][-1]["content"].startswith("slow:")
        return await self.sse(request, TOKENS, delay=0.05 if slow else 0)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


async def direct(url):
    out = []
    body = {"model": "m", "stream": True,
            "messages": [{"role": "user", "content": "x"}]}
    async with aiohttp.ClientSession() as s:
        for i in range(N_WARM + N_LAT):
            t = time.monotonic()
            async with s.post(url, json=body) as r:
                async for line in r.content:
                    if line.startswith(b"data: [DONE]"):
                        break
            if i >= N_WARM:
                out.append(time.monotonic() - t)
    return out


async def open_ws(port):
    ws = await websockets.connect("ws://127.0.0.1:%d/ws" % port,
                                  ping_interval=None, max_size=None,
                                  open_timeout=30)
    await ws.send(json.dumps({"id": 0, "method": "session.open"}))
    json.loads(await ws.recv())
    return ws


async def chat(ws, text, cmid):
    await ws.send(json.dumps({"id": cmid, "method": "chat.send",
                              "params": {"text": text,
                                         "client_msg_id": cmid}}))
    while True:
        m = json.loads(await ws.recv())
        if m.get("event") in ("chat.done", "chat.error") and \
                m.get("client_msg_id") == cmid:
            return m


async def via(port):
    out = []
    ws = await open_ws(port)
    for i in range(N_WARM + N_LAT):
        t = time.monotonic()
        m = await chat(ws, "x", "l-%d" % i)
        if i >= N_WARM:
            out.append(time.monotonic() - t)
        assert m.get("text") == "".join(TOKENS), m
    await ws.close()
    return out


async def level(port, k):
    wss = await asyncio.gather(*[open_ws(port) for _ in range(k)])
    try:
        res = await asyncio.wait_for(asyncio.gather(
            *[chat(ws, "slow:%d" % i, "c-%d-%d" % (k, i))
              for i, ws in enumerate(wss)], return_exceptions=True), 60)
    finally:
        await asyncio.gather(*[ws.close() for ws in wss],
                             return_exceptions=True)
    return sum(1 for m in res if isinstance(m, dict) and
               m.get("text") == "".join(TOKENS))


def main():
    build = sys.argv[1]
    fake = BenchFake().start()
    conf = {"webchat": {"workers": 2, "max_conns": 4096,
                        "history_limit": 0},
            # One address floods on purpose: lift the public limits.
            "policy": {"ratelimit": {
                "session": {"rate": "1000000/s", "burst": 1000000},
                "address": {"rate": "1000000/s", "burst": 1000000}},
                "conns_per_address": 65536},
            "agents": [{"name": "default", "type": "openai",
                        "openai": {"url": fake.url, "model": "m",
                                   "timeout_s": 30}}]}
    try:
        with BenchGate(build, conf, "openai") as g:
            d = asyncio.run(direct(fake.url))
            w = asyncio.run(via(g.port))
            for name, xs in (("direct", d), ("wxgate", w)):
                print("openai.%s_p50 %.2f ms" % (name, pct(xs, 50) * 1000))
                print("openai.%s_p99 %.2f ms" % (name, pct(xs, 99) * 1000))
            print("openai.added_p50 %.2f ms" %
                  ((pct(w, 50) - pct(d, 50)) * 1000))
            print("openai.added_p99 %.2f ms" %
                  ((pct(w, 99) - pct(d, 99)) * 1000))
            best = 0
            for k in LEVELS:
                ok = asyncio.run(level(g.port, k))
                print("openai.streams_%d_ok %d count" % (k, ok))
                if ok < k:
                    break
                best = k
            print("openai.max_streams %d count" % best)
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
