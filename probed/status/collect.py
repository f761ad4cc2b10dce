"""Reads the daemon's state and history into a ``StatusReport`` (public monitors only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from probed.engine.pipeline import Tracked
from probed.history import History
from probed.history.uptime import incidents
from probed.model import Status, TransitionKind
from probed.status.banner import overall
from probed.status.days import dates, days
from probed.status.report import (
    AnnouncementReport,
    IncidentReport,
    MonitorReport,
    StatusReport,
)
from probed.status.slo import WINDOW_SECONDS, budget
from probed.units import from_ms, to_ms

DAY = timedelta(days=1)
BAR_DAYS = 90
INCIDENT_DAYS = 30
DOWN = TransitionKind.DOWN
_SPANS = {"1d": DAY, "7d": 7 * DAY, "30d": 30 * DAY, "90d": 90 * DAY}


def collect(
    tracked: list[Tracked],
    history: History,
    now: datetime,
    *,
    title: str,
    show_urls: bool,
) -> StatusReport:
    """The status of the public monitors in ``tracked`` (configuration order) at ``now``."""
    public = [t for t in tracked if t.monitor.public]
    ids = [t.id for t in public]
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first_day = midnight - (BAR_DAYS - 1) * DAY
    calendar = dates(first_day, BAR_DAYS)
    loaded = history.timelines(ids, min(first_day, now - _SPANS["90d"]))
    charts = history.hourly_response(ids, now - DAY, now)
    means = history.mean_response(ids, now - DAY, now)
    monitors: list[MonitorReport] = []
    found: list[IncidentReport] = []
    for t in public:
        changes, timeline = loaded[t.id]
        m = t.monitor
        slo = None
        if m.slo is not None:
            up, down = timeline.seconds(now - timedelta(seconds=WINDOW_SECONDS), now)
            slo = budget(m.slo, up, down)
        monitors.append(
            MonitorReport(
                id=t.id,
                name=m.name,
                group=m.group,
                url=m.display_url if show_urls else None,
                status=t.state.status,
                degraded=t.degraded and t.state.status is Status.UP,
                since=t.state.since,
                uptime={k: timeline.ratio(now - span, now) for k, span in _SPANS.items()},
                days=days(timeline, first_day, calendar),
                response=charts.get(t.id, []),
                avg_response=means.get(t.id),
                slo=slo,
            )
        )
        horizon = now - INCIDENT_DAYS * DAY
        # Most monitors had no outage in the window: skip the period maths for them.
        outages = incidents(changes) if any(c.kind is DOWN for c in changes) else []
        for p in outages:
            if p.end is None or p.end > horizon:
                found.append(IncidentReport(m.name, p.start, p.end, p.duration(now), p.reason))
    found.sort(key=lambda i: (i.end is None, i.start), reverse=True)
    now_ms = to_ms(now)
    assert now_ms is not None
    notices = [
        AnnouncementReport(a.id, a.message, a.level, _at(a.created_ms), from_ms(a.expires_ms))
        for a in history.store.announcements.current(now_ms)
    ]
    return StatusReport(
        title=title,
        now=now,
        overall=overall((r.status, r.degraded) for r in monitors),
        announcements=notices,
        monitors=monitors,
        incidents=found,
    )


def _at(ms: int) -> datetime:
    at = from_ms(ms)
    assert at is not None
    return at
