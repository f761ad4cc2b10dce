"""The lookup tables: each distinct reason text, and each distinct check outcome (ok, reason,
status code), stored once and referenced by id."""

from __future__ import annotations

import sqlite3


class Reasons:
    """Ids of reasons and outcomes, created on first use and cached for the connection's life."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._reasons: dict[str, int] = {}
        self._outcomes: dict[tuple[int, int, int | None], int] = {}

    def reason_id(self, text: str) -> int:
        found = self._reasons.get(text)
        if found is None:
            row = self._db.execute("SELECT id FROM reasons WHERE text = ?", (text,)).fetchone()
            if row is None:
                cur = self._db.execute("INSERT INTO reasons (text) VALUES (?)", (text,))
                found = int(cur.lastrowid or 0)
            else:
                found = int(row[0])
            self._reasons[text] = found
        return found

    def outcome_id(self, ok: bool, reason: str, status_code: int | None) -> int:
        key = (int(ok), self.reason_id(reason), status_code)
        found = self._outcomes.get(key)
        if found is None:
            row = self._db.execute(
                "SELECT id FROM outcomes WHERE ok = ? AND reason_id = ? AND status_code IS ?",
                key,
            ).fetchone()
            if row is None:
                cur = self._db.execute(
                    "INSERT INTO outcomes (ok, reason_id, status_code) VALUES (?, ?, ?)",
                    key,
                )
                found = int(cur.lastrowid or 0)
            else:
                found = int(row[0])
            self._outcomes[key] = found
        return found

    def forget(self) -> None:
        """After a rollback: ids created in it no longer exist."""
        self._reasons.clear()
        self._outcomes.clear()
