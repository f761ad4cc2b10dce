"""The registrable domain of a monitor's host, by the Public Suffix List bundled with
``publicsuffixlist`` (no download: the list is the package's own)."""

from __future__ import annotations

import functools
import ipaddress
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList


@functools.cache
def _list() -> PublicSuffixList:
    return PublicSuffixList()


def registrable(host: str) -> str | None:
    """``www.example.co.uk`` → ``example.co.uk``; None for an IP address, a public suffix
    itself or a name under no known suffix."""
    name = host.strip().rstrip(".").lower()
    if not name:
        return None
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        pass
    else:
        return None
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    found: str | None = _list().privatesuffix(name)
    return found


def url_host(url: str) -> str | None:
    """The host a monitor's URL names (``example.com`` alone is a host too); None if none."""
    if "://" not in url:
        url = "//" + url
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None
