"""The ``tcp`` kind's settings, reader and URL rule (docs/design.md §2); the reader contract is in
probed.config.http."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from probed.config.reader import Section, pick, split_url, unprintable_problem


@dataclass(frozen=True, slots=True, kw_only=True)
class TcpCheck:
    """``type = "tcp"``: up when a connection to ``tcp://host:port`` opens (and, with ``tls``,
    its TLS handshake succeeds)."""

    kind: ClassVar[str] = "tcp"

    tls: bool = False
    """Handshake after connecting; the certificate is verified as for https targets."""
    ssl_expiry_days: int = 30
    """With ``tls``: down when fewer whole days than this are left, as for ssl monitors."""

    @property
    def key(self) -> tuple[object, ...]:
        return (self.tls,)


def tcp_url_problem(url: str) -> str | None:
    """Why url is not ``tcp://host:port``, or None when it is."""
    try:
        parts = split_url(url)
    except ValueError as exc:
        return str(exc)
    if parts.scheme != "tcp":
        return f'must be a tcp://host:port URL, got "{url}"'
    if not parts.hostname or parts.port is None:
        return f'URL needs a host and a port: "{url}"'
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return f'a tcp:// URL is only host and port, got "{url}"'
    return unprintable_problem(url)


def read_tcp(sec: Section, url: str) -> TcpCheck:
    """The tcp keys present in sec; absent ones keep TcpCheck's defaults."""
    days = sec.integer("ssl_expiry_days", 0, 3650)
    return TcpCheck(
        tls=pick(sec.boolean("tls"), False),
        ssl_expiry_days=pick(days, TcpCheck().ssl_expiry_days),
    )
