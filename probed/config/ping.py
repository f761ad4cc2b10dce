"""The ``ping`` kind's settings, reader and URL rule (docs/design.md §19.1); the reader contract
is in probed.config.http."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import ClassVar

from probed.config.reader import Section, describe, split_url, unprintable_problem

IP_VERSIONS = ("4", "6", "auto")
MAX_COUNT = 100
# A host name as DNS allows it (letters, digits, hyphens, dots), so that a typo such as
# "icmp:/host" or "host:80" is a config problem rather than a failed lookup at every check.
_HOST_NAME = re.compile(r"^(?=.{1,253}\.?$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?)+$")


@dataclass(frozen=True, slots=True, kw_only=True)
class PingCheck:
    """``type = "ping"``: up when enough of ``count`` ICMP echo requests are answered."""

    kind: ClassVar[str] = "ping"

    count: int = 3
    """Echo requests sent per check."""
    loss_max: float | None = None
    """Down when more than this share of the requests (0 to 1) went unanswered; None: down
    only when every one was lost."""
    ip_version: str = "auto"
    """Which address of a name is pinged: "4", "6", or "auto" (the resolver's first)."""

    @property
    def key(self) -> tuple[object, ...]:
        return (self.count, self.loss_max, self.ip_version)


def ping_host(url: str) -> str:
    """The host of ``icmp://host`` or of a bare host (an IPv6 address with or without its
    brackets); ValueError (its message a config problem) when it is neither."""
    if problem := unprintable_problem(url):
        raise ValueError(problem)
    if "://" in url:
        parts = split_url(url)
        if parts.scheme != "icmp":
            raise ValueError(f'must be icmp://host or a bare host, got "{url}"')
        if parts.port is not None or parts.path not in ("", "/") or parts.query:
            raise ValueError(f'an icmp:// URL is only a host, got "{url}"')
        if parts.fragment or parts.username or not parts.hostname:
            raise ValueError(f'an icmp:// URL is only a host, got "{url}"')
        host = parts.hostname
    else:
        host = url.removeprefix("[").removesuffix("]")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not _HOST_NAME.match(host):
        raise ValueError(f'must be icmp://host or a bare host name or address, got "{url}"')
    return host


def ping_url_problem(url: str) -> str | None:
    """Why url names no host to ping, or None when it names one."""
    try:
        ping_host(url)
    except ValueError as exc:
        return str(exc)
    return None


def parse_loss(value: object) -> float:
    """A share of lost requests from a ratio (0.2) or a percentage ("20%"); ValueError (its
    message a config problem) for anything else."""
    ratio: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        ratio = float(value)
    elif isinstance(value, str) and value.strip().endswith("%"):
        try:
            ratio = float(value.strip().removesuffix("%")) / 100
        except ValueError:
            ratio = None
    if ratio is None or not 0 <= ratio <= 1:  # NaN fails both comparisons
        raise ValueError(
            f'expected a ratio from 0 to 1 (0.2) or a percentage ("20%"), got {describe(value)}'
        )
    return ratio


def read_ping(sec: Section, url: str) -> PingCheck:
    """The ping keys present in sec; absent ones keep PingCheck's defaults."""
    count = sec.integer("count", 1, MAX_COUNT)
    loss_max: float | None = None
    if "loss_max" in sec.data:
        try:
            loss_max = parse_loss(sec.data["loss_max"])
        except ValueError as exc:
            sec.problem("loss_max", str(exc))
    version = sec.data.get("ip_version", "auto")
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)  # ip_version = 4, as people write it
    if version not in IP_VERSIONS:
        sec.problem(
            "ip_version", f'must be one of 4, 6, "auto"; got {describe(sec.data["ip_version"])}'
        )
        version = "auto"
    return PingCheck(
        count=count or PingCheck().count,
        loss_max=loss_max,
        ip_version=str(version),
    )
