"""A fake OpenAI-compatible /v1/chat/completions server for the agent
tests and the bench (python3-aiohttp), on 127.0.0.1 in a thread.

The reply is chosen by the last user message:
  "mode:<name>"  behaviour <name> (see Fake.handle), else the normal
  streamed reply "echo: <text>" cut into Fake.chunks pieces.
Every request body is kept in .requests; .closed counts requests whose
client went away before the reply ended (an abort).
"""

import asyncio
import base64
import json
import threading

from aiohttp import web

from fakeserver import ThreadedApp


class Fake(ThreadedApp):
    def __init__(self, chunks=4, delay=0.02, tokens=None):
        super().__init__()
        self.chunks = chunks
        self.delay = delay
        self.tokens = tokens            # fixed reply, as a list of pieces
        self.requests = []
        self.images = []        # per request with content parts
        self.headers = []
        self.closed = 0
        self.lock = threading.Lock()

    def app(self):
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.handle)
        return app

    @property
    def url(self):
        return "http://127.0.0.1:%d/v1/chat/completions" % self.port

    def count(self, mode):
        with self.lock:
            return sum(1 for r in self.requests
                       if r["messages"][-1]["content"] == "mode:" + mode)

    # -- replies -------------------------------------------------------

    @staticmethod
    def chunk(text=None, finish=None):
        delta = {} if text is None else {"content": text}
        return {"id": "c1", "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta,
                             "finish_reason": finish}]}

    def pieces(self, text):
        if self.tokens is not None:
            return list(self.tokens)
        n = max(1, min(self.chunks, len(text)))
        step = -(-len(text) // n)
        return [text[i:i + step] for i in range(0, len(text), step)]

    @staticmethod
    async def hold_open(request):
        """Up to 30 s of silence on an open response.  Silence writes
        nothing, so only the transport tells whether the client has hung
        up."""
        for _ in range(600):
            t = request.transport
            if t is None or t.is_closing():
                raise ConnectionResetError("client went away")
            await asyncio.sleep(0.05)

    async def sse(self, request, pieces, end=True, delay=None):
        resp = web.StreamResponse(headers={
            "Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for p in pieces:
            await resp.write(b"data: " +
                             json.dumps(self.chunk(p)).encode() + b"\n\n")
            await asyncio.sleep(self.delay if delay is None else delay)
        if end:
            await resp.write(b"data: " + json.dumps(
                self.chunk(None, "stop")).encode() + b"\n\n")
            await resp.write(b"data: [DONE]\n\n")
        return resp

    def content_parts(self, parts):
        texts, images = [], []
        for p in parts:
            if p.get("type") == "text" and isinstance(p.get("text"), str):
                texts.append(p["text"])
                continue
            url = (p.get("image_url") or {}).get("url", "")
            if p.get("type") != "image_url" or not isinstance(url, str):
                raise ValueError("a content part of no known type")
            head, sep, data = url.partition(",")
            if not sep or head not in (
                    "data:image/%s;base64" % t
                    for t in ("png", "jpeg", "gif", "webp")):
                raise ValueError("an image that is not a data URL")
            images.append((head[5:-7], base64.b64decode(data,
                                                        validate=True)))
        if len(texts) != 1 or parts[0].get("type") != "text":
            raise ValueError("content parts without one leading text")
        with self.lock:
            self.images.append(images)
        return texts[0]

    async def handle(self, request):
        body = await request.json()
        with self.lock:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
        last = body["messages"][-1]["content"]
        if isinstance(last, list):
            # Content parts (vision): a text part, then images as data
            # URLs of strict base64; anything else is a client error.
            try:
                last = self.content_parts(last)
            except ValueError as e:
                return web.json_response({"error": {"message": str(e)}},
                                         status=400)
        mode = last[5:] if last.startswith("mode:") else None
        text = "echo: " + last
        try:
            if mode is None:
                if body.get("stream"):
                    return await self.sse(request, self.pieces(text))
                return web.json_response({
                    "id": "c1", "object": "chat.completion",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant",
                                             "content": text}}]})
            if mode == "json":      # ignores stream: true, answers whole
                return web.json_response({
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant",
                                             "content": "whole reply"}}]})
            if mode == "401":
                return web.json_response(
                    {"error": {"message": "bad key"}}, status=401)
            if mode == "429":
                return web.json_response(
                    {"error": {"message": "slow down"}}, status=429,
                    headers={"Retry-After": "7"})
            if mode == "500":
                return web.json_response(
                    {"error": {"message": "boom"}}, status=500)
            if mode == "stall":     # one piece, then silence
                resp = await self.sse(request, ["partial"], end=False)
                await self.hold_open(request)
                return resp
            if mode == "linger":    # the whole reply, then holds on
                resp = await self.sse(request, ["all ", "of it"])
                await self.hold_open(request)
                return resp
            if mode == "garbage":
                resp = web.StreamResponse(headers={
                    "Content-Type": "text/event-stream"})
                await resp.prepare(request)
                await resp.write(b"data: {\"choices\": [{\"delta\": "
                                 b"{\"content\": \"ok\"}}]}\n\n")
                await resp.write(b"data: {this is not json\n\n")
                await asyncio.sleep(0.2)
                return resp
            if mode == "cut":       # two pieces, then the connection drops
                resp = await self.sse(request, ["one ", "two "], end=False)
                request.transport.close()
                return resp
            if mode == "slow":      # long enough to abort
                return await self.sse(request, ["w%d " % i
                                                for i in range(100)],
                                      delay=0.1)
        except (ConnectionResetError, asyncio.CancelledError):
            with self.lock:
                self.closed += 1
            raise
        return web.Response(status=404)
