"""What one check carries while it runs: the PhaseTracker, the ProbeOutcome, and the aiohttp
TraceConfig that feeds phase timings into the tracker of the request being traced."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import SimpleNamespace

import aiohttp

from probed.model import Timings


class Phase(StrEnum):
    DNS = "dns"
    CONNECT = "connect"
    TLS = "tls"


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    """A probe's verdict; the facts it learned on the way are on its PhaseTracker."""

    ok: bool
    reason: str


class ProbeError(Exception):
    """A failure the probe has already put into words: the message is the check's reason."""


class PhaseTracker:
    """Everything one check learns as it goes, so that a check cut short still reports it.

    Phase times add up across connections (redirect hops, a HEAD retried as GET). A phase still
    open when the check ends (a connect that timed out) counts up to that moment.
    """

    def __init__(self, now: datetime, clock: Callable[[], float]) -> None:
        self.now = now
        """Wall-clock time of the check's start (UTC): probes compare dates with it."""
        self.status_code: int | None = None
        """Status of the last HTTP response received."""
        self.cert_expires_at: datetime | None = None
        """Earliest certificate expiry seen on any TLS connection of the check."""
        self._clock = clock
        self._started = clock()
        self._spent: dict[Phase, float] = {}
        self._open: dict[Phase, float] = {}
        self._first_byte: float | None = None

    def start(self, phase: Phase) -> None:
        self._open.setdefault(phase, self._clock())

    def stop(self, phase: Phase) -> bool:
        """Close ``phase``; False when it was not open."""
        began = self._open.pop(phase, None)
        if began is None:
            return False
        self._spent[phase] = self._spent.get(phase, 0.0) + self._clock() - began
        return True

    @contextmanager
    def phase(self, phase: Phase) -> Iterator[None]:
        self.start(phase)
        try:
            yield
        finally:
            self.stop(phase)

    def first_byte(self) -> None:
        """Mark the arrival of response headers; only the first response of the check counts."""
        if self._first_byte is None:
            self._first_byte = self._clock() - self._started

    def record_cert_expiry(self, expires_at: datetime | None) -> None:
        if expires_at is not None and (
            self.cert_expires_at is None or expires_at < self.cert_expires_at
        ):
            self.cert_expires_at = expires_at

    def timings(self) -> Timings:
        """The check so far. ``dns``, ``connect`` and ``tls`` are disjoint durations (None when
        the phase never happened: no lookup for an address literal; no separate ``tls`` for
        http checks, whose handshake aiohttp reports inside ``connect``). ``first_byte`` runs
        from the start of the check to the first response's headers; ``total`` to this call."""
        for phase in list(self._open):
            self.stop(phase)
        return Timings(
            dns=self._spent.get(Phase.DNS),
            connect=self._spent.get(Phase.CONNECT),
            tls=self._spent.get(Phase.TLS),
            first_byte=self._first_byte,
            total=self._clock() - self._started,
        )


def _tracker(ctx: SimpleNamespace) -> PhaseTracker | None:
    tracker = ctx.trace_request_ctx
    return tracker if isinstance(tracker, PhaseTracker) else None


async def _on_connection_create_start(
    _: aiohttp.ClientSession, ctx: SimpleNamespace, __: aiohttp.TraceConnectionCreateStartParams
) -> None:
    if tracker := _tracker(ctx):
        tracker.start(Phase.CONNECT)


async def _on_connection_create_end(
    _: aiohttp.ClientSession, ctx: SimpleNamespace, __: aiohttp.TraceConnectionCreateEndParams
) -> None:
    if tracker := _tracker(ctx):
        tracker.stop(Phase.CONNECT)


# aiohttp resolves the name inside "connection create": pausing the connect phase around the
# lookup keeps the phases disjoint, as Timings promises.
async def _on_dns_start(
    _: aiohttp.ClientSession, ctx: SimpleNamespace, __: aiohttp.TraceDnsResolveHostStartParams
) -> None:
    if tracker := _tracker(ctx):
        ctx.resume_connect = tracker.stop(Phase.CONNECT)
        tracker.start(Phase.DNS)


async def _on_dns_end(
    _: aiohttp.ClientSession, ctx: SimpleNamespace, __: aiohttp.TraceDnsResolveHostEndParams
) -> None:
    if tracker := _tracker(ctx):
        tracker.stop(Phase.DNS)
        if getattr(ctx, "resume_connect", False):
            tracker.start(Phase.CONNECT)


# aiohttp has no "headers received" signal; a redirect or the end of the request is the first
# moment the headers of a response are known, and the earliest one wins.
async def _on_redirect(
    _: aiohttp.ClientSession, ctx: SimpleNamespace, __: aiohttp.TraceRequestRedirectParams
) -> None:
    if tracker := _tracker(ctx):
        tracker.first_byte()


async def _on_request_end(
    _: aiohttp.ClientSession, ctx: SimpleNamespace, __: aiohttp.TraceRequestEndParams
) -> None:
    if tracker := _tracker(ctx):
        tracker.first_byte()


def make_trace_config() -> aiohttp.TraceConfig:
    """Timings for requests made with ``trace_request_ctx=<PhaseTracker>``; others are ignored.

    aiohttp reports no TLS phase: for https the handshake is inside ``connect``.
    """
    config = aiohttp.TraceConfig()
    config.on_connection_create_start.append(_on_connection_create_start)
    config.on_connection_create_end.append(_on_connection_create_end)
    config.on_dns_resolvehost_start.append(_on_dns_start)
    config.on_dns_resolvehost_end.append(_on_dns_end)
    config.on_request_redirect.append(_on_redirect)
    config.on_request_end.append(_on_request_end)
    config.freeze()
    return config
