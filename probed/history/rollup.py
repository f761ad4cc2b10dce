"""Roll-up and retention: raw check results become hourly aggregates, hourly ones older than
``HOURLY_KEPT`` become daily ones, and old rows are deleted.

Each call does a bounded piece of work in its own transaction and says whether more is left,
so the daemon's housekeeping task can interleave it with checks (docs/design.md §8: size stays
bounded).
Times here are integer unix milliseconds, as the store keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass

from probed.store import Store

HOUR = 3_600_000
DAY = 24 * HOUR
SETTLE = 900_000
"""An hour is rolled up this long after it ends, once results of checks that started in it (and
ran up to their timeout) have been stored."""
HOURLY_KEPT = 90 * DAY
"""Hourly roll-ups older than this are folded into daily ones."""
BATCH = 10_000
"""Rows deleted per table and call."""
ROLLED_UP_TO = "rolled_up_to"
"""history_meta key: hours before this time (ms) are in ``hourly``."""
DAILY_TO = "daily_to"
"""history_meta key: days before this time (ms) are in ``daily``."""


@dataclass(frozen=True, slots=True)
class Retention:
    """How long raw results and everything else are kept, in seconds."""

    raw: float = 24 * 3600.0
    history: float = 400 * 86400.0


def floor_hour(ms: int) -> int:
    return ms // HOUR * HOUR


def floor_day(ms: int) -> int:
    return ms // DAY * DAY


def raw_horizon(store: Store, now: int, retention: Retention) -> int:
    """Raw results are complete from this time on: pruning deletes only older ones, and only
    once they are rolled up."""
    watermark = store.runs.meta(ROLLED_UP_TO)
    if watermark is None:
        return 0
    return floor_hour(min(now - round(retention.raw * 1000), watermark))


def rollup_step(store: Store, now: int) -> bool:
    """Roll up the oldest hour not yet rolled up, or (once hours are caught up) the oldest day
    past ``HOURLY_KEPT``; True when further work of that kind is ready."""
    target = floor_hour(now - SETTLE)
    watermark = store.runs.meta(ROLLED_UP_TO)
    start = store.checks.first_at(0) if watermark is None else watermark
    hour = None if start is None else floor_hour(start)
    if hour is None or hour >= target:
        return _daily_step(store, now)
    with store.transaction():
        following = hour + HOUR
        if store.rollups.roll_hour(hour, HOUR) == 0:
            # Nothing was checked (the daemon was stopped): jump to the next hour with results.
            later = store.checks.first_at(following)
            following = max(following, target if later is None else floor_hour(later))
        store.runs.set_meta(ROLLED_UP_TO, min(following, target))
    return min(following, target) < target


def _daily_step(store: Store, now: int) -> bool:
    target = floor_day(now - HOURLY_KEPT)
    watermark = store.runs.meta(DAILY_TO)
    start = store.rollups.first("hourly", 0) if watermark is None else watermark
    day = None if start is None else floor_day(start)
    if day is None or day >= target:
        return False
    with store.transaction():
        following = day + DAY
        if store.rollups.roll_day(day, DAY) == 0:
            later = store.rollups.first("hourly", following)
            following = max(following, target if later is None else floor_day(later))
        store.runs.set_meta(DAILY_TO, min(following, target))
    return min(following, target) < target


def prune_step(store: Store, now: int, retention: Retention) -> bool:
    """Delete one batch of expired rows from each table; True when a batch was full."""
    raw_cut = raw_horizon(store, now, retention)
    cut = now - round(retention.history * 1000)
    with store.transaction():
        full = store.checks.prune(raw_cut, BATCH) >= BATCH
        full |= store.rollups.prune("hourly", floor_hour(cut), BATCH) >= BATCH
        full |= store.rollups.prune("daily", floor_day(cut), BATCH) >= BATCH
        full |= store.changes.prune(cut, BATCH) >= BATCH
        full |= store.incidents.prune(cut, BATCH) >= BATCH
        store.runs.prune(cut)
    return full
