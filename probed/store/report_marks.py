"""The ``report_marks`` table: which report periods were decided (sent, or passed over at a
first start), by schedule (docs/design.md §18.6)."""

from __future__ import annotations

import sqlite3


class ReportMarks:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def latest(self, every: str) -> int | None:
        """The end (unix ms) of the latest period decided on this schedule; None: none yet."""
        row = self._db.execute(
            "SELECT MAX(period_end_ms) FROM report_marks WHERE every = ?", (every,)
        ).fetchone()
        return None if row[0] is None else int(row[0])

    def decided(self, every: str, end_ms: int) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM report_marks WHERE every = ? AND period_end_ms = ?", (every, end_ms)
        ).fetchone()
        return row is not None

    def add(self, every: str, end_ms: int, decided_ms: int, *, sent: bool) -> None:
        """Mark the period decided; inside the caller's transaction (with its outbox rows)."""
        self._db.execute(
            "INSERT OR IGNORE INTO report_marks (every, period_end_ms, decided_ms, sent)"
            " VALUES (?, ?, ?, ?)",
            (every, end_ms, decided_ms, int(sent)),
        )

    def all(self) -> list[tuple[str, int, int, bool]]:
        """(schedule, period end ms, decided ms, sent), oldest first."""
        rows = self._db.execute(
            "SELECT every, period_end_ms, decided_ms, sent FROM report_marks ORDER BY period_end_ms"
        )
        return [(str(e), int(p), int(d), bool(s)) for e, p, d, s in rows]
