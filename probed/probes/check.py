"""What one check carries while it runs: the PhaseTracker, the ProbeOutcome, and the aiohttp
TraceConfig that feeds phase timings into the tracker of the request being traced."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import SimpleNamespace
from typing import Any

import aiohttp

from probed.model import HttpFacts, IcmpFacts, Timings, TlsFacts


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
        self.http: HttpNotes | None = None
        """Set by probes that make HTTP requests, as they start."""
        self.tls: TlsFacts | None = None
        """The last TLS connection of the check."""
        # Kept for a failed check's evidence (probed.probes.capture), which is built only once
        # the verdict is known: references and a bounded head of the body, nothing copied.
        self.response: aiohttp.ClientResponse | None = None
        """The last HTTP response."""
        self.body = b""
        """The first bytes of the body the check itself read (see read_body)."""
        self.body_read = 0
        self.address: Any = None
        """The socket address of the last connection made (or tried, by tcp and ssl)."""
        self.ssl_object: Any = None
        """The last TLS connection's SSLObject (it still shows its certificate once closed)."""
        self.icmp: IcmpFacts | None = None
        """A ping check's echo requests, once sent."""
        self.facts: list[tuple[str, str]] = []
        """What a failed check of another kind learned (a DNS rcode, a JMESPath result)."""
        self.secrets: list[str] = []
        """Secrets the check sent that its config does not hold (an OAuth2 token): masked in
        evidence."""
        self.awaiting: str | None = None
        """What the check waits for now when that is not the target itself (a proxy's answer
        to CONNECT, a token endpoint): a timeout's reason names it."""
        self._clock = clock
        self._started = clock()
        self._spent: dict[Phase, float] = {}
        self._open: dict[Phase, float] = {}
        self._first_byte: float | None = None

    def clock(self) -> float:
        """The check's clock (monotonic seconds): token expiry is measured on it."""
        return self._clock()

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

    def connection_ready(self) -> None:
        if self.http is not None:
            self.http.ready_at = self._clock()

    def headers_received(self) -> None:
        """A response's headers arrived: the end of its ``processing`` phase."""
        self.first_byte()
        if (notes := self.http) is not None:
            now = self._clock()
            if notes.ready_at is not None:
                notes.processing += now - notes.ready_at
                notes.ready_at = None
            notes.headers_at = now

    def response_done(self) -> None:
        """The check is finished with a response: the end of its ``transfer`` phase."""
        if (notes := self.http) is not None and notes.headers_at is not None:
            notes.transfer += self._clock() - notes.headers_at
            notes.headers_at = None

    def read_body(self, chunk: bytes, limit: int) -> None:
        """Note ``chunk`` of the body, read by the check: its first ``limit`` bytes are kept."""
        if (room := limit - len(self.body)) > 0:
            self.body += chunk[:room]
        self.body_read += len(chunk)

    def record_cert_expiry(self, expires_at: datetime | None) -> None:
        if expires_at is not None and (
            self.cert_expires_at is None or expires_at < self.cert_expires_at
        ):
            self.cert_expires_at = expires_at

    def timings(self) -> Timings:
        """The check so far. ``dns``, ``connect`` and ``tls`` are disjoint durations (None when
        the phase never happened: no lookup for an address literal, no ``tls`` for plain
        http). ``first_byte`` runs
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

    def http_facts(self) -> HttpFacts | None:
        """Call after timings(): the phases come from the same measurements."""
        notes = self.http
        if notes is None:
            return None
        self.response_done()  # a check cut short while reading a body
        if notes.ready_at is not None:  # ... or while waiting for the headers
            notes.processing += self._clock() - notes.ready_at
            notes.ready_at = None
        return HttpFacts(
            resolve=self._spent.get(Phase.DNS, 0.0),
            connect=self._spent.get(Phase.CONNECT, 0.0),
            tls=self._spent.get(Phase.TLS, 0.0),
            processing=notes.processing,
            transfer=notes.transfer,
            redirects=notes.redirects,
            version=notes.version,
            content_length=notes.content_length,
            failed_due_to_keyword=notes.failed_due_to_keyword,
        )


class HttpNotes:
    """What an HTTP check notes as it goes, for its HttpFacts."""

    __slots__ = (
        "content_length",
        "failed_due_to_keyword",
        "headers_at",
        "processing",
        "ready_at",
        "redirects",
        "transfer",
        "version",
    )

    def __init__(self) -> None:
        self.processing = 0.0
        self.transfer = 0.0
        self.ready_at: float | None = None
        self.headers_at: float | None = None
        self.redirects = 0
        self.version = 0.0
        self.content_length = -1
        self.failed_due_to_keyword: bool | None = None


CONNECTING: ContextVar[PhaseTracker | None] = ContextVar("probed_connecting", default=None)
"""The tracker of the connection being opened in this task: the connector has no other way
to learn which check it connects for (see ProbeConnector)."""


def _tracker(ctx: SimpleNamespace) -> PhaseTracker | None:
    tracker = ctx.trace_request_ctx
    return tracker if isinstance(tracker, PhaseTracker) else None


async def _on_connection_create_start(
    _: aiohttp.ClientSession, ctx: SimpleNamespace, __: aiohttp.TraceConnectionCreateStartParams
) -> None:
    tracker = _tracker(ctx)
    CONNECTING.set(tracker)
    if tracker:
        tracker.start(Phase.CONNECT)


async def _on_connection_create_end(
    _: aiohttp.ClientSession, ctx: SimpleNamespace, __: aiohttp.TraceConnectionCreateEndParams
) -> None:
    CONNECTING.set(None)
    if tracker := _tracker(ctx):
        tracker.stop(Phase.CONNECT)
        tracker.stop(Phase.TLS)
        tracker.connection_ready()


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
        tracker.headers_received()


def make_trace_config() -> aiohttp.TraceConfig:
    """Timings for requests made with ``trace_request_ctx=<PhaseTracker>``; others are ignored.

    aiohttp reports no TLS phase: ProbeConnector marks its start (see there).
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
