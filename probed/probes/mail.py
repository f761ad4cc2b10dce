"""The mail probes (``smtp``, ``imap``, ``pop3``): the server's greeting, read line by line over
asyncio streams, then STARTTLS/STLS when asked; a TLS certificate is judged as the ssl probe
judges it.

Hand-rolled rather than aiosmtplib: a greeting and one upgrade are a few lines per protocol, the
three kinds share one reader with one set of limits (line length, reply lines) and the same
phase timings, and what a hostile server sent so far stays at hand for the evidence.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from probed.config import Monitor
from probed.config.mail import ImapCheck, MailCheck, Pop3Check, SmtpCheck, mail_target
from probed.probes.check import Phase, PhaseTracker, ProbeError, ProbeOutcome
from probed.probes.tls import earliest_expiry, judge_expiry, open_socket, tls_contexts, tls_facts

LINE_MAX = 2048
"""Bytes a server's line may hold (RFC 5321 allows 512 for a reply line; IMAP's greeting may
carry capabilities): beyond it the server is not speaking the protocol."""
REPLY_LINES_MAX = 100
"""Lines of one multi-line reply (or untagged IMAP lines) read at most."""
_HEARD_MAX = 1024
"""What the server said that the evidence keeps."""
_SHOWN = 80
"""Characters of a server's line quoted in a reason."""
_SMTP_LINE = re.compile(r"^([2-5][0-9]{2})([ -]|$)")


class Dialogue:
    """One connection's lines, both ways; what the server sent stays in ``heard``."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tracker: PhaseTracker
    ) -> None:
        self.reader, self.writer, self.tracker = reader, writer, tracker
        self.heard = bytearray()
        self._pending = bytearray()

    async def line(self, waiting_for: str) -> str:
        """The next line without its CRLF; ProbeError naming ``waiting_for`` when the server
        closes first or sends a line longer than LINE_MAX."""
        while (end := self._pending.find(b"\n")) < 0:
            if len(self._pending) > LINE_MAX:
                raise ProbeError(f"{waiting_for}: a line longer than {LINE_MAX} bytes")
            # read(), not readuntil(): the bytes of a line still arriving are ours to show.
            chunk = await self.reader.read(LINE_MAX)
            if not chunk:
                said = "" if not self._pending else f' after "{_shown(bytes(self._pending))}"'
                raise ProbeError(f"connection closed before the {waiting_for}{said}")
            if not self.heard:
                self.tracker.first_byte()  # the greeting begins
            self._pending += chunk
            if len(self.heard) < _HEARD_MAX:
                self.heard += chunk[: _HEARD_MAX - len(self.heard)]
        raw = bytes(self._pending[:end])
        del self._pending[: end + 1]
        return raw.rstrip(b"\r").decode("utf-8", "replace")

    def send(self, command: str) -> None:
        self.writer.write(command.encode("ascii") + b"\r\n")

    async def upgrade(
        self, context: ssl.SSLContext, host: str, tracker: PhaseTracker, days: int
    ) -> ProbeOutcome:
        """TLS over this connection, its certificate judged on ``days`` (judge_tls)."""
        if self._pending:
            # A server that sends before the handshake is injecting plain text into it.
            raise ProbeError("server sent data before the TLS handshake")
        with tracker.phase(Phase.TLS):
            await self.writer.start_tls(context, server_hostname=host)
        return judge_tls(self.writer, tracker, days)


def judge_tls(writer: asyncio.StreamWriter, tracker: PhaseTracker, days: int) -> ProbeOutcome:
    """The TLS connection's certificate judged on ``days`` as the ssl probe judges it."""
    ssl_object = tracker.ssl_object = writer.get_extra_info("ssl_object")
    expires_at = earliest_expiry(ssl_object)
    tracker.tls = tls_facts(ssl_object, expires_at)
    if expires_at is None:
        raise ProbeError("no certificate presented")
    tracker.record_cert_expiry(expires_at)
    return judge_expiry(expires_at, tracker.now, days)


@dataclass(frozen=True, slots=True)
class Protocol:
    name: str
    """As people write it: SMTP, IMAP, POP3."""
    greet: Callable[[Dialogue, MailCheck], Awaitable[str]]
    """Reads the greeting (and what follows it before STARTTLS, SMTP's EHLO): the greeting's
    text, or ProbeError."""
    starttls: Callable[[Dialogue], Awaitable[None]]
    """Asks for the upgrade; returns when the server agreed."""
    quit: str


async def _smtp_reply(talk: Dialogue, waiting_for: str) -> tuple[int, list[str]]:
    lines: list[str] = []
    while len(lines) < REPLY_LINES_MAX:
        line = await talk.line(waiting_for)
        match = _SMTP_LINE.match(line)
        if match is None or (lines and int(match[1]) != int(lines[0][:3])):
            raise ProbeError(f'not an SMTP {waiting_for}: "{_shown(line)}"')
        lines.append(line)
        if match[2] != "-":
            return int(match[1]), lines
    raise ProbeError(f"SMTP {waiting_for} longer than {REPLY_LINES_MAX} lines")


async def _smtp_greet(talk: Dialogue, check: MailCheck) -> str:
    code, lines = await _smtp_reply(talk, "greeting")
    greeting = "\n".join(lines)
    if code != 220:
        raise ProbeError(f'SMTP greeting is not 220: "{_shown(lines[0])}"')
    assert isinstance(check, SmtpCheck)
    talk.send(f"EHLO {check.ehlo}")
    code, lines = await _smtp_reply(talk, "EHLO reply")
    if code != 250:
        raise ProbeError(f'EHLO refused: "{_shown(lines[0])}"')
    if check.starttls and not any(line[4:].upper().startswith("STARTTLS") for line in lines):
        raise ProbeError("STARTTLS not offered in the EHLO reply")
    return greeting


async def _smtp_starttls(talk: Dialogue) -> None:
    talk.send("STARTTLS")
    code, lines = await _smtp_reply(talk, "STARTTLS reply")
    if code != 220:
        raise ProbeError(f'STARTTLS refused: "{_shown(lines[0])}"')


async def _imap_greet(talk: Dialogue, check: MailCheck) -> str:
    line = await talk.line("greeting")
    word = line.split(" ", 2)[:2]
    if word[:1] != ["*"] or len(word) < 2 or word[1].upper() not in ("OK", "PREAUTH", "BYE"):
        raise ProbeError(f'not an IMAP greeting: "{_shown(line)}"')
    if word[1].upper() == "BYE":
        raise ProbeError(f'IMAP server refuses connections: "{_shown(line)}"')
    return line


async def _imap_starttls(talk: Dialogue) -> None:
    talk.send("P1 STARTTLS")
    for _ in range(REPLY_LINES_MAX):
        line = await talk.line("STARTTLS reply")
        if line.startswith("* "):
            continue  # untagged data the server may send first
        if line.upper().startswith("P1 OK"):
            return
        raise ProbeError(f'STARTTLS refused: "{_shown(line)}"')
    raise ProbeError(f"no STARTTLS reply in {REPLY_LINES_MAX} lines")


async def _pop3_greet(talk: Dialogue, check: MailCheck) -> str:
    line = await talk.line("greeting")
    if line.startswith("-ERR"):
        raise ProbeError(f'POP3 server refuses connections: "{_shown(line)}"')
    if not line.startswith("+OK"):
        raise ProbeError(f'not a POP3 greeting: "{_shown(line)}"')
    return line


async def _pop3_starttls(talk: Dialogue) -> None:
    talk.send("STLS")
    line = await talk.line("STLS reply")
    if not line.startswith("+OK"):
        raise ProbeError(f'STLS refused: "{_shown(line)}"')


SMTP = Protocol("SMTP", _smtp_greet, _smtp_starttls, "QUIT")
IMAP = Protocol("IMAP", _imap_greet, _imap_starttls, "P2 LOGOUT")
POP3 = Protocol("POP3", _pop3_greet, _pop3_starttls, "QUIT")


async def probe_smtp(
    monitor: Monitor, check: SmtpCheck, session: aiohttp.ClientSession, tracker: PhaseTracker
) -> ProbeOutcome:
    """Up when the greeting is 220 and EHLO is answered 250 (over TLS for smtps://, after
    STARTTLS with ``starttls``), the greeting holds ``expect_banner`` and the certificate, if
    any, is at least ``ssl_expiry_days`` from expiry."""
    return await _probe(monitor, check, session, tracker, SMTP)


async def probe_imap(
    monitor: Monitor, check: ImapCheck, session: aiohttp.ClientSession, tracker: PhaseTracker
) -> ProbeOutcome:
    """As probe_smtp, for an IMAP greeting ``* OK`` (or ``* PREAUTH``)."""
    return await _probe(monitor, check, session, tracker, IMAP)


async def probe_pop3(
    monitor: Monitor, check: Pop3Check, session: aiohttp.ClientSession, tracker: PhaseTracker
) -> ProbeOutcome:
    """As probe_smtp, for a POP3 greeting ``+OK``."""
    return await _probe(monitor, check, session, tracker, POP3)


async def _probe(
    monitor: Monitor,
    check: MailCheck,
    session: aiohttp.ClientSession,
    tracker: PhaseTracker,
    protocol: Protocol,
) -> ProbeOutcome:
    try:
        host, port, implicit = mail_target(check.kind, monitor.url)
    except ValueError as exc:
        raise ProbeError("invalid URL") from exc  # the config rejects these; `probed probe` may not
    # Built before connecting: an unreadable ca_file is the check's reason, not a dropped
    # connection the target would see.
    context = (
        tls_contexts(session).get(verify=monitor.verify_tls, ca_file=monitor.ca_file)
        if implicit or check.starttls
        else None
    )
    sock = await _connect(host, port, tracker, monitor.source_address)
    talk: Dialogue | None = None
    try:
        if implicit:
            assert context is not None
            with tracker.phase(Phase.TLS):
                reader, writer = await asyncio.open_connection(
                    sock=sock, ssl=context, server_hostname=host, limit=LINE_MAX
                )
        else:
            reader, writer = await asyncio.open_connection(sock=sock, limit=LINE_MAX)
        talk = Dialogue(reader, writer, tracker)
        verdict = judge_tls(writer, tracker, check.ssl_expiry_days) if implicit else None
        greeting = await protocol.greet(talk, check)
        if check.starttls:
            assert context is not None
            await protocol.starttls(talk)
            verdict = await talk.upgrade(context, host, tracker, check.ssl_expiry_days)
        talk.send(protocol.quit)
    finally:
        if talk is not None:
            if talk.heard:
                tracker.facts.append(("server said", _shown(bytes(talk.heard), _HEARD_MAX)))
            # abort, not close: a graceful TLS shutdown waits for a close_notify that a
            # hostile server never sends.
            talk.writer.transport.abort()
        else:
            sock.close()
    if check.expect_banner is not None and check.expect_banner not in greeting:
        return ProbeOutcome(False, f'greeting lacks "{check.expect_banner}"')
    if verdict is not None and not verdict.ok:
        return verdict
    ready = f"{protocol.name} ready"
    return ProbeOutcome(True, f"{ready}, {verdict.reason}" if verdict else ready)


async def _connect(
    host: str, port: int, tracker: PhaseTracker, source: str | None
) -> socket.socket:
    try:
        return await open_socket(host, port, tracker, source)
    except socket.gaierror as exc:
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            raise ProbeError("no such host") from exc
        raise


def _shown(text: str | bytes, limit: int = _SHOWN) -> str:
    """A server's words for a reason: decoded, control characters as ``?``, cut to ``limit``."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = text.replace("\r\n", "\n").rstrip("\n")
    cut = "".join(c if c.isprintable() or c == "\n" else "?" for c in text[:limit])
    return cut + ("…" if len(text) > limit else "")
