"""``maintenance_windows``: one-off maintenance windows stored by the API (docs/design.md §18.2)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from probed.units import from_ms


@dataclass(frozen=True, slots=True)
class MaintenanceRow:
    id: int
    name: str
    monitors: tuple[str, ...]
    """Monitor names, sorted."""
    start_ms: int
    end_ms: int
    created_ms: int

    @property
    def start(self) -> datetime:
        start = from_ms(self.start_ms)
        assert start is not None
        return start

    @property
    def end(self) -> datetime:
        end = from_ms(self.end_ms)
        assert end is not None
        return end


class MaintenanceTable:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def add(
        self, name: str, monitors: tuple[str, ...], start_ms: int, end_ms: int, created_ms: int
    ) -> int:
        cursor = self._db.execute(
            "INSERT INTO maintenance_windows (name, start_ms, end_ms, created_ms)"
            " VALUES (?, ?, ?, ?)",
            (name, start_ms, end_ms, created_ms),
        )
        window_id = cursor.lastrowid
        assert window_id is not None
        self._db.executemany(
            "INSERT OR IGNORE INTO maintenance_monitors (window_id, monitor) VALUES (?, ?)",
            [(window_id, m) for m in monitors],
        )
        return window_id

    def all(self) -> list[MaintenanceRow]:
        """Every stored window, by start then id."""
        names: dict[int, list[str]] = {}
        for window_id, monitor in self._db.execute(
            "SELECT window_id, monitor FROM maintenance_monitors ORDER BY window_id, monitor"
        ):
            names.setdefault(window_id, []).append(monitor)
        return [
            MaintenanceRow(wid, name, tuple(names.get(wid, ())), start, end, created)
            for wid, name, start, end, created in self._db.execute(
                "SELECT id, name, start_ms, end_ms, created_ms FROM maintenance_windows"
                " ORDER BY start_ms, id"
            )
        ]

    def delete(self, window_id: int) -> bool:
        """Whether there was one with this id."""
        cursor = self._db.execute("DELETE FROM maintenance_windows WHERE id = ?", (window_id,))
        return cursor.rowcount > 0
