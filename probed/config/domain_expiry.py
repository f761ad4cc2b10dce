"""``domain_expiry_days``, the key any monitor with a host may set (docs/design.md §19.2)."""

from __future__ import annotations

from probed.config.domain import DEFAULT_DAYS, DomainCheck
from probed.config.domain_names import registrable, url_host
from probed.config.reader import Section


def read_domain_expiry_days(sec: Section, url: str, kind: str) -> int | None:
    """Days of registration left below which to warn (a ``domain`` monitor's default: 30);
    the URL (valid, or "") must name a registrable domain: not an IP address, not a public
    suffix such as co.uk."""
    days = sec.integer("domain_expiry_days", 1, 3650)
    if kind == DomainCheck.kind:
        return DEFAULT_DAYS if days is None else days  # its url_problem has judged the URL
    if days is None or "url" in sec.failed:
        return days
    host = url_host(url) if url else None
    if host is None:
        sec.problem("domain_expiry_days", "needs a monitor whose url names a host")
        return None
    if registrable(host) is None:
        sec.problem(
            "domain_expiry_days",
            f'"{host}" has no registrable domain (an IP address, or a public suffix itself)',
        )
        return None
    return days
