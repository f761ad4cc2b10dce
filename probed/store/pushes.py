"""``pushes``: each push monitor's last ping or failure report and an open run's start, in
integer milliseconds; one row per monitor, replaced whole on every change."""

from __future__ import annotations

import sqlite3

from probed.model import PushRecord
from probed.units import from_ms, to_ms


class Pushes:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def get(self, monitor_id: int) -> PushRecord:
        """The monitor's record; an empty one (never pinged) when it has none."""
        row = self._db.execute(
            "SELECT at_ms, ok, reason, started_ms FROM pushes WHERE monitor_id = ?",
            (monitor_id,),
        ).fetchone()
        if row is None:
            return PushRecord()
        return PushRecord(from_ms(row[0]), bool(row[1]), str(row[2]), from_ms(row[3]))

    def set(self, monitor_id: int, record: PushRecord) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO pushes (monitor_id, at_ms, ok, reason, started_ms)"
            " VALUES (?, ?, ?, ?, ?)",
            (monitor_id, to_ms(record.at), int(record.ok), record.reason, to_ms(record.started)),
        )
