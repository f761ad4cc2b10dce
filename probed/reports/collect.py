"""A report's figures read from the state database (docs/design.md §18.6): uptime from the
same timelines as ``/api/v1/monitors``, mean response time from the same read as its
``avg_response_seconds_*``, incidents from the incidents table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from probed.config import Monitor
from probed.history import History
from probed.history.rollup import floor_hour, raw_horizon
from probed.history.slo import WINDOW_SECONDS, budget
from probed.history.uptime import Timeline
from probed.reports.figures import (
    IncidentFigures,
    MonitorFigures,
    Report,
    Response,
    weighted_p95,
)
from probed.store import Store
from probed.store.incidents import IncidentRow
from probed.units import to_ms

MAX_INCIDENTS = 1000
"""Incidents read per monitor and period; more in a week is an outage, not a report."""


def _ms(value: datetime) -> int:
    ms = to_ms(value)
    assert ms is not None
    return ms


def collect(
    history: History,
    monitors: Sequence[Monitor],
    start: datetime,
    end: datetime,
    label: str,
) -> Report:
    """The report of [start, end) for ``monitors`` (those with no history are left out),
    compared with the period of the same length before it; ``end`` is at most now."""
    store = history.store
    known = store.monitors.ids()
    chosen = [(m, known[m.name]) for m in monitors if m.name in known]
    ids = [mid for _, mid in chosen]
    before = start - (end - start)
    window = timedelta(seconds=WINDOW_SECONDS)
    lines = history.timelines(ids, min(before, end - window))
    means = history.mean_response(ids, start, end)
    previous_means = history.mean_response(ids, before, start)
    out = []
    for monitor, mid in chosen:
        line = lines[mid][1]
        up, down = line.seconds(start, end)
        prev_up, prev_down = line.seconds(before, start)
        incidents = _incidents(store, mid, start, end)
        out.append(
            MonitorFigures(
                name=monitor.name,
                up_seconds=up,
                down_seconds=down,
                uptime_30d=line.ratio(end - window, end),
                slo=monitor.slo,
                **_budget(monitor, line, end - window, end),
                incidents=tuple(incidents),
                response=Response(means.get(mid), *_p95(history, mid, start, end)),
                slow_threshold=monitor.slow_threshold,
                previous_up_seconds=prev_up,
                previous_down_seconds=prev_down,
                previous_response=Response(
                    previous_means.get(mid), *_p95(history, mid, before, start)
                ),
                previous_incident_ids=tuple(i.id for i in _incidents(store, mid, before, start)),
            )
        )
    return Report(start, end, history.now(), label, tuple(out))


def _budget(
    monitor: Monitor, line: Timeline, start: datetime, end: datetime
) -> dict[str, float | None]:
    if monitor.slo is None:
        return {"budget_left_seconds": None, "budget_left_ratio": None}
    b = budget(monitor.slo, *line.seconds(start, end))
    return {"budget_left_seconds": b.remaining_seconds, "budget_left_ratio": b.remaining_ratio}


def _incidents(store: Store, mid: int, start: datetime, end: datetime) -> list[IncidentFigures]:
    """The monitor's incidents (automatic and manual) that overlap [start, end), oldest first,
    as they stood at ``end``."""
    rows, _ = store.incidents.find(monitor_id=mid, since=start, limit=MAX_INCIDENTS)
    return [_incident(r, end) for r in reversed(rows) if r.started < end]


def _incident(row: IncidentRow, end: datetime) -> IncidentFigures:
    over = row.ended is not None and row.ended <= end
    acked = row.acked is not None and row.acked <= end
    return IncidentFigures(
        id=row.code,
        title=row.title or row.monitor,
        started=row.started,
        duration_seconds=((row.ended if over and row.ended else end) - row.started).total_seconds(),
        ongoing=not over,
        ack_seconds=row.ack_seconds() if acked else None,
        resolve_seconds=row.resolve_seconds() if over else None,
    )


def _p95(history: History, mid: int, start: datetime, end: datetime) -> tuple[float | None, bool]:
    """The 95th percentile of the good checks' response times in [start, end) and whether it
    is exact: raw results where they are kept, each hour's mean (once per check) before."""
    store = history.store
    start_ms, end_ms = _ms(start), _ms(end)
    horizon = raw_horizon(store, _ms(history.now()), history.retention)
    points: list[tuple[float, int]] = []
    exact = horizon <= start_ms
    if not exact:
        # The hour holding ``start`` counts whole, as in the mean (history.reads).
        hours = store.rollups.good_series("hourly", mid, floor_hour(start_ms), min(horizon, end_ms))
        points += [(total / count / 1000, count) for _, total, count in hours]
        exact = not hours
    raw_from = max(start_ms, horizon)
    points += [(ms / 1000, 1) for _, ms in store.checks.good_series(mid, raw_from, end_ms)]
    return weighted_p95(points), exact
