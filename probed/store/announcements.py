"""``announcements``: notices an operator posts to the status page, optionally until a time."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AnnouncementRow:
    id: int
    message: str
    level: str
    """``info`` | ``warning`` | ``critical``."""
    created_ms: int
    expires_ms: int | None
    """None: shown until deleted."""


class Announcements:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def add(self, message: str, level: str, created_ms: int, expires_ms: int | None) -> int:
        cursor = self._db.execute(
            "INSERT INTO announcements (message, level, created_ms, expires_ms)"
            " VALUES (?, ?, ?, ?)",
            (message, level, created_ms, expires_ms),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def current(self, now_ms: int) -> list[AnnouncementRow]:
        """The announcements not yet expired, newest first."""
        return [
            AnnouncementRow(*row)
            for row in self._db.execute(
                "SELECT id, message, level, created_ms, expires_ms FROM announcements"
                " WHERE expires_ms IS NULL OR expires_ms > ? ORDER BY created_ms DESC, id DESC",
                (now_ms,),
            )
        ]

    def delete(self, announcement_id: int) -> bool:
        """Whether there was one with this id."""
        cursor = self._db.execute("DELETE FROM announcements WHERE id = ?", (announcement_id,))
        return cursor.rowcount > 0

    def delete_all(self) -> int:
        return self._db.execute("DELETE FROM announcements").rowcount

    def prune(self, now_ms: int) -> int:
        """Forget expired ones; how many."""
        return self._db.execute(
            "DELETE FROM announcements WHERE expires_ms IS NOT NULL AND expires_ms <= ?",
            (now_ms,),
        ).rowcount
