"""Value types shared by the pipeline. Imports nothing from probed but its sibling leaf
``probed.evidence``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Final

from probed.evidence import Evidence


class Status(IntEnum):
    """A monitor's state, numbered as UptimeRobot numbers them."""

    PAUSED = 0
    PENDING = 1
    UP = 2
    SEEMS_DOWN = 8
    DOWN = 9

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Timings:
    """Seconds spent in each phase of a check; None when the phase did not happen."""

    dns: float | None = None
    connect: float | None = None
    tls: float | None = None
    first_byte: float | None = None
    total: float = 0.0

    def to_json(self) -> dict[str, float | None]:
        """As the API, alert payloads and incidents show them (seconds; null: not happened)."""
        return {
            "dns": self.dns,
            "connect": self.connect,
            "tls": self.tls,
            "first_byte": self.first_byte,
            "total": self.total,
        }


@dataclass(frozen=True, slots=True)
class HttpFacts:
    """What an HTTP check learned besides its status code: blackbox_exporter's probe_http_*.

    Phases are summed over every request of the check (redirect hops, a HEAD retried as GET),
    as blackbox_exporter sums them over redirects.
    """

    resolve: float = 0.0
    connect: float = 0.0
    """TCP connection set-up, without the name lookup and without the TLS handshake."""
    tls: float = 0.0
    processing: float = 0.0
    """From a connection being ready to the response's headers (request sent, server thinking)."""
    transfer: float = 0.0
    """From the response's headers to the end of what the check read of it."""
    redirects: int = 0
    version: float = 0.0
    """HTTP version of the last response (1.0, 1.1); 0 when none was read."""
    content_length: int = -1
    """The last response's Content-Length; -1 when unknown."""
    failed_due_to_keyword: bool | None = None
    """For keyword checks: True when the status was good but the keyword test failed."""


@dataclass(frozen=True, slots=True)
class TlsFacts:
    """The TLS connection of a check (the last one, after redirects)."""

    version: str
    """``TLS 1.2``, ``TLS 1.3``: blackbox_exporter's probe_tls_version_info label."""
    last_chain_expires_at: datetime | None = None
    """Earliest expiry of the verified chain (None when not verified): blackbox_exporter's
    probe_ssl_last_chain_expiry_timestamp_seconds; Python exposes one verified chain."""


@dataclass(frozen=True, slots=True)
class IcmpFacts:
    """The echo requests of a ping check."""

    sent: int
    received: int
    rtt: float | None = None
    """Mean round trip of the replies, in seconds; None when none came back."""
    hop_limit: int | None = None
    """The last reply's hop limit (IPv4 TTL) as it arrived; None when not known."""

    @property
    def loss(self) -> float:
        """The share of requests that went unanswered (1.0 when none were sent)."""
        return 1.0 - self.received / self.sent if self.sent else 1.0


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What one check found out about a target."""

    ok: bool
    """True when the target met every expectation of the monitor."""
    reason: str
    """One line a person can read: ``HTTP 200``, ``timeout after 30s``, ``connection refused``."""
    at: datetime
    """When the check started (UTC)."""
    timings: Timings = field(default_factory=Timings)
    """Phases of the check, measured on the monotonic clock."""
    status_code: int | None = None
    """The final HTTP status code, when an HTTP response was read."""
    cert_expires_at: datetime | None = None
    """Earliest expiry in the verified certificate chain, for https targets."""
    offline: bool = False
    """True when the probe host itself failed (no network, out of descriptors or buffers):
    such results never take a monitor down."""
    http: HttpFacts | None = None
    """For checks that made an HTTP request; not stored, so None for a restored result."""
    tls: TlsFacts | None = None
    """For checks that completed a TLS handshake; not stored either."""
    icmp: IcmpFacts | None = None
    """For ping checks that sent a request; not stored either."""
    evidence: Evidence | None = None
    """What the target answered, for failed checks (``probed.evidence``); kept with an
    incident only, never in the checks table."""

    @property
    def duration(self) -> float:
        return self.timings.total


@dataclass(frozen=True, slots=True)
class Policy:
    """How a monitor's results are judged: how many consecutive ones it takes to change state
    (docs/design.md §3), and the mean response time above which it is degraded (§4 there)."""

    down_after: int = 3
    up_after: int = 1
    slow_threshold: float | None = None
    """Seconds; None: never degraded."""


@dataclass(frozen=True, slots=True)
class MonitorState:
    """A monitor's runtime state, as the state machine sees and stores it."""

    status: Status = Status.PENDING
    since: datetime | None = None
    """When the monitor entered ``status``."""
    failures: int = 0
    """Consecutive failed checks."""
    successes: int = 0
    """Consecutive good checks while down (counts towards ``up_after``)."""
    outage_start: datetime | None = None
    """Time of the first failed check of the current failure streak (backdated outage start)."""
    reason: str = ""
    """Reason of the last check."""


class TransitionKind(StrEnum):
    """Why a monitor changed state; the alert policy reads this."""

    SEEMS_DOWN = "seems_down"
    DOWN = "down"
    UP = "up"
    """A down monitor recovered: the end of an outage."""
    BLIP = "blip"
    """seems_down → up: a failure that was never confirmed."""
    FIRST_UP = "first_up"
    """pending → up."""
    PAUSED = "paused"
    RESUMED = "resumed"


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of a monitor's state, recorded before anything acts on it."""

    monitor: str
    kind: TransitionKind
    old: Status
    new: Status
    at: datetime
    reason: str
    outage_start: datetime | None = None
    """For DOWN and UP: when the outage began (the first failed check)."""

    @property
    def outage_seconds(self) -> float | None:
        if self.outage_start is None:
            return None
        return max(0.0, (self.at - self.outage_start).total_seconds())


@dataclass(frozen=True, slots=True)
class PushRecord:
    """What a push monitor's job last sent (stored, so a restart keeps the deadline)."""

    at: datetime | None = None
    """When the last ping or failure report arrived; None: never."""
    ok: bool = True
    """False when that was a failure report (``/fail``): it stands until the next ping."""
    reason: str = ""
    """The failure report's message."""
    started: datetime | None = None
    """A run's start (``/start``) that no ping or failure report has closed yet."""


class AlertKind(StrEnum):
    """What an alert says: the outbox's ``kind``, the ``kind`` label of ``probed_alerts_total``
    and, for single alerts (CHANNEL_KINDS), what a channel's ``kinds`` may name."""

    DOWN = "down"
    UP = "up"
    SSL = "ssl"
    REMINDER = "reminder"
    DIGEST = "digest"
    """Several DOWN (or UP) alerts of one alert storm, sent as one message."""
    TEST = "test"
    """``probed test-alert``'s message, sent to every channel."""
    DEGRADED = "degraded"
    """Up, but the last good checks were slower than ``slow_threshold`` on average."""
    RECOVERED = "recovered"
    """Back below ``slow_threshold`` after DEGRADED."""
    DOMAIN = "domain"
    """The registration of a monitor's domain expires within ``domain_expiry_days``
    (docs/design.md §19.2); never a DOWN."""
    REPORT = "report"
    """The periodic monitoring report ([report], docs/design.md §18.6)."""


CHANNEL_KINDS: Final = tuple(
    kind.value
    for kind in AlertKind
    if kind not in (AlertKind.DIGEST, AlertKind.TEST, AlertKind.REPORT)
)
"""The kinds of single alerts, which a channel's ``kinds`` may name: a digest goes where its
alerts go, a test message to every channel and a report to [report]'s ``alert``."""
