"""A relay written in Python for the tests: it speaks the relay protocol
(docs/relay-protocol.md) to a relay agent's listener from a thread of
its own, and answers each request with "relay: <last user text>" in a
few deltas.  Knobs make it misbehave on purpose (die mid-reply, send a
frame for a request it was not given, send an oversized frame)."""

import asyncio
import json
import threading
import time

import websockets


class PyRelay:
    def __init__(self, url, token, name="r", chunks=3, delay=0.02,
                 die_after=None, stall=False):
        self.url = url
        self.token = token
        self.name = name
        self.chunks = chunks
        self.delay = delay
        self.die_after = die_after      # deltas sent, then the TCP dies
        self.stall = stall              # take requests, never answer
        self.requests = []
        self.aborts = []
        self.welcome = None
        self.refused = False
        self.close_code = None
        self.turned_away = False
        self.closed = threading.Event()
        self.ready = threading.Event()
        self.loop = None
        self.ws = None
        self.thread = threading.Thread(target=self._main, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def wait_ready(self, timeout=10):
        if not self.ready.wait(timeout):
            raise AssertionError("relay %s was not welcomed" % self.name)
        return self

    def _main(self):
        asyncio.run(self._run())

    async def _run(self):
        self.loop = asyncio.get_running_loop()
        try:
            async with websockets.connect(self.url, ping_interval=None,
                                          close_timeout=1,
                                          max_size=2 ** 20) as ws:
                self.ws = ws
                await ws.send(json.dumps({"type": "hello",
                                          "token": self.token,
                                          "version": 1}))
                async for raw in ws:
                    await self._frame(ws, json.loads(raw))
        except websockets.ConnectionClosed as e:
            self.close_code = e.rcvd.code if e.rcvd else None
        except websockets.InvalidHandshake:
            self.turned_away = True     # closed before the upgrade
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            if self.ws is not None and self.ws.close_code is not None:
                self.close_code = self.close_code or self.ws.close_code
            self.closed.set()

    async def _frame(self, ws, f):
        t = f.get("type")
        if t == "welcome":
            self.welcome = f
            self.ready.set()
        elif t == "refused":
            self.refused = True
        elif t == "ping":
            await ws.send(json.dumps({"type": "pong"}))
        elif t == "abort":
            self.aborts.append(f["id"])
        elif t == "request":
            self.requests.append(f)
            if not self.stall:
                asyncio.ensure_future(self._answer(ws, f))

    async def _answer(self, ws, f):
        last = [m for m in f["messages"] if m["role"] == "user"][-1]
        text = "relay: " + last["content"]
        step = max(1, -(-len(text) // self.chunks))
        sent = 0
        for i in range(0, len(text), step):
            if self.die_after is not None and sent >= self.die_after:
                # As a SIGKILL would: no close frame, the socket just goes.
                ws.transport.abort()
                return
            await ws.send(json.dumps({"type": "delta", "id": f["id"],
                                      "text": text[i:i + step]}))
            sent += 1
            await asyncio.sleep(self.delay)
        await ws.send(json.dumps({"type": "done", "id": f["id"]}))

    def send(self, obj_or_text):
        """Send a frame from the test's thread."""
        data = obj_or_text if isinstance(obj_or_text, str) else \
            json.dumps(obj_or_text)
        fut = asyncio.run_coroutine_threadsafe(self.ws.send(data),
                                               self.loop)
        fut.result(5)

    def kill(self):
        """Drop the TCP connection without a close frame."""
        if self.loop is not None and self.ws is not None:
            self.loop.call_soon_threadsafe(self.ws.transport.abort)
        self.closed.wait(5)

    def close(self):
        if self.loop is not None and self.ws is not None and \
                not self.closed.is_set():
            asyncio.run_coroutine_threadsafe(self.ws.close(), self.loop)
        self.closed.wait(5)
