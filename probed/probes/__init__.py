"""Probes: one function per check type behind one signature, and the shared work around them.

The scheduler makes one session with make_session() and calls run_probe() for each check.
run_probe() bounds the whole check with the monitor's timeout, measures it on the monotonic
clock and turns every failure of the target into a failed CheckResult with a reason; a probe
only says what it found (a ProbeOutcome) and notes facts on its PhaseTracker as it goes.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

import aiohttp
import structlog
from aiohttp.abc import AbstractResolver

from probed import __version__
from probed.config import KINDS, Kind, Monitor
from probed.model import CheckResult
from probed.probes.capture import evidence_of
from probed.probes.check import PhaseTracker, ProbeError, ProbeOutcome, make_trace_config
from probed.probes.http import CertRecordingResponse
from probed.probes.reasons import describe_error, local_failure, own_failure
from probed.probes.tls import ProbeConnector
from probed.units import format_duration

__all__ = [
    "PhaseTracker",
    "Probe",
    "ProbeError",
    "ProbeOutcome",
    "ProbeSessions",
    "make_session",
    "probe_of",
    "run_probe",
]

log = structlog.get_logger("probed")
_C_contra = TypeVar("_C_contra", contravariant=True)


class Probe(Protocol[_C_contra]):
    """One check of one monitor of one kind (``check`` is ``monitor.check``, narrowed to the
    kind's type). Raises for a target's failure (run_probe words it); records the status code
    and certificate expiry on ``tracker`` as soon as it learns them."""

    async def __call__(
        self,
        monitor: Monitor,
        check: _C_contra,
        session: aiohttp.ClientSession,
        tracker: PhaseTracker,
    ) -> ProbeOutcome: ...


def probe_of(kind: Kind[Any]) -> Probe[Any]:
    """The kind's probe; its module is imported on first use."""
    probe: Probe[Any] = kind.load_probe()
    return probe


async def run_probe(
    monitor: Monitor,
    session: aiohttp.ClientSession,
    now: datetime,
    clock: Callable[[], float] = time.monotonic,
    bugs_logged: set[str] | None = None,
    *,
    capture: bool = True,
) -> CheckResult:
    """Check ``monitor`` once; ``now`` (UTC) becomes the result's ``at``. A bug in probed is
    logged once per monitor named in ``bugs_logged`` (the daemon's, kept by ProbeSessions).
    A failed check carries its evidence unless not ``capture`` (the bench's comparison).

    Never raises for the target's failure; only cancellation from outside propagates.
    """
    tracker = PhaseTracker(now=now, clock=clock)
    deadline = asyncio.timeout(monitor.timeout)
    local: str | None = None
    error: BaseException | None = None
    try:
        async with deadline:
            probe = probe_of(KINDS[monitor.type])
            outcome = await probe(monitor, monitor.check, session, tracker)
    except TimeoutError as exc:
        error = exc
        # Our deadline, or a timeout inside the probe (an OS-level connect timeout).
        reason = (
            f"timeout after {format_duration(monitor.timeout)}"
            + (f" waiting for {tracker.awaiting}" if tracker.awaiting else "")
            if deadline.expired()
            else describe_error(exc)
        )
        outcome = ProbeOutcome(False, reason)
    except Exception as exc:  # a probe's failure is the target's, never the caller's
        error = exc
        local = local_failure(exc, monitor.source_address) or _own_failure(
            monitor.name, exc, set() if bugs_logged is None else bugs_logged
        )
        outcome = ProbeOutcome(False, local or describe_error(exc))
    timings = tracker.timings()
    evidence = None
    if not outcome.ok and capture:
        evidence = evidence_of(monitor, tracker, error, outcome.reason)
    # As `except ... as` does: this frame → the exception → its traceback → this frame.
    error = None
    return CheckResult(
        ok=outcome.ok,
        reason=outcome.reason,
        at=now,
        timings=timings,
        status_code=tracker.status_code,
        cert_expires_at=tracker.cert_expires_at,
        offline=local is not None,
        http=tracker.http_facts(),
        tls=tracker.tls,
        icmp=tracker.icmp,
        evidence=evidence,
    )


def _own_failure(monitor: str, exc: Exception, logged: set[str]) -> str | None:
    """own_failure's reason; the first one of each monitor not yet in ``logged`` is logged at
    ERROR with its traceback (once each, not at every interval)."""
    reason = own_failure(exc)
    if reason is not None and monitor not in logged:
        logged.add(monitor)
        log.error(
            "check failed on a bug in probed: counted as the probe host's failure, not the"
            " target's (logged once per monitor)",
            monitor=monitor,
            error=reason.removeprefix("probe host: "),
            # A string rather than exc_info, so that it goes through the log's redaction.
            traceback="".join(traceback.format_exception(exc)),
        )
    return reason


class ProbeSessions:
    """The probes' HTTP sessions: one per source address (None: the system's choice), each
    made on first use, so monitors sharing a ``source_address`` share its session."""

    def __init__(
        self,
        max_connections: int = 64,
        default: aiohttp.ClientSession | None = None,
    ) -> None:
        self.max_connections = max_connections
        self.bugs_logged: set[str] = set()
        """Monitors whose check already logged a bug in probed (see run_probe)."""
        self._sessions: dict[str | None, aiohttp.ClientSession] = {}
        if default is not None:
            self._sessions[None] = default
        self._owned: list[aiohttp.ClientSession] = []

    def get(self, source_address: str | None) -> aiohttp.ClientSession:
        """The session whose connections come from ``source_address``; call inside the loop."""
        session = self._sessions.get(source_address)
        if session is None:
            session = make_session(
                max_connections=self.max_connections, source_address=source_address
            )
            self._sessions[source_address] = session
            self._owned.append(session)
        return session

    async def close(self) -> None:
        """Close the sessions made here (a ``default`` given is its owner's to close)."""
        for session in self._owned:
            await session.close()
        self._owned.clear()
        self._sessions = {k: v for k, v in self._sessions.items() if not v.closed}


def make_session(
    *,
    max_connections: int = 64,
    user_agent: str = f"probed/{__version__}",
    resolver: AbstractResolver | None = None,
    source_address: str | None = None,
) -> aiohttp.ClientSession:
    """The session checks share; create it inside the running loop, close it at exit.

    ``max_connections`` should be at least the scheduler's cap on concurrent checks (each
    check holds one connection at a time), so no check waits for the pool: that wait would
    count against its timeout and look like a slow target. ``resolver`` defaults to aiohttp's.
    With ``source_address`` every connection is made from that local address: the session of
    the monitors that set it (ProbeSessions).
    """
    connector = ProbeConnector(
        source_address=source_address,
        limit=max_connections,
        limit_per_host=0,
        # Every check opens a fresh connection, as a new visitor would: so it measures DNS,
        # connect and TLS each time, notices a server that stopped accepting connections
        # while an old keep-alive one still works, and sees the certificate served now.
        force_close=True,
        # Resolve every time, for the same reason: a broken DNS record must fail the next
        # check, not the first one after a cache entry expires.
        use_dns_cache=False,
        resolver=resolver,
    )
    session = aiohttp.ClientSession(
        connector=connector,
        # run_probe's deadline bounds the whole check; aiohttp's own defaults (5 min total,
        # 30 s connect) would cut in first with a different error for long timeouts.
        timeout=aiohttp.ClientTimeout(total=None, connect=None, sock_connect=None),
        trace_configs=[make_trace_config()],
        response_class=CertRecordingResponse,
        # Cookies set by one monitor's target must not travel with another monitor's check.
        cookie_jar=aiohttp.DummyCookieJar(),
        headers={"User-Agent": user_agent},
        raise_for_status=False,
    )
    # aiohttp retries an idempotent request once when a pooled keep-alive connection turns
    # out dead. Connections are never reused here, so that retry could only hide a target
    # that resets connections, and double its load. (Private flag; aiohttp's test client
    # clears it the same way.)
    session._retry_connection = False
    return session
