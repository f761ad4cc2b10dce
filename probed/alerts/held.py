"""The outbox's memory part: what the state database could not take yet (a full disk).

New rows get negative ids until they are written; a stored row whose status change could not be
written is kept here with its new status, and shadows its row in the table. ``write`` puts
everything in the table inside the caller's transaction; ``written`` then forgets it, keeping
each new row's id in the table so a delivery under way at that moment still finds its row.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import datetime

from probed.alerts.policy import Alert
from probed.store import OutboxRecord
from probed.store.outbox import OutboxTable

Marks = tuple[datetime | None, str]
"""A monitor's certificate marks as the table stores them: (expiry, JSON list passed)."""


class Held:
    """Outbox rows and certificate marks waiting in memory."""

    def __init__(self, on_change: Callable[[], None] = lambda: None) -> None:
        self.on_change = on_change
        """Called when something starts or stops waiting here."""
        self.rows: dict[int, OutboxRecord] = {}
        """By id, in the order they were held."""
        self.marks: dict[str, Marks] = {}
        self._moved: dict[int, int] = {}
        self._next_id = -1

    def __len__(self) -> int:
        return len(self.rows) + len(self.marks)

    def resolve(self, row_id: int) -> int:
        """A row's current id: a held new row's id in the table once it was written."""
        return self._moved.get(row_id, row_id)

    def new(self, alert: Alert, channel: str, now: datetime, domain: str) -> int:
        """Hold a new pending row; its (negative) id. Never part of a storm digest: a digest's
        group lives in the table."""
        row_id, self._next_id = self._next_id, self._next_id - 1
        record = OutboxRecord(
            id=row_id,
            monitor=alert.monitor,
            kind=str(alert.kind),
            channel=channel,
            created_at=now,
            payload=json.dumps(alert.payload.to_json()),
            message_id=f"<alert-h{-row_id}-{secrets.token_hex(6)}@{domain}>",
            status="pending",
            digest=None,
            attempts=0,
            next_attempt_at=now,
            last_error=None,
            outage_start=alert.outage_start,
        )
        self.put(record)
        return row_id

    def put(self, record: OutboxRecord) -> None:
        first = not self
        self.rows[record.id] = record
        if first:
            self.on_change()

    def mark(self, monitor: str, marks: Marks) -> None:
        first = not self
        self.marks[monitor] = marks
        if first:
            self.on_change()

    def write(self, table: OutboxTable) -> dict[int, int]:
        """Write everything held, inside the caller's transaction; new rows' ids in the table."""
        moved: dict[int, int] = {}
        for record in self.rows.values():
            if record.id > 0:
                table.restore(record)
            else:
                moved[record.id] = table.put(record)
        for monitor, (expires, passed) in self.marks.items():
            table.save_cert_marks(monitor, expires, passed)
        return moved

    def written(self, moved: dict[int, int]) -> None:
        """``write``'s transaction committed."""
        self._moved.update(moved)
        self.rows.clear()
        self.marks.clear()
        self.on_change()
