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
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from probed.service.malformed import MalformedLog, kind_of, problem_of, shown
from probed.web.errors import answer_for_path

MAX_CONNECTIONS = 256
"""Inbound connections at once; far below systemd's default soft limit of 1,024 descriptors."""
HEADER_TIMEOUT = 10.0
"""Seconds a new connection gets to deliver its first request head."""
KEEPALIVE_TIMEOUT = 15.0
"""Seconds an idle keep-alive connection stays open (aiohttp's default is an hour)."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_REQUEST_LINE = re.compile(rb"(?m)^[^\s:]+ +/[^\r\n]*")
"""A request line, well-formed or not (no ":" in its method: no header line matches): what a
refused request was for. A request head is at most 8190 bytes a line (aiohttp's bound), so
KEPT holds one."""
_KEPT = 16384
_SILENT = logging.Logger("probed.listener.silenced", logging.CRITICAL + 1)
"""Where aiohttp's own report of a malformed request goes: nowhere (outside logging's tree, so
no configuration re-enables it; its NullHandler keeps Python's last-resort handler away)."""
_SILENT.addHandler(logging.NullHandler())


class _Handler(RequestHandler):
    """aiohttp's protocol, keeping the bytes of the request being read so that one its parser
    refuses (a 400 before any app sees it) is answered in the shape of the path it was for."""

    def __init__(self, server: web.Server, malformed: MalformedLog, **kwargs: Any) -> None:
        super().__init__(server, **kwargs)
        self.received = b""
        self.malformed = malformed

    def data_received(self, data: bytes) -> None:
        self.received = (self.received + data)[-_KEPT:]
        super().data_received(data)

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if not isinstance(exc, HttpProcessingError):
            return super().handle_error(request, status, exc, message)  # it also logs
        # aiohttp would log an ERROR with a traceback quoting the client's bytes, every time;
        # the malformed log words it once, redacted, within its bounds.
        logger, self.logger = self.logger, _SILENT
        try:
            answer = super().handle_error(request, status, exc, message)
        finally:
            self.logger = logger
        lines = _REQUEST_LINE.findall(self.received)
        line = lines[-1].decode("latin-1") if lines else ""
        fields = {"request": shown(line)} if line else {}
        self.malformed.record(kind_of(exc), request.remote, problem=problem_of(exc), **fields)
        path = line.split()[1].partition("?")[0] if line else None
        shaped = answer_for_path(path, status, "malformed request")
        if shaped is None:
            return answer
        shaped.force_close()
        return shaped


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
        self.malformed = MalformedLog()

    def protocol(self, server: web.Server) -> asyncio.BaseProtocol:
        """A protocol for one new connection to ``server`` (aiohttp's, or one that refuses)."""
        if len(server.connections) >= self.limit and not self._evict_one():
            self.refused += 1
            return _Refused()
        loop = asyncio.get_running_loop()
        # Built as web.Server() builds aiohttp's own, with the runner's settings.
        handler = _Handler(server, self.malformed, loop=loop, **server._kwargs)
        self._waiting[handler] = loop.call_later(self.header_timeout, self._expire, handler)
        return handler

    def started(self, handler: object) -> None:
        """A request head arrived on this connection: it is no longer a stall suspect."""
        timer = self._waiting.pop(handler, None)  # type: ignore[call-overload]
        if timer is not None:
            timer.cancel()
        if isinstance(handler, _Handler):
            handler.received = b""  # a request refused later is a later one

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
