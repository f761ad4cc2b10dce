"""Daily uptime: a monitor's observed up and down seconds, split by UTC day (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import repeat
from typing import NamedTuple

from probed.history.changelog import Kept
from probed.history.uptime import Timeline, per_day

DAY_SECONDS = 86400.0


class Day(NamedTuple):
    """A tuple, not a dataclass: the status JSON makes 90 per monitor."""

    date: date
    up_seconds: float
    down_seconds: float

    @property
    def ratio(self) -> float | None:
        """0–1, None when nothing was monitored that day (before the monitor existed, say)."""
        total = self.up_seconds + self.down_seconds
        return None if total <= 0 else self.up_seconds / total


@dataclass(frozen=True, slots=True)
class Daily:
    """A monitor's up and down seconds on each of ``len(calendar)`` days, oldest first: two
    lists of floats rather than a ``Day`` per day, which the page does not need (it draws
    runs of untroubled days, and only days with downtime one by one)."""

    calendar: Sequence[date]
    up: list[float]
    down: list[float]

    def days(self) -> list[Day]:
        # tuple.__new__ rather than Day(...): the namedtuple's own __new__ is a Python function.
        return list(
            map(tuple.__new__, repeat(Day), zip(self.calendar, self.up, self.down, strict=True))
        )


def dates(first: datetime, count: int) -> list[date]:
    """The ``count`` dates from ``first`` on: made once and shared by every monitor's days."""
    day0 = first.date()
    return [day0 + timedelta(days=i) for i in range(count)]


def daily(timeline: Timeline, first: datetime, calendar: Sequence[date]) -> Daily:
    """The days of ``calendar`` (``dates(first, n)``; ``first`` a UTC midnight)."""
    start, count = first.timestamp(), len(calendar)
    return Daily(calendar, per_day(timeline.up, start, count), per_day(timeline.down, start, count))


def daily_kept(
    kept: Kept, timeline: Timeline, first: datetime, calendar: Sequence[date], today: datetime
) -> Daily:
    """``daily(timeline, …)`` with the days before ``today`` (a UTC midnight at or before the
    timeline's end) kept with the monitor's changes: only today's are counted afresh."""
    start, count = first.timestamp(), len(calendar)
    closed = round((today.timestamp() - start) / DAY_SECONDS)
    up, down = kept.closed_days(start, closed)
    midnight = today.timestamp()
    return Daily(
        calendar,
        up + per_day(timeline.up, midnight, count - closed),
        down + per_day(timeline.down, midnight, count - closed),
    )


def days(timeline: Timeline, first: datetime, calendar: Sequence[date]) -> list[Day]:
    """``daily(…).days()``."""
    return daily(timeline, first, calendar).days()
