"""The incidents of running monitors (docs/design.md §17): opened and closed with the
transitions, acknowledged, and told when their alerts went out.

``IncidentBook.__call__`` is a record hook (``probed.engine.pipeline.RecordHook``) that runs
before the alert recorder, inside the transaction that stores the check: a DOWN opens the
monitor's incident with its evidence, an UP (or a pause) closes it, in the same commit. What
the alert recorder needs for the payloads (the ID, links, evidence, whether it is
acknowledged) is kept in memory per monitor (``ref``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import structlog

from probed.config import Config, Monitor
from probed.engine.pipeline import Tracked
from probed.errors import StoreWriteError
from probed.evidence import Evidence
from probed.incidents.budget import EvidenceBudget
from probed.incidents.links import ack_path, incident_path, load_key
from probed.metrics import Metrics
from probed.model import CheckResult, Transition, TransitionKind
from probed.store import Store
from probed.store.incidents import AckOutcome, IncidentRow
from probed.units import iso

log = structlog.get_logger("probed")

_ENDS = (TransitionKind.UP, TransitionKind.PAUSED)


@dataclass(frozen=True, slots=True)
class IncidentRef:
    """A monitor's latest incident as alerts show it."""

    id: int
    code: str
    confirmed: datetime
    severity: str
    open: bool = True
    acked: bool = False
    confirming: CheckResult | None = None
    """The check that confirmed the outage (its evidence goes into the DOWN alert)."""
    last_good: CheckResult | None = None


def check_json(result: CheckResult) -> dict[str, Any]:
    """A check with its evidence, as the incident keeps it."""
    t = result.timings
    out: dict[str, Any] = {
        "at": iso(result.at),
        "ok": result.ok,
        "reason": result.reason,
        "status_code": result.status_code,
        "timings": {
            "dns": t.dns,
            "connect": t.connect,
            "tls": t.tls,
            "first_byte": t.first_byte,
            "total": t.total,
        },
    }
    if result.evidence is not None:
        out["evidence"] = result.evidence.to_json()
    return out


def last_good_json(result: CheckResult) -> dict[str, Any]:
    return {
        "at": iso(result.at),
        "status_code": result.status_code,
        "response_seconds": result.duration,
        "reason": result.reason,
    }


class IncidentBook:
    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        now: Callable[[], datetime],
        config: Config,
        key: bytes | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.now = now
        self.config = config
        self.key = key if key is not None else load_key(config.settings.state_dir)
        self._refs: dict[str, IncidentRef] = {}
        self.budget = EvidenceBudget()
        self._escalated: dict[int, dict[int, tuple[str, ...]]] = {}
        """Per incident id, the escalation steps sent (index → channels), read from its
        timeline when first asked (so a restart never sends a step twice)."""
        self._first_failed: dict[str, CheckResult] = {}
        self._last_good: dict[str, CheckResult] = {}

    def configure(self, config: Config) -> None:
        self.config = config

    def load(self, monitors: Iterable[Tracked]) -> None:
        """Take up the open incidents of configured monitors (at start), and give the ones an
        upgrade brought in their monitor's severity."""
        by_id = {t.id: t for t in monitors}
        with self.store.transaction():
            for t in by_id.values():
                self.store.incidents.fill_severity(t.id, t.monitor.severity)
        for row in self.store.incidents.open_ones():
            if (found := by_id.get(row.monitor_id)) is not None:
                self._refs[found.monitor.name] = _ref(row)

    def ref(self, monitor: str) -> IncidentRef | None:
        return self._refs.get(monitor)

    def links(self, ref: IncidentRef) -> tuple[str, str]:
        """(incident URL, acknowledgement URL); empty without ``external_url``, and no
        acknowledgement link for an acknowledged or closed incident."""
        base = self.config.settings.external_url
        if not base:
            return "", ""
        ack = "" if ref.acked or not ref.open else base + ack_path(self.key, ref.code, self.now())
        return base + incident_path(ref.code), ack

    def __call__(
        self,
        tracked: Tracked,
        result: CheckResult | None,
        transitions: Sequence[tuple[int, Transition]],
        slowness: tuple[bool, float] | None = None,
    ) -> None:
        name = tracked.monitor.name
        if result is not None and not result.offline:
            if result.ok:
                self._last_good[name] = result
                self._first_failed.pop(name, None)
            else:
                self._first_failed.setdefault(name, result)
        for _, t in transitions:
            if t.kind is TransitionKind.DOWN:
                self._open(tracked, t, result)
            elif t.kind in _ENDS:
                self._close(tracked.monitor, t)

    def _open(self, tracked: Tracked, t: Transition, result: CheckResult | None) -> None:
        monitor, incidents = tracked.monitor, self.store.incidents
        name = monitor.name
        if (old := self._refs.get(name)) is not None and old.open:
            self._close(monitor, t)  # never two open incidents of one monitor
        first = self._first_failed.get(name, result)
        last_good = self._last_good.get(name)
        started = t.outage_start or (first.at if first else t.at)
        row = incidents.open(
            tracked.id,
            started=started,
            confirmed=t.at,
            severity=monitor.severity,
            runbook=monitor.runbook,
        )
        incidents.add_event(row.id, started, "failed", {"reason": first.reason if first else ""})
        incidents.add_event(row.id, t.at, "down", {"reason": t.reason})
        kept = {
            role: check_json(check)
            for role, check in (("opened", first), ("confirmed", result))
            if check is not None
        }
        checks = list(kept.values())
        self.budget.fit(checks, [len(json.dumps(c)) for c in checks], t.at)
        for role, data in kept.items():
            incidents.add_evidence(row.id, role, data)
        if last_good is not None:
            incidents.add_evidence(row.id, "last_good", last_good_json(last_good))
        self._refs[name] = replace(_ref(row), confirming=result, last_good=last_good)
        log.info("incident opened", incident=row.code, monitor=name, severity=monitor.severity)

    def _close(self, monitor: Monitor, t: Transition) -> None:
        ref = self._refs.get(monitor.name)
        if ref is None or not ref.open:
            return
        incidents = self.store.incidents
        incidents.close(ref.id, t.at)
        kind = "recovered" if t.kind is TransitionKind.UP else str(t.kind)
        incidents.add_event(ref.id, t.at, kind, {"reason": t.reason})
        # The evidence stays with the incident; memory keeps only what an UP alert shows.
        self._refs[monitor.name] = replace(ref, open=False, confirming=None, last_good=None)
        started = t.outage_start or ref.confirmed
        self.metrics.incident_resolve.labels(monitor.name, ref.severity).observe(
            max(0.0, (t.at - started).total_seconds())
        )
        log.info("incident closed", incident=ref.code, monitor=monitor.name)

    def ack(
        self, code: str, by: str, note: str | None = None
    ) -> tuple[AckOutcome, IncidentRow | None]:
        """Acknowledge an open incident: no more reminders or escalations for it."""
        now = self.now()
        with self.store.transaction():
            outcome = self.store.incidents.ack(code, by, note, now)
            row = self.store.incidents.get(code)
        if outcome is AckOutcome.DONE and row is not None:
            for name, ref in self._refs.items():
                if ref.code == code:
                    self._refs[name] = replace(ref, acked=True)
            seconds = row.ack_seconds()
            if seconds is not None:
                self.metrics.incident_ack.labels(row.monitor, row.severity or "").observe(
                    max(0.0, seconds)
                )
            log.info("incident acknowledged", incident=code, by=by, monitor=row.monitor)
        return outcome, row

    def escalated(self, ref: IncidentRef) -> dict[int, tuple[str, ...]]:
        """The escalation steps already sent for the incident: step index → channels."""
        known = self._escalated.get(ref.id)
        if known is None:
            known = {}
            for event in self.store.incidents.events(ref.id):
                if event.kind == "escalated" and isinstance(step := event.detail.get("step"), int):
                    known[step - 1] = tuple(str(c) for c in event.detail.get("channels") or ())
            self._escalated[ref.id] = known
        return known

    def note_escalation(
        self, ref: IncidentRef, step: int, channels: Sequence[str], after: float, at: datetime
    ) -> None:
        """Record that step ``step`` (0-based) went to ``channels``, inside the transaction
        that writes its alerts."""
        detail = {"step": step + 1, "after_seconds": after, "channels": list(channels)}
        self.store.incidents.add_event(ref.id, at, "escalated", detail)
        self.escalated(ref)[step] = tuple(channels)

    def stored_evidence(self, ref: IncidentRef) -> tuple[Evidence | None, CheckResult | None]:
        """The confirming check's evidence and the last good check, from memory or, after a
        restart, from the store (the last good as far as an alert shows it)."""
        if ref.confirming is not None or not ref.open:
            return (ref.confirming.evidence if ref.confirming else None), ref.last_good
        stored = self.store.incidents.evidence(ref.id)
        data = stored.get("confirmed", {}).get("evidence")
        evidence = Evidence.from_json(data) if isinstance(data, dict) else None
        return evidence, None

    def alerts_sent(self, sent: Iterable[tuple[str, str, str]], at: datetime) -> None:
        """Note on the timelines that channels accepted alerts: (incident ID, channel, kind)."""
        try:
            with self.store.transaction():
                for code, channel, kind in sent:
                    if (row := self.store.incidents.get(code)) is not None:
                        detail = {"channel": channel, "kind": kind}
                        self.store.incidents.add_event(row.id, at, "alert", detail)
        except StoreWriteError as exc:  # the alert went out; only its timeline entry is lost
            log.warning("incident timeline not written", error=str(exc))


def _ref(row: IncidentRow) -> IncidentRef:
    return IncidentRef(
        row.id,
        row.code,
        row.confirmed,
        row.severity or "",
        open=row.ended is None,
        acked=row.acked is not None,
    )
