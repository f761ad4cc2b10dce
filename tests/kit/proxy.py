"""A small forward proxy on 127.0.0.1 for tests: CONNECT tunnels (https) and absolute-form
requests (http), recording what it was asked; or one that never answers (``silent``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True)
class ProxyRequest:
    method: str
    target: str
    """As the client wrote it: ``host:port`` for CONNECT, an absolute URL otherwise."""
    proxy_authorization: str | None


@dataclass
class Proxy:
    port: int = 0
    seen: list[ProxyRequest] = field(default_factory=list)
    silent: bool = False
    """Read the request and never answer (a proxy that hangs on CONNECT)."""
    refuse: int | None = None
    """Answer every request with this status instead of forwarding it."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url_with(self, user: str, password: str) -> str:
        return f"http://{user}:{password}@127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *header_lines = head.split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in header_lines if line)
        }
        self.seen.append(ProxyRequest(method, target, headers.get("proxy-authorization")))
        if self.silent:
            await asyncio.Event().wait()  # cancelled when the proxy closes
        if self.refuse is not None:
            writer.write(f"HTTP/1.1 {self.refuse} No\r\nContent-Length: 0\r\n\r\n".encode())
            await writer.drain()
            writer.close()
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
        else:
            parts = urlsplit(target)
            up_reader, up_writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
            path = parts.path or "/"
            path += f"?{parts.query}" if parts.query else ""
            kept = [line for line in header_lines if line and not line.lower().startswith("proxy-")]
            up_writer.write(
                ("\r\n".join([f"{method} {path} HTTP/1.1", *kept]) + "\r\n\r\n").encode()
            )
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@asynccontextmanager
async def serve_proxy(proxy: Proxy | None = None) -> AsyncIterator[Proxy]:
    proxy = proxy or Proxy()
    tasks: set[asyncio.Task[None]] = set()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await proxy.handle(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            # The proxy is closing: asyncio would log a cancelled connection task as an error.
            pass
        finally:
            tasks.discard(task)
            writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    proxy.port = server.sockets[0].getsockname()[1]
    try:
        yield proxy
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await server.wait_closed()
