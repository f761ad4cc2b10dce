"""Roll-up and retention: raw check results become hourly aggregates, old rows are deleted.

Each call does a bounded piece of work in its own transaction and says whether more is left,
so the daemon's housekeeping task can interleave it with checks (DESIGN §8: size stays bounded).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from probed.history.schema import get_meta, set_meta
from probed.store import Store

HOUR = 3600
SETTLE = 900
"""An hour is rolled up this many seconds after it ends, once results of checks that started
in it (and ran up to their timeout) have been stored."""
BATCH = 10_000
"""Rows deleted per table and call."""
ROLLED_UP_TO = "rolled_up_to"
"""history_meta key: hours before this unix time are in ``hourly``."""


@dataclass(frozen=True, slots=True)
class Retention:
    """How long raw results and everything else are kept, in seconds."""

    raw: float = 48 * 3600.0
    history: float = 400 * 86400.0


def floor_hour(ts: float) -> int:
    return int(ts // HOUR * HOUR)


def rolled_up_to(db: sqlite3.Connection) -> float | None:
    return get_meta(db, ROLLED_UP_TO)


def raw_horizon(db: sqlite3.Connection, now: float, retention: Retention) -> float:
    """Raw results are complete from this time on: pruning deletes only older ones, and only
    once they are rolled up."""
    watermark = rolled_up_to(db)
    return 0.0 if watermark is None else float(floor_hour(min(now - retention.raw, watermark)))


def rollup_step(store: Store, now: float) -> bool:
    """Roll up the oldest hour not yet rolled up; True when further hours are ready."""
    db = store.db
    target = floor_hour(now - SETTLE)
    watermark = rolled_up_to(db)
    hour = floor_hour(watermark) if watermark is not None else _next_check_hour(db, 0.0)
    if hour is None or hour >= target:
        return False
    with store.transaction():
        # CROSS JOIN makes monitors the outer loop, so each monitor's hour is a range of the
        # checks(monitor_id, at) index rather than a scan of the whole table.
        rows = db.execute(
            "INSERT OR REPLACE INTO hourly"
            " (monitor_id, hour, checks, failures, rt_sum_ms, rt_min_ms, rt_max_ms)"
            " SELECT c.monitor_id, ?, COUNT(*), SUM(c.ok = 0), SUM(ms), MIN(ms), MAX(ms)"
            " FROM (SELECT c.monitor_id, c.ok,"
            "       CASE WHEN c.ok THEN CAST(ROUND(c.duration * 1000) AS INTEGER) END AS ms"
            "       FROM monitors m CROSS JOIN checks c"
            "       ON c.monitor_id = m.id AND c.at >= ? AND c.at < ?) AS c"
            " GROUP BY c.monitor_id",
            (hour, hour, hour + HOUR),
        ).rowcount
        following = hour + HOUR
        if rows == 0:
            # Nothing was checked (the daemon was stopped): jump to the next hour with results.
            following = max(following, _next_check_hour(db, following) or target)
        set_meta(db, ROLLED_UP_TO, float(min(following, target)))
    return min(following, target) < target


def prune_step(store: Store, now: float, retention: Retention) -> bool:
    """Delete one batch of expired rows from each table; True when a batch was full."""
    db = store.db
    raw_cut = raw_horizon(db, now, retention)
    cut = now - retention.history
    full = False
    # "A newer row exists" is an EXISTS per candidate row: as a scalar MAX() subquery SQLite
    # would use it as an index bound and scan every monitor's rows on each call.
    with store.transaction():
        deleted = db.execute(
            "DELETE FROM checks WHERE id IN ("
            " SELECT c.id FROM monitors m CROSS JOIN checks c ON c.monitor_id = m.id AND c.at < ?"
            # Each monitor's last result stays: it is what a restart shows as its last check.
            " WHERE EXISTS (SELECT 1 FROM checks n WHERE n.monitor_id = m.id AND n.at > c.at)"
            " LIMIT ?)",
            (raw_cut, BATCH),
        ).rowcount
        full |= deleted >= BATCH
        deleted = db.execute(
            "DELETE FROM hourly WHERE (monitor_id, hour) IN ("
            " SELECT h.monitor_id, h.hour FROM monitors m"
            " CROSS JOIN hourly h ON h.monitor_id = m.id AND h.hour < ? LIMIT ?)",
            (floor_hour(cut), BATCH),
        ).rowcount
        full |= deleted >= BATCH
        deleted = db.execute(
            "DELETE FROM transitions WHERE id IN ("
            " SELECT t.id FROM monitors m CROSS JOIN transitions t"
            " ON t.monitor_id = m.id AND t.at < ?"
            # The last transition before the cut says what state the monitor was in at the cut.
            " WHERE EXISTS (SELECT 1 FROM transitions n"
            "               WHERE n.monitor_id = m.id AND n.at > t.at AND n.at < ?)"
            " LIMIT ?)",
            (cut, cut, BATCH),
        ).rowcount
        full |= deleted >= BATCH
        db.execute("DELETE FROM runs WHERE last_seen_at < ?", (cut,))
    return full


def _next_check_hour(db: sqlite3.Connection, after: float) -> int | None:
    row = db.execute(
        "SELECT MIN((SELECT MIN(c.at) FROM checks c WHERE c.monitor_id = m.id AND c.at >= ?))"
        " FROM monitors m",
        (after,),
    ).fetchone()
    return None if row is None or row[0] is None else floor_hour(row[0])
