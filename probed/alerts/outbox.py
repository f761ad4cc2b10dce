"""The durable alert outbox (DESIGN §4, §8): alerts wait in SQLite until a server accepted them.

Rows are written in the transaction that stores the transitions causing them (``add`` opens none
of its own when one is open), so a crash loses no alert. Each row gets its Message-ID at insert:
a crash between "server accepted" and "marked sent" resends the same message, which mail systems
can deduplicate. Alert storms: past ``StormRule.threshold`` alerts of one kind and channel within
``StormRule.window``, new rows are held (``digest`` set, ``next_attempt_at`` = end of the window)
and delivered together as one digest.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from probed.alerts.payload import Payload
from probed.alerts.policy import Alert, AlertKind, CertMarks
from probed.store import Store
from probed.units import from_ts, to_ts, utc

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    monitor TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    created_at REAL NOT NULL,
    outage_start REAL,
    payload TEXT NOT NULL,
    message_id TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending',
    digest TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT,
    sent_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS outbox_storm ON outbox(channel, kind, created_at);
CREATE INDEX IF NOT EXISTS outbox_monitor ON outbox(monitor, kind, created_at);
CREATE TABLE IF NOT EXISTS alert_certs (
    monitor TEXT PRIMARY KEY,
    expires_at REAL NOT NULL,
    passed TEXT NOT NULL
);
"""
STORM_KINDS = (AlertKind.DOWN, AlertKind.UP)
_COLUMNS = (
    "id, monitor, kind, channel, created_at, payload, message_id, status, digest, attempts,"
    " next_attempt_at, last_error"
)


class AlertStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    """Refused for good by the server (or its channel is gone); logged and counted."""
    EXPIRED = "expired"
    """Undeliverable for longer than ``alert_max_age``; given up, loudly."""


@dataclass(frozen=True, slots=True)
class StormRule:
    """More than ``threshold`` alerts of one kind within ``window`` seconds make a storm."""

    threshold: int = 3
    window: float = 60.0


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    monitor: str
    kind: AlertKind
    channel: str
    created_at: datetime
    payload: Payload
    message_id: str
    status: AlertStatus
    digest: str | None
    """Set while the row is held for (or was sent in) a storm digest: the group's key."""
    attempts: int
    next_attempt_at: datetime
    last_error: str | None


class Outbox:
    """The outbox tables in the state database; the schema is created on construction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db
        self.db.executescript(SCHEMA)

    @contextlib.contextmanager
    def _tx(self) -> Iterator[None]:
        """Join the caller's transaction (a pipeline record hook), else run in one of our own."""
        if self.db.in_transaction:
            yield
        else:
            with self.store.transaction():
                yield

    def add(
        self, alert: Alert, channel: str, now: datetime, storm: StormRule, domain: str = "probed"
    ) -> int:
        """Queue ``alert`` for ``channel``, held for a digest when it is part of a storm."""
        with self._tx():
            held, digest, due = False, None, now
            if alert.kind in STORM_KINDS:
                held, digest, due = self._storm(alert.kind, channel, now, storm)
            cur = self.db.execute(
                "INSERT INTO outbox (monitor, kind, channel, created_at, outage_start, payload,"
                " digest, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    alert.monitor,
                    str(alert.kind),
                    channel,
                    to_ts(now),
                    to_ts(alert.outage_start),
                    json.dumps(alert.payload.to_json()),
                    digest,
                    to_ts(due),
                ),
            )
            row_id = int(cur.lastrowid or 0)
            message_id = f"<alert-{row_id}-{secrets.token_hex(6)}@{domain}>"
            if held and digest is None:
                digest = f"{alert.kind}-{row_id}"  # the first held row names its group
            self.db.execute(
                "UPDATE outbox SET message_id = ?, digest = ? WHERE id = ?",
                (message_id, digest, row_id),
            )
        return row_id

    def _storm(
        self, kind: AlertKind, channel: str, now: datetime, storm: StormRule
    ) -> tuple[bool, str | None, datetime]:
        """(held, digest key of the group to join or None for a new one, due time)."""
        since = to_ts(now - timedelta(seconds=storm.window))
        count, first = self.db.execute(
            "SELECT count(*), min(created_at) FROM outbox"
            " WHERE channel = ? AND kind = ? AND created_at > ?",
            (channel, str(kind), since),
        ).fetchone()
        if count < storm.threshold:
            return False, None, now
        # Join the open group (held, not tried yet, window not over), else open a new one
        # that ends with the window of the storm's first alert.
        open_group = self.db.execute(
            "SELECT digest, next_attempt_at FROM outbox WHERE status = 'pending'"
            " AND channel = ? AND kind = ? AND digest IS NOT NULL AND attempts = 0"
            " AND next_attempt_at > ? ORDER BY id DESC LIMIT 1",
            (channel, str(kind), to_ts(now)),
        ).fetchone()
        if open_group is not None:
            return True, str(open_group[0]), utc(open_group[1])
        return True, None, utc(first) + timedelta(seconds=storm.window)

    def pending(self) -> list[OutboxRow]:
        """Every row not yet sent, failed or expired, oldest first."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE status = 'pending' ORDER BY id"
        ).fetchall()
        return [_row(r) for r in rows]

    def rows(self, status: AlertStatus | None = None) -> list[OutboxRow]:
        """All rows (or those with ``status``), oldest first; for the CLI and tests."""
        where, args = ("WHERE status = ?", (str(status),)) if status else ("", ())
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM outbox {where} ORDER BY id", args)
        return [_row(r) for r in rows.fetchall()]

    def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        self._update(ids, "status = 'sent', sent_at = ?, last_error = NULL", (to_ts(now),))

    def mark_given_up(self, ids: Sequence[int], status: AlertStatus, error: str) -> None:
        self._update(ids, "status = ?, last_error = ?", (str(status), error))

    def retry_later(self, ids: Sequence[int], at: datetime, error: str) -> int:
        """Count a failed attempt and set the next one; the new attempt count."""
        self._update(
            ids, "attempts = attempts + 1, next_attempt_at = ?, last_error = ?", (to_ts(at), error)
        )
        row = self.db.execute("SELECT attempts FROM outbox WHERE id = ?", (ids[0],)).fetchone()
        return int(row[0]) if row else 0

    def _update(self, ids: Sequence[int], assignments: str, args: tuple[object, ...]) -> None:
        marks = ",".join("?" * len(ids))
        self.db.execute(f"UPDATE outbox SET {assignments} WHERE id IN ({marks})", (*args, *ids))

    def older_than(self, cutoff: datetime) -> list[OutboxRow]:
        """Pending rows created before ``cutoff``."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE status = 'pending' AND created_at < ?"
            " ORDER BY id",
            (to_ts(cutoff),),
        ).fetchall()
        return [_row(r) for r in rows]

    def queue(self, now: datetime) -> tuple[int, float]:
        """(number of pending rows, age in seconds of the oldest, 0 when none)."""
        count, oldest = self.db.execute(
            "SELECT count(*), min(created_at) FROM outbox WHERE status = 'pending'"
        ).fetchone()
        age = 0.0 if oldest is None else max(0.0, (now - utc(oldest)).total_seconds())
        return int(count), age

    def prune(self, before: datetime) -> int:
        """Delete finished rows created before ``before`` so the table stays bounded."""
        cur = self.db.execute(
            "DELETE FROM outbox WHERE status != 'pending' AND created_at < ?", (to_ts(before),)
        )
        return cur.rowcount

    def last_outage_alert(self, monitor: str, outage_start: datetime | None) -> datetime | None:
        """When the outage starting at ``outage_start`` was last alerted (DOWN or REMINDER)."""
        row = self.db.execute(
            "SELECT max(created_at) FROM outbox WHERE monitor = ? AND kind IN ('down', 'reminder')"
            " AND outage_start IS ?",
            (monitor, to_ts(outage_start)),
        ).fetchone()
        return from_ts(row[0])

    def cert_marks(self, monitor: str) -> CertMarks:
        row = self.db.execute(
            "SELECT expires_at, passed FROM alert_certs WHERE monitor = ?", (monitor,)
        ).fetchone()
        if row is None:
            return CertMarks()
        return CertMarks(from_ts(row[0]), frozenset(json.loads(row[1])))

    def save_cert_marks(self, monitor: str, marks: CertMarks) -> None:
        with self._tx():
            self.db.execute(
                "INSERT OR REPLACE INTO alert_certs (monitor, expires_at, passed) VALUES (?, ?, ?)",
                (monitor, to_ts(marks.expires_at), json.dumps(sorted(marks.passed))),
            )


def _row(r: Sequence[Any]) -> OutboxRow:
    return OutboxRow(
        id=r[0],
        monitor=r[1],
        kind=AlertKind(r[2]),
        channel=r[3],
        created_at=utc(r[4]),
        payload=Payload.from_json(json.loads(r[5])),
        message_id=r[6],
        status=AlertStatus(r[7]),
        digest=r[8],
        attempts=r[9],
        next_attempt_at=utc(r[10]),
        last_error=r[11],
    )
