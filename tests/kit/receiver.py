"""A real HTTP receiver on loopback that answers as scripted and keeps every request: the far
end of webhook, apprise and Alertmanager channels."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    """time.monotonic() when it arrived."""
    answered: int

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """An aiohttp server on 127.0.0.1: answers each request with the next status of
    ``script`` (the last one repeats), or ``status`` once the script is used up."""

    def __init__(
        self, script: Sequence[int] = (200,), clock: Callable[[], datetime] | None = None
    ) -> None:
        self.script = list(script)
        self.clock = clock
        self.requests: list[Request] = []
        """Requests answered (a hung one is not)."""
        self.arrivals: list[datetime | None] = []
        """The test's clock at each request's arrival, hung ones included (None: no clock)."""
        self.arrived = asyncio.Event()
        self.hung = 0
        """Requests held unanswered right now (while ``hang()`` is in force)."""
        self._released: asyncio.Event | None = None
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.server = TestServer(app, host="127.0.0.1")

    async def start(self) -> Receiver:
        await self.server.start_server()
        return self

    async def stop(self) -> None:
        await self.server.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def hang(self) -> None:
        """Take requests but answer none (a receiver that stopped responding)."""
        self._released = asyncio.Event()

    def release(self) -> None:
        """Answer again, as scripted."""
        if self._released is not None:
            self._released.set()
            self._released = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.arrivals.append(self.clock() if self.clock else None)
        if (released := self._released) is not None:
            # Held until released; by then the client gave up, so it is no delivery.
            self.hung += 1
            self.arrived.set()
            try:
                await released.wait()
            finally:
                self.hung -= 1
            return web.Response(status=503)
        status = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        self.requests.append(
            Request(request.path_qs, dict(request.headers), body, time.monotonic(), status)
        )
        self.arrived.set()
        return web.Response(status=status, text="ok" if status < 300 else "not now")

    async def wait_hung(self, timeout: float) -> None:
        """Wait until a request is held unanswered."""
        async with asyncio.timeout(timeout):
            while not self.hung:
                self.arrived.clear()
                await self.arrived.wait()

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Request]:
        async with asyncio.timeout(timeout):
            while len(self.requests) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.requests
