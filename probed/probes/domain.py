"""The ``domain`` probe: nothing is sent. A domain monitor watches its registration's expiry
(``probed.domains.watch``, beside the checks), which warns and never makes it DOWN."""

from __future__ import annotations

import aiohttp

from probed.config import Monitor
from probed.config.domain import DomainCheck
from probed.config.domain_names import url_host
from probed.probes.check import PhaseTracker, ProbeError, ProbeOutcome


async def probe_domain(
    monitor: Monitor, check: DomainCheck, session: aiohttp.ClientSession, tracker: PhaseTracker
) -> ProbeOutcome:
    """Up: the registry's answer is a metric and DOMAIN warnings, not a check result. A URL
    with no host names nothing to watch (the config refuses it; `probed probe` may not)."""
    if url_host(monitor.url) is None:
        raise ProbeError("invalid URL")
    return ProbeOutcome(True, "registration expiry watched through RDAP")
