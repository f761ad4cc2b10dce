"""The ``domain`` probe: nothing is sent. A domain monitor watches its registration's expiry
(``probed.domains.watch``, beside the checks), which warns and never makes it DOWN."""

from __future__ import annotations

import aiohttp

from probed.config import Monitor
from probed.config.domain import DomainCheck
from probed.probes.check import PhaseTracker, ProbeOutcome


async def probe_domain(
    monitor: Monitor, check: DomainCheck, session: aiohttp.ClientSession, tracker: PhaseTracker
) -> ProbeOutcome:
    """Always up: the registry's answer is a metric and DOMAIN warnings, not a check result."""
    return ProbeOutcome(True, "registration expiry watched through RDAP")
