"""The HTTP listener, guarded so idle or stalled clients cannot starve probed of file descriptors.

Every open socket is a file descriptor that a check may need. Connections are bounded
(``MAX_CONNECTIONS``); a connection must deliver its first request head within
``HEADER_TIMEOUT`` seconds, and idle keep-alive connections close after ``KEEPALIVE_TIMEOUT``.
At the bound, a new connection evicts the oldest one that has not sent a request yet (a
half-open or stalled client), so /healthz and the API still answer while 2,000 sockets stall;
only when every slot is serving a real request is the new one refused.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

MAX_CONNECTIONS = 256
"""Inbound connections at once; far below systemd's default soft limit of 1,024 descriptors."""
HEADER_TIMEOUT = 10.0
"""Seconds a new connection gets to deliver its first request head."""
KEEPALIVE_TIMEOUT = 15.0
"""Seconds an idle keep-alive connection stays open (aiohttp's default is an hour)."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Refused(asyncio.Protocol):
    """Closes the connection at once: every slot is serving a real request."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.close()


class ConnectionGuard:
    """Hands out aiohttp's protocol for new connections within the bounds above; its
    ``middleware`` (on the app) tells it which connections delivered a request."""

    def __init__(
        self, limit: int = MAX_CONNECTIONS, header_timeout: float = HEADER_TIMEOUT
    ) -> None:
        self.limit = limit
        self.header_timeout = header_timeout
        self._waiting: OrderedDict[RequestHandler, asyncio.TimerHandle] = OrderedDict()
        """Connections that have not delivered a request head yet, oldest first."""
        self.evicted = 0
        self.refused = 0

    def protocol(self, server: web.Server) -> asyncio.BaseProtocol:
        """A protocol for one new connection to ``server`` (aiohttp's, or one that refuses)."""
        if len(server.connections) >= self.limit and not self._evict_one():
            self.refused += 1
            return _Refused()
        handler = server()
        loop = asyncio.get_running_loop()
        self._waiting[handler] = loop.call_later(self.header_timeout, self._expire, handler)
        return handler

    def started(self, handler: object) -> None:
        """A request head arrived on this connection: it is no longer a stall suspect."""
        timer = self._waiting.pop(handler, None)  # type: ignore[call-overload]
        if timer is not None:
            timer.cancel()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.started(request.protocol)
        return await handler(request)

    def _expire(self, handler: RequestHandler) -> None:
        if self._waiting.pop(handler, None) is not None:
            handler.force_close()

    def _evict_one(self) -> bool:
        while self._waiting:
            handler, timer = self._waiting.popitem(last=False)
            timer.cancel()
            if handler.transport is not None:
                handler.force_close()
                self.evicted += 1
                return True
        return False


async def listen(
    runner: web.AppRunner, guard: ConnectionGuard, host: str, port: int
) -> asyncio.Server:
    """Listen on host:port with ``guard`` in front of the set-up runner's aiohttp server; the
    caller closes the returned server before ``runner.cleanup()``."""
    server = runner.server
    if server is None:
        raise RuntimeError("listen() needs a runner that is set up")
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: guard.protocol(server), host, port, reuse_address=True)
