"""The email channel: SMTP through aiosmtplib, with STARTTLS, implicit TLS or none, and AUTH.

``EmailNotifier.send`` returns the server's answer once the message is accepted, and raises
``NotifierError`` otherwise: ``permanent`` when the server refused it with a 5xx reply
(authentication refused 535, recipient rejected 550/553, sender refused), so retrying cannot
help; transient for everything else (connection refused, timeouts, 4xx replies, TLS problems),
so the dispatcher retries.
"""

from __future__ import annotations

import email.utils
import ssl
from email.header import Header
from email.message import EmailMessage

import aiosmtplib
import structlog

from probed.alerts.channels import ChannelParts
from probed.alerts.messages import Message
from probed.config import EmailChannel
from probed.errors import NotifierError

log = structlog.get_logger("probed")


class EmailNotifier:
    """Sends messages to ``channel.to`` through the SMTP server of ``channel``."""

    @classmethod
    def from_settings(cls, name: str, settings: EmailChannel, parts: ChannelParts) -> EmailNotifier:
        return cls(settings, name)

    def __init__(self, channel: EmailChannel, name: str = "email") -> None:
        self.channel = channel
        self.name = name
        self._tls: ssl.SSLContext | None = None

    @property
    def server(self) -> str:
        return f"{self.channel.host}:{self.channel.port}"

    def build(self, message: Message) -> EmailMessage:
        """The MIME message: plain text with an HTML alternative, and the alert's Message-ID."""
        msg = EmailMessage()
        _set_subject(msg, message.subject)
        msg["From"] = self.channel.sender
        msg["To"] = ", ".join(self.channel.to)
        msg["Date"] = email.utils.format_datetime(message.date)
        msg["Message-ID"] = message.message_id
        # RFC 3834: out-of-office responders must not answer machine-sent mail.
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Probed-Alert"] = str(message.kind)
        msg.set_content(message.text)
        msg.add_alternative(message.html, subtype="html")
        return msg

    async def send(self, message: Message) -> str:
        """Deliver ``message``; the server's answer to DATA when it accepted it."""
        c = self.channel
        try:
            refused, answer = await aiosmtplib.send(
                self.build(message),
                sender=email.utils.parseaddr(c.sender)[1],
                recipients=[email.utils.parseaddr(to)[1] for to in c.to],
                hostname=c.host,
                port=c.port,
                username=c.username,
                password=c.password,
                use_tls=c.security == "tls",
                # False rather than None: "none" must not upgrade on its own, and "starttls"
                # must fail rather than fall back to plain text when the server lacks it.
                start_tls=c.security == "starttls",
                tls_context=self._context() if c.security != "none" else None,
                timeout=c.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            answers = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            permanent = all(r.code >= 500 for r in exc.recipients)
            raise NotifierError(f"all recipients refused: {answers}", permanent=permanent) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise NotifierError(
                f"{self.server} answered {exc.code} {exc.message}", permanent=exc.code >= 500
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Connection refused or reset, timeouts, TLS handshake or certificate failures,
            # no STARTTLS offered: nothing the server refused for good, so try again later.
            raise NotifierError(f"{self.server}: {_describe(exc)}", permanent=False) from exc
        if refused:
            log.warning(
                "alert refused for some recipients",
                channel=self.name,
                refused={to: f"{r.code} {r.message}" for to, r in refused.items()},
            )
        # aiosmtplib raises for any answer to DATA other than 250.
        return f"250 {answer}".strip()

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            # The system store, or the PEM bundle of ca_file for a private CA; hostnames are
            # always checked.
            self._tls = ssl.create_default_context(cafile=self.channel.ca_file)
        return self._tls


def _set_subject(msg: EmailMessage, text: str) -> None:
    """Set the Subject so that the receiver decodes exactly ``text`` (one line, see
    ``messages.subject``) and nothing in it can become a header of its own."""
    if text.isascii() and "=?" not in text:
        msg["Subject"] = text
        return
    # The email package parses an assigned value as raw header text, decoding the RFC 2047
    # encoded-words in it, and (Python 3.11 here) writes the decoded text back unencoded: a name
    # like "=?utf-8?q?x=0D=0ABcc:_evil@example.com?=" became a Bcc header. Encoding the whole
    # text ourselves and storing it raw keeps such words literal text for the reader; the lines
    # stay under 78 characters, so the generator writes them out unchanged.
    encoded = Header(text, "utf-8", header_name="Subject").encode(linesep="\n")
    msg.set_raw("Subject", encoded)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not trusted: {exc.verify_message}"
    if isinstance(exc, TimeoutError) and "timed out" not in text.lower():
        return f"timed out ({text})"
    return text
