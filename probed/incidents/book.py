"""The incidents of running monitors (docs/design.md §17): opened and closed with the
transitions, acknowledged, and told when their alerts went out.

``IncidentBook.__call__`` is a record hook (``probed.engine.pipeline.RecordHook``) that runs
before the alert recorder, inside the transaction that stores the check: a DOWN opens the
monitor's incident with its evidence, an UP (or a pause) closes it, in the same commit. What
the alert recorder needs for the payloads (the ID, links, evidence, whether it is
acknowledged) is kept in memory per monitor (``ref``).

Why one module of ~400 lines: every path that changes an incident (the record hook, manual
incidents and updates, acknowledgement, escalation bookkeeping, alert deliveries) shares the
in-memory refs and the numbering; the parts without that state live beside it (``writes``,
``inputs``, ``records``, ``budget``, ``links``).

Writes go through ``IncidentWrites`` (``incidents/writes.py``), which keeps them in order
through a full disk. The ID an alert already named is kept: numbers are given out from the
stored sequence and the ones given out since this start, whichever is higher.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import structlog

from probed.config import Config, Monitor
from probed.engine.pipeline import Tracked
from probed.errors import StoreWriteError
from probed.evidence import Evidence
from probed.incidents.budget import EvidenceBudget
from probed.incidents.inputs import IMPACTS, IncidentInputError, choice
from probed.incidents.inputs import text as text_of
from probed.incidents.links import ack_path, incident_path, load_key
from probed.incidents.records import check_json, last_good_json
from probed.incidents.writes import IncidentWrites
from probed.metrics import Metrics
from probed.model import CheckResult, Transition, TransitionKind
from probed.store import Store
from probed.store.incidents import STAGES, AckOutcome, IncidentRow, UpdateRow

log = structlog.get_logger("probed")

_ENDS = (TransitionKind.UP, TransitionKind.PAUSED)


@dataclass(frozen=True, slots=True)
class IncidentRef:
    """A monitor's latest incident as alerts show it."""

    code: str
    confirmed: datetime
    severity: str
    open: bool = True
    acked: bool = False
    confirming: CheckResult | None = None
    """The check that confirmed the outage (its evidence goes into the DOWN alert)."""
    last_good: CheckResult | None = None


@dataclass(frozen=True, slots=True)
class News:
    """What the people who depend on a service hear of (subscriptions, feeds): an incident
    ``opened``, ``updated`` (an update posted) or ``resolved``."""

    kind: str
    code: str
    at: datetime
    update: UpdateRow | None = None


NewsListener = Callable[[News], None]
"""Told of news inside the transaction that stores it (what it writes commits with it)."""


class IncidentBook:
    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        now: Callable[[], datetime],
        config: Config,
        key: bytes | None = None,
        monitors: Mapping[str, Tracked] | None = None,
    ) -> None:
        self.store = store
        self.monitors: Mapping[str, Tracked] = {} if monitors is None else monitors
        """The pipeline's live view of the configured monitors (manual incidents name them)."""
        self.metrics = metrics
        self.now = now
        self.config = config
        self.key = key if key is not None else load_key(config.settings.state_dir)
        self._refs: dict[str, IncidentRef] = {}
        self.budget = EvidenceBudget()
        self._numbers: dict[int, int] = {}
        """The highest number given out per year since this start (a number the file did not
        take yet is still given)."""
        self.writes = IncidentWrites(store)
        self._escalated: dict[str, dict[int, tuple[str, ...]]] = {}
        """Per incident ID, the escalation steps sent (index → channels), read from its
        timeline when first asked (so a restart never sends a step twice)."""
        self.listeners: list[NewsListener] = []
        """Told of every incident opened, updated or resolved (subscriptions)."""
        self._first_failed: dict[str, CheckResult] = {}
        self._last_good: dict[str, CheckResult] = {}

    def configure(self, config: Config) -> None:
        self.config = config

    def load(self, monitors: Iterable[Tracked]) -> None:
        """Take up the open incidents of configured monitors not known yet (at start, and a
        monitor a reload adds), and give the ones an upgrade brought in their monitor's
        severity. What memory holds already (the evidence of the DOWN) is kept."""
        by_id = {t.id: t for t in monitors}
        with self.store.transaction():
            self.store.incidents.fill_severity({i: t.monitor.severity for i, t in by_id.items()})
        for row in self.store.incidents.open_ones():
            if row.monitor_id is not None and (found := by_id.get(row.monitor_id)) is not None:
                self._refs.setdefault(found.monitor.name, _ref(row))

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
        year = t.at.year
        number = max(incidents.last_number(year), self._numbers.get(year, 0)) + 1
        self._numbers[year] = number
        code = f"INC-{year}-{number:03d}"
        monitor_id, severity, runbook = tracked.id, monitor.severity, monitor.runbook

        def store_it() -> None:
            incidents.open(
                monitor_id,
                code=code,
                year=year,
                number=number,
                started=started,
                confirmed=t.at,
                severity=severity,
                runbook=runbook,
            )

        self._queue(code, store_it)
        self._event(code, started, "failed", {"reason": first.reason if first else ""})
        self._event(code, t.at, "down", {"reason": t.reason})
        kept = {
            role: check_json(check)
            for role, check in (("opened", first), ("confirmed", result))
            if check is not None
        }
        checks = list(kept.values())
        self.budget.fit(checks, [len(json.dumps(c)) for c in checks], t.at)
        if last_good is not None:
            kept["last_good"] = last_good_json(last_good)
        self._queue(code, lambda: self._store_evidence(code, kept))
        self._refs[name] = IncidentRef(code, t.at, severity, confirming=result, last_good=last_good)
        self._tell(News("opened", code, t.at))
        log.info("incident opened", incident=code, monitor=name, severity=severity)

    def _store_evidence(self, code: str, kept: dict[str, dict[str, Any]]) -> None:
        incident_id = self._id(code)
        for role, data in kept.items():
            self.store.incidents.add_evidence(incident_id, role, data)

    def _id(self, code: str) -> int:
        row = self.store.incidents.get(code)
        assert row is not None, f"{code} is written before anything else of it"
        return row.id

    def _event(self, code: str, at: datetime, kind: str, detail: dict[str, Any]) -> None:
        self._queue(code, lambda: self.store.incidents.add_event(self._id(code), at, kind, detail))

    def _queue(self, code: str, write: Callable[[], None]) -> None:
        self.writes.queue(code, write)

    def write(self) -> None:
        """Write what the last event decided (``IncidentWrites.write``)."""
        self.writes.write()

    def persist(self) -> None:
        """Write what the file refused before, if it takes it now (each dispatcher round)."""
        self.writes.persist()

    def _close(self, monitor: Monitor, t: Transition) -> None:
        ref = self._refs.get(monitor.name)
        if ref is None or not ref.open:
            return
        code = ref.code
        self._queue(code, lambda: self.store.incidents.close(self._id(code), t.at))
        kind = "recovered" if t.kind is TransitionKind.UP else str(t.kind)
        self._event(code, t.at, kind, {"reason": t.reason})
        self._tell(News("resolved", code, t.at))
        # The evidence stays with the incident; memory keeps only what an UP alert shows.
        self._refs[monitor.name] = replace(ref, open=False, confirming=None, last_good=None)
        started = t.outage_start or ref.confirmed
        self.metrics.incident_resolve.labels(monitor.name, ref.severity).observe(
            max(0.0, (t.at - started).total_seconds())
        )
        log.info("incident closed", incident=ref.code, monitor=monitor.name)

    def _tell(self, news: News) -> None:
        for listener in self.listeners:
            try:
                listener(news)
            except StoreWriteError:
                raise
            except Exception:  # a listener's bug must not cost the incident or its alerts
                log.exception("incident news listener failed", incident=news.code)

    def open_manual(
        self,
        title: str,
        monitors: Sequence[str],
        *,
        stage: str = "investigating",
        impact: str = "minor",
        text: str | None = None,
        by: str | None = None,
    ) -> IncidentRow:
        """Open an incident for a problem no monitor sees (docs/design.md §17.5), with its
        first update; IncidentInputError for a bad title, stage, impact or monitor name."""
        title = text_of("title", title)
        choice("stage", stage, STAGES)
        choice("impact", impact, IMPACTS)
        if stage == "resolved":
            raise IncidentInputError("stage: a new incident cannot start resolved")
        text = text_of("text", text) if text is not None else title
        known = {name: t.id for name, t in self.monitors.items()}
        unknown = [m for m in monitors if m not in known]
        if unknown:
            raise IncidentInputError(f"monitor: no monitor named {', '.join(map(repr, unknown))}")
        now = self.now()
        self.persist()
        incidents = self.store.incidents
        year = now.year
        number = max(incidents.last_number(year), self._numbers.get(year, 0)) + 1
        code = f"INC-{year}-{number:03d}"
        with self.store.transaction():
            incident_id = incidents.open_manual(
                code=code,
                year=year,
                number=number,
                title=title,
                monitor_ids=[known[m] for m in dict.fromkeys(monitors)],
                impact=impact,
                stage=stage,
                at=now,
            )
            incidents.add_event(incident_id, now, "opened", {"title": title, "by": by})
            self._tell(News("opened", code, now))
            self._post(incident_id, code, now, stage, text, by)
            row = incidents.get(code)
        self._numbers[year] = number
        assert row is not None
        log.info("incident opened", incident=code, title=title, monitors=list(monitors))
        return row

    def add_update(
        self, code: str, stage: str, text: str, by: str | None = None
    ) -> tuple[UpdateRow, IncidentRow] | None:
        """Post an update (None: no such incident); "resolved" ends a manual incident, an
        automatic one ends with its monitor's UP. A closed incident still takes updates, and
        stages out of order are taken: people correct themselves."""
        choice("stage", stage, STAGES)
        text = text_of("text", text)
        now = self.now()
        self.persist()
        with self.store.transaction():
            row = self.store.incidents.get(code)
            if row is None:
                return None
            update = self._post(row.id, code, now, stage, text, by)
            after = self.store.incidents.get(code)
        assert after is not None
        log.info("incident updated", incident=code, stage=stage)
        return update, after

    def _post(
        self, incident_id: int, code: str, at: datetime, stage: str, text: str, by: str | None
    ) -> UpdateRow:
        incidents = self.store.incidents
        was_open = (row := incidents.get(code)) is not None and row.open
        update_id = incidents.add_update(incident_id, at, stage, text, by)
        incidents.add_event(incident_id, at, "update", {"stage": stage, "text": text, "by": by})
        update = UpdateRow(update_id, incident_id, code, at, stage, text, by)
        now_open = (row := incidents.get(code)) is not None and row.open
        self._tell(News("updated", code, at, update))
        if was_open and not now_open:
            self._tell(News("resolved", code, at, update))
        return update

    def ack(
        self, code: str, by: str, note: str | None = None
    ) -> tuple[AckOutcome, IncidentRow | None]:
        """Acknowledge an open incident: no more reminders or escalations for it."""
        now = self.now()
        self.persist()
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
        known = self._escalated.get(ref.code)
        if known is None:
            known = {}
            row = self.store.incidents.get(ref.code)
            for event in self.store.incidents.events(row.id) if row is not None else ():
                if event.kind == "escalated" and isinstance(step := event.detail.get("step"), int):
                    known[step - 1] = tuple(str(c) for c in event.detail.get("channels") or ())
            self._escalated[ref.code] = known
        return known

    def note_escalation(
        self, ref: IncidentRef, step: int, channels: Sequence[str], after: float, at: datetime
    ) -> None:
        """Record that step ``step`` (0-based) went to ``channels``, inside the transaction
        that writes its alerts."""
        self.escalated(ref)[step] = tuple(channels)
        detail = {"step": step + 1, "after_seconds": after, "channels": list(channels)}
        self._event(ref.code, at, "escalated", detail)
        self.write()

    def stored_evidence(self, ref: IncidentRef) -> tuple[Evidence | None, CheckResult | None]:
        """The confirming check's evidence and the last good check, from memory or, after a
        restart, from the store (the last good as far as an alert shows it)."""
        if ref.confirming is not None or not ref.open:
            return (ref.confirming.evidence if ref.confirming else None), ref.last_good
        row = self.store.incidents.get(ref.code)
        stored = self.store.incidents.evidence(row.id) if row is not None else {}
        data = stored.get("confirmed", {}).get("evidence")
        evidence = Evidence.from_json(data) if isinstance(data, dict) else None
        return evidence, None

    def alerts_sent(self, sent: Iterable[tuple[str, str, str]], at: datetime) -> None:
        """Note on the timelines that channels accepted alerts: (incident ID, channel, kind)."""
        for code, channel, kind in sent:
            if self.writes.waiting(code) or self.store.incidents.get(code) is not None:
                self._event(code, at, "alert", {"channel": channel, "kind": kind})
        self.write()


def _ref(row: IncidentRow) -> IncidentRef:
    return IncidentRef(
        row.code,
        row.confirmed,
        row.severity or "",
        open=row.ended is None,
        acked=row.acked is not None,
    )
