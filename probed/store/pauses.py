"""``pause_overrides``: an operator's pause or resume of one monitor, optionally until a time."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from probed.units import from_ts, to_ts


class PauseOverrides:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def all(self) -> dict[int, tuple[bool, datetime | None, str]]:
        """(paused, until, reason) by monitor id."""
        return {
            mid: (bool(paused), from_ts(until), reason)
            for mid, paused, until, reason in self._db.execute(
                "SELECT monitor_id, paused, until, reason FROM pause_overrides"
            )
        }

    def set(
        self, monitor_id: int, paused: bool, until: datetime | None, reason: str, at: datetime
    ) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO pause_overrides (monitor_id, paused, until, reason, at)"
            " VALUES (?, ?, ?, ?, ?)",
            (monitor_id, int(paused), to_ts(until), reason, to_ts(at)),
        )

    def clear(self, monitor_id: int) -> None:
        self._db.execute("DELETE FROM pause_overrides WHERE monitor_id = ?", (monitor_id,))
