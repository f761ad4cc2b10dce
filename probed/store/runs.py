"""``runs`` (when the daemon ran: time it did not run is left out of uptime) and
``history_meta`` (the roll-up watermarks), times in integer milliseconds."""

from __future__ import annotations

import sqlite3


class Runs:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def start(self, at_ms: int) -> int:
        cur = self._db.execute(
            "INSERT INTO runs (started_ms, last_seen_ms) VALUES (?, ?)", (at_ms, at_ms)
        )
        return int(cur.lastrowid or 0)

    def seen(self, run_id: int, at_ms: int) -> None:
        """The run was alive at ``at_ms``; a crash loses at most the time since."""
        self._db.execute("UPDATE runs SET last_seen_ms = ? WHERE id = ?", (at_ms, run_id))

    def stop(self, run_id: int, at_ms: int) -> None:
        self._db.execute(
            "UPDATE runs SET last_seen_ms = ?, stopped_ms = ? WHERE id = ?",
            (at_ms, at_ms, run_id),
        )

    def all(self) -> list[tuple[int, int, int, int | None]]:
        """(id, started, last seen, stopped or None) of every run, oldest first."""
        return self._db.execute(
            "SELECT id, started_ms, last_seen_ms, stopped_ms FROM runs ORDER BY started_ms"
        ).fetchall()

    def prune(self, before_ms: int) -> None:
        self._db.execute("DELETE FROM runs WHERE last_seen_ms < ?", (before_ms,))

    def meta(self, key: str) -> int | None:
        row = self._db.execute("SELECT value FROM history_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else int(row[0])

    def set_meta(self, key: str, value: int) -> None:
        self._db.execute(
            "INSERT INTO history_meta (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
