"""The roll-up tables: ``hourly`` (one row per monitor and hour, from raw results) and ``daily``
(one per monitor and day, from hourly rows once they are older than the hourly retention).

Both hold the number of checks, how many failed, and the sum, minimum and maximum response time
of the good ones in milliseconds, keyed by (monitor_id, start of the period in ms).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Literal

from probed.store.checks import ids_filter

Table = Literal["hourly", "daily"]
_KEY = {"hourly": "hour_ms", "daily": "day_ms"}


class Rollups:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def roll_hour(self, hour_ms: int, length_ms: int) -> int:
        """Aggregate the raw results of [hour, hour + length) into hourly rows; how many."""
        # CROSS JOIN makes monitors the outer loop, so each monitor's hour is a range of the
        # checks primary key rather than a scan of the whole table.
        return self._db.execute(
            "INSERT OR REPLACE INTO hourly"
            " (monitor_id, hour_ms, checks, failures, rt_sum_ms, rt_min_ms, rt_max_ms)"
            " SELECT c.monitor_id, ?, COUNT(*), SUM(c.ok = 0), SUM(ms), MIN(ms), MAX(ms)"
            " FROM (SELECT c.monitor_id, o.ok, CASE WHEN o.ok THEN c.duration_ms END AS ms"
            "       FROM monitors m CROSS JOIN checks c"
            "       ON c.monitor_id = m.id AND c.at_ms >= ? AND c.at_ms < ?"
            "       JOIN outcomes o ON o.id = c.outcome_id) AS c"
            " GROUP BY c.monitor_id",
            (hour_ms, hour_ms, hour_ms + length_ms),
        ).rowcount

    def roll_day(self, day_ms: int, length_ms: int) -> int:
        """Fold the hourly rows of [day, day + length) into daily rows and delete them."""
        rows = self._db.execute(
            "INSERT OR REPLACE INTO daily"
            " (monitor_id, day_ms, checks, failures, rt_sum_ms, rt_min_ms, rt_max_ms)"
            " SELECT h.monitor_id, ?, SUM(h.checks), SUM(h.failures), SUM(h.rt_sum_ms),"
            " MIN(h.rt_min_ms), MAX(h.rt_max_ms) FROM monitors m CROSS JOIN hourly h"
            " ON h.monitor_id = m.id AND h.hour_ms >= ? AND h.hour_ms < ? GROUP BY h.monitor_id",
            (day_ms, day_ms, day_ms + length_ms),
        ).rowcount
        self._db.execute(
            "DELETE FROM hourly WHERE (monitor_id, hour_ms) IN ("
            " SELECT h.monitor_id, h.hour_ms FROM monitors m CROSS JOIN hourly h"
            " ON h.monitor_id = m.id AND h.hour_ms >= ? AND h.hour_ms < ?)",
            (day_ms, day_ms + length_ms),
        )
        return rows

    def first(self, table: Table, after_ms: int) -> int | None:
        """The earliest period start at or after ``after_ms`` over all monitors."""
        key = _KEY[table]
        row = self._db.execute(
            f"SELECT MIN((SELECT MIN(r.{key}) FROM {table} r WHERE r.monitor_id = m.id"
            f" AND r.{key} >= ?)) FROM monitors m",
            (after_ms,),
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def rows(self, table: Table, monitor_id: int) -> list[tuple[int, int, int, int, int, int]]:
        """A monitor's rows, oldest first: (start ms, checks, failures, sum, min, max)."""
        key = _KEY[table]
        return self._db.execute(
            f"SELECT {key}, checks, failures, rt_sum_ms, rt_min_ms, rt_max_ms FROM {table}"
            f" WHERE monitor_id = ? ORDER BY {key}",
            (monitor_id,),
        ).fetchall()

    def good_sums(
        self, table: Table, ids: Sequence[int] | None, after_ms: int, before_ms: int
    ) -> dict[int, tuple[int, int]]:
        """(total ms, good checks) of the periods starting in (after, before), by monitor id."""
        key = _KEY[table]
        where, params = ids_filter("m.id", ids)
        rows = self._db.execute(
            f"SELECT m.id, SUM(r.rt_sum_ms), SUM(r.checks - r.failures)"
            f" FROM monitors m CROSS JOIN {table} r ON r.monitor_id = m.id"
            f" AND r.{key} > ? AND r.{key} < ? WHERE 1{where} GROUP BY m.id",
            [after_ms, before_ms, *params],
        )
        return {mid: (int(total or 0), int(count or 0)) for mid, total, count in rows}

    def good_series(
        self, table: Table, monitor_id: int, start_ms: int, end_ms: int
    ) -> list[tuple[int, int, int]]:
        """(start ms, total ms, good checks) of a monitor's periods starting in [start, end)
        that had good checks, oldest first."""
        key = _KEY[table]
        rows = self._db.execute(
            f"SELECT {key}, rt_sum_ms, checks - failures FROM {table} WHERE monitor_id = ?"
            f" AND {key} >= ? AND {key} < ? AND checks > failures ORDER BY {key}",
            (monitor_id, start_ms, end_ms),
        )
        return [(int(at), int(total or 0), int(count)) for at, total, count in rows]

    def good_hours(
        self, ids: Sequence[int] | None, start_ms: int, end_ms: int
    ) -> list[tuple[int, int, int, int]]:
        """(monitor id, hour ms, total ms, good checks) of the hourly rows in [start, end) that
        had good checks, for many monitors in one read."""
        where, params = ids_filter("m.id", ids)
        rows = self._db.execute(
            "SELECT m.id, r.hour_ms, COALESCE(r.rt_sum_ms, 0), r.checks - r.failures"
            " FROM monitors m CROSS JOIN hourly r ON r.monitor_id = m.id"
            f" AND r.hour_ms >= ? AND r.hour_ms < ? WHERE r.checks > r.failures{where}",
            [start_ms, end_ms, *params],
        )
        return rows.fetchall()  # integers already: a page reads thousands of these

    def prune(self, table: Table, before_ms: int, batch: int) -> int:
        """Delete up to ``batch`` rows of periods starting before ``before_ms``; how many."""
        key = _KEY[table]
        return self._db.execute(
            f"DELETE FROM {table} WHERE (monitor_id, {key}) IN ("
            f" SELECT r.monitor_id, r.{key} FROM monitors m CROSS JOIN {table} r"
            f" ON r.monitor_id = m.id AND r.{key} < ? LIMIT ?)",
            (before_ms, batch),
        ).rowcount
