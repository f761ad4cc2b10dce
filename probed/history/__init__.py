"""Check history in the state database (docs/design.md §8): daemon runs, hourly and daily roll-ups,
retention.

``History`` is what the daemon, the APIs and the metrics use: it records when the daemon runs
(time it did not run is left out of uptime), rolls raw results up into hourly aggregates (and
those into daily ones after 90 days), prunes old rows in bounded steps, and answers the bulk
reads behind uptime and response times. Transitions (kept by the store) are the source of
states, incidents and pause periods.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from probed.history import reads
from probed.history.changelog import ChangeLog, Kept
from probed.history.hourly_log import HourlyLog, combine
from probed.history.rollup import (
    DAILY_TO,
    HOUR,
    ROLLED_UP_TO,
    Retention,
    prune_step,
    raw_horizon,
    rollup_step,
)
from probed.history.uptime import Change, Run, Timeline, observed, timeline
from probed.store import Store
from probed.units import from_ms, to_ms

__all__ = ["History", "Retention"]


def _ms(value: datetime) -> int:
    ms = to_ms(value)
    assert ms is not None
    return ms


class History:
    """History reads and upkeep over one Store; ``now`` is the injected clock."""

    def __init__(
        self,
        store: Store,
        now: Callable[[], datetime],
        retention: Retention | None = None,
    ) -> None:
        self.store = store
        self.now = now
        self.retention = retention or Retention()
        """Replaced by a reload (``configure``); applies from the next prune."""
        self.run_id: int | None = None
        self.changelog = ChangeLog(store)
        """The transitions kept in memory for the status page (see probed.history.changelog)."""
        self.hourly_log = HourlyLog(store)
        """The last day's hourly roll-ups kept in memory for the page's charts."""

    def configure(self, retention: Retention) -> None:
        """Take a reload's retention; it applies from the next prune."""
        self.retention = retention

    # Daemon runs: uptime only counts time the daemon was watching.

    def start_run(self) -> None:
        self.run_id = self.store.runs.start(_ms(self.now()))

    def heartbeat(self) -> None:
        """StoreWriteError when the file cannot take it (the next one makes up for it)."""
        if self.run_id is not None:
            with self.store.transaction():
                self.store.runs.seen(self.run_id, _ms(self.now()))

    def stop_run(self) -> None:
        if self.run_id is not None:
            with self.store.transaction():
                self.store.runs.stop(self.run_id, _ms(self.now()))
            self.run_id = None

    # Upkeep, one bounded step per call; each returns True while more work is ready.

    def rollup_step(self) -> bool:
        return rollup_step(self.store, _ms(self.now()))

    def prune_step(self) -> bool:
        return prune_step(self.store, _ms(self.now()), self.retention)

    def rolled_up_to(self) -> datetime | None:
        """Hours before this are rolled up (None: none yet)."""
        return from_ms(self.store.runs.meta(ROLLED_UP_TO))

    # Reads.

    def runs(self) -> list[Run]:
        """The daemon's run periods; the current run (if any) lasts until now."""
        out: list[Run] = []
        for id_, start, seen, _ in self.store.runs.all():
            began, last = from_ms(start), from_ms(seen)
            assert began is not None
            out.append((began, None if id_ == self.run_id else last))
        return out

    def changes(
        self, ids: Sequence[int] | None, since: datetime | None = None
    ) -> dict[int, list[Change]]:
        """Transitions by monitor id, oldest first: all of them, or those from ``since`` on plus
        the last one before it (the state the monitor was in at ``since``)."""
        return {
            mid: [Change(r.at, r.kind, r.new, r.reason, r.outage_start, r.id) for r in rows]
            for mid, rows in self.store.changes.changes(ids, since).items()
        }

    def timelines(
        self, ids: Sequence[int], since: datetime | None = None
    ) -> dict[int, tuple[list[Change], Timeline]]:
        """Each monitor's changes and observed timeline until now (see probed.history.uptime)."""
        now, runs = self.now(), self.runs()
        watched = observed(runs, now)
        changes = self.changes(ids, since)
        return {
            mid: (changes.get(mid, []), timeline(changes.get(mid, []), runs, now, watched))
            for mid in ids
        }

    def kept_timelines(
        self, ids: Sequence[int], since: datetime
    ) -> dict[int, tuple[Timeline, Kept]]:
        """Each monitor's timeline until now and incidents, as ``timelines`` and
        ``uptime.incidents`` make them from the changes since ``since``, from the changes
        kept in memory and what was derived from them before (``changelog``)."""
        return self.changelog.history(ids, since, self.runs(), self.now())

    def mean_response(
        self, ids: Sequence[int] | None, start: datetime, end: datetime
    ) -> dict[int, float]:
        """Mean response time (seconds) of good checks in [start, end), by monitor id."""
        meta = self.store.runs.meta
        return reads.mean_response(
            self.store, ids, _ms(start), _ms(end), meta(ROLLED_UP_TO), meta(DAILY_TO)
        )

    def hourly_response(
        self, ids: Sequence[int] | None, start: datetime, end: datetime
    ) -> dict[int, list[tuple[float, float]]]:
        """(hour as unix time, mean seconds) of good checks per hour in [start, end), by
        monitor id: one read for many monitors (the status page's charts)."""
        return reads.hourly_response(
            self.store, ids, _ms(start), _ms(end), self.store.runs.meta(ROLLED_UP_TO)
        )

    def response_24h(
        self, ids: Sequence[int], start: datetime, end: datetime
    ) -> tuple[dict[int, list[tuple[float, float]]], dict[int, float]]:
        """``hourly_response`` and ``mean_response`` of [start, end) in one go where they read
        the same rows: when hourly roll-ups reach past ``start`` and no daily ones do (a
        running daemon), both are the hours from the one holding ``start`` to the watermark,
        kept in memory (``hourly_log``), plus raw results after it."""
        meta = self.store.runs.meta
        rolled_up_to, daily_to = meta(ROLLED_UP_TO), meta(DAILY_TO)
        start_ms, end_ms = _ms(start), _ms(end)
        if rolled_up_to is None or rolled_up_to <= start_ms or (daily_to or 0) > start_ms:
            return self.hourly_response(ids, start, end), self.mean_response(ids, start, end)
        to = min(rolled_up_to, end_ms)
        hours = self.hourly_log.hours(start_ms, to)
        return combine(ids, hours, self.store.checks.good_buckets(ids, to, end_ms, HOUR))

    def recent_good(self, monitor_id: int, limit: int) -> list[float]:
        """Durations (seconds) of the monitor's latest ``limit`` good checks, newest first."""
        return self.store.checks.recent_good(monitor_id, limit)

    def response_series(
        self, monitor_id: int, start: datetime, end: datetime, bucket: float = 0.0
    ) -> list[tuple[float, float]]:
        """(unix time, seconds) of good checks in [start, end), oldest first."""
        return reads.response_series(self.store, self._series(monitor_id, start, end, bucket))

    def response_points(
        self, monitor_id: int, start: datetime, end: datetime, bucket: float = 0.0
    ) -> reads.ResponsePoints:
        """``response_series`` newest first in milliseconds, values rounded (UptimeRobot's
        ``response_times``), read in bulk: a day of checks at 60 s is 1,440 points."""
        return reads.response_points(self.store, self._series(monitor_id, start, end, bucket))

    def _series(
        self, monitor_id: int, start: datetime, end: datetime, bucket: float
    ) -> reads.SeriesRead:
        horizon = raw_horizon(self.store, _ms(self.now()), self.retention)
        daily_to = self.store.runs.meta(DAILY_TO)
        return reads.SeriesRead(
            monitor_id, _ms(start), _ms(end), round(bucket * 1000), horizon, daily_to
        )

    def last_cert_expiry(self, ids: Sequence[int]) -> dict[int, float]:
        """The most recent certificate expiry (unix seconds) each monitor recorded."""
        return {mid: ms / 1000 for mid, ms in self.store.checks.last_cert_expiry(ids).items()}

    def created_at(self) -> dict[int, float]:
        return self.store.monitors.created_at()
