"""The mail kinds' settings, readers and URL rule: ``smtp``, ``imap`` and ``pop3``
(docs/design.md §19.3); the reader contract is in probed.config.http."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from probed.config.reader import Section, pick, split_url, unprintable_problem

# Per kind: the plain scheme, the implicit-TLS scheme and their default ports.
SCHEMES: dict[str, tuple[str, int, str, int]] = {
    "smtp": ("smtp", 25, "smtps", 465),
    "imap": ("imap", 143, "imaps", 993),
    "pop3": ("pop3", 110, "pop3s", 995),
}
SSL_EXPIRY_DAYS = 30
EHLO_NAME = "probed.invalid"
"""EHLO's default name: a reserved name (RFC 2606), so a server never takes it for a host."""
# What EHLO may carry (RFC 5321, section 4.1.1.1): a domain or an address literal, no spaces.
_EHLO_NAME = re.compile(r"^(\[[0-9A-Fa-f.:IPv]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,253}[A-Za-z0-9])?)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class MailCheck:
    """What the three mail kinds share: a greeting, optionally over TLS."""

    kind: ClassVar[str]

    starttls: bool = False
    """Upgrade a plain connection to TLS after the greeting (SMTP STARTTLS, IMAP STARTTLS,
    POP3 STLS); the certificate is then judged as for ssl monitors."""
    expect_banner: str | None = None
    """Text the greeting must contain (case-sensitive)."""
    ssl_expiry_days: int = SSL_EXPIRY_DAYS
    """With TLS: down when fewer whole days than this are left, as for ssl monitors."""

    @property
    def key(self) -> tuple[object, ...]:
        return (self.starttls, self.expect_banner)


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpCheck(MailCheck):
    """``type = "smtp"``: up when ``smtp://`` (or ``smtps://``, implicit TLS) greets with 220
    and answers EHLO with 250 (and, with ``starttls``, offers STARTTLS and the upgrade
    succeeds)."""

    kind: ClassVar[str] = "smtp"

    ehlo: str = EHLO_NAME
    """The name sent in EHLO."""

    @property
    def key(self) -> tuple[object, ...]:
        return (self.starttls, self.expect_banner, self.ehlo)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImapCheck(MailCheck):
    """``type = "imap"``: up when ``imap://`` (or ``imaps://``) greets with ``* OK`` (or
    ``* PREAUTH``) and, with ``starttls``, the upgrade succeeds."""

    kind: ClassVar[str] = "imap"


@dataclass(frozen=True, slots=True, kw_only=True)
class Pop3Check(MailCheck):
    """``type = "pop3"``: up when ``pop3://`` (or ``pop3s://``) greets with ``+OK`` and, with
    ``starttls``, STLS succeeds."""

    kind: ClassVar[str] = "pop3"


def mail_target(kind: str, url: str) -> tuple[str, int, bool]:
    """(host, port, implicit TLS) of a mail kind's URL; ValueError (its message a config
    problem) when the URL is not one of the kind's."""
    plain, plain_port, secure, secure_port = SCHEMES[kind]
    parts = split_url(url)
    if parts.scheme not in (plain, secure):
        raise ValueError(f'must be {plain}://host[:port] or {secure}://host[:port], got "{url}"')
    if not parts.hostname:
        raise ValueError(f'URL has no host: "{url}"')
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f'a {plain}:// URL is only host and port, got "{url}"')
    if problem := unprintable_problem(url):
        raise ValueError(problem)
    implicit = parts.scheme == secure
    return parts.hostname, parts.port or (secure_port if implicit else plain_port), implicit


def implicit_tls(check: MailCheck, url: str) -> bool:
    """Whether ``url`` is the kind's TLS-first scheme (``smtps://``, ``imaps://``, ``pop3s://``)."""
    return url.partition("://")[0].lower() == SCHEMES[check.kind][2]


def smtp_url_problem(url: str) -> str | None:
    """Why url is not ``smtp://`` or ``smtps://host[:port]``, or None."""
    return _problem("smtp", url)


def imap_url_problem(url: str) -> str | None:
    """Why url is not ``imap://`` or ``imaps://host[:port]``, or None."""
    return _problem("imap", url)


def pop3_url_problem(url: str) -> str | None:
    """Why url is not ``pop3://`` or ``pop3s://host[:port]``, or None."""
    return _problem("pop3", url)


def _problem(kind: str, url: str) -> str | None:
    try:
        mail_target(kind, url)
    except ValueError as exc:
        return str(exc)
    return None


def _common(sec: Section, kind: str, url: str) -> tuple[bool, str | None, int]:
    """(starttls, expect_banner, ssl_expiry_days) as read from sec."""
    starttls = pick(sec.boolean("starttls"), False)
    secure = SCHEMES[kind][2]
    if starttls and url.partition("://")[0].lower() == secure:
        sec.problem("starttls", f"{secure}:// is TLS from the start: leave starttls out")
    days = sec.integer("ssl_expiry_days", 0, 3650)
    return starttls, sec.label("expect_banner"), pick(days, SSL_EXPIRY_DAYS)


def ehlo_problem(name: str) -> str | None:
    """Why ``name`` cannot be sent in EHLO, or None."""
    if _EHLO_NAME.match(name):
        return None
    return f'must be a host name or an address literal like [192.0.2.1], got "{name}"'


def read_smtp(sec: Section, url: str) -> SmtpCheck:
    """The smtp keys present in sec; ``url`` (already valid, or "") decides whether
    ``starttls`` may be set."""
    ehlo = sec.label("ehlo")
    if ehlo is not None and (problem := ehlo_problem(ehlo)):
        sec.problem("ehlo", problem)
        ehlo = None
    starttls, banner, days = _common(sec, "smtp", url)
    return SmtpCheck(
        starttls=starttls,
        expect_banner=banner,
        ssl_expiry_days=days,
        ehlo=pick(ehlo, EHLO_NAME),
    )


def read_imap(sec: Section, url: str) -> ImapCheck:
    """The imap keys present in sec (see read_smtp)."""
    starttls, banner, days = _common(sec, "imap", url)
    return ImapCheck(starttls=starttls, expect_banner=banner, ssl_expiry_days=days)


def read_pop3(sec: Section, url: str) -> Pop3Check:
    """The pop3 keys present in sec (see read_smtp)."""
    starttls, banner, days = _common(sec, "pop3", url)
    return Pop3Check(starttls=starttls, expect_banner=banner, ssl_expiry_days=days)
