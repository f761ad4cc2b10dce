"""The ``monitors`` table: stable ids by name, the check key, and each monitor's saved state."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from probed.errors import StoreError
from probed.model import MonitorState, Status
from probed.store.lists import one_of
from probed.units import from_ts, to_ts


@dataclass(frozen=True, slots=True)
class StoredMonitor:
    """A monitor's row: its stable id and the state restored at start-up."""

    id: int
    name: str
    check_key: str
    state: MonitorState


class Monitors:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._created: dict[int, float] | None = None
        """``created_at()``, read once per sync: every getMonitors page asks for it."""

    def forget(self) -> None:
        """After a rollback."""
        self._created = None

    def sync(
        self, monitors: Iterable[tuple[str, str, int | None]], now: datetime
    ) -> dict[str, StoredMonitor]:
        """See ``Store.sync_monitors``; runs inside the caller's transaction."""
        self._created = None
        # One read of the table and batched writes: a statement per monitor (three each)
        # took a third of a second at 10,000 monitors.
        rows = self._db.execute("SELECT name, id, check_key, active FROM monitors")
        known = {name: (mid, key, active) for name, mid, key, active in rows}
        names: list[str] = []
        inserts: list[tuple[object, ...]] = []
        restarts: list[tuple[object, ...]] = []
        activate: list[tuple[str]] = []
        at = to_ts(now)
        for name, check_key, pinned in monitors:
            names.append(name)
            row = known.get(name)
            if row is None:
                inserts.append((pinned, name, check_key, at, at))
                known[name] = (pinned, check_key, 1)
                continue
            if pinned is not None and pinned != row[0]:
                # It checks that no row has the id yet: the new rows before it first.
                self._insert(inserts)
                self._move_id(row[0], pinned)
            if row[1] != check_key:
                restarts.append((check_key, at, name))
            if not row[2]:
                activate.append((name,))
        self._insert(inserts)
        self._db.executemany(
            "UPDATE monitors SET check_key = ?, status = 1, since = ?,"
            " failures = 0, successes = 0, outage_start = NULL, reason = ''"
            " WHERE name = ?",
            restarts,
        )
        self._db.executemany("UPDATE monitors SET active = 1 WHERE name = ?", activate)
        others, param = one_of("name", names, negate=True)
        self._db.execute(f"UPDATE monitors SET active = 0 WHERE active != 0 AND {others}", (param,))
        return {stored.name: stored for stored in self._load(names)}

    def _insert(self, rows: list[tuple[object, ...]]) -> None:
        """Insert new monitors' rows (emptying ``rows``); they are active by default."""
        self._db.executemany(
            "INSERT INTO monitors (id, name, check_key, since, created_at) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        rows.clear()

    def _move_id(self, old: int, new: int) -> None:
        if self._db.execute("SELECT 1 FROM monitors WHERE id = ?", (new,)).fetchone():
            raise StoreError(f"monitor id {new} already belongs to another monitor")
        # Every table holding a monitor id references monitors(id) ON UPDATE CASCADE.
        self._db.execute("UPDATE monitors SET id = ? WHERE id = ?", (new, old))

    def _load(self, names: Sequence[str]) -> list[StoredMonitor]:
        named, param = one_of("name", names)
        rows = self._db.execute(
            "SELECT id, name, check_key, status, since, failures, successes, outage_start, reason"
            f" FROM monitors WHERE {named}",
            (param,),
        ).fetchall()
        return [
            StoredMonitor(
                id=r[0],
                name=r[1],
                check_key=r[2],
                state=MonitorState(
                    status=Status(r[3]),
                    since=from_ts(r[4]),
                    failures=r[5],
                    successes=r[6],
                    outage_start=from_ts(r[7]),
                    reason=r[8],
                ),
            )
            for r in rows
        ]

    def save_state(self, monitor_id: int, state: MonitorState) -> None:
        self._db.execute(
            "UPDATE monitors SET status = ?, since = ?, failures = ?, successes = ?,"
            " outage_start = ?, reason = ? WHERE id = ?",
            (
                int(state.status),
                to_ts(state.since),
                state.failures,
                state.successes,
                to_ts(state.outage_start),
                state.reason,
                monitor_id,
            ),
        )

    def active(self) -> dict[str, bool]:
        """Every monitor ever configured, by name: whether it is configured now."""
        rows = self._db.execute("SELECT name, active FROM monitors")
        return {name: bool(active) for name, active in rows}

    def ids(self) -> dict[str, int]:
        """Every monitor ever configured: its id by name (a read for local commands)."""
        return {
            str(name): int(mid) for name, mid in self._db.execute("SELECT name, id FROM monitors")
        }

    def created_at(self) -> dict[int, float]:
        """When each monitor was first configured, in unix seconds."""
        if self._created is None:
            rows = self._db.execute("SELECT id, created_at FROM monitors")
            self._created = {mid: float(at) for mid, at in rows}
        return dict(self._created)
