"""Maintenance notices for subscribers (docs/design.md §18.4): each window that names a public
monitor is announced once, 24 h before it starts (or at once, when it was added later).

Keys have the form of ``probed.status.maintenance.Occurrence.key`` (``toml-<name>@<start>``), so
a notice is sent once across restarts and reloads. Here only monitors.toml's one-off windows
are dated; weekly and stored windows come in through the same ``Upcoming`` shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from probed.config.maintenance import MaintenanceWindow

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
    windows: Iterable[MaintenanceWindow], public: Sequence[str], now: datetime
) -> list[Upcoming]:
    """Windows not started yet that name a public monitor, by start."""
    found = []
    for w in windows:
        if w.start is None or w.end is None or w.start <= now:
            continue
        names = tuple(n for n in public if w.covers(n))
        if names:
            key = f"toml-{w.name}@{w.start.strftime('%Y%m%dT%H%MZ')}"
            found.append(Upcoming(key, w.name, names, w.start, w.end))
    return sorted(found, key=lambda u: u.start)


def due(notices: Iterable[Upcoming], now: datetime) -> list[Upcoming]:
    """Those whose notice is due now."""
    return [u for u in notices if u.start - AHEAD <= now]
