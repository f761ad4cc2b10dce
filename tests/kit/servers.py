"""Real targets on loopback.

- Target: an aiohttp server whose routes each behave one way (status codes, HEAD refusal, hang,
  slow drip, a huge generated body, redirects, basic auth); a test switches the body of
  ``/parts`` and reads every request the server saw.
- Switchable: one URL whose status the test switches, or that hangs (the daemon tests' target).
- raw_server(): a bare asyncio server for what aiohttp refuses to send (garbage, resets).
- StaticResolver: names → 127.0.0.1 without DNS traffic.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import inspect
import socket
import ssl
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

HUGE = 200 * 1024 * 1024
CREDENTIALS = ("alice", "s3cret")


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    remote: str | None = None
    """The client's address: where a check was sent from."""


@dataclass
class Target:
    """An aiohttp server on 127.0.0.1; ``parts`` is what GET /parts sends, one write each."""

    server: TestServer | None = None
    seen: list[SeenRequest] = field(default_factory=list)
    parts: list[bytes] = field(default_factory=lambda: [b"hello"])
    content_type: str = "text/plain; charset=utf-8"

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    def app(self) -> web.Application:
        @web.middleware
        async def record(
            request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            body = await request.read()
            self.seen.append(
                SeenRequest(
                    request.method, request.path, dict(request.headers), body, request.remote
                )
            )
            return await handler(request)

        app = web.Application(middlewares=[record])
        app.router.add_route("*", "/status/{code}", _status)
        app.router.add_route("*", "/head-refused/{code}", _head_refused)
        app.router.add_route("*", "/head-only", _head_only)
        app.router.add_get("/hang", _hang)
        app.router.add_get("/drip", _drip)
        app.router.add_get("/huge", _huge)
        app.router.add_get("/parts", self._parts)
        app.router.add_route("*", "/loop", _loop)
        app.router.add_route("*", "/moved", _moved)
        app.router.add_route("*", "/redirect", _redirect)
        app.router.add_get("/auth", _auth)
        return app

    async def _parts(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": self.content_type})
        response.content_length = sum(len(part) for part in self.parts)
        await response.prepare(request)
        for part in self.parts:
            await response.write(part)
            # A pause between writes makes each part arrive (and be read) on its own.
            await asyncio.sleep(0.05)
        return response


async def _status(request: web.Request) -> web.Response:
    return web.Response(status=int(request.match_info["code"]), text="status page")


async def _head_refused(request: web.Request) -> web.Response:
    if request.method == "HEAD":
        return web.Response(status=int(request.match_info["code"]))
    return web.Response(text="served to GET")


async def _head_only(request: web.Request) -> web.Response:
    return web.Response(status=200 if request.method == "HEAD" else 500)


async def _hang(request: web.Request) -> web.Response:
    await asyncio.sleep(3600)  # cancelled when the client goes away
    return web.Response()


async def _drip(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    await response.prepare(request)
    with contextlib.suppress(ConnectionResetError):  # the client gave up: as expected
        while True:
            await response.write(b"x")
            await asyncio.sleep(0.1)
    return response


async def _huge(request: web.Request) -> web.StreamResponse:
    """HUGE bytes of "a", made as they are sent: the server never holds more than one chunk."""
    chunk = b"a" * 65536
    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    response.content_length = HUGE
    await response.prepare(request)
    with contextlib.suppress(ConnectionResetError):  # the client stops at its max_body
        for _ in range(HUGE // len(chunk)):
            await response.write(chunk)
    return response


async def _loop(request: web.Request) -> web.Response:
    raise web.HTTPFound("/loop")


async def _moved(request: web.Request) -> web.Response:
    raise web.HTTPFound("/status/200")


async def _redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound(request.query["to"])


async def _auth(request: web.Request) -> web.Response:
    token = base64.b64encode(":".join(CREDENTIALS).encode()).decode()
    if request.headers.get("Authorization") == f"Basic {token}":
        return web.Response(text="welcome")
    return web.Response(status=401)


@asynccontextmanager
async def serve(target: Target, ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[Target]:
    target.server = TestServer(target.app(), host="127.0.0.1")
    await target.server.start_server(ssl=ssl_context)
    try:
        yield target
    finally:
        await target.server.close()


T = TypeVar("T")
RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: RawHandler) -> AsyncIterator[int]:
    """A bare TCP server on 127.0.0.1 running ``handler`` per connection; yields its port."""
    writers: list[asyncio.StreamWriter] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await handler(reader, writer)

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:
            writer.transport.abort()
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> None:
    await reader.readuntil(b"\r\n\r\n")


async def reset_connection(writer: asyncio.StreamWriter) -> None:
    """Close with SO_LINGER 0: the kernel answers with RST instead of FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class StaticResolver(AbstractResolver):
    """Names → 127.0.0.1 without any DNS traffic; any other name fails as NXDOMAIN would."""

    def __init__(self, *names: str) -> None:
        self.names = set(names)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        await asyncio.sleep(0.01)  # a lookup takes time; the DNS phase must show it
        if host not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            ResolveResult(
                hostname=host, host="127.0.0.1", port=port, family=socket.AF_INET, proto=0, flags=0
            )
        ]

    async def close(self) -> None:
        pass


class Switchable:
    """An HTTP target on 127.0.0.1 whose answer the test switches: ``status``, after ``delay``
    seconds, or no answer at all while ``hang``; ``hits`` counts requests."""

    def __init__(self) -> None:
        self.status = 200
        self.delay = 0.0
        self.hang = False
        self.hits = 0
        self.url = ""
        """Its /health URL, once started."""

    async def handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.hang:
            await asyncio.sleep(3600)
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.Response(status=self.status, text="status: success")


@asynccontextmanager
async def serve_switchable() -> AsyncIterator[Switchable]:
    target = Switchable()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", target.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    target.url = str(server.make_url("/health"))
    try:
        yield target
    finally:
        await server.close()


async def wait_for(predicate: Callable[[], T | Awaitable[T]], timeout: float, what: str) -> T:
    """Poll ``predicate`` (plain or async) every 0.1 s until it gives something true; that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
