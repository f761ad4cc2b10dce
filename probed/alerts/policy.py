"""The alert policy (docs/design.md §3–§4): which events alert, in one pure function.

``alerts_for(event, marks)`` → ``Decision``. An event is a stored check with the transitions it
caused, a pause/resume, or a reminder tick (no result, no transitions). Nothing here reads a
clock, touches the store or sends anything: the recorder writes the alerts to the outbox in the
same transaction as the transitions, and the dispatcher delivers them later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from probed.alerts.payload import CheckFacts, Payload
from probed.config import Monitor, SslCheck
from probed.model import AlertKind, CheckResult, MonitorState, Status, Transition, TransitionKind

SSL_THRESHOLDS = (30, 14, 7, 1)
"""Days before expiry at which an ssl monitor warns, below its own ``ssl_expiry_days``."""


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert to write to the outbox; ``payload`` holds all a message shows."""

    kind: AlertKind
    monitor: str
    payload: Payload
    outage_start: datetime | None = None


@dataclass(frozen=True, slots=True)
class CertMarks:
    """The expiry thresholds a monitor's current certificate has passed (warned or silenced)."""

    expires_at: datetime | None = None
    passed: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to a monitor, with what the policy needs to judge it."""

    monitor: Monitor
    now: datetime
    state: MonitorState
    """The monitor's state before the event (for a reminder tick: its current state)."""
    result: CheckResult | None = None
    """The check just stored; None for a pause/resume or a reminder tick."""
    transitions: Sequence[Transition] = ()
    failed_checks: Sequence[CheckResult] = ()
    """The failed checks of the current failure streak, oldest first (shown in DOWN alerts)."""
    last_alert_at: datetime | None = None
    """When the current outage was last alerted (DOWN or REMINDER), for reminders."""
    slowness: tuple[bool, float] | None = None
    """After a good check that changed it: (degraded now, mean response seconds)."""


@dataclass(frozen=True, slots=True)
class Decision:
    alerts: tuple[Alert, ...] = ()
    marks: CertMarks = field(default_factory=CertMarks)


def alerts_for(event: Event, marks: CertMarks) -> Decision:
    """The alerts an event causes, and the certificate marks to keep for the next one.

    DOWN on entering down; UP (with duration and reason) when a down monitor recovers; nothing
    for blips, seems-down, first-up, pause or resume; for ssl monitors one SSL warning per
    certificate at each threshold below ``ssl_expiry_days``; a REMINDER on a tick every
    ``remind_every`` while down; DEGRADED and RECOVERED when a good check moves the mean
    response time of the last 3 across ``slow_threshold``.
    """
    monitor, alerts = event.monitor, []
    for t in event.transitions:
        if t.kind is TransitionKind.DOWN:
            alerts.append(_down(event, t))
        elif t.kind is TransitionKind.UP:
            alerts.append(_up(event, t))
    if event.result is None and not event.transitions:
        due = reminder_due_at(monitor, event.state, event.last_alert_at)
        if due is not None and event.now >= due:
            alerts.append(_reminder(event))
    if event.slowness is not None:
        alerts.append(_slowness(event, *event.slowness))
    check, result = monitor.check, event.result
    if isinstance(check, SslCheck) and result and result.cert_expires_at:
        ssl_alert, marks = _certificate(monitor, check, result, result.cert_expires_at, marks)
        alerts.extend(ssl_alert)
    return Decision(tuple(alerts), marks)


def reminder_due_at(
    monitor: Monitor, state: MonitorState, last_alert_at: datetime | None
) -> datetime | None:
    """When the next REMINDER of a down monitor is due; None when none will be."""
    if state.status is not Status.DOWN or monitor.remind_every <= 0 or not monitor.alert:
        return None
    base = last_alert_at or state.since
    return None if base is None else base + timedelta(seconds=monitor.remind_every)


def _certificate(
    monitor: Monitor, check: SslCheck, result: CheckResult, expires_at: datetime, marks: CertMarks
) -> tuple[list[Alert], CertMarks]:
    if marks.expires_at is None or expires_at > marks.expires_at:
        marks = CertMarks(expires_at)  # a renewed certificate starts with no warnings given
    elif expires_at < marks.expires_at:
        # Replaced by one that expires sooner: not a renewal. The warnings given stay given,
        # and a threshold the new expiry already sits under is warned now.
        marks = CertMarks(expires_at, marks.passed)
    days = (expires_at - result.at).days  # whole days, rounded down, as the ssl probe counts
    # The first threshold is ssl_expiry_days itself: crossing it makes the probe fail and the
    # monitor go DOWN, which is that level's alert. Each lower threshold then warns once.
    warn_days = check.ssl_expiry_days
    levels = {warn_days, *(t for t in SSL_THRESHOLDS if t < warn_days)}
    passed = frozenset(t for t in levels if days < warn_days and days <= t)
    new = passed - marks.passed
    if not new:
        return [], marks
    marks = CertMarks(expires_at, marks.passed | passed)
    if warn_days in new:
        # First seen already inside the warning range: the DOWN alert covers every level
        # passed so far; only later thresholds warn.
        return [], marks
    payload = replace(
        _base(monitor),
        reason=result.reason,
        at=result.at,
        days_left=days,
        cert_expires_at=expires_at,
    )
    return [Alert(AlertKind.SSL, monitor.name, payload)], marks


def _down(event: Event, t: Transition) -> Alert:
    checks = list(event.failed_checks) or ([event.result] if event.result else [])
    payload = replace(
        _base(event.monitor),
        reason=t.reason,
        at=t.at,
        outage_start=t.outage_start,
        checks=tuple(CheckFacts.of(c) for c in checks[-10:]),
    )
    return Alert(AlertKind.DOWN, t.monitor, payload, t.outage_start)


def _up(event: Event, t: Transition) -> Alert:
    payload = replace(
        _base(event.monitor),
        # What the target was down for (its last failure); the transition says what recovered.
        reason=event.state.reason,
        at=t.at,
        outage_start=t.outage_start,
        outage_seconds=t.outage_seconds,
        checks=(CheckFacts.of(event.result),) if event.result else (),
    )
    return Alert(AlertKind.UP, t.monitor, payload, t.outage_start)


def escalation(monitor: Monitor, state: MonitorState, confirmed: datetime) -> Alert:
    """The DOWN an escalation step sends: the outage as it was confirmed (docs/design.md §17.3)."""
    payload = replace(
        _base(monitor),
        reason=state.reason,
        at=confirmed,
        outage_start=state.outage_start,
    )
    return Alert(AlertKind.DOWN, monitor.name, payload, state.outage_start)


def _reminder(event: Event) -> Alert:
    state = event.state
    start = state.outage_start or state.since
    payload = replace(
        _base(event.monitor),
        reason=state.reason,
        at=event.now,
        outage_start=start,
        outage_seconds=(event.now - start).total_seconds() if start else None,
    )
    return Alert(AlertKind.REMINDER, event.monitor.name, payload, start)


def _slowness(event: Event, degraded: bool, mean: float) -> Alert:
    threshold = event.monitor.slow_threshold or 0.0
    side = "above" if degraded else "back below"
    payload = replace(
        _base(event.monitor),
        reason=f"mean response time {mean * 1000:.0f} ms over the last 3 good checks, {side}"
        f" slow_threshold {threshold * 1000:.0f} ms",
        at=event.now,
        checks=(CheckFacts.of(event.result),) if event.result else (),
    )
    kind = AlertKind.DEGRADED if degraded else AlertKind.RECOVERED
    return Alert(kind, event.monitor.name, payload)


def _base(monitor: Monitor) -> Payload:
    return Payload(
        monitor=monitor.name,
        url=monitor.display_url,
        type=str(monitor.type),
        severity=monitor.severity,
        tags=monitor.tags,
    )
