"""The ``dns`` kind's settings, reader and URL (docs/design.md §2); the reader contract is in
probed.config.http."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import parse_qs, unquote

from probed.config.reader import Section, split_url, unprintable_problem

RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS", "SOA")
DNS_PORT = 53


@dataclass(frozen=True, slots=True)
class DnsQuery:
    """What a ``dns://[server[:port]]/name?type=A`` URL asks."""

    server: str | None
    """An IP address; None: the system's resolvers (/etc/resolv.conf)."""
    port: int
    name: str
    record_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsCheck:
    """``type = "dns"``: up when the query is answered NOERROR and the answer holds every
    ``expect`` value."""

    kind: ClassVar[str] = "dns"

    expect: tuple[str, ...] = ()
    """Values the answer must all hold, as written in zone files (``10 mail.example.com`` for
    MX, the text itself for TXT); names match without their final dot, in any case."""

    @property
    def key(self) -> tuple[object, ...]:
        return self.expect


def parse_dns_url(url: str) -> DnsQuery:
    """The query of a dns:// URL; ValueError (its message a config problem) when it is none."""
    parts = split_url(url)
    host, port = parts.hostname, parts.port
    if parts.scheme != "dns":
        raise ValueError(f'must be a dns://[server[:port]]/name?type=A URL, got "{url}"')
    if problem := unprintable_problem(url):
        raise ValueError(problem)
    if host is not None:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            # A server named by a name would need a lookup before the lookup under test.
            raise ValueError(f'the server must be an IP address, got "{host}"') from None
    name = unquote(parts.path.lstrip("/"))
    if not name or "/" in name:
        raise ValueError(f'URL needs one name to look up after the server: "{url}"')
    query = parse_qs(parts.query, keep_blank_values=True)
    if set(query) - {"type"} or parts.fragment or parts.username:
        raise ValueError(f'a dns:// URL takes only ?type=..., got "{url}"')
    record_type = query.get("type", ["A"])[-1].upper()
    if record_type not in RECORD_TYPES:
        raise ValueError(f'type must be one of {", ".join(RECORD_TYPES)}; got "{record_type}"')
    return DnsQuery(host, port or DNS_PORT, name, record_type)


def dns_url_problem(url: str) -> str | None:
    """Why url is not a dns:// query, or None when it is one."""
    try:
        parse_dns_url(url)
    except ValueError as exc:
        return str(exc)
    return None


def read_dns(sec: Section, url: str) -> DnsCheck:
    """The dns keys present in sec; absent ones keep DnsCheck's defaults."""
    expect = sec.strings("expect") or ()
    if "expect" in sec.data and not expect and "expect" not in sec.failed:
        sec.problem("expect", "must list at least one value (or leave expect out)")
    return DnsCheck(expect=expect)
