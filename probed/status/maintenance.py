"""Maintenance windows as the public sees them (docs/design.md §18.2): occurrences with a state.

``windows_between`` is the one place that turns monitors.toml's windows (one-off and weekly)
and the stored ones into dated occurrences; the page, the status JSON, feeds and subscriber
mails all start from it. ``public_maintenance`` picks what the page shows: what starts within
7 days, what runs now, and one-off windows that ended within 30 days.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from probed.config.maintenance import MaintenanceWindow
from probed.store.maintenance import MaintenanceRow

DAY = timedelta(days=1)
AHEAD = 7 * DAY
"""A window appears on the page this long before it starts."""
BEHIND = 30 * DAY
"""…and stays in its history this long after it ended."""


class MaintenanceState(StrEnum):
    UPCOMING = "upcoming"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One dated run of a maintenance window."""

    name: str
    monitors: frozenset[str] | None
    """Monitor names; None for every monitor (``"*"``)."""
    start: datetime
    end: datetime
    weekly: bool
    stored_id: int | None
    """The id of a window stored through the API; None for monitors.toml's."""

    @property
    def key(self) -> str:
        """Stable across restarts and reloads: which window, and which of its runs."""
        source = f"api-{self.stored_id}" if self.stored_id is not None else f"toml-{self.name}"
        return f"{source}@{self.start.strftime('%Y%m%dT%H%MZ')}"

    def state(self, now: datetime) -> MaintenanceState:
        if now < self.start:
            return MaintenanceState.UPCOMING
        return MaintenanceState.IN_PROGRESS if now < self.end else MaintenanceState.COMPLETED


def windows_between(
    config: Iterable[MaintenanceWindow],
    stored: Iterable[MaintenanceRow],
    start: datetime,
    end: datetime,
) -> list[Occurrence]:
    """Every occurrence that overlaps [start, end), by start (then name)."""
    found: list[Occurrence] = []
    for window in config:
        if window.start is not None and window.end is not None:
            found.append(
                Occurrence(window.name, window.monitors, window.start, window.end, False, None)
            )
        else:
            found.extend(_weekly(window, start, end))
    for row in stored:
        found.append(
            Occurrence(row.name, frozenset(row.monitors), row.start, row.end, False, row.id)
        )
    found = [o for o in found if o.start < end and o.end > start]
    found.sort(key=lambda o: (o.start, o.name))
    return found


def _weekly(window: MaintenanceWindow, start: datetime, end: datetime) -> list[Occurrence]:
    if window.time is None:
        return []
    zone = ZoneInfo(window.timezone)
    length = timedelta(seconds=window.duration)
    # An occurrence lasts at most a week, so one overlapping [start, end) began at most 8 local
    # days before start.
    day = (start - 8 * DAY).astimezone(zone).date()
    last = end.astimezone(zone).date()
    found = []
    while day <= last:
        if day.weekday() in window.days:
            at = datetime.combine(day, window.time, tzinfo=zone).astimezone(UTC)
            found.append(Occurrence(window.name, window.monitors, at, at + length, True, None))
        day += DAY
    return found


def public_maintenance(
    config: Iterable[MaintenanceWindow],
    stored: Iterable[MaintenanceRow],
    public: Collection[str],
    now: datetime,
) -> list[tuple[Occurrence, tuple[str, ...]]]:
    """What the page shows, each with the public monitors it names (in ``public``'s order):
    running and upcoming ones (within 7 days; a weekly window's next run only) by start, then
    one-off ones that ended within 30 days, newest first. A window naming no public monitor is
    not shown at all (its name is the operator's business)."""
    current: list[tuple[Occurrence, tuple[str, ...]]] = []
    past: list[tuple[Occurrence, tuple[str, ...]]] = []
    weekly_seen: set[str] = set()
    for occurrence in windows_between(config, stored, now - BEHIND, now + AHEAD):
        names = tuple(n for n in public if occurrence.monitors is None or n in occurrence.monitors)
        if not names:
            continue
        if occurrence.state(now) is MaintenanceState.COMPLETED:
            if not occurrence.weekly:
                past.append((occurrence, names))
        elif not occurrence.weekly:
            current.append((occurrence, names))
        elif occurrence.name not in weekly_seen:
            weekly_seen.add(occurrence.name)
            current.append((occurrence, names))
    past.sort(key=lambda p: p[0].end, reverse=True)
    return current + past


def when_text(start: datetime, end: datetime) -> str:
    """``Sat 12 Dec 02:00–03:00 UTC``, or both days when it ends on another day."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    first = f"{start:%a} {start.day} {start:%b %H:%M}"
    if start.date() == end.date():
        return f"{first}–{end:%H:%M} UTC"
    return f"{first} – {end:%a} {end.day} {end:%b %H:%M} UTC"
