"""``outbox`` (alerts waiting for delivery, and what became of them) and ``alert_certs`` (which
certificate-expiry warnings a monitor has had). Payloads and marks are JSON text here; the
alerts package gives them their types."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from probed.store.lists import one_of
from probed.units import from_ts, to_ts, utc

_COLUMNS = (
    "id, monitor, kind, channel, created_at, payload, message_id, status, digest, attempts,"
    " next_attempt_at, last_error, outage_start, sent_at"
)


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    id: int
    monitor: str
    kind: str
    channel: str
    created_at: datetime
    payload: str
    """JSON text."""
    message_id: str
    status: str
    digest: str | None
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    outage_start: datetime | None = None
    sent_at: datetime | None = None


class OutboxTable:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def add(
        self,
        monitor: str,
        kind: str,
        channel: str,
        created_at: datetime,
        outage_start: datetime | None,
        payload: str,
        digest: str | None,
        next_attempt_at: datetime,
    ) -> int:
        """Insert a pending row (message id still empty); its id."""
        cur = self._db.execute(
            "INSERT INTO outbox (monitor, kind, channel, created_at, outage_start, payload,"
            " digest, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                monitor,
                kind,
                channel,
                to_ts(created_at),
                to_ts(outage_start),
                payload,
                digest,
                to_ts(next_attempt_at),
            ),
        )
        return int(cur.lastrowid or 0)

    def put(self, row: OutboxRecord) -> int:
        """Insert a row as it stands (held in memory while the file was full); its new id."""
        cur = self._db.execute(
            "INSERT INTO outbox (monitor, kind, channel, created_at, outage_start, payload,"
            " message_id, status, digest, attempts, next_attempt_at, last_error, sent_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.monitor,
                row.kind,
                row.channel,
                to_ts(row.created_at),
                to_ts(row.outage_start),
                row.payload,
                row.message_id,
                row.status,
                row.digest,
                row.attempts,
                to_ts(row.next_attempt_at),
                row.last_error,
                to_ts(row.sent_at),
            ),
        )
        return int(cur.lastrowid or 0)

    def restore(self, row: OutboxRecord) -> None:
        """Write the delivery state of an existing row (held in memory while the file was
        full)."""
        self._db.execute(
            "UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?,"
            " sent_at = ? WHERE id = ?",
            (
                row.status,
                row.attempts,
                to_ts(row.next_attempt_at),
                row.last_error,
                to_ts(row.sent_at),
                row.id,
            ),
        )

    def get(self, ids: Sequence[int]) -> list[OutboxRecord]:
        listed, param = one_of("id", ids)
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM outbox WHERE {listed}", (param,))
        return [_record(r) for r in rows.fetchall()]

    def name(self, row_id: int, message_id: str, digest: str | None) -> None:
        """Set a new row's Message-ID and digest group, which its id decides."""
        self._db.execute(
            "UPDATE outbox SET message_id = ?, digest = ? WHERE id = ?",
            (message_id, digest, row_id),
        )

    def recent(
        self, channel: str, kind: str, since: datetime, at_most: int
    ) -> tuple[int, datetime | None]:
        """(count, first created_at) of the rows of one channel and kind created after
        ``since``, counting no further than ``at_most``: in a storm the window holds
        thousands, and counting them all for every new row made a mass outage quadratic."""
        rows = self._db.execute(
            "SELECT created_at FROM outbox WHERE channel = ? AND kind = ? AND created_at > ?"
            " ORDER BY created_at LIMIT ?",
            (channel, kind, to_ts(since), at_most),
        ).fetchall()
        return len(rows), from_ts(rows[0][0]) if rows else None

    def digested_since(self, channel: str, kind: str, since: datetime) -> bool:
        """Whether a row of one channel and kind created after ``since`` joined a digest."""
        row = self._db.execute(
            "SELECT 1 FROM outbox WHERE channel = ? AND kind = ? AND created_at > ?"
            " AND digest IS NOT NULL LIMIT 1",
            (channel, kind, to_ts(since)),
        ).fetchone()
        return row is not None

    def open_group(self, channel: str, kind: str, now: datetime) -> tuple[str, datetime] | None:
        """(digest, due) of the newest held group not tried yet whose window is still open."""
        row = self._db.execute(
            "SELECT digest, next_attempt_at FROM outbox WHERE status = 'pending'"
            " AND channel = ? AND kind = ? AND digest IS NOT NULL AND attempts = 0"
            " AND next_attempt_at > ? ORDER BY id DESC LIMIT 1",
            (channel, kind, to_ts(now)),
        ).fetchone()
        return None if row is None else (str(row[0]), utc(row[1]))

    def rows(
        self, status: str | None = None, created_before: datetime | None = None
    ) -> list[OutboxRecord]:
        """Rows (with ``status``, created before a time), oldest first."""
        where, args = "WHERE 1", list[object]()
        if status is not None:
            where, args = where + " AND status = ?", [status]
        if created_before is not None:
            where, args = where + " AND created_at < ?", [*args, to_ts(created_before)]
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM outbox {where} ORDER BY id", args)
        return [_record(r) for r in rows.fetchall()]

    def update(self, ids: Sequence[int], assignments: str, args: tuple[object, ...]) -> None:
        listed, param = one_of("id", ids)
        self._db.execute(f"UPDATE outbox SET {assignments} WHERE {listed}", (*args, param))

    def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        self.update(ids, "status = 'sent', sent_at = ?, last_error = NULL", (to_ts(now),))

    def mark_given_up(self, ids: Sequence[int], status: str, error: str) -> None:
        self.update(ids, "status = ?, last_error = ?", (status, error))

    def retry_later(self, ids: Sequence[int], at: datetime, error: str) -> int:
        """Count a failed attempt and set the next one; the new attempt count."""
        self.update(
            ids, "attempts = attempts + 1, next_attempt_at = ?, last_error = ?", (to_ts(at), error)
        )
        row = self._db.execute("SELECT attempts FROM outbox WHERE id = ?", (ids[0],)).fetchone()
        return int(row[0]) if row else 0

    def queue(self) -> tuple[int, datetime | None]:
        """(number of pending rows, created_at of the oldest)."""
        count, oldest = self._db.execute(
            "SELECT count(*), min(created_at) FROM outbox WHERE status = 'pending'"
        ).fetchone()
        return int(count), from_ts(oldest)

    def prune(self, before: datetime) -> int:
        """Delete finished rows created before ``before``; how many."""
        return self._db.execute(
            "DELETE FROM outbox WHERE status != 'pending' AND created_at < ?", (to_ts(before),)
        ).rowcount

    def last_outage_alert(self, monitor: str, outage_start: datetime | None) -> datetime | None:
        """When the outage starting at ``outage_start`` was last alerted (DOWN or REMINDER)."""
        row = self._db.execute(
            "SELECT max(created_at) FROM outbox WHERE monitor = ? AND kind IN ('down', 'reminder')"
            " AND outage_start IS ?",
            (monitor, to_ts(outage_start)),
        ).fetchone()
        return from_ts(row[0])

    def cert_marks(self, monitor: str) -> tuple[datetime | None, str] | None:
        """(expiry, JSON list of the warnings passed) for a monitor, or None."""
        row = self._db.execute(
            "SELECT expires_at, passed FROM alert_certs WHERE monitor = ?", (monitor,)
        ).fetchone()
        return None if row is None else (from_ts(row[0]), str(row[1]))

    def save_cert_marks(self, monitor: str, expires: datetime | None, passed: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO alert_certs (monitor, expires_at, passed) VALUES (?, ?, ?)",
            (monitor, to_ts(expires), passed),
        )


def _record(r: Sequence[Any]) -> OutboxRecord:
    return OutboxRecord(
        id=r[0],
        monitor=r[1],
        kind=r[2],
        channel=r[3],
        created_at=utc(r[4]),
        payload=r[5],
        message_id=r[6],
        status=r[7],
        digest=r[8],
        attempts=r[9],
        next_attempt_at=utc(r[10]),
        last_error=r[11],
        outage_start=from_ts(r[12]),
        sent_at=from_ts(r[13]),
    )
