"""The ``ssl`` kind's settings and reader (docs/design.md §2, §4); the reader contract is in
probed.config.http."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from probed.config.reader import Section, pick


@dataclass(frozen=True, slots=True, kw_only=True)
class SslCheck:
    """``type = "ssl"``: a TLS handshake, judged on the earliest expiry in the chain."""

    kind: ClassVar[str] = "ssl"

    ssl_expiry_days: int = 30
    """Down when fewer whole days than this are left; SSL warnings at lower thresholds."""

    @property
    def key(self) -> tuple[object, ...]:
        # 0.1 stored (method, keyword, keyword_absent) for every monitor, GET for ssl ones:
        # keeping that shape keeps their state on upgrade.
        return ("GET", None, False)


def read_ssl(sec: Section, url: str) -> SslCheck:
    """The ssl keys present in sec; ``url`` (already valid, or "") must be https."""
    if url and urlsplit(url).scheme != "https":
        sec.problem("url", f'type "ssl" needs an https:// URL, got "{url}"')
    days = sec.integer("ssl_expiry_days", 0, 3650)
    return SslCheck(ssl_expiry_days=pick(days, SslCheck().ssl_expiry_days))
