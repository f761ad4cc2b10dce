"""A small IMAP or POP3 greeter on loopback: it greets, upgrades to TLS on STARTTLS (IMAP) or STLS
(POP3) when it has a certificate, answers LOGOUT/QUIT and refuses the rest; or speaks TLS from
the first byte (imaps://, pop3s://). Enough protocol for a greeting check, nothing more.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

Mail = Literal["imap", "pop3"]
GREETINGS = {
    "imap": "* OK [CAPABILITY IMAP4rev1 STARTTLS] probed-test-imap ready",
    "pop3": "+OK probed-test-pop3 ready",
}


class Greeter:
    """One protocol's greeter; ``commands`` lists what clients sent, in order."""

    def __init__(
        self,
        protocol: Mail,
        *,
        starttls: ssl.SSLContext | None = None,
        greeting: str | None = None,
    ) -> None:
        self.protocol = protocol
        self.starttls = starttls
        self.greeting = greeting or GREETINGS[protocol]
        self.commands: list[str] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(self.greeting.encode() + b"\r\n")
        try:
            while line := await reader.readline():
                command = line.decode().strip()
                self.commands.append(command)
                if not await self._answer(command, writer):
                    break
        except (ConnectionError, ssl.SSLError):
            pass  # a probe aborts once it has judged
        finally:
            writer.transport.abort()

    async def _answer(self, command: str, writer: asyncio.StreamWriter) -> bool:
        """Answer one command; False once the session is over."""
        tag, _, verb = command.partition(" ") if self.protocol == "imap" else ("", "", command)
        verb = verb.upper()
        ok, refused = (f"{tag} OK", f"{tag} BAD") if self.protocol == "imap" else ("+OK", "-ERR")
        if verb in ("STARTTLS", "STLS") and self.starttls is not None:
            writer.write(f"{ok} begin TLS now\r\n".encode())
            await writer.drain()
            await writer.start_tls(self.starttls)
            return True
        if verb in ("LOGOUT", "QUIT"):
            writer.write(f"{ok} bye\r\n".encode())
            await writer.drain()
            return False
        writer.write(f"{refused} not here\r\n".encode())
        await writer.drain()
        return True


@asynccontextmanager
async def greeter_server(
    greeter: Greeter, implicit_tls: ssl.SSLContext | None = None
) -> AsyncIterator[int]:
    """``greeter`` on 127.0.0.1 (TLS from the first byte with ``implicit_tls``); yields its port."""
    writers: list[asyncio.StreamWriter] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await greeter.serve(reader, writer)

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0, ssl=implicit_tls)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        # A connection the probe has just left may not be served yet: let it end here.
        await asyncio.sleep(0.05)
        server.close()
        for writer in writers:
            writer.transport.abort()
        await server.wait_closed()
