"""The bridge from the pipeline to the outbox: runs the policy on every stored event and
writes the alerts it decides in the same transaction (a ``RecordHook``).

``AlertRecorder.__call__`` runs inside the store transaction of each check and state change,
so a transition and its alerts commit together or not at all. ``AlertRecorder.remind`` runs
the policy's reminder tick for every down monitor (the dispatcher calls it each round).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from email.utils import parseaddr

import structlog

from probed.alerts.domain_policy import domain_alerts
from probed.alerts.outbox import Outbox, StormRule
from probed.alerts.payload import CheckFacts, Payload
from probed.alerts.policy import (
    Alert,
    CertMarks,
    Event,
    alerts_for,
    escalation,
    reminder_due_at,
)
from probed.config import Config, Monitor
from probed.engine.pipeline import Tracked
from probed.errors import StoreWriteError
from probed.evidence import ALERT_BODY_BYTES
from probed.incidents.book import IncidentBook
from probed.model import AlertKind, CheckResult, Status, Transition
from probed.units import from_ms

log = structlog.get_logger("probed")

_Basis = tuple[Monitor, Config, datetime | None, datetime | None]
"""What a down monitor's next reminder time follows from: its settings (the objects, which a
reload replaces), the outage's start and the state's since."""

STREAK_KEPT = 10
"""Failed checks of a streak remembered for the DOWN message; older ones are dropped."""


class AlertRecorder:
    """Turns stored events into outbox rows, for the channels each monitor alerts."""

    def __init__(
        self,
        outbox: Outbox,
        config: Config,
        now: Callable[[], datetime],
        monitors: Mapping[str, Tracked],
        wake: Callable[[], None] = lambda: None,
        incidents: IncidentBook | None = None,
    ) -> None:
        self.outbox = outbox
        self.incidents = incidents
        """Each monitor's incident, which its DOWN, REMINDER and UP alerts name (runs as a
        record hook before this one: a DOWN's incident is open when its alert is written)."""
        self.config = config
        """Replaced by a reload (``configure``): the channels and storm rule it names apply
        from the next event on."""
        self.now = now
        self.monitors = monitors
        """The pipeline's live view of the configured monitors, for reminders."""
        self.wake = wake
        """Called after rows were written. Safe inside the transaction: it only sets an event,
        and the dispatcher cannot run before this synchronous commit has finished."""
        self._streaks: dict[str, list[CheckResult]] = {}
        self._next_reminder: dict[str, tuple[_Basis, datetime | None]] = {}
        """Per down monitor, when its next REMINDER is due (None: never), with what that was
        worked out from; the dispatcher asks every round, and asking the outbox for each down
        monitor each time made a mass outage quadratic."""

    def configure(self, config: Config) -> None:
        """Take a reloaded configuration: its channels and storm rule apply from the next event."""
        self.config = config

    def __call__(
        self,
        tracked: Tracked,
        result: CheckResult | None,
        transitions: Sequence[tuple[int, Transition]],
        slowness: tuple[bool, float] | None = None,
    ) -> None:
        """Write the alerts of one stored event; ``slowness`` is the state step's verdict
        (``probed.engine.state.Step``), read here, never judged again."""
        monitor = tracked.monitor
        streak = self._remember(monitor.name, result)
        if not self._channels(monitor):
            return  # no channel: the policy writes nothing (the daemon logs that alerts are off)
        if (
            not transitions
            and slowness is None
            and (result is None or result.cert_expires_at is None)
        ):
            return  # nothing the policy alerts on: skip the lookup
        marks = self.outbox.cert_marks(monitor.name) if result is not None else CertMarks()
        event = Event(
            monitor=monitor,
            now=self.now(),
            state=tracked.state,
            result=result,
            transitions=[t for _, t in transitions],
            failed_checks=streak,
            slowness=slowness,
        )
        decision = alerts_for(event, marks)
        status = transitions[-1][1].new if transitions else tracked.state.status
        self._write(tracked, decision.alerts, event.now, status)
        if decision.marks != marks:
            self.outbox.save_cert_marks(monitor.name, decision.marks)

    def domain_expiry(self, name: str, domain: str, expires_at: datetime) -> None:
        """Queue the DOMAIN warning due for the monitor, if any (``domain_policy``)."""
        tracked = self.monitors.get(name)
        if (
            tracked is None
            or tracked.state.status is Status.PAUSED
            or not self._channels(tracked.monitor, str(AlertKind.DOMAIN))
        ):
            return
        table = self.outbox.store.domains
        found = table.marks(name)
        marks = CertMarks() if found is None else CertMarks(from_ms(found[0]), found[1])
        now = self.now()
        alerts, after = domain_alerts(tracked.monitor, domain, expires_at, now, marks)
        if after == marks:
            return
        # A full disk: the outbox holds the alert, the marks are not kept, and the next round
        # may give the warning twice, which beats not at all.
        with contextlib.suppress(StoreWriteError), self.outbox.store.transaction():
            self._write(tracked, alerts, now, tracked.state.status)
            assert after.expires_at is not None
            table.save_marks(name, int(after.expires_at.timestamp() * 1000), after.passed)

    def remind(self, now: datetime) -> datetime | None:
        """Queue the REMINDERs due now; when the next one will be due (None: none pending)."""
        upcoming: list[datetime] = []
        known = self._next_reminder
        for tracked in list(self.monitors.values()):
            monitor, state = tracked.monitor, tracked.state
            if state.status is not Status.DOWN:
                known.pop(monitor.name, None)
                continue
            # The due time depends on these alone (and on the outbox, which only the recorder
            # writes alerts of this outage to: the DOWN alert before the state is DOWN, then
            # the reminders below).
            basis = (monitor, self.config, state.outage_start, state.since)
            cached = known.get(monitor.name)
            if cached is not None and _same(cached[0], basis):
                due = cached[1]
                if due is None or due > now:
                    if due is not None:
                        upcoming.append(due)
                    continue
            if not self._channels(monitor) or self._acknowledged(monitor.name):
                known[monitor.name] = (basis, None)
                continue
            last = self.outbox.last_outage_alert(monitor.name, state.outage_start)
            due = reminder_due_at(monitor, state, last)
            known[monitor.name] = (basis, due)
            if due is None:
                continue
            event = Event(monitor=monitor, now=now, state=state, last_alert_at=last)
            alerts = alerts_for(event, CertMarks()).alerts
            # On a full disk the outbox holds them in memory and delivers them all the same.
            with contextlib.suppress(StoreWriteError), self.outbox.store.transaction():
                self._write(tracked, alerts, now, state.status)
            due = reminder_due_at(monitor, state, now if alerts else last)
            known[monitor.name] = (basis, due)
            if due is not None:
                upcoming.append(due)
        for name in [n for n in known if n not in self.monitors]:
            del known[name]
        return min(upcoming, default=None)

    def _remember(self, name: str, result: CheckResult | None) -> list[CheckResult]:
        """The current failure streak of a monitor, including ``result``."""
        if result is None or result.offline:
            return self._streaks.get(name, [])
        if result.ok:
            self._streaks.pop(name, None)
            return []
        streak = self._streaks.setdefault(name, [])
        streak.append(result)
        del streak[:-STREAK_KEPT]
        return streak

    def _acknowledged(self, name: str) -> bool:
        ref = self.incidents.ref(name) if self.incidents is not None else None
        return ref is not None and ref.open and ref.acked

    def forget_reminder(self, name: str) -> None:
        """The monitor's incident was acknowledged: its next reminder is worked out again."""
        self._next_reminder.pop(name, None)

    def _channels(self, monitor: Monitor, kind: str | None = None) -> tuple[str, ...]:
        """The channels of ``monitor`` (that take alerts of ``kind``)."""
        configured = self.config.channel_settings
        return tuple(
            name
            for name in monitor.alert
            if (settings := configured.get(name)) is not None
            and (kind is None or settings.kinds is None or kind in settings.kinds)
        )

    def escalate(self, now: datetime) -> datetime | None:
        """Queue the escalation steps due now (docs/design.md §17.3); when the next is due."""
        book = self.incidents
        if book is None:
            return None
        upcoming: list[datetime] = []
        configured = self.config.channel_settings
        for tracked in list(self.monitors.values()):
            monitor, state = tracked.monitor, tracked.state
            if not monitor.escalate or state.status is not Status.DOWN:
                continue
            ref = book.ref(monitor.name)
            if ref is None or not ref.open or ref.acked:
                continue
            done = book.escalated(ref)
            for index, step in enumerate(monitor.escalate):
                if index in done:
                    continue
                due = ref.confirmed + timedelta(seconds=step.after)
                if due > now:
                    upcoming.append(due)
                    break  # steps are in increasing order
                channels = [c for c in step.alert if c in configured]
                alert = escalation(monitor, state, ref.confirmed)
                # On a full disk the outbox holds the alerts in memory; the timeline entry is
                # lost with the transaction, and the step is remembered in memory only.
                with contextlib.suppress(StoreWriteError), self.outbox.store.transaction():
                    # The alerts first: they are held in memory if the file refuses the step.
                    self._write(tracked, [alert], now, state.status, channels=channels)
                    book.note_escalation(ref, index, channels, step.after, now)
                log.warning(
                    "incident escalated",
                    incident=ref.code,
                    monitor=monitor.name,
                    step=index + 1,
                    channels=channels,
                )
        return min(upcoming, default=None)

    def tick(self, now: datetime) -> datetime | None:
        """The dispatcher's round: reminders and escalations due now; when the next is due."""
        if self.incidents is not None:
            self.incidents.persist()
        times = [t for t in (self.remind(now), self.escalate(now)) if t is not None]
        return min(times, default=None)

    def _write(
        self,
        tracked: Tracked,
        alerts: Sequence[Alert],
        now: datetime,
        status: Status,
        channels: Sequence[str] | None = None,
    ) -> None:
        """Queue ``alerts`` for the monitor's channels (or ``channels``, for an escalation)."""
        if not alerts:
            return
        monitor, config = tracked.monitor, self.config
        settings = config.settings
        storm = StormRule(settings.storm_threshold, settings.storm_window)
        domain = message_domain(config)
        for alert in alerts:
            # What the channels show besides the message: who, where from, in which state.
            payload = replace(
                alert.payload,
                monitor_id=tracked.id or None,
                status=int(status),
                location=config.settings.location,
                runbook=monitor.runbook or "",
            )
            payload = self._with_incident(monitor.name, alert.kind, payload)
            targets = self._channels(monitor, str(alert.kind)) if channels is None else channels
            if alert.kind is AlertKind.UP:
                targets = self._with_escalated(monitor, targets)
            for channel in targets:
                self.outbox.add(replace(alert, payload=payload), channel, now, storm, domain)
        self.wake()

    def _with_incident(self, name: str, kind: AlertKind, payload: Payload) -> Payload:
        book = self.incidents
        if book is None or kind not in _OUTAGE_KINDS or (ref := book.ref(name)) is None:
            return payload
        incident_url, ack_url = book.links(ref)
        payload = replace(payload, incident=ref.code, incident_url=incident_url, ack_url=ack_url)
        if kind is AlertKind.DOWN:
            evidence, last_good = book.stored_evidence(ref)
            payload = replace(
                payload,
                evidence=evidence.shortened(ALERT_BODY_BYTES) if evidence is not None else None,
                last_good=CheckFacts.of(last_good) if last_good is not None else None,
            )
        return payload

    def _with_escalated(self, monitor: Monitor, channels: Sequence[str]) -> Sequence[str]:
        """Every channel that got the outage's DOWN gets its UP: the escalation steps' too."""
        book = self.incidents
        if book is None or (ref := book.ref(monitor.name)) is None or not monitor.escalate:
            return channels
        configured = self.config.channel_settings
        extra = [
            c
            for sent in book.escalated(ref).values()
            for c in sent
            if (settings := configured.get(c)) is not None
            and (settings.kinds is None or str(AlertKind.UP) in settings.kinds)
        ]
        return tuple(dict.fromkeys([*channels, *extra]))


_OUTAGE_KINDS = frozenset({AlertKind.DOWN, AlertKind.REMINDER, AlertKind.UP})


def message_domain(config: Config) -> str:
    """The domain of the Message-IDs of every channel's messages: the email sender's."""
    if config.email is None:
        return "probed"
    # Message-IDs on the sender's domain look less like spam than a bare "@probed".
    return parseaddr(config.email.sender)[1].rpartition("@")[2] or "probed"


def _same(a: _Basis, b: _Basis) -> bool:
    # Identity for the settings: comparing two configs of 10,000 monitors field by field
    # would cost more than the lookup this saves.
    return a[0] is b[0] and a[1] is b[1] and a[2] == b[2] and a[3] == b[3]
