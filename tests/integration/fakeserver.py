"""The lifecycle the fake upstream servers share: an aiohttp app on
127.0.0.1 served by its own event loop in a daemon thread, so a pytest
test (synchronous) can start it, point wxgated at .port, and stop it.

A subclass defines app() (the aiohttp Application) and may pass a port
to start(); 0 picks a free one."""

import asyncio
import threading

from aiohttp import web


class ThreadedApp:
    def __init__(self):
        self.loop = None
        self.port = None
        self.runner = None
        self.started = threading.Event()

    def app(self):
        raise NotImplementedError

    def start(self, port=0):
        t = threading.Thread(target=self._run, args=(port,), daemon=True)
        t.start()
        assert self.started.wait(10), "%s did not start" % \
            type(self).__name__
        return self

    def _run(self, port):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.runner = web.AppRunner(self.app(), handle_signals=False)
        self.loop.run_until_complete(self.runner.setup())
        # A held long poll is cut at stop, not waited for (a test's
        # teardown would wait out the rest of it).
        site = web.TCPSite(self.runner, "127.0.0.1", port,
                           shutdown_timeout=0.05)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self.started.set()
        self.loop.run_forever()

    async def _shutdown(self):
        await self.runner.cleanup()
        # A long poll still held would be destroyed pending, noisily.
        rest = [t for t in asyncio.all_tasks()
                if t is not asyncio.current_task()]
        for t in rest:
            t.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    def stop(self):
        if self.loop is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop)
        try:
            fut.result(5)
        except Exception:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
