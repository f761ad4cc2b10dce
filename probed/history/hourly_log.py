"""The last day's hourly roll-ups in memory, for the status page's response-time charts.

An hour is rolled up once, when the roll-up watermark passes it, and its row does not change
afterwards: later roll-ups write only hours at or after the watermark, a check stored late for
an hour already rolled up is never rolled into it, and pruning keeps at least a day of hourly
rows (``history_retention`` is at least a day). So the rows of a window are read once and then
only the hours the watermark passed since; raw results after the watermark are read every time.
A changed ``Store.stamp`` (another process, a rollback, a monitor's id moving) reads everything
again; so does a window that starts earlier than the one kept.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from itertools import groupby
from operator import itemgetter

from probed.history.rollup import floor_hour
from probed.store import Store


class Hours:
    """One monitor's hours with good checks, oldest first, in the forms the page reads."""

    __slots__ = ("counts", "good", "hours", "points", "total", "totals")

    def __init__(self) -> None:
        self.hours: list[int] = []
        self.points: list[tuple[float, float]] = []
        """(hour as unix time, mean seconds), as ``reads.hourly_means`` makes them."""
        self.totals: list[int] = []
        self.counts: list[int] = []
        self.total = 0
        """Sum of ``totals`` (integers: the order they are added in makes no difference)."""
        self.good = 0
        """Sum of ``counts``."""

    def extend(self, rows: list[tuple[int, int, int, int]]) -> None:
        """Rows (monitor id, hour ms, total ms, good checks) of later hours, oldest first."""
        self.hours += [r[1] for r in rows]
        self.points += [(hour / 1000, total / count / 1000) for _, hour, total, count in rows]
        totals = [r[2] for r in rows]
        counts = [r[3] for r in rows]
        self.totals += totals
        self.counts += counts
        self.total += sum(totals)
        self.good += sum(counts)

    def drop_before(self, hour: int) -> None:
        cut = bisect_left(self.hours, hour)
        if cut:
            self.total -= sum(self.totals[:cut])
            self.good -= sum(self.counts[:cut])
            for column in (self.hours, self.points, self.totals, self.counts):
                del column[:cut]


class HourlyLog:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._monitors: dict[int, Hours] = {}
        self._span: tuple[int, int] | None = None
        """[first hour, watermark) of the rows kept."""
        self._stamp: tuple[int, int] | None = None

    def hours(self, start: int, to: int) -> dict[int, Hours]:
        """Every monitor's hourly rows with good checks from the hour holding ``start`` up to
        ``to`` (the watermark, or the window's end if that is before it)."""
        first = floor_hour(start)
        stamp = self._store.stamp()
        span = self._span
        if stamp != self._stamp or span is None or first < span[0] or to < span[1]:
            self._monitors, span, self._stamp = {}, (first, first), stamp
        monitors = self._monitors
        if to > span[1]:
            rows = sorted(self._store.rollups.good_hours(None, span[1], to))
            for mid, group in groupby(rows, itemgetter(0)):
                kept = monitors.get(mid)
                if kept is None:
                    kept = monitors[mid] = Hours()
                kept.extend(list(group))
        if first > span[0]:
            for kept in monitors.values():
                kept.drop_before(first)
        self._span = (first, to)
        return monitors


def combine(
    ids: Sequence[int], hours: dict[int, Hours], raw: list[tuple[int, int, int, int]]
) -> tuple[dict[int, list[tuple[float, float]]], dict[int, float]]:
    """``reads.hourly_means`` and ``reads.overall_means`` of the kept hours of ``ids`` and the
    raw results' hourly buckets after them (``raw``: monitor id, hour ms, total ms, count)."""
    later: dict[int, list[tuple[int, int, int, int]]] = {}
    for row in sorted(raw):
        later.setdefault(row[0], []).append(row)
    charts: dict[int, list[tuple[float, float]]] = {}
    means: dict[int, float] = {}
    empty = Hours()
    for mid in ids:
        kept = hours.get(mid, empty)
        extra = later.get(mid)
        # A copy: the kept list changes with the next read, the report must not.
        points = kept.points[:]
        total, good = kept.total, kept.good
        if extra is not None:
            for _, hour, sum_ms, count in extra:
                points.append((hour / 1000, sum_ms / count / 1000))
                total += sum_ms
                good += count
        if points:
            charts[mid] = points
            means[mid] = total / good / 1000
    return charts, means
