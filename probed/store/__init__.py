"""The SQLite state database (docs/design.md §8): the only place that knows SQL.

One connection, WAL journal, used from the event loop thread only. ``Store.open`` brings the
schema up to date (``migrations``); each table family is one module behind typed methods:

    monitors.py      monitors: ids, check keys, saved state
    checks.py        raw check results and the certificate expiries they saw
    transitions.py   state changes (incidents, uptime, logs)
    reasons.py       reason and outcome lookups shared by checks and transitions
    rollups.py       hourly and daily aggregates
    runs.py          daemon runs and roll-up watermarks
    pauses.py        operator pause overrides
    pushes.py        push monitors' last pings
    outbox.py        alert outbox and certificate-warning marks
    announcements.py status page announcements
    alertmanager.py  what each Alertmanager channel keeps firing
    incidents.py     incidents, their timeline and evidence
    maintenance.py   maintenance windows added through the API
    report_marks.py  which periodic report went out
    domain_expiries.py  each registrable domain's last RDAP answer
    subscribers.py   status page subscribers and their message queue

Each check is recorded in one transaction together with the state and transitions it caused,
so a crash never leaves a transition without the state that produced it (or the reverse).
A transaction the file cannot take (disk full, I/O error, read-only) is rolled back and raises
``StoreWriteError``; reads keep working, and the caller decides what waits for a retry.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path

from probed.errors import StoreError
from probed.model import CheckResult, MonitorState, PushRecord, Transition
from probed.store import migrations
from probed.store.alertmanager import AlertmanagerTable, FiringRecord
from probed.store.announcements import AnnouncementRow, Announcements
from probed.store.checks import Checks
from probed.store.db import PAGE_SIZE, Transaction
from probed.store.domain_expiries import DomainExpiries
from probed.store.incidents import Incidents
from probed.store.maintenance import MaintenanceRow, MaintenanceTable
from probed.store.monitors import Monitors, StoredMonitor
from probed.store.outbox import OutboxRecord, OutboxTable
from probed.store.pauses import PauseOverrides
from probed.store.pushes import Pushes
from probed.store.reasons import Reasons
from probed.store.report_marks import ReportMarks
from probed.store.rollups import Rollups
from probed.store.runs import Runs
from probed.store.subscribers import Subscribers
from probed.store.transitions import ChangeRow, Transitions

__all__ = [
    "AnnouncementRow",
    "ChangeRow",
    "FiringRecord",
    "MaintenanceRow",
    "OutboxRecord",
    "Store",
    "StoredMonitor",
]


class Store:
    """The state database. Open with ``Store.open(path)``; close with ``close()``."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self.path = path
        self._reasons = Reasons(db)
        self.monitors = Monitors(db)
        self.checks = Checks(db, self._reasons)
        self.changes = Transitions(db, self._reasons)
        """The transitions table (``transitions()`` reads a monitor's newest)."""
        self.rollups = Rollups(db)
        self.runs = Runs(db)
        self.pauses = PauseOverrides(db)
        self.pushes = Pushes(db)
        self.outbox = OutboxTable(db)
        self.announcements = Announcements(db)
        self.alertmanager = AlertmanagerTable(db)
        self.incidents = Incidents(db)
        self.maintenance = MaintenanceTable(db)
        self.report_marks = ReportMarks(db)
        self.domains = DomainExpiries(db)
        self.subscribers = Subscribers(db)
        self._undo: list[Callable[[], None]] = []
        self._generation = 0

    def stamp(self) -> tuple[int, int]:
        """Changes whenever rows this connection read may have changed other than by rows
        being added: another connection (another process) committed to the file, a
        transaction was rolled back, monitors were synced (a pinned id moves a monitor's
        rows, ON UPDATE CASCADE). What history keeps in memory (``history.changelog``,
        ``history.hourly_log``) is read again from scratch when it changes."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        return int(version), self._generation

    @classmethod
    def open(
        cls,
        path: Path,
        steps: Sequence[migrations.Step] = migrations.STEPS,
        before_upgrade: Callable[[int, int], None] | None = None,
    ) -> Store:
        """Open (or create) the database and migrate it to ``len(steps)``; StoreError when it
        cannot be opened, is damaged, is newer than this probed, or a migration fails.
        ``before_upgrade(old, new)`` is told before a migration starts (it can take a minute)."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Monitor URLs, reasons and alert payloads are the operator's business alone; SQLite
            # gives the -wal and -shm files the database file's mode.
            os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
            with contextlib.suppress(OSError):  # another user's file that we may still use
                os.chmod(path, 0o600)
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open state database {path}: {exc}") from exc
        try:
            _check_intact(db, path)
            # Only a new file takes it (an upgraded one gets it from the VACUUM that follows).
            db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL under WAL stays consistent after a crash and only risks the last
            # transactions on power loss, at a fraction of FULL's fsyncs.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA busy_timeout=5000")
            migrations.migrate(db, path, steps, before_upgrade)
        except StoreError:
            db.close()
            raise
        except (OSError, sqlite3.Error) as exc:
            db.close()
            raise StoreError(f"cannot open state database {path}: {exc}") from exc
        return cls(db, path)

    def close(self) -> None:
        self._db.close()

    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def journal_mode(self) -> str:
        return str(self._db.execute("PRAGMA journal_mode").fetchone()[0])

    def sync_monitors(
        self, monitors: Iterable[tuple[str, str, int | None]], now: datetime
    ) -> dict[str, StoredMonitor]:
        """Register the configured monitors (name, check key, pinned id) and restore their state.

        New names get a stable id; a pinned id moves an existing row (and its history) to it.
        A monitor whose check key changed starts again from pending. Monitors no longer
        configured are marked inactive: their history stays, they are no longer checked.
        """
        try:
            with self.transaction():
                return self.monitors.sync(monitors, now)
        finally:
            self._generation += 1

    def save_state(self, monitor_id: int, state: MonitorState) -> None:
        self.monitors.save_state(monitor_id, state)

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
        with self.transaction():
            self.checks.add(monitor_id, result)
            self.monitors.save_state(monitor_id, state)
            ids = self.changes.add(monitor_id, transitions)
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
        with self.transaction():
            self.monitors.save_state(monitor_id, state)
            ids = self.changes.add(monitor_id, transitions)
            if then is not None:
                then(ids)

    def save_push(self, monitor_id: int, record: PushRecord) -> None:
        """A push monitor's record, replaced in its own transaction (StoreWriteError if the
        file cannot take it)."""
        with self.transaction():
            self.pushes.set(monitor_id, record)

    def last_check(self, monitor_id: int) -> CheckResult | None:
        return self.checks.last(monitor_id)

    def transitions(self, monitor_id: int, limit: int = 100) -> list[Transition]:
        """A monitor's transitions, newest first."""
        return self.changes.recent(monitor_id, limit)

    def transaction(self) -> Transaction:
        """``with store.transaction():`` runs its statements in one BEGIN IMMEDIATE … COMMIT;
        inside an open one it joins it."""
        return Transaction(self._db, self._forget, self._undo.clear)

    def if_not_written(self, keep: Callable[[], None]) -> None:
        """Inside a transaction: call ``keep`` if it is rolled back because the file could not
        take it (``StoreWriteError``), so its writer can hold what it wrote in memory."""
        self._undo.append(keep)

    def _forget(self, write_failed: bool) -> None:
        self._reasons.forget()
        self.checks.forget()
        self._generation += 1  # rows read inside the transaction may be gone
        self.monitors.forget()
        undo, self._undo = self._undo, []
        if write_failed:
            for keep in undo:
                keep()

    def cap_pages(self, pages: int | None) -> int:
        """Bound the file to ``pages`` pages (SQLite's ``max_page_count``; never below its
        current size), or lift the bound with None; the bound now in force. A write that would
        grow the file past it fails as on a full disk."""
        value = 4294967294 if pages is None else max(1, pages)
        return int(self._db.execute(f"PRAGMA max_page_count = {int(value)}").fetchone()[0])

    def page_count(self) -> int:
        return int(self._db.execute("PRAGMA page_count").fetchone()[0])

    def tune_for_bulk_load(self) -> None:
        """A big page cache and no fsyncs, for the benchmarks' simulated months: the file is
        the same, a crash may lose it."""
        self._db.execute("PRAGMA cache_size = -400000")
        self._db.execute("PRAGMA synchronous = OFF")

    def checkpoint(self) -> None:
        """Move the WAL's content into the database file and empty the WAL."""
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def sizes(self) -> tuple[int, dict[str, int]]:
        """(file size in bytes, bytes by table and index; empty without SQLite's dbstat)."""
        page = int(self._db.execute("PRAGMA page_size").fetchone()[0])
        total = int(self._db.execute("PRAGMA page_count").fetchone()[0]) * page
        try:
            rows = self._db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
            return total, {str(name): int(size) for name, size in rows}
        except sqlite3.Error:  # dbstat is a compile-time option of SQLite
            return total, {}


def _check_intact(db: sqlite3.Connection, path: Path) -> None:
    """StoreError naming what to do when the file is damaged: better refused at start than
    found half-way through a check."""
    try:
        problems = [" ".join(str(row[0]).split()) for row in db.execute("PRAGMA quick_check(3)")]
    except sqlite3.DatabaseError as exc:  # not a database at all, or its header is gone
        problems = [str(exc)]
    if problems == ["ok"]:
        return
    backups = sorted(path.parent.glob(f"{path.name}.bak-v*"))
    restore = f"restore {backups[-1].name} over it, or " if backups else ""
    raise StoreError(
        f"state database {path} is damaged ({'; '.join(problems)}): {restore}move it aside"
        " to start with an empty history (its states, history and unsent alerts are lost)"
    )
