"""SQLite state database (DESIGN §8): monitor state, transitions and per-check results.

One connection, WAL journal, used from the event loop thread only. Each check is recorded in one
transaction together with the state and transitions it caused, so a crash never leaves a
transition without the state that produced it (or the reverse).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from probed.errors import StoreError
from probed.model import (
    CheckResult,
    MonitorState,
    Status,
    Timings,
    Transition,
    TransitionKind,
)
from probed.units import from_ts, to_ts

SCHEMA = """
CREATE TABLE IF NOT EXISTS monitors (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    check_key TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL DEFAULT 1,
    since REAL,
    failures INTEGER NOT NULL DEFAULT 0,
    successes INTEGER NOT NULL DEFAULT 0,
    outage_start REAL,
    reason TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS transitions (
    id INTEGER PRIMARY KEY,
    monitor_id INTEGER NOT NULL REFERENCES monitors(id),
    kind TEXT NOT NULL,
    old INTEGER NOT NULL,
    new INTEGER NOT NULL,
    at REAL NOT NULL,
    reason TEXT NOT NULL,
    outage_start REAL
);
CREATE INDEX IF NOT EXISTS transitions_monitor_at ON transitions(monitor_id, at);
CREATE TABLE IF NOT EXISTS checks (
    id INTEGER PRIMARY KEY,
    monitor_id INTEGER NOT NULL REFERENCES monitors(id),
    at REAL NOT NULL,
    ok INTEGER NOT NULL,
    reason TEXT NOT NULL,
    status_code INTEGER,
    duration REAL NOT NULL,
    dns REAL, connect REAL, tls REAL, first_byte REAL,
    cert_expires_at REAL
);
CREATE INDEX IF NOT EXISTS checks_monitor_at ON checks(monitor_id, at);
"""


@dataclass(frozen=True, slots=True)
class StoredMonitor:
    """A monitor's row: its stable id and the state restored at start-up."""

    id: int
    name: str
    check_key: str
    state: MonitorState


class Store:
    """The state database. Open with ``Store.open(path)``; close with ``close()``."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    def open(cls, path: Path) -> Store:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL under WAL stays consistent after a crash and only risks the last
            # transactions on power loss, at a fraction of FULL's fsyncs.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA busy_timeout=5000")
            db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open state database {path}: {exc}") from exc
        return cls(db, path)

    def close(self) -> None:
        self._db.close()

    @property
    def db(self) -> sqlite3.Connection:
        return self._db

    def sync_monitors(
        self, monitors: Iterable[tuple[str, str, int | None]], now: datetime
    ) -> dict[str, StoredMonitor]:
        """Register the configured monitors (name, check key, pinned id) and restore their state.

        New names get a stable id; a pinned id moves an existing row (and its history) to it.
        A monitor whose check key changed starts again from pending. Monitors no longer
        configured are marked inactive: their history stays, they are no longer checked.
        """
        result: dict[str, StoredMonitor] = {}
        names: list[str] = []
        with self._tx():
            for name, check_key, pinned in monitors:
                names.append(name)
                row = self._db.execute(
                    "SELECT id, check_key FROM monitors WHERE name = ?", (name,)
                ).fetchone()
                if row is None:
                    self._db.execute(
                        "INSERT INTO monitors (id, name, check_key, since, created_at)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (pinned, name, check_key, to_ts(now), to_ts(now)),
                    )
                else:
                    if pinned is not None and pinned != row[0]:
                        self._move_id(row[0], pinned)
                    if row[1] != check_key:
                        self._db.execute(
                            "UPDATE monitors SET check_key = ?, status = 1, since = ?,"
                            " failures = 0, successes = 0, outage_start = NULL, reason = ''"
                            " WHERE name = ?",
                            (check_key, to_ts(now), name),
                        )
                self._db.execute("UPDATE monitors SET active = 1 WHERE name = ?", (name,))
            marks = ",".join("?" * len(names))
            self._db.execute(f"UPDATE monitors SET active = 0 WHERE name NOT IN ({marks})", names)
            for stored in self._load(names):
                result[stored.name] = stored
        return result

    def _move_id(self, old: int, new: int) -> None:
        if self._db.execute("SELECT 1 FROM monitors WHERE id = ?", (new,)).fetchone():
            raise StoreError(f"monitor id {new} already belongs to another monitor")
        self._db.execute("PRAGMA defer_foreign_keys = ON")
        self._db.execute("UPDATE monitors SET id = ? WHERE id = ?", (new, old))
        for table in ("transitions", "checks"):
            self._db.execute(f"UPDATE {table} SET monitor_id = ? WHERE monitor_id = ?", (new, old))

    def _load(self, names: Sequence[str]) -> list[StoredMonitor]:
        marks = ",".join("?" * len(names))
        rows = self._db.execute(
            "SELECT id, name, check_key, status, since, failures, successes, outage_start, reason"
            f" FROM monitors WHERE name IN ({marks})",
            list(names),
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

    def record_transitions(self, monitor_id: int, transitions: Sequence[Transition]) -> list[int]:
        ids = []
        for t in transitions:
            cur = self._db.execute(
                "INSERT INTO transitions (monitor_id, kind, old, new, at, reason, outage_start)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    monitor_id,
                    str(t.kind),
                    int(t.old),
                    int(t.new),
                    to_ts(t.at),
                    t.reason,
                    to_ts(t.outage_start),
                ),
            )
            ids.append(int(cur.lastrowid or 0))
        return ids

    def record_check(
        self,
        monitor_id: int,
        result: CheckResult,
        state: MonitorState,
        transitions: Sequence[Transition],
        then: Callable[[list[int]], None] | None = None,
    ) -> None:
        """Store a check, the state it led to and its transitions, atomically.

        ``then`` runs inside the same transaction with the new transitions' ids, so whatever it
        writes (the alerts they cause) is committed with them or not at all.
        """
        with self._tx():
            tm = result.timings
            self._db.execute(
                "INSERT INTO checks (monitor_id, at, ok, reason, status_code, duration,"
                " dns, connect, tls, first_byte, cert_expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    monitor_id,
                    to_ts(result.at),
                    int(result.ok),
                    result.reason,
                    result.status_code,
                    tm.total,
                    tm.dns,
                    tm.connect,
                    tm.tls,
                    tm.first_byte,
                    to_ts(result.cert_expires_at),
                ),
            )
            self.save_state(monitor_id, state)
            ids = self.record_transitions(monitor_id, transitions)
            if then is not None:
                then(ids)

    def record_state_change(
        self,
        monitor_id: int,
        state: MonitorState,
        transitions: Sequence[Transition],
        then: Callable[[list[int]], None] | None = None,
    ) -> None:
        """Store a state change that came from no check (pause, resume), like record_check."""
        with self._tx():
            self.save_state(monitor_id, state)
            ids = self.record_transitions(monitor_id, transitions)
            if then is not None:
                then(ids)

    def last_check(self, monitor_id: int) -> CheckResult | None:
        row = self._db.execute(
            "SELECT at, ok, reason, status_code, duration, dns, connect, tls, first_byte,"
            " cert_expires_at FROM checks WHERE monitor_id = ? ORDER BY at DESC, id DESC LIMIT 1",
            (monitor_id,),
        ).fetchone()
        if row is None:
            return None
        at = from_ts(row[0])
        assert at is not None
        return CheckResult(
            ok=bool(row[1]),
            reason=row[2],
            at=at,
            status_code=row[3],
            timings=Timings(
                total=row[4], dns=row[5], connect=row[6], tls=row[7], first_byte=row[8]
            ),
            cert_expires_at=from_ts(row[9]),
        )

    def transitions(self, monitor_id: int, limit: int = 100) -> list[Transition]:
        rows = self._db.execute(
            "SELECT m.name, t.kind, t.old, t.new, t.at, t.reason, t.outage_start"
            " FROM transitions t JOIN monitors m ON m.id = t.monitor_id"
            " WHERE t.monitor_id = ? ORDER BY t.at DESC, t.id DESC LIMIT ?",
            (monitor_id, limit),
        ).fetchall()
        out = []
        for r in rows:
            at = from_ts(r[4])
            assert at is not None
            out.append(
                Transition(
                    monitor=r[0],
                    kind=TransitionKind(r[1]),
                    old=Status(r[2]),
                    new=Status(r[3]),
                    at=at,
                    reason=r[5],
                    outage_start=from_ts(r[6]),
                )
            )
        return out

    def transaction(self) -> _Transaction:
        """``with store.transaction():`` runs its statements in one BEGIN IMMEDIATE … COMMIT."""
        return _Transaction(self._db)

    def _tx(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")
