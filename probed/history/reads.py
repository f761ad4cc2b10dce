"""Reads over the history tables for the APIs and metrics, in bulk for many monitors at once.

Aggregates (mean response time) use the hourly roll-ups for rolled-up hours and raw results
after them; series (UptimeRobot ``response_times``) use raw results wherever they are kept and
hourly means before that.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence

from probed.history.rollup import HOUR, floor_hour
from probed.history.uptime import Change, Run
from probed.model import Status, TransitionKind
from probed.units import from_ts, utc


def _ids_filter(column: str, ids: Sequence[int] | None) -> tuple[str, list[object]]:
    if ids is None:
        return "", []
    return f" AND {column} IN ({','.join('?' * len(ids))})", list(ids)


def load_changes(
    db: sqlite3.Connection, ids: Sequence[int] | None, since: float | None = None
) -> dict[int, list[Change]]:
    """Each monitor's transitions, oldest first: all of them, or those from ``since`` on plus
    the last one before it (the state the monitor was in at ``since``)."""
    where, params = _ids_filter("monitor_id", ids)
    columns = "monitor_id, id, kind, new, at, reason, outage_start"
    if since is None:
        sql, args = f"SELECT {columns} FROM transitions WHERE 1{where}", params
    else:
        # SQLite fills the bare columns of a MAX() aggregate from the row holding the maximum.
        sql = (
            f"SELECT {columns} FROM transitions WHERE at >= ?{where} UNION ALL"
            " SELECT monitor_id, id, kind, new, MAX(at), reason, outage_start"
            f" FROM transitions WHERE at < ?{where} GROUP BY monitor_id"
        )
        args = [since, *params, since, *params]
    out: dict[int, list[Change]] = defaultdict(list)
    for mid, id_, kind, new, at, reason, outage in db.execute(
        sql + " ORDER BY monitor_id, at, id", args
    ):
        out[mid].append(
            Change(utc(at), TransitionKind(kind), Status(new), reason, from_ts(outage), id_)
        )
    return out


def load_runs(db: sqlite3.Connection, current: int | None) -> list[Run]:
    """The daemon's run periods; the current run (if any) lasts until now."""
    return [
        (utc(start), None if id_ == current else utc(seen))
        for id_, start, seen in db.execute(
            "SELECT id, started_at, last_seen_at FROM runs ORDER BY started_at"
        )
    ]


def mean_response(
    db: sqlite3.Connection,
    ids: Sequence[int] | None,
    start: float,
    end: float,
    rolled_up_to: float | None,
) -> dict[int, float]:
    """Mean response time in seconds of the good checks in [start, end), by monitor id.

    Hourly roll-ups count whole: the hour holding ``start`` is included entirely.
    """
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    where, params = _ids_filter("m.id", ids)
    split = start if rolled_up_to is None else max(start, rolled_up_to)
    # Both reads are driven from monitors (CROSS JOIN fixes the join order): an index range per
    # monitor rather than a scan of every row kept.
    if rolled_up_to is not None and rolled_up_to > start:
        for mid, total_ms, count in db.execute(
            "SELECT m.id, SUM(h.rt_sum_ms), SUM(h.checks - h.failures)"
            " FROM monitors m CROSS JOIN hourly h"
            f" ON h.monitor_id = m.id AND h.hour > ? AND h.hour < ? WHERE 1{where} GROUP BY m.id",
            [start - HOUR, min(rolled_up_to, end), *params],
        ):
            sums[mid][0] += (total_ms or 0) / 1000
            sums[mid][1] += count or 0
    for mid, total, count in db.execute(
        "SELECT m.id, SUM(c.duration), COUNT(*) FROM monitors m CROSS JOIN checks c"
        " ON c.monitor_id = m.id AND c.at >= ? AND c.at < ?"
        f" WHERE c.ok = 1{where} GROUP BY m.id",
        [split, end, *params],
    ):
        sums[mid][0] += total or 0.0
        sums[mid][1] += count
    return {mid: total / count for mid, (total, count) in sums.items() if count}


def response_series(
    db: sqlite3.Connection, monitor_id: int, start: float, end: float, bucket: float, horizon: float
) -> list[tuple[float, float]]:
    """(time, seconds) of good checks in [start, end), oldest first: each check where raw
    results are kept (from ``horizon`` on), hourly means before; averaged per ``bucket``
    seconds when bucket > 0."""
    points: list[tuple[float, float, float]] = []  # (time, total seconds, count)
    if horizon > start:
        points += [
            (hour, total_ms / 1000, count)
            for hour, total_ms, count in db.execute(
                "SELECT hour, rt_sum_ms, checks - failures FROM hourly WHERE monitor_id = ?"
                " AND hour >= ? AND hour < ? AND checks > failures ORDER BY hour",
                (monitor_id, floor_hour(start), min(horizon, end)),
            )
        ]
    points += [
        (at, duration, 1)
        for at, duration in db.execute(
            "SELECT at, duration FROM checks WHERE monitor_id = ? AND ok = 1"
            " AND at >= ? AND at < ? ORDER BY at",
            (monitor_id, max(start, horizon), end),
        )
    ]
    if bucket <= 0:
        return [(t, total / count) for t, total, count in points]
    buckets: dict[float, list[float]] = {}
    for t, total, count in points:
        slot = buckets.setdefault(t - t % bucket, [0.0, 0.0])
        slot[0] += total
        slot[1] += count
    return [(t, total / count) for t, (total, count) in sorted(buckets.items())]


def last_cert_expiry(db: sqlite3.Connection, ids: Sequence[int]) -> dict[int, float]:
    """The most recent certificate expiry each monitor recorded, for those that have one."""
    out = {}
    for mid in ids:
        row = db.execute(
            "SELECT cert_expires_at FROM checks WHERE monitor_id = ?"
            " AND cert_expires_at IS NOT NULL ORDER BY at DESC LIMIT 1",
            (mid,),
        ).fetchone()
        if row is not None:
            out[mid] = float(row[0])
    return out


def created_at(db: sqlite3.Connection) -> dict[int, float]:
    return dict(db.execute("SELECT id, created_at FROM monitors"))
