"""Maintenance notices for subscribers (docs/design.md §18.4): each window that names a public
monitor is announced once, 24 h before it starts (or at once, when it was added later).

Keys have the form of ``probed.status.maintenance.Occurrence.key`` (``toml-<name>@<start>``), so
a notice is sent once across restarts and reloads; one-off and weekly windows of monitors.toml
and stored ones (``probed maintenance add``) are all announced.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from probed.config.maintenance import MaintenanceWindow
from probed.status.maintenance import windows_between
from probed.store import MaintenanceRow

AHEAD = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Upcoming:
    key: str
    name: str
    monitors: tuple[str, ...]
    """The public monitors it names, in the config's order."""
    start: datetime
    end: datetime


def upcoming(
    windows: Iterable[MaintenanceWindow],
    stored: Iterable[MaintenanceRow],
    public: Sequence[str],
    now: datetime,
) -> list[Upcoming]:
    """Occurrences not started yet within a week (one-off and weekly windows of monitors.toml,
    stored ones) that name a public monitor, by start."""
    found = []
    for o in windows_between(windows, stored, now, now + timedelta(days=8)):
        if o.start <= now:
            continue
        names = tuple(n for n in public if o.monitors is None or n in o.monitors)
        if names:
            found.append(Upcoming(o.key, o.name, names, o.start, o.end))
    return found


def due(notices: Iterable[Upcoming], now: datetime) -> list[Upcoming]:
    """Those whose notice is due now."""
    return [u for u in notices if u.start - AHEAD <= now]
