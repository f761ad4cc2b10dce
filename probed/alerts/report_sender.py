"""The report step of the dispatcher's round (docs/design.md §18.6): when a period has ended,
queue its report for the ``[report] alert`` channels through the durable outbox, once.

The outbox rows and the period's mark commit in one transaction, so a restart neither loses
the report nor sends it twice; a report that fell due while probed was stopped goes out at
the first round after the start. The first start on a schedule marks the period just ended
without sending it: probed did not watch it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import structlog

from probed.alerts.outbox import Outbox, StormRule
from probed.alerts.payload import Payload
from probed.alerts.policy import Alert
from probed.alerts.recorder import message_domain
from probed.config import Config
from probed.config.report import ReportSettings
from probed.errors import StoreWriteError
from probed.history import History
from probed.model import AlertKind
from probed.reports.collect import collect
from probed.reports.schedule import latest_end, next_end, period_before
from probed.units import to_ms

log = structlog.get_logger("probed")

LABELS = {"1w": "week", "1mo": "month"}
RETRY = timedelta(minutes=10)
"""How long after a failed report it is tried again."""


def _ms(at: datetime) -> int:
    ms = to_ms(at)
    assert ms is not None
    return ms


class ReportSender:
    """Queues each period's report once; ``tick`` is called every dispatcher round."""

    def __init__(
        self,
        history: History,
        outbox: Outbox,
        config: Config,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.history = history
        self.outbox = outbox
        self.config = config
        """Replaced by a reload (``configure``): its [report] applies from the next round."""
        self.wake = wake
        self._held: set[tuple[str, int]] = set()
        """Periods whose rows and mark the file could not take: the outbox holds the rows in
        memory and writes them later, so they are not queued again; the mark is written by a
        later round."""
        self._retry_at: datetime | None = None
        """After a report failed: not tried again before this."""

    def configure(self, config: Config) -> None:
        self.config = config

    def tick(self, now: datetime) -> datetime | None:
        """Queue the report of the period that ended last, unless decided; when the next is
        due (None: no report configured)."""
        settings = self.config.report
        if settings is None or not settings.alert:
            return None
        if self._retry_at is not None and now < self._retry_at:
            return self._retry_at
        self._retry_at = None
        try:
            self._due(settings, now)
        except Exception:
            # It runs in the alerts' round, before their deliveries: a report that cannot be
            # made must not hold up an alert. It is tried again later.
            log.exception("report failed", every=settings.every)
            self._retry_at = now + RETRY
            return self._retry_at
        return next_end(settings, now)

    def _due(self, settings: ReportSettings, now: datetime) -> None:
        end = latest_end(settings, now)
        end_ms = _ms(end)
        store = self.history.store
        key = (settings.every, end_ms)
        if store.report_marks.decided(*key):
            return
        if key in self._held:
            # Its rows wait in the outbox's memory until the file takes them: only the mark
            # is left to write (StoreWriteError again: the next try is in RETRY).
            with store.transaction():
                store.report_marks.add(*key, _ms(now), sent=True)
            self._held.discard(key)
            return
        self._decide(settings, end, end_ms, now, first=store.report_marks.latest(key[0]) is None)

    def _decide(
        self, settings: ReportSettings, end: datetime, end_ms: int, now: datetime, *, first: bool
    ) -> None:
        store = self.history.store
        now_ms = _ms(now)
        if first:
            with store.transaction():
                store.report_marks.add(settings.every, end_ms, now_ms, sent=False)
            log.info("report schedule started", every=settings.every, first_period_end=str(end))
            return
        start, _ = period_before(settings, end)
        config = self.config.in_shard()
        report = collect(self.history, config.monitors, start, end, LABELS[settings.every])
        payload = Payload(report=report.to_json() | {"zone": settings.timezone}, at=end)
        alert = Alert(AlertKind.REPORT, "", payload)
        storm = StormRule(config.settings.storm_threshold, config.settings.storm_window)
        try:
            with store.transaction():
                store.report_marks.add(settings.every, end_ms, now_ms, sent=True)
                for channel in settings.alert:
                    self.outbox.add(alert, channel, now, storm, message_domain(config))
        except StoreWriteError:
            self._held.add((settings.every, end_ms))
        log.info(
            "report queued",
            every=settings.every,
            period_end=str(end),
            channels=list(settings.alert),
            monitors=len(report.monitors),
        )
        self.wake()
