"""Reads the daemon's state and history into a ``StatusReport`` (public monitors only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from probed.config.maintenance import MaintenanceWindow
from probed.engine.pipeline import Tracked
from probed.history import History
from probed.history.slo import WINDOW_SECONDS, budget
from probed.model import Status
from probed.status.banner import overall
from probed.status.days import daily_kept, dates
from probed.status.maintenance import public_maintenance
from probed.status.posted import banner, posted
from probed.status.report import (
    AnnouncementReport,
    IncidentReport,
    MaintenanceReport,
    MonitorReport,
    StatusReport,
)
from probed.store import MaintenanceRow
from probed.units import from_ms, to_ms

DAY = timedelta(days=1)
BAR_DAYS = 90
INCIDENT_DAYS = 30
_SPANS = {"1d": DAY, "7d": 7 * DAY, "30d": 30 * DAY, "90d": 90 * DAY}


def collect(
    tracked: list[Tracked],
    history: History,
    now: datetime,
    *,
    title: str,
    show_urls: bool,
    windows: Sequence[MaintenanceWindow] = (),
    stored: Sequence[MaintenanceRow] = (),
) -> StatusReport:
    """The status of the public monitors in ``tracked`` (configuration order) at ``now``, with
    the maintenance windows (monitors.toml's ``windows``, the ``stored`` ones) that name them."""
    public = [t for t in tracked if t.monitor.public]
    ids = [t.id for t in public]
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first_day = midnight - (BAR_DAYS - 1) * DAY
    calendar = dates(first_day, BAR_DAYS)
    # From the changes kept in memory (history.changelog): reading and deriving them again
    # at every render was most of a large page's cost.
    loaded = history.kept_timelines(ids, min(first_day, now - _SPANS["90d"]))
    charts, means = history.response_24h(ids, now - DAY, now)
    monitors: list[MonitorReport] = []
    found: list[IncidentReport] = []
    horizon = now - INCIDENT_DAYS * DAY
    told, marks = posted(history.store.incidents, public, horizon)
    end = now.timestamp()
    # The 30 days of the SLO's window are the 30 days of uptime: one more start for its sake
    # would only add the same terms again.
    starts = [end - span.total_seconds() for span in _SPANS.values()]
    slo_window = list(_SPANS).index("30d")
    assert _SPANS["30d"].total_seconds() == WINDOW_SECONDS
    for t in public:
        timeline, kept = loaded[t.id]
        m = t.monitor
        seconds = timeline.windows(starts, end)
        slo = None
        if m.slo is not None:
            slo = budget(m.slo, *seconds[slo_window])
        monitors.append(
            MonitorReport(
                id=t.id,
                name=m.name,
                group=m.group,
                url=m.display_url if show_urls else None,
                status=t.state.status,
                degraded=t.degraded and t.state.status is Status.UP,
                since=t.state.since,
                uptime={k: _ratio(*s) for k, s in zip(_SPANS, seconds, strict=True)},
                daily=daily_kept(kept, timeline, first_day, calendar, midnight),
                response=charts.get(t.id, []),
                avg_response=means.get(t.id),
                slo=slo,
                marked=marks.get(t.id),
            )
        )
        for p in kept.incidents:
            if p.end is None or p.end > horizon:
                found.append(IncidentReport(m.name, p.start, p.end, p.duration(now), p.reason))
    found.sort(key=lambda i: (i.end is None, i.start), reverse=True)
    now_ms = to_ms(now)
    assert now_ms is not None
    notices = [
        AnnouncementReport(a.id, a.message, a.level, _at(a.created_ms), from_ms(a.expires_ms))
        for a in history.store.announcements.current(now_ms)
    ]
    maintenance = [
        MaintenanceReport(o.key, o.name, names, o.start, o.end, o.state(now))
        for o, names in public_maintenance(windows, stored, [t.monitor.name for t in public], now)
    ]
    return StatusReport(
        title=title,
        now=now,
        overall=banner(overall((r.status, r.degraded) for r in monitors), told),
        announcements=notices,
        monitors=monitors,
        incidents=found,
        posted=told,
        maintenance=maintenance,
    )


def _ratio(up: float, down: float) -> float | None:
    """``Timeline.ratio`` of these seconds."""
    total = up + down
    return None if total <= 0 else up / total


def _at(ms: int) -> datetime:
    at = from_ms(ms)
    assert at is not None
    return at
