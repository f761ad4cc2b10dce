"""The HTTP listener, guarded so idle or stalled clients cannot starve probed of file descriptors.

Every open socket is a file descriptor that a check may need. Connections are bounded
(``MAX_CONNECTIONS``); a connection must deliver its first request head within
``HEADER_TIMEOUT`` seconds, and idle keep-alive connections close after ``KEEPALIVE_TIMEOUT``.
At the bound, a new connection evicts the idlest one that is waiting for a request (a stalled
client or an idle keep-alive reader, whichever was last active longest ago), so /healthz and the
API still answer while 2,000 sockets stall and a crowd of readers cannot hold every slot. One
source address holds at most ``CLIENT_SHARE`` connections: past it, its new one evicts its own
idlest. Only when every slot is serving a request does a new connection go to the push reserve
(``PUSH_RESERVE`` more), where a ping is served and anything else is answered 503: a cron job's
ping is never the request refused for readers; past the reserve it is closed at once.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
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
CLIENT_SHARE = 64
"""Connections one source address holds at once; its next one evicts its own idlest."""
PUSH_RESERVE = 32
"""Connections beyond the bound that may only ping (``/push/...``): a job's ping is never
refused for a crowd of page readers that are all being served."""
PUSH_PREFIX = "/push/"

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
    refuses (a 400 before any app sees it) is answered in the shape of the path it was for,
    and telling its guard when it opens, is busy, and closes."""

    def __init__(self, server: web.Server, malformed: MalformedLog, **kwargs: Any) -> None:
        super().__init__(server, **kwargs)
        self.received = b""
        self.malformed = malformed
        self.guard: ConnectionGuard | None = None
        self.client = ""
        self.reserved = False
        """Taken from the push reserve: it may only ping, and closes after its answer."""
        self.admitted = False
        self.fresh = True
        """Nothing received yet: closing it loses no request, even before aiohttp reads."""
        self.last_active = self._loop.time()
        """When it last received bytes or finished an answer: the idlest is evicted first."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        client = str(peer[0]) if isinstance(peer, tuple) else "local"
        if self.guard is not None and not self.guard.admit(self, client):
            transport.close()
            return
        self.admitted = True
        super().connection_made(transport)

    def connection_lost(self, exc: BaseException | None) -> None:
        if not self.admitted:
            return
        if self.guard is not None:
            self.guard.closed(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.received = (self.received + data)[-_KEPT:]
        self.last_active = self._loop.time()
        self.fresh = False
        super().data_received(data)

    def waiting_for_request(self) -> bool:
        """Idle between requests (or before the first): closing it loses no answer."""
        waiter = self._waiter
        return self.fresh or (
            waiter is not None
            and not waiter.done()
            and not self._messages
            and not self._request_in_progress
        )

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


class ConnectionGuard:
    """Hands out aiohttp's protocol for new connections within the bounds above; its
    ``middleware`` (on the app) tells it which connections delivered a request, answers a
    reserved connection's non-push request 503 and closes a reserved one after its answer."""

    def __init__(
        self,
        limit: int = MAX_CONNECTIONS,
        header_timeout: float = HEADER_TIMEOUT,
        per_client: int = CLIENT_SHARE,
        reserve: int = PUSH_RESERVE,
    ) -> None:
        self.limit = limit
        self.header_timeout = header_timeout
        self.per_client = per_client
        self.reserve = reserve
        self._open: dict[_Handler, None] = {}
        """Open connections in the ordinary slots, in the order they were accepted."""
        self._reserved: dict[_Handler, None] = {}
        self._clients: Counter[str] = Counter()
        self._timers: dict[_Handler, asyncio.TimerHandle] = {}
        """Header deadlines of connections that have not delivered a request head yet."""
        self.evicted = 0
        self.refused = 0
        self.malformed = MalformedLog()

    def protocol(self, server: web.Server) -> asyncio.BaseProtocol:
        """aiohttp's protocol for one new connection to ``server``; it asks ``admit`` for a
        slot once it knows the client's address."""
        loop = asyncio.get_running_loop()
        # Built as web.Server() builds aiohttp's own, with the runner's settings.
        handler = _Handler(server, self.malformed, loop=loop, **server._kwargs)
        handler.guard = self
        self._timers[handler] = loop.call_later(self.header_timeout, self._expire, handler)
        return handler

    def admit(self, handler: _Handler, client: str) -> bool:
        """Give the new connection from ``client`` a slot, evicting the idlest connection (the
        client's own when it holds its share); False when it must be closed at once."""
        handler.client = client
        own = self._clients[client] >= self.per_client
        full = own or len(self._open) >= self.limit
        if not full or self._evict(self._open, client if own else None):
            self._open[handler] = None
        elif len(self._reserved) < self.reserve or self._evict(self._reserved, None):
            handler.reserved = True  # nothing to evict: this one may only ping
            self._reserved[handler] = None
        else:
            self.refused += 1
            self.closed(handler)
            return False
        self._clients[client] += 1
        return True

    def closed(self, handler: _Handler) -> None:
        """The connection is gone: its slot and its share are free."""
        timer = self._timers.pop(handler, None)
        if timer is not None:
            timer.cancel()
        pool = self._reserved if handler.reserved else self._open
        if pool.pop(handler, False) is None:
            self._clients[handler.client] -= 1
            if not self._clients[handler.client]:
                del self._clients[handler.client]

    def started(self, handler: object) -> None:
        """A request head arrived on this connection: it is no longer a stall suspect."""
        timer = self._timers.pop(handler, None)  # type: ignore[call-overload]
        if timer is not None:
            timer.cancel()
        if isinstance(handler, _Handler):
            handler.received = b""  # a request refused later is a later one

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        protocol = request.protocol
        self.started(protocol)
        reserved = isinstance(protocol, _Handler) and protocol.reserved
        if reserved and not request.path.startswith(PUSH_PREFIX):
            busy = web.HTTPServiceUnavailable(
                text="too many connections; try again\n", headers={"Retry-After": "1"}
            )
            busy.force_close()
            raise busy
        try:
            response = await handler(request)
        finally:
            if isinstance(protocol, _Handler):
                protocol.last_active = asyncio.get_running_loop().time()
        if reserved:
            response.force_close()  # the reserve is for the next ping
        return response

    def _expire(self, handler: _Handler) -> None:
        if self._timers.pop(handler, None) is not None:
            handler.force_close()

    def _evict(self, pool: dict[_Handler, None], client: str | None) -> bool:
        """Close the idlest connection in ``pool`` (of ``client`` only, unless None) that waits
        for a request; False when every one is serving a request."""
        idle = [
            h for h in pool if h.waiting_for_request() and (client is None or h.client == client)
        ]
        if not idle:
            return False
        idlest = min(idle, key=lambda h: h.last_active)
        idlest.force_close()
        self.closed(idlest)
        self.evicted += 1
        return True


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
