"""The ``domain`` kind's settings, reader and URL (docs/design.md §19.2): a name alone, watched
for the expiry of its registration; the reader contract is in probed.config.http."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from probed.config.domain_names import registrable, url_host
from probed.config.reader import Section, unprintable_problem

DEFAULT_DAYS = 30
"""A domain monitor's ``domain_expiry_days`` when it sets none: it exists to watch it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainCheck:
    """``type = "domain"``, ``url = "example.com"``: always up (a lapsing registration
    warns, it never makes a monitor DOWN); the expiry is watched as ``domain_expiry_days``."""

    kind: ClassVar[str] = "domain"

    @property
    def key(self) -> tuple[object, ...]:
        return ()


def domain_url_problem(url: str) -> str | None:
    """Why ``url`` is not a domain name alone (``example.com``), or None."""
    if problem := unprintable_problem(url):
        return problem
    host = url_host(url) if "/" not in url and ":" not in url else None
    if host is None or host != url.strip().rstrip(".").lower():
        return f'must be a domain name alone, like "example.com", got "{url}"'
    if registrable(host) is None:
        return f'"{host}" has no registrable domain (a public suffix itself, or an IP address)'
    return None


def read_domain(sec: Section, url: str) -> DomainCheck:
    """A domain monitor has no keys of its own."""
    return DomainCheck()
