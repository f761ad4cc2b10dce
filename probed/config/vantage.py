"""Where checks come from (docs/design.md §2, §10): the instance's ``location`` and a monitor's
``source_address``."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from probed.config.reader import Section, split_url


def read_location(sec: Section, env: Mapping[str, str]) -> str | None:
    """``[probed] location``, else $PROBED_LOCATION: a label value, so one line of printable
    text."""
    location, where = sec.string("location", nonempty=True), "location"
    if location is None and "location" not in sec.data and env.get("PROBED_LOCATION"):
        location, where = env["PROBED_LOCATION"], "location (from $PROBED_LOCATION)"
    if location is not None and not (location.isprintable() and location.strip()):
        sec.problem(where, f"must be one line of printable text, got {location!r}")
        return None
    return location


def read_source_address(sec: Section) -> str | None:
    """``source_address`` in its canonical form; None when absent or wrong (reported)."""
    source = sec.string("source_address", nonempty=True)
    if source is None:
        return None
    if problem := source_address_problem(source):
        sec.problem("source_address", problem)
        return None
    return str(ipaddress.ip_address(source))  # one written form: "0:0::1" is "::1"


def source_address_problem(address: str) -> str | None:
    """Why address is not an IPv4 or IPv6 address to send checks from, or None when it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f'expected an IPv4 or IPv6 address such as "192.0.2.10", got "{address}"'
    if ip.is_multicast or ip.is_unspecified:
        return f'must be an address of this host, got "{address}"'
    return None


def family_problem(source: str, url: str) -> str | None:
    """Why a check from ``source`` cannot reach the address literal in ``url`` (an IPv4 source,
    an IPv6 target or the reverse), or None; a host name is resolved to the source's family."""
    try:
        # A ping monitor's url may be a bare host ("::1"), no URL at all.
        host = split_url(url).hostname if "://" in url else url.strip("[]")
        target = ipaddress.ip_address(host or "")
    except ValueError:
        return None
    if target.version == ipaddress.ip_address(source).version:
        return None
    return (
        f'"{source}" is an IPv{ipaddress.ip_address(source).version} address but the URL\'s host'
        f' "{host}" is IPv{target.version}'
    )
