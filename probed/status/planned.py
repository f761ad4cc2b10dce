"""Planned work for the feeds and the summary: the maintenance windows of monitors.toml as
occurrences that are coming (within ``AHEAD``), running, or over (within ``BEHIND``) (pure).

One-off windows are taken as written; a weekly window gives its current occurrence and the
next ones starting within ``AHEAD``. Stored windows (``probed maintenance add``) join here
when they exist: this is the one function the feeds and the summary read planned work from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from probed.config.maintenance import MaintenanceWindow

AHEAD = timedelta(days=7)
"""How long before its start planned work is announced (as on the page)."""
BEHIND = timedelta(days=30)
"""How long after its end it is still listed."""


@dataclass(frozen=True, slots=True)
class Planned:
    """One occurrence of a maintenance window."""

    name: str
    monitors: tuple[str, ...] | None
    """The names it covers, in the order given; None for every monitor (``"*"``)."""
    start: datetime
    end: datetime

    def state(self, now: datetime) -> str:
        """``upcoming``, ``in_progress`` or ``completed`` at ``now``."""
        if now < self.start:
            return "upcoming"
        return "in_progress" if now < self.end else "completed"

    def changed(self, now: datetime) -> datetime:
        """When it last changed state as a reader sees it: announced (``AHEAD`` before the
        start), started, or ended."""
        if now >= self.end:
            return self.end
        return self.start if now >= self.start else self.start - AHEAD


def planned(windows: Iterable[MaintenanceWindow], now: datetime) -> list[Planned]:
    """The occurrences from ``BEHIND`` ago to ``AHEAD`` from ``now``, newest start first."""
    found: list[Planned] = []
    for w in windows:
        names = None if w.monitors is None else tuple(sorted(w.monitors))
        for start, end in _occurrences(w, now):
            if end > now - BEHIND and start <= now + AHEAD:
                found.append(Planned(w.name, names, start, end))
    found.sort(key=lambda p: (p.start, p.name), reverse=True)
    return found


def _occurrences(w: MaintenanceWindow, now: datetime) -> list[tuple[datetime, datetime]]:
    if w.start is not None and w.end is not None:
        return [(w.start, w.end)]
    if w.time is None:
        return []
    # Past weekly occurrences are routine: only the running one and those ahead are news.
    zone = ZoneInfo(w.timezone)
    today = now.astimezone(zone).date()
    out = []
    for offset in range(-8, AHEAD.days + 1):
        day = today + timedelta(days=offset)
        if day.weekday() in w.days:
            start = datetime.combine(day, w.time, tzinfo=zone).astimezone(UTC)
            end = start + timedelta(seconds=w.duration)
            if end > now:
                out.append((start, end))
    return out
