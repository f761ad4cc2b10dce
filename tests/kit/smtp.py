"""A real SMTP server (aiosmtpd) on loopback, in the test's own event loop.

It can be stopped and started again on the same port (to play an SMTP outage), offer STARTTLS
or implicit TLS with a certificate made in the test (trustme), require AUTH, and refuse
recipients. Every accepted message is parsed and kept with the wall-clock time it arrived.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.kit.processes import free_port

# aiosmtpd logs every session at INFO (and a deprecation notice on each AUTH at WARNING).
logging.getLogger("mail.log").setLevel(logging.ERROR)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    at: float
    """time.time() when the server accepted the message."""

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def part(self, subtype: str) -> str:
        body = self.message.get_body((subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content())  # type: ignore[attr-defined]


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.server.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.server.inbox.append(
            Received(str(envelope.mail_from), list(envelope.rcpt_tos), message, time.time())
        )
        return "250 2.0.0 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on 127.0.0.1:``port``; ``start``/``stop`` may be called repeatedly."""

    def __init__(
        self,
        port: int | None = None,
        *,
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
        users: dict[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.users = users
        self.refuse: set[str] = set()
        self.inbox: list[Received] = []
        self.auth_attempts: list[tuple[str, bool]] = []
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> SmtpServer:
        loop = asyncio.get_running_loop()

        def protocol() -> SMTP:
            return SMTP(
                _Handler(self),
                hostname="probed-test-smtp",  # else aiosmtpd asks the resolver for the FQDN
                tls_context=self.starttls,
                require_starttls=self.starttls is not None,
                authenticator=self._authenticate if self.users is not None else None,
                auth_required=self.users is not None,
                loop=loop,
            )

        self._server = await loop.create_server(
            protocol, "127.0.0.1", self.port, ssl=self.implicit_tls
        )
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert self.users is not None and isinstance(data, LoginPassword)
        user, password = data.login.decode(), data.password.decode()
        ok = self.users.get(user) == password
        self.auth_attempts.append((user, ok))
        # handled=False: aiosmtpd answers a failure itself, with 535 5.7.8.
        return AuthResult(success=ok, handled=False)

    def subjects(self) -> list[str]:
        return [m.subject for m in self.inbox]

    async def wait_for(self, count: int, timeout: float) -> list[Received]:
        """Wait until at least ``count`` messages arrived; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while len(self.inbox) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.inbox)} of {count} emails after {timeout}s")
            await asyncio.sleep(0.02)
        return self.inbox


@dataclass
class Tls:
    """A CA and a server certificate for 127.0.0.1, made in the test."""

    ca_file: Path
    server: ssl.SSLContext


def make_tls(directory: Path) -> Tls:
    ca = trustme.CA()
    ca_file = directory / "smtp-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return Tls(ca_file, context)
