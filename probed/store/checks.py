"""The ``checks`` table: raw check results, one row per check, clustered by (monitor, time).

Times and durations are integer milliseconds. The time to the first byte is stored as the time
after it (the body's download), which is short and fits in one byte where the time to the first
byte needs two. Ok, reason and status code are an outcome id (see ``reasons``). The certificate
expiry a check saw is in ``certs``: a row from the check on which a monitor's expiry changed (to
another one, or to none), in force until the next. Two checks of one monitor in the same
millisecond cannot share the key, so the later one moves on by a millisecond.
"""

from __future__ import annotations

import itertools
import operator
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from probed.errors import StoreError
from probed.model import CheckResult, Timings
from probed.store.lists import one_of
from probed.store.reasons import Reasons
from probed.units import from_ms, to_ms

_INSERT = (
    "INSERT {} INTO checks (monitor_id, at_ms, outcome_id, duration_ms, dns_ms, connect_ms,"
    " tls_ms, after_first_byte_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_MAX_NUDGE = 1000


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


def ids_filter(column: str, ids: Sequence[int] | None) -> tuple[str, list[object]]:
    """`` AND column IN (…)`` and its parameters; nothing when ``ids`` is None (every monitor)."""
    if ids is None:
        return "", []
    where, param = one_of(column, ids)
    return f" AND {where}", [param]


def newest_first(times: list[int], durations: list[int]) -> tuple[list[int], list[int]]:
    """The results (times, durations) sorted newest first, if they are not already."""
    if all(map(operator.gt, times, itertools.islice(times, 1, None))):
        return times, durations
    pairs = sorted(zip(times, durations, strict=True), reverse=True)
    return [t for t, _ in pairs], [d for _, d in pairs]


class Checks:
    def __init__(self, db: sqlite3.Connection, reasons: Reasons) -> None:
        self._db = db
        self._reasons = reasons
        self._certs: dict[int, int | None] = {}
        """Each monitor's certificate expiry in force, as far as this connection has seen."""

    def forget(self) -> None:
        """After a rollback: the certs rows written in it are gone."""
        self._certs.clear()

    def _cert(self, monitor_id: int, at_ms: int, cert_ms: int | None) -> None:
        if monitor_id not in self._certs:
            row = self._db.execute(
                "SELECT cert_expires_ms FROM certs WHERE monitor_id = ?"
                " ORDER BY from_ms DESC LIMIT 1",
                (monitor_id,),
            ).fetchone()
            self._certs[monitor_id] = None if row is None else row[0]
        if self._certs[monitor_id] != cert_ms:
            self._db.execute(
                "INSERT OR REPLACE INTO certs (monitor_id, from_ms, cert_expires_ms)"
                " VALUES (?, ?, ?)",
                (monitor_id, at_ms, cert_ms),
            )
            self._certs[monitor_id] = cert_ms

    def _row(self, monitor_id: int, result: CheckResult) -> tuple[object, ...]:
        tm = result.timings
        total, first_byte = _ms(tm.total), _ms(tm.first_byte)
        assert total is not None
        return (
            monitor_id,
            to_ms(result.at),
            self._reasons.outcome_id(result.ok, result.reason, result.status_code),
            total,
            _ms(tm.dns),
            _ms(tm.connect),
            _ms(tm.tls),
            None if first_byte is None else total - first_byte,
        )

    def add(self, monitor_id: int, result: CheckResult) -> None:
        """Store one result; inside the caller's transaction."""
        row = self._row(monitor_id, result)
        at = row[1]
        assert isinstance(at, int)
        for nudge in range(_MAX_NUDGE):
            cur = self._db.execute(_INSERT.format("OR IGNORE"), (monitor_id, at + nudge, *row[2:]))
            if cur.rowcount:
                self._cert(monitor_id, at + nudge, to_ms(result.cert_expires_at))
                return
        raise StoreError(f"monitor {monitor_id}: {_MAX_NUDGE} results in the same second")

    def add_many(self, results: Iterable[tuple[int, CheckResult]]) -> None:
        """Store many results (monitor id, result) at once; inside the caller's transaction."""
        rows = [(mid, r) for mid, r in results]
        try:
            self._db.execute("SAVEPOINT add_many")
            self._db.executemany(_INSERT.format(""), [self._row(mid, r) for mid, r in rows])
            self._db.execute("RELEASE add_many")
        except sqlite3.IntegrityError:
            # Some share a millisecond with another result: one by one, nudged apart.
            self._db.execute("ROLLBACK TO add_many")
            self._db.execute("RELEASE add_many")
            for mid, result in rows:
                self.add(mid, result)
            return
        for mid, result in rows:
            at = to_ms(result.at)
            assert at is not None
            self._cert(mid, at, to_ms(result.cert_expires_at))

    def last(self, monitor_id: int) -> CheckResult | None:
        return self.last_many([monitor_id]).get(monitor_id)

    def last_many(self, ids: Sequence[int]) -> dict[int, CheckResult]:
        """Each monitor's newest result, by monitor id (none for a monitor never checked)."""
        where, params = ids_filter("m.id", ids)
        rows = self._db.execute(
            "SELECT c.monitor_id, c.at_ms, o.ok, r.text, o.status_code, c.duration_ms,"
            " c.dns_ms, c.connect_ms, c.tls_ms, c.duration_ms - c.after_first_byte_ms,"
            " (SELECT x.cert_expires_ms FROM certs x"
            "  WHERE x.monitor_id = c.monitor_id AND x.from_ms <= c.at_ms"
            "  ORDER BY x.from_ms DESC LIMIT 1)"
            " FROM monitors m CROSS JOIN checks c ON c.monitor_id = m.id"
            " AND c.at_ms = (SELECT MAX(l.at_ms) FROM checks l WHERE l.monitor_id = m.id)"
            " JOIN outcomes o ON o.id = c.outcome_id"
            f" JOIN reasons r ON r.id = o.reason_id WHERE 1{where}",
            params,
        )
        return {row[0]: _result(row[1:]) for row in rows}

    def times(self, monitor_id: int) -> list[int]:
        """The times (ms) of a monitor's kept results, oldest first."""
        rows = self._db.execute(
            "SELECT at_ms FROM checks WHERE monitor_id = ? ORDER BY at_ms", (monitor_id,)
        )
        return [at for (at,) in rows]

    def first_at(self, after_ms: int) -> int | None:
        """The earliest result at or after ``after_ms`` over all monitors."""
        # Per monitor, so each is one index seek rather than a scan of the table.
        row = self._db.execute(
            "SELECT MIN((SELECT MIN(c.at_ms) FROM checks c WHERE c.monitor_id = m.id"
            " AND c.at_ms >= ?)) FROM monitors m",
            (after_ms,),
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def good_sums(
        self, ids: Sequence[int] | None, start_ms: int, end_ms: int
    ) -> dict[int, tuple[int, int]]:
        """(total ms, count) of the good results in [start, end), by monitor id."""
        where, params = ids_filter("m.id", ids)
        # CROSS JOIN fixes monitors as the outer loop: an index range per monitor.
        rows = self._db.execute(
            "SELECT m.id, SUM(c.duration_ms), COUNT(*) FROM monitors m CROSS JOIN checks c"
            " ON c.monitor_id = m.id AND c.at_ms >= ? AND c.at_ms < ?"
            f" JOIN outcomes o ON o.id = c.outcome_id WHERE o.ok = 1{where} GROUP BY m.id",
            [start_ms, end_ms, *params],
        )
        return {mid: (int(total or 0), int(count)) for mid, total, count in rows}

    def good_buckets(
        self, ids: Sequence[int] | None, start_ms: int, end_ms: int, bucket_ms: int
    ) -> list[tuple[int, int, int, int]]:
        """(monitor id, bucket start ms, total ms, count) of the good results in [start, end)
        per ``bucket_ms`` period, for many monitors in one read."""
        where, params = ids_filter("m.id", ids)
        rows = self._db.execute(
            "SELECT m.id, c.at_ms - c.at_ms % ?, COALESCE(SUM(c.duration_ms), 0), COUNT(*)"
            " FROM monitors m CROSS JOIN checks c"
            " ON c.monitor_id = m.id AND c.at_ms >= ? AND c.at_ms < ?"
            f" JOIN outcomes o ON o.id = c.outcome_id WHERE o.ok = 1{where} GROUP BY 1, 2",
            [bucket_ms, start_ms, end_ms, *params],
        )
        return rows.fetchall()  # integers already

    def recent_good(self, monitor_id: int, limit: int) -> list[float]:
        """Durations (seconds) of the monitor's latest ``limit`` good results, newest first."""
        return self.recent_good_many([monitor_id], limit).get(monitor_id, [])

    def recent_good_many(self, ids: Sequence[int], limit: int) -> dict[int, list[float]]:
        """``recent_good`` of many monitors in one read, by monitor id (none for a monitor
        without a good result)."""
        where, params = ids_filter("m.id", ids)
        rows = self._db.execute(
            "SELECT m.id, c.duration_ms FROM monitors m CROSS JOIN checks c"
            " ON c.monitor_id = m.id AND c.at_ms IN ("
            "  SELECT g.at_ms FROM checks g JOIN outcomes o ON o.id = g.outcome_id"
            "  WHERE g.monitor_id = m.id AND o.ok = 1 AND g.duration_ms IS NOT NULL"
            "  ORDER BY g.at_ms DESC LIMIT ?)"
            f" WHERE 1{where} ORDER BY m.id, c.at_ms DESC",
            [limit, *params],
        )
        durations: dict[int, list[float]] = {}
        for mid, ms in rows:
            durations.setdefault(mid, []).append(int(ms) / 1000)
        return durations

    def good_series(self, monitor_id: int, start_ms: int, end_ms: int) -> list[tuple[int, int]]:
        """(time ms, duration ms) of a monitor's good results in [start, end), oldest first."""
        rows = self._db.execute(
            "SELECT c.at_ms, c.duration_ms FROM checks c JOIN outcomes o ON o.id = c.outcome_id"
            " WHERE c.monitor_id = ? AND c.at_ms >= ? AND c.at_ms < ? AND o.ok = 1"
            " ORDER BY c.at_ms",
            (monitor_id, start_ms, end_ms),
        )
        return [(int(at), int(ms)) for at, ms in rows]

    def good_points(
        self, monitor_id: int, start_ms: int, end_ms: int
    ) -> tuple[list[int], list[int]]:
        """Times and durations (ms) of a monitor's good results in [start, end), newest first,
        as two lists: the same results as ``good_series``, at a fraction of its cost."""
        # A day at 60 s is 1,440 rows per monitor, 72,000 per getMonitors page: a row object
        # each costs the sqlite3 module more than SQLite's whole range scan, so SQLite hands
        # over each column as one JSON array and orjson reads it. SQLite feeds an aggregate a
        # FROM subquery's rows in its ORDER BY (it neither flattens nor drops that ORDER BY
        # under an aggregate), but the order is checked rather than assumed.
        row = self._db.execute(
            "SELECT json_group_array(at_ms), json_group_array(duration_ms) FROM ("
            " SELECT at_ms, duration_ms FROM checks WHERE monitor_id = ? AND at_ms >= ?"
            " AND at_ms < ? AND outcome_id IN (SELECT id FROM outcomes WHERE ok = 1)"
            " ORDER BY at_ms DESC)",
            (monitor_id, start_ms, end_ms),
        ).fetchone()
        return newest_first(orjson.loads(row[0]), orjson.loads(row[1]))

    def good_bucket_sums(
        self, monitor_id: int, start_ms: int, end_ms: int, bucket_ms: int
    ) -> list[tuple[int, int, int]]:
        """(bucket start ms, total ms, count) of a monitor's good results in [start, end) per
        ``bucket_ms`` period (periods start at multiples of it), oldest first."""
        # The floored remainder, as Python's %: SQLite's % truncates towards zero.
        rows = self._db.execute(
            "SELECT at_ms - ((at_ms % ?1) + ?1) % ?1 AS slot, SUM(duration_ms), COUNT(*)"
            " FROM checks WHERE monitor_id = ?2 AND at_ms >= ?3 AND at_ms < ?4"
            " AND outcome_id IN (SELECT id FROM outcomes WHERE ok = 1) GROUP BY slot ORDER BY slot",
            (bucket_ms, monitor_id, start_ms, end_ms),
        )
        return rows.fetchall()  # integers already

    def last_cert_expiry(self, ids: Sequence[int]) -> dict[int, int]:
        """The most recent certificate expiry (ms) each monitor recorded, for those with one."""
        out: dict[int, int] = {}
        for mid in ids:
            row = self._db.execute(
                "SELECT cert_expires_ms FROM certs WHERE monitor_id = ?"
                " AND cert_expires_ms IS NOT NULL ORDER BY from_ms DESC LIMIT 1",
                (mid,),
            ).fetchone()
            if row is not None:
                out[mid] = int(row[0])
        return out

    def prune(self, before_ms: int, batch: int) -> int:
        """Delete up to ``batch`` results older than ``before_ms``, keeping each monitor's last
        (what a restart shows as its last check), and the certs rows no longer in force for any
        of those kept; how many results went."""
        # The certs row in force at before_ms (or at a monitor's last result) is the newest one
        # from before it: every older one can go.
        self._db.execute(
            "DELETE FROM certs WHERE (monitor_id, from_ms) IN ("
            " SELECT x.monitor_id, x.from_ms FROM monitors m CROSS JOIN certs x"
            " ON x.monitor_id = m.id AND x.from_ms < ?"
            " WHERE EXISTS (SELECT 1 FROM certs n WHERE n.monitor_id = m.id"
            "               AND n.from_ms > x.from_ms AND n.from_ms <= ?) LIMIT ?)",
            (before_ms, before_ms, batch),
        )
        # "A newer row exists" is an EXISTS per candidate row: as a scalar MAX() subquery SQLite
        # would use it as an index bound and scan every monitor's rows on each call.
        return self._db.execute(
            "DELETE FROM checks WHERE (monitor_id, at_ms) IN ("
            " SELECT c.monitor_id, c.at_ms FROM monitors m CROSS JOIN checks c"
            " ON c.monitor_id = m.id AND c.at_ms < ?"
            " WHERE EXISTS (SELECT 1 FROM checks n WHERE n.monitor_id = m.id AND n.at_ms > c.at_ms)"
            " LIMIT ?)",
            (before_ms, batch),
        ).rowcount


def _result(row: Sequence[Any]) -> CheckResult:
    """A result from (at, ok, reason, status, duration, dns, connect, tls, first byte, cert)."""
    at = from_ms(row[0])
    assert at is not None
    return CheckResult(
        ok=bool(row[1]),
        reason=row[2],
        at=at,
        status_code=row[3],
        timings=Timings(
            total=row[4] / 1000,
            dns=_seconds(row[5]),
            connect=_seconds(row[6]),
            tls=_seconds(row[7]),
            first_byte=_seconds(row[8]),
        ),
        cert_expires_at=from_ms(row[9]),
    )
