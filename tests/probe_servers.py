"""Real targets on loopback for the probe tests, and the certificates they present.

- Target: an aiohttp server whose routes each behave one way (status codes, HEAD refusal, hang,
  slow drip, a huge generated body, redirects, basic auth); a test switches the body of
  ``/parts`` and reads every request the server saw.
- raw_server(): a bare asyncio server for what aiohttp refuses to send (garbage, resets).
- Certificates made in the test: trustme for plain chains, cryptography where trustme cannot
  set a date (an intermediate CA that expires before the leaf).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil  # type: ignore[import-untyped]  # no stubs in the venv
import trustme
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


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


def server_context(cert: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


def write_ca(ca: trustme.CA, directory: Path) -> str:
    path = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def not_after(cert: trustme.LeafCert) -> datetime:
    return x509.load_pem_x509_certificate(cert.cert_chain_pems[0].bytes()).not_valid_after_utc


def issue(
    ca: trustme.CA, *, expires_in: timedelta, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
) -> trustme.LeafCert:
    now = datetime.now(UTC)
    return ca.issue_cert(*hosts, not_before=now - timedelta(days=100), not_after=now + expires_in)


@dataclass(frozen=True)
class Chain:
    """root → intermediate → leaf, built with cryptography (trustme cannot date a child CA)."""

    root_pem: bytes
    server_pem: bytes
    """Leaf key, leaf certificate and intermediate, as a server loads them."""
    intermediate_expires: datetime
    leaf_expires: datetime


def chain_with_intermediate(*, intermediate_days: int, leaf_days: int) -> Chain:
    now = datetime.now(UTC).replace(microsecond=0)

    def make(
        name: str,
        key: ec.EllipticCurvePrivateKey,
        issuer: x509.Name | None,
        signer: ec.EllipticCurvePrivateKey,
        days: int,
        ca: bool,
    ) -> x509.Certificate:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer or subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
            builder = builder.add_extension(usage, critical=True)
        else:
            san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
            builder = builder.add_extension(san, critical=False)
        return builder.sign(signer, hashes.SHA256())

    root_key, mid_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = make("probed test root", root_key, None, root_key, 3650, True)
    mid = make("probed test intermediate", mid_key, root.subject, root_key, intermediate_days, True)
    leaf = make("127.0.0.1", leaf_key, mid.subject, mid_key, leaf_days, False)
    pem = serialization.Encoding.PEM
    key_pem = leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return Chain(
        root_pem=root.public_bytes(pem),
        server_pem=key_pem + leaf.public_bytes(pem) + mid.public_bytes(pem),
        intermediate_expires=mid.not_valid_after_utc,
        leaf_expires=leaf.not_valid_after_utc,
    )


class PeakRss:
    """Samples this process's resident set every few milliseconds while in use."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self.baseline: int = self._process.memory_info().rss
        self.peak: int = self.baseline
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, self._process.memory_info().rss)
            await asyncio.sleep(0.005)

    async def __aenter__(self) -> PeakRss:
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.peak = max(self.peak, self._process.memory_info().rss)

    @property
    def growth(self) -> int:
        return self.peak - self.baseline
