"""The ``ping`` probe: ``count`` ICMP echo requests (probed.probes.icmp_echo), through an
unprivileged datagram socket, or a raw one when the kernel allows no datagram socket to probed's
group but the process holds CAP_NET_RAW (as blackbox_exporter does)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket

import aiohttp

from probed.config import Monitor
from probed.config.ping import PingCheck, ping_host
from probed.model import IcmpFacts
from probed.probes.check import Phase, PhaseTracker, ProbeError, ProbeOutcome
from probed.probes.icmp_echo import Echoes, NoIcmpSocket, echo

INTERVAL = 0.2
"""Seconds between two requests of a check: short, since a check waits for all of them; less
when the timeout could not hold them (then at most half of it goes to the intervals)."""
_BUDGET_SHARE = 0.9
"""Of the check's timeout, what the requests may spend, so the check ends with its own count
of replies rather than run_probe's "timeout"."""
_FAMILIES = {"4": socket.AF_INET, "6": socket.AF_INET6, "auto": socket.AF_UNSPEC}
NO_SOCKET = (
    "probe host: not allowed to send ICMP: the sysctl net.ipv4.ping_group_range does not cover"
    " probed's group and the process lacks CAP_NET_RAW (widen the range, or set"
    " AmbientCapabilities=CAP_NET_RAW in the unit; see docs/operations.md)"
)


async def probe_ping(
    monitor: Monitor, check: PingCheck, session: aiohttp.ClientSession, tracker: PhaseTracker
) -> ProbeOutcome:
    """Up when at most ``loss_max`` of the requests went unanswered (default: any answer)."""
    try:
        host = ping_host(monitor.url)
    except ValueError as exc:
        raise ProbeError("invalid URL") from exc  # the config rejects these; `probed probe` may not
    loop = asyncio.get_running_loop()
    started = loop.time()
    version = check.ip_version
    if version == "auto" and monitor.source_address is not None:
        # A name is resolved to the source's family, as for the other kinds.
        version = "6" if ":" in monitor.source_address else "4"
    address = await _resolve(host, version, tracker)
    budget = monitor.timeout * _BUDGET_SHARE - (loop.time() - started)  # the lookup took some
    interval = min(INTERVAL, budget / 2 / check.count)
    wait = (budget - interval * (check.count - 1)) / check.count
    echoes = Echoes()
    try:
        await echo(
            address, check.count, wait, budget, interval, monitor.source_address, echoes=echoes
        )
    except NoIcmpSocket:
        raise ProbeError(NO_SOCKET) from None
    finally:
        # Also when cut short: what came back so far is the check's (if anything was sent).
        if echoes.sent:
            tracker.icmp = _facts(echoes)
    facts = _facts(echoes)
    outcome = judge(facts, check.loss_max)
    if not outcome.ok:
        tracker.facts += [("address", address), ("replies", f"{facts.received}/{facts.sent}")]
    return outcome


def _facts(echoes: Echoes) -> IcmpFacts:
    rtt = sum(echoes.rtts) / len(echoes.rtts) if echoes.rtts else None
    return IcmpFacts(echoes.sent, len(echoes.rtts), rtt, echoes.hop_limit)


def judge(facts: IcmpFacts, loss_max: float | None) -> ProbeOutcome:
    """The verdict on a check's replies: down when more than ``loss_max`` of the requests were
    lost (None: when all were)."""
    lost = facts.sent - facts.received
    summary = f"{facts.received}/{facts.sent} replies"
    if facts.rtt is not None:
        summary += f", rtt {facts.rtt * 1000:.1f} ms"
    if facts.received == 0:
        return ProbeOutcome(False, f"no reply to {facts.sent} echo requests")
    if loss_max is not None and facts.loss > loss_max + 1e-9:
        return ProbeOutcome(
            False, f"{lost} of {facts.sent} echo requests lost ({summary}; loss_max {loss_max:g})"
        )
    return ProbeOutcome(True, summary)


async def _resolve(host: str, ip_version: str, tracker: PhaseTracker) -> str:
    """The address of ``host`` of the family ``ip_version`` asks for (an address is its own:
    no lookup, as for the other kinds)."""
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(host))
    family = _FAMILIES[ip_version]
    loop = asyncio.get_running_loop()
    try:
        with tracker.phase(Phase.DNS):
            infos = await loop.getaddrinfo(host, None, family=family, type=socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)):
            if family != socket.AF_UNSPEC:
                raise ProbeError(f"no IPv{ip_version} address for {host}") from exc
            raise ProbeError(f"no such host: {host}") from exc
        raise ProbeError(f"DNS lookup of {host} failed ({exc.strerror})") from exc
    return str(infos[0][4][0])
