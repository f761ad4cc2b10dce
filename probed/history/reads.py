"""Reads over the history tables for the APIs and metrics, in bulk for many monitors at once.

Aggregates (mean response time) use daily roll-ups where hourly ones are gone, hourly ones for
rolled-up hours and raw results after them; series (UptimeRobot ``response_times``) use raw
results wherever they are kept, hourly means before that and daily means before those.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from probed.history.rollup import DAY, HOUR, floor_day, floor_hour
from probed.store import Store


def mean_response(
    store: Store,
    ids: Sequence[int] | None,
    start: int,
    end: int,
    rolled_up_to: int | None,
    daily_to: int | None,
) -> dict[int, float]:
    """Mean response time in seconds of the good checks in [start, end), by monitor id.

    Roll-ups count whole: the hour (or day) holding ``start`` is included entirely.
    """
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0])

    def add(found: dict[int, tuple[int, int]]) -> None:
        for mid, (total, count) in found.items():
            sums[mid][0] += total
            sums[mid][1] += count

    hourly_from = start
    if daily_to is not None and daily_to > start:
        add(store.rollups.good_sums("daily", ids, start - DAY, min(daily_to, end)))
        hourly_from = daily_to
    raw_from = hourly_from
    if rolled_up_to is not None and rolled_up_to > hourly_from:
        add(store.rollups.good_sums("hourly", ids, hourly_from - HOUR, min(rolled_up_to, end)))
        raw_from = rolled_up_to
    add(store.checks.good_sums(ids, raw_from, end))
    return {mid: total / count / 1000 for mid, (total, count) in sums.items() if count}


class SeriesRead(NamedTuple):
    """What a response time series covers; times in unix milliseconds."""

    monitor_id: int
    start: int
    end: int
    bucket: int
    """Averaged per this many ms; 0: every point."""
    horizon: int
    """Raw results are kept from here on; roll-ups before."""
    daily_to: int | None
    """Daily roll-ups up to here; hourly ones after."""


def response_series(store: Store, q: SeriesRead) -> list[tuple[float, float]]:
    """(unix time, seconds) of good checks in [start, end), oldest first: each check where raw
    results are kept (from ``horizon`` on), hourly means before, daily means before those;
    averaged per ``bucket`` ms when bucket > 0."""
    points = _rolled_up(store, q)
    raw_from = max(q.start, q.horizon)
    points += [(at, ms, 1) for at, ms in store.checks.good_series(q.monitor_id, raw_from, q.end)]
    if q.bucket > 0:
        points = _summed(points, q.bucket)
    return [(t / 1000, total / count / 1000) for t, total, count in points]


def _rolled_up(store: Store, q: SeriesRead) -> list[tuple[int, int, int]]:
    """(time ms, total ms, count) of the good checks' roll-ups before ``horizon``, oldest
    first: daily ones up to ``daily_to``, hourly ones after."""
    monitor_id, start, end, _, horizon, daily_to = q
    points: list[tuple[int, int, int]] = []
    hourly_from = start
    if daily_to is not None and daily_to > start:
        points += store.rollups.good_series(
            "daily", monitor_id, floor_day(start), min(daily_to, horizon, end)
        )
        hourly_from = max(start, daily_to)
    if horizon > hourly_from:
        points += store.rollups.good_series(
            "hourly", monitor_id, floor_hour(hourly_from), min(horizon, end)
        )
    return points


def _summed(points: Iterable[tuple[int, int, int]], bucket: int) -> list[tuple[int, int, int]]:
    """(bucket start ms, total ms, count) per ``bucket`` ms, oldest first."""
    buckets: dict[int, list[int]] = {}
    for t, total, count in points:
        slot = buckets.setdefault(t - t % bucket, [0, 0])
        slot[0] += total
        slot[1] += count
    return [(t, total, count) for t, (total, count) in sorted(buckets.items())]


class ResponsePoints(NamedTuple):
    """A response time series, newest first, as two lists of equal length."""

    times: list[int]
    """Unix milliseconds."""
    values: list[int]
    """Milliseconds, rounded."""


def response_points(store: Store, q: SeriesRead) -> ResponsePoints:
    """``response_series`` newest first, its times in ms and values in whole ms (UptimeRobot's
    ``response_times``), read without a Python object per raw result: the same points, with
    ``round(seconds * 1000)`` of that series' values, each raw one exact."""
    older = _rolled_up(store, q)
    raw_from = max(q.start, q.horizon)
    if q.bucket > 0:
        raw = store.checks.good_bucket_sums(q.monitor_id, raw_from, q.end, q.bucket)
        # Bucket starts are multiples of ``bucket``: flooring them again changes nothing.
        older = _summed([*older, *raw], q.bucket)
        times: list[int] = []
        values: list[int] = []
    else:
        # A raw point's value is its duration: round(ms / 1000 * 1000) == ms below 2**51 ms.
        times, values = store.checks.good_points(q.monitor_id, raw_from, q.end)
    # The same float arithmetic as response_series and its caller, so a mean that falls on
    # half a millisecond rounds the same way.
    for t, total, count in reversed(older):
        times.append(t)
        values.append(round(total / count / 1000 * 1000))
    return ResponsePoints(times, values)


def hourly_response(
    store: Store, ids: Sequence[int] | None, start: int, end: int, rolled_up_to: int | None
) -> dict[int, list[tuple[float, float]]]:
    """(hour start as unix time, mean seconds) of good checks per hour in [start, end), by
    monitor id, oldest first: hourly roll-ups where they exist, raw results after them."""
    return hourly_means(hourly_rows(store, ids, start, end, rolled_up_to))


def hourly_rows(
    store: Store, ids: Sequence[int] | None, start: int, end: int, rolled_up_to: int | None
) -> list[tuple[int, int, int, int]]:
    """(monitor id, hour ms, total ms, good checks) behind ``hourly_response``, sorted."""
    start = floor_hour(start)
    raw_from = start
    rows: list[tuple[int, int, int, int]] = []
    if rolled_up_to is not None and rolled_up_to > start:
        rows += store.rollups.good_hours(ids, start, min(rolled_up_to, end))
        raw_from = min(rolled_up_to, end)
    # Roll-ups end where raw results begin (an hour boundary): no hour is in both.
    rows += store.checks.good_buckets(ids, raw_from, end, HOUR)
    rows.sort()
    return rows


def hourly_means(rows: list[tuple[int, int, int, int]]) -> dict[int, list[tuple[float, float]]]:
    out: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for mid, at, total, count in rows:
        out[mid].append((at / 1000, total / count / 1000))
    return dict(out)


def overall_means(rows: list[tuple[int, int, int, int]]) -> dict[int, float]:
    """Mean seconds over all of each monitor's rows, as ``mean_response`` computes it."""
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for mid, _, total, count in rows:
        pair = sums[mid]
        pair[0] += total
        pair[1] += count
    return {mid: total / count / 1000 for mid, (total, count) in sums.items() if count}
