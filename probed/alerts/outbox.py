"""The durable alert outbox (DESIGN §4, §8): alerts wait in SQLite until a server accepted them.

Rows are written in the transaction that stores the transitions causing them (``add`` opens none
of its own when one is open), so a crash loses no alert. Each row gets its Message-ID at insert:
a crash between "server accepted" and "marked sent" resends the same message, which mail systems
can deduplicate. Alert storms: past ``StormRule.threshold`` alerts of one kind and channel within
``StormRule.window``, new rows are held (``digest`` set, ``next_attempt_at`` = end of the window)
and delivered together as one digest.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from probed.alerts.payload import Payload
from probed.alerts.policy import Alert, AlertKind, CertMarks
from probed.store import OutboxRecord, Store

STORM_KINDS = (AlertKind.DOWN, AlertKind.UP)


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
    """The alert outbox, over the store's outbox tables."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.table = store.outbox

    def add(
        self, alert: Alert, channel: str, now: datetime, storm: StormRule, domain: str = "probed"
    ) -> int:
        """Queue ``alert`` for ``channel``, held for a digest when it is part of a storm."""
        # Joins the caller's transaction (a pipeline record hook), else runs in one of its own.
        with self.store.transaction():
            held, digest, due = False, None, now
            if alert.kind in STORM_KINDS:
                held, digest, due = self._storm(alert.kind, channel, now, storm)
            row_id = self.table.add(
                alert.monitor,
                str(alert.kind),
                channel,
                now,
                alert.outage_start,
                json.dumps(alert.payload.to_json()),
                digest,
                due,
            )
            message_id = f"<alert-{row_id}-{secrets.token_hex(6)}@{domain}>"
            if held and digest is None:
                digest = f"{alert.kind}-{row_id}"  # the first held row names its group
            self.table.name(row_id, message_id, digest)
        return row_id

    def _storm(
        self, kind: AlertKind, channel: str, now: datetime, storm: StormRule
    ) -> tuple[bool, str | None, datetime]:
        """(held, digest key of the group to join or None for a new one, due time)."""
        count, first = self.table.recent(channel, str(kind), now - timedelta(seconds=storm.window))
        if count < storm.threshold or first is None:
            return False, None, now
        # Join the open group (held, not tried yet, window not over), else open a new one
        # that ends with the window of the storm's first alert.
        open_group = self.table.open_group(channel, str(kind), now)
        if open_group is not None:
            return True, open_group[0], open_group[1]
        return True, None, first + timedelta(seconds=storm.window)

    def pending(self) -> list[OutboxRow]:
        """Every row not yet sent, failed or expired, oldest first."""
        return self.rows(AlertStatus.PENDING)

    def rows(self, status: AlertStatus | None = None) -> list[OutboxRow]:
        """All rows (or those with ``status``), oldest first; for the CLI and tests."""
        return [_row(r) for r in self.table.rows(None if status is None else str(status))]

    def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        self.table.mark_sent(ids, now)

    def mark_given_up(self, ids: Sequence[int], status: AlertStatus, error: str) -> None:
        self.table.mark_given_up(ids, str(status), error)

    def retry_later(self, ids: Sequence[int], at: datetime, error: str) -> int:
        """Count a failed attempt and set the next one; the new attempt count."""
        return self.table.retry_later(ids, at, error)

    def older_than(self, cutoff: datetime) -> list[OutboxRow]:
        """Pending rows created before ``cutoff``."""
        return [_row(r) for r in self.table.rows(str(AlertStatus.PENDING), cutoff)]

    def queue(self, now: datetime) -> tuple[int, float]:
        """(number of pending rows, age in seconds of the oldest, 0 when none)."""
        count, oldest = self.table.queue()
        age = 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
        return count, age

    def prune(self, before: datetime) -> int:
        """Delete finished rows created before ``before`` so the table stays bounded."""
        return self.table.prune(before)

    def last_outage_alert(self, monitor: str, outage_start: datetime | None) -> datetime | None:
        """When the outage starting at ``outage_start`` was last alerted (DOWN or REMINDER)."""
        return self.table.last_outage_alert(monitor, outage_start)

    def cert_marks(self, monitor: str) -> CertMarks:
        found = self.table.cert_marks(monitor)
        if found is None:
            return CertMarks()
        return CertMarks(found[0], frozenset(json.loads(found[1])))

    def save_cert_marks(self, monitor: str, marks: CertMarks) -> None:
        with self.store.transaction():
            self.table.save_cert_marks(monitor, marks.expires_at, json.dumps(sorted(marks.passed)))


def _row(r: OutboxRecord) -> OutboxRow:
    return OutboxRow(
        id=r.id,
        monitor=r.monitor,
        kind=AlertKind(r.kind),
        channel=r.channel,
        created_at=r.created_at,
        payload=Payload.from_json(json.loads(r.payload)),
        message_id=r.message_id,
        status=AlertStatus(r.status),
        digest=r.digest,
        attempts=r.attempts,
        next_attempt_at=r.next_attempt_at,
        last_error=r.last_error,
    )
