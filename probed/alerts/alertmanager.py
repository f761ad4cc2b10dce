"""The Alertmanager channel: alerts POSTed to ``<url>/api/v2/alerts`` of every URL listed
(docs/design.md §4, docs/interfaces.md §3), kept firing the way Prometheus keeps them.

A DOWN (or REMINDER) makes ``ProbedMonitorDown`` fire with ``startsAt`` = the outage start; an
UP resolves it with ``endsAt`` = the recovery. Firing alerts are re-sent every
``resend_every`` with ``endsAt`` four times that far ahead, so two lost sends do not resolve
them; resolved ones are re-sent for ``KEEP_RESOLVED`` (Alertmanager keeps no state across its own
restarts). What fires is stored, so a probed restart goes on re-sending it without a gap.

Delivery counts when at least one Alertmanager took the alerts (an HA pair shares them); the
next refresh reaches the one that missed them.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog

from probed.alerts.channels import ChannelParts
from probed.alerts.evidence_text import first_line
from probed.alerts.http_post import post, receiver
from probed.alerts.messages import Message, subject
from probed.alerts.payload import Payload
from probed.config.channels import AlertmanagerChannel
from probed.errors import NotifierError, StoreWriteError
from probed.model import AlertKind
from probed.store import FiringRecord, Store
from probed.store.alertmanager import AlertmanagerTable
from probed.units import iso

log = structlog.get_logger("probed")

DOWN, CERT, DEGRADED = "ProbedMonitorDown", "ProbedCertificateExpiring", "ProbedMonitorDegraded"
FIRES = {"down": DOWN, "reminder": DOWN, "ssl": CERT, "degraded": DEGRADED}
"""Alert kinds that make an alert fire, and its alertname."""
RESOLVES = {"up": (DOWN, CERT), "recovered": (DEGRADED,)}
"""Alert kinds that resolve alerts of a monitor (a renewed certificate brings an ssl monitor
UP)."""
KEEP_RESOLVED = timedelta(minutes=5)
VALID_FOR = 4
"""``endsAt`` of a firing alert is this many resend intervals ahead (as Prometheus does)."""
PATH = "/api/v2/alerts"


def labels(p: Payload, alertname: str) -> dict[str, str]:
    """What identifies the alert: name, monitor, severity, location and the monitor's tags."""
    found = {tag: value for tag, value in p.tags}
    found |= {"alertname": alertname, "monitor": p.monitor, "severity": p.severity or "warning"}
    if p.location:
        found["location"] = p.location
    return found


def postable(p: Payload, alertname: str, kind: AlertKind) -> dict[str, Any]:
    """The alert without ``endsAt``: labels, annotations and ``startsAt``."""
    start = p.outage_start or p.at
    return {
        "labels": labels(p, alertname),
        "annotations": annotations_of(p, kind),
        "startsAt": iso(start) if start else None,
    }


def annotations_of(p: Payload, kind: AlertKind) -> dict[str, str]:
    """``summary``, ``reason``, ``url``, and those of an incident that are set: ``incident``,
    ``evidence`` (one line) and ``runbook_url`` (the name Prometheus rules use)."""
    found = {
        "summary": subject(kind, [p]).removeprefix("[probed] "),
        "reason": p.reason,
        "url": p.url,
    }
    extra = {"incident": p.incident, "evidence": first_line(p), "runbook_url": p.runbook}
    return found | {key: value for key, value in extra.items() if value}


class AlertmanagerNotifier:
    """Keeps the Alertmanagers of ``settings.urls`` told what fires."""

    @classmethod
    def from_settings(
        cls, name: str, settings: AlertmanagerChannel, parts: ChannelParts
    ) -> AlertmanagerNotifier:
        return cls(name, settings, parts.now, parts.store, parts.monitors)

    def __init__(
        self,
        name: str,
        settings: AlertmanagerChannel,
        now: Callable[[], datetime],
        store: Store | None = None,
        monitors: Collection[str] = (),
    ) -> None:
        self.name, self.settings, self.now, self.store = name, settings, now, store
        self.monitors = frozenset(monitors)
        """The monitors that alert through this channel; what others left firing is resolved."""
        self._next_refresh: datetime | None = now() if store is not None else None
        """None: nothing fires. The first round after a start re-sends what was firing."""

    @property
    def resend(self) -> timedelta:
        return timedelta(seconds=self.settings.resend_every)

    async def send(self, message: Message) -> str:
        now = self.now()
        kind = message.digest_of if message.kind is AlertKind.DIGEST else message.kind
        alerts: list[dict[str, Any]] = []
        for p in message.payloads:
            alerts += self._alerts(kind or message.kind, p, now)
        if message.kind is AlertKind.TEST:
            test: dict[str, Any] = {
                "labels": {"alertname": "ProbedTest", "severity": "none"},
                "annotations": {"summary": message.subject.removeprefix("[probed] ")},
                "startsAt": iso(now),
                "endsAt": iso(now + self.resend),
            }
            alerts.append(test)
        if not alerts:
            return "nothing to tell Alertmanager"
        return await self._post(alerts)

    def _alerts(self, kind: AlertKind, p: Payload, now: datetime) -> list[dict[str, Any]]:
        """The alerts one payload fires or resolves, recorded in the store."""
        out: list[dict[str, Any]] = []
        firing = FIRES.get(str(kind))
        if firing is not None:
            alert = postable(p, firing, kind)
            text = json.dumps(alert)
            self._write(lambda table: table.fire(self.name, p.monitor, firing, text))
            out.append(alert | {"endsAt": iso(now + self.resend * VALID_FOR)})
            self._next_refresh = min(self._next_refresh or now + self.resend, now + self.resend)
        at = p.at or now
        stored = {r.alertname: r for r in self._stored() if r.monitor == p.monitor}
        for name in RESOLVES.get(str(kind), ()):
            self._write(functools.partial(_resolve, self.name, p.monitor, name, at))
            if name in stored:
                alert = json.loads(stored[name].alert)
            elif name == DOWN:
                alert = postable(p, name, AlertKind.DOWN)  # resolve it even if we lost track
            else:
                continue
            out.append(alert | {"endsAt": iso(at)})
            self._next_refresh = min(self._next_refresh or now + self.resend, now + self.resend)
        return out

    def refresh_due(self) -> datetime | None:
        return self._next_refresh

    async def refresh(self) -> None:
        """Re-send what fires (and what resolved lately); forget what resolved long ago."""
        now = self.now()
        self._write(lambda s: s.forget(self.name, now - KEEP_RESOLVED))
        for r in self._stored():
            if r.resolved_at is None and r.monitor not in self.monitors:
                # Removed from the config (or from this channel) while firing: nothing would
                # ever resolve it.
                self._write(functools.partial(_resolve, self.name, r.monitor, r.alertname, now))
        rows = self._stored()
        self._next_refresh = now + self.resend if rows else None
        if not rows:
            return
        alerts = []
        for r in rows:
            ends = r.resolved_at or now + self.resend * VALID_FOR
            alerts.append(json.loads(r.alert) | {"endsAt": iso(ends)})
        try:
            await self._post(alerts)
        except NotifierError as exc:
            # The alerts stay valid for VALID_FOR resend intervals: the next refresh has time.
            log.warning("alertmanager refresh failed", channel=self.name, error=str(exc))
            return
        keys = [(r.monitor, r.alertname) for r in rows]
        self._write(lambda s: s.sent(self.name, keys, now))

    async def _post(self, alerts: Sequence[dict[str, Any]]) -> str:
        body = json.dumps(list(alerts)).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "probed"}
        timeout = self.settings.timeout
        results = await asyncio.gather(
            *(post(url.rstrip("/") + PATH, body, headers, timeout) for url in self.settings.urls),
            return_exceptions=True,
        )
        answers, errors = [], []
        for url, result in zip(self.settings.urls, results, strict=True):
            if isinstance(result, NotifierError):
                errors.append(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                answers.append(f"{receiver(url)} {result}")
        if not answers:
            permanent = all(e.permanent for e in errors)
            raise NotifierError("; ".join(map(str, errors)), permanent=permanent)
        for error in errors:
            log.warning("alertmanager did not take alerts", channel=self.name, error=str(error))
        return "; ".join(answers)

    def _stored(self) -> list[FiringRecord]:
        return [] if self.store is None else self.store.alertmanager.rows(self.name)

    def _write(self, change: Callable[[AlertmanagerTable], object]) -> None:
        """Change the stored alerts; on a full disk the change is lost, and logged (a firing
        alert is then re-sent only while this process runs)."""
        if self.store is None:
            return
        try:
            with self.store.transaction():
                change(self.store.alertmanager)
        except StoreWriteError as exc:
            log.error("alertmanager state not stored", channel=self.name, error=str(exc))


def _resolve(channel: str, monitor: str, name: str, at: datetime, table: AlertmanagerTable) -> None:
    table.resolve(channel, monitor, name, at)
