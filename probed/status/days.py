"""Daily uptime: a monitor's observed up and down seconds, split by UTC day (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from itertools import repeat
from typing import NamedTuple

from probed.history.uptime import Span, Timeline

DAY_SECONDS = 86400.0


class Day(NamedTuple):
    """A tuple, not a dataclass: a page makes 90 per monitor, and tuples are made fastest."""

    date: date
    up_seconds: float
    down_seconds: float

    @property
    def ratio(self) -> float | None:
        """0–1, None when nothing was monitored that day (before the monitor existed, say)."""
        total = self.up_seconds + self.down_seconds
        return None if total <= 0 else self.up_seconds / total


def dates(first: datetime, count: int) -> list[date]:
    """The ``count`` dates from ``first`` on: made once and shared by every monitor's days."""
    day0 = first.date()
    return [day0 + timedelta(days=i) for i in range(count)]


def days(timeline: Timeline, first: datetime, calendar: Sequence[date]) -> list[Day]:
    """The days of ``calendar`` (``dates(first, n)``; ``first`` a UTC midnight), oldest first;
    one pass over the spans (the page asks for 90 days of hundreds of monitors)."""
    start, count = first.timestamp(), len(calendar)
    up = _per_day(timeline.up, start, count)
    down = _per_day(timeline.down, start, count)
    # tuple.__new__ rather than Day(...): the namedtuple's own __new__ is a Python function,
    # and 45,000 calls of it were a fifth of the page's reading time.
    return list(map(tuple.__new__, repeat(Day), zip(calendar, up, down, strict=True)))


def _per_day(spans: Sequence[Span], start: float, count: int) -> list[float]:
    out = [0.0] * count
    end = start + count * DAY_SECONDS
    for s, e in spans:
        if e <= start or s >= end:
            continue
        if s < start:
            s = start
        if e > end:
            e = end
        i = int((s - start) // DAY_SECONDS)
        day_end = start + (i + 1) * DAY_SECONDS
        while e > day_end:
            out[i] += day_end - s
            s, i, day_end = day_end, i + 1, day_end + DAY_SECONDS
        out[i] += e - s
    return out
