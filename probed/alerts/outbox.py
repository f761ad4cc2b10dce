"""The durable alert outbox (docs/design.md §4, §8): alerts wait in SQLite until a server
accepted them.

Rows are written in the transaction that stores the transitions causing them (``add`` opens none
of its own when one is open), so a crash loses no alert. Each row gets its Message-ID at insert:
a crash between "server accepted" and "marked sent" resends the same message, which mail systems
can deduplicate. Alert storms: past ``StormRule.threshold`` alerts of one kind and channel within
``StormRule.window``, new rows are held (``digest`` set, ``next_attempt_at`` = end of the window)
and delivered together as one digest.

While the database cannot take writes (a full disk), new rows and changes to stored rows are
kept in memory instead, and every reader here sees them as rows: the dispatcher delivers them
like any other. ``persist`` writes them with their real status (sent, pending, failed) once the
file takes writes again, so none is sent twice or lost by a later restart. Held new rows have
negative ids and are never grouped into a digest (a digest's group lives in the table).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

import structlog

from probed.alerts.held import Held
from probed.alerts.payload import Payload
from probed.alerts.policy import Alert, CertMarks
from probed.errors import StoreWriteError
from probed.metrics import Metrics
from probed.model import AlertKind
from probed.store import OutboxRecord, Store

log = structlog.get_logger("probed")

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

    def __init__(
        self,
        store: Store,
        metrics: Metrics | None = None,
        behind: Callable[[], bool] = lambda: False,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.table = store.outbox
        self.metrics = metrics
        self.behind = behind
        """True while the transitions that cause alerts wait to be written (the pipeline's
        backlog): new rows then wait in memory too, so none is stored before its cause."""
        self.error: str | None = None
        """Why the last write failed, while rows are held in memory."""
        self.held = Held(on_change)
        """Rows and marks the file could not take yet; readers here see them as rows."""
        self._parsed: dict[int, tuple[str, Payload]] = {}
        """Payloads already decoded, by row id (with their JSON, which a row never changes):
        the dispatcher reads every pending row each round, thousands in a mass outage."""

    @property
    def waiting(self) -> int:
        """Rows and certificate marks held in memory."""
        return len(self.held)

    def add(
        self, alert: Alert, channel: str, now: datetime, storm: StormRule, domain: str = "probed"
    ) -> int:
        """Queue ``alert`` for ``channel``, held for a digest when it is part of a storm."""
        if self.behind():
            return self.held.new(alert, channel, now, domain)
        kept: list[int] = []

        def keep() -> None:
            kept.append(self.held.new(alert, channel, now, domain))

        try:
            # Joins the caller's transaction (a pipeline record hook), else runs in one of its
            # own; either way the row is kept in memory if the file cannot take it.
            with self.store.transaction():
                self.store.if_not_written(keep)
                row_id = self._insert(alert, channel, now, storm, domain)
        except StoreWriteError as exc:
            self._failed(exc)
            return kept[0]
        return row_id

    def _insert(
        self, alert: Alert, channel: str, now: datetime, storm: StormRule, domain: str
    ) -> int:
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

    def _failed(self, exc: StoreWriteError) -> None:
        if self.metrics is not None:
            self.metrics.store_error("outbox")
        if self.error is None:
            log.error("state database refused an outbox write: held in memory", error=str(exc))
        self.error = str(exc)

    def persist(self) -> int:
        """Write what is held in memory, in one transaction; how much is still held."""
        if not self.held or self.behind():
            return len(self.held)
        try:
            with self.store.transaction():
                moved = self.held.write(self.table)
        except StoreWriteError as exc:
            self._failed(exc)
            return len(self.held)
        log.info("held alerts written to the outbox", rows=len(self.held.rows))
        self.held.written(moved)
        self.error = None
        return 0

    def _storm(
        self, kind: AlertKind, channel: str, now: datetime, storm: StormRule
    ) -> tuple[bool, str | None, datetime]:
        """(held, digest key of the group to join or None for a new one, due time)."""
        since = now - timedelta(seconds=storm.window)
        count, first = self.table.recent(channel, str(kind), since, storm.threshold)
        if count < storm.threshold or first is None:
            return False, None, now
        # Join the open group (held, not tried yet, window not over), else open a new one
        # that ends with the window of the storm's first alert; or, when the storm has
        # outlasted a digest already (its rows are still in the window), a window from now:
        # otherwise every round of a long storm would send a digest of its few latest rows.
        open_group = self.table.open_group(channel, str(kind), now)
        if open_group is not None:
            return True, open_group[0], open_group[1]
        if self.table.digested_since(channel, str(kind), since):
            return True, None, now + timedelta(seconds=storm.window)
        return True, None, first + timedelta(seconds=storm.window)

    def pending(self) -> list[OutboxRow]:
        """Every row not yet sent, failed or expired, oldest first."""
        return self.rows(AlertStatus.PENDING)

    def rows(self, status: AlertStatus | None = None) -> list[OutboxRow]:
        """All rows (or those with ``status``), oldest first, held ones included."""
        wanted = None if status is None else str(status)
        row = self._row
        stored = [row(r) for r in self.table.rows(wanted) if r.id not in self.held.rows]
        if status is AlertStatus.PENDING and len(self._parsed) > 2 * len(stored) + 1000:
            # Keep the decoded payloads of the rows still pending (and the held ones).
            keep = {r.id for r in stored} | set(self.held.rows)
            self._parsed = {i: p for i, p in self._parsed.items() if i in keep}
        if not self.held.rows:
            return stored
        held = [row(r) for r in self.held.rows.values() if wanted in (None, r.status)]
        return sorted(stored + held, key=lambda row: row.created_at)

    def _row(self, r: OutboxRecord) -> OutboxRow:
        known = self._parsed.get(r.id)
        if known is not None and known[0] == r.payload:
            payload = known[1]
        else:
            payload = Payload.from_json(json.loads(r.payload))
            self._parsed[r.id] = (r.payload, payload)
        return _row(r, payload)

    def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        self._change(
            ids,
            lambda r: replace(r, status=str(AlertStatus.SENT), sent_at=now, last_error=None),
            lambda stored: self.table.mark_sent(stored, now),
        )

    def mark_given_up(self, ids: Sequence[int], status: AlertStatus, error: str) -> None:
        self._change(
            ids,
            lambda r: replace(r, status=str(status), last_error=error),
            lambda stored: self.table.mark_given_up(stored, str(status), error),
        )

    def retry_later(self, ids: Sequence[int], at: datetime, error: str) -> int:
        """Count a failed attempt and set the next one; the new attempt count."""
        self._change(
            ids,
            lambda r: replace(r, attempts=r.attempts + 1, next_attempt_at=at, last_error=error),
            lambda stored: self.table.retry_later(stored, at, error),
        )
        first = self.held.resolve(ids[0])
        if first in self.held.rows:
            return self.held.rows[first].attempts
        return next((r.attempts for r in self.table.get([first])), 0)

    def _change(
        self,
        ids: Sequence[int],
        change: Callable[[OutboxRecord], OutboxRecord],
        write: Callable[[list[int]], object],
    ) -> None:
        """Apply ``change`` to rows: in the table, or in memory for held rows and when the
        table cannot take it (the row is then held with its new status)."""
        ids = [self.held.resolve(i) for i in ids]
        held = [i for i in ids if i in self.held.rows]
        stored = [i for i in ids if i not in self.held.rows]
        if stored:
            try:
                with self.store.transaction():
                    write(stored)
            except StoreWriteError as exc:
                self._failed(exc)
                for record in self.table.get(stored):
                    self.held.put(record)
                    held.append(record.id)
        for i in held:
            self.held.rows[i] = change(self.held.rows[i])

    def older_than(self, cutoff: datetime) -> list[OutboxRow]:
        """Pending rows created before ``cutoff``."""
        if self.held.rows:
            return [r for r in self.pending() if r.created_at < cutoff]
        return [self._row(r) for r in self.table.rows(str(AlertStatus.PENDING), cutoff)]

    def queue(self, now: datetime) -> tuple[int, float]:
        """(number of pending rows, age in seconds of the oldest, 0 when none)."""
        if self.held.rows:
            pending = self.pending()
            count, oldest = len(pending), min((r.created_at for r in pending), default=None)
        else:
            count, oldest = self.table.queue()
        age = 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
        return count, age

    def prune(self, before: datetime) -> int:
        """Delete finished rows created before ``before`` so the table stays bounded."""
        try:
            with self.store.transaction():
                return self.table.prune(before)
        except StoreWriteError:
            return 0  # nothing is lost: the next round prunes them

    def last_outage_alert(self, monitor: str, outage_start: datetime | None) -> datetime | None:
        """When the outage starting at ``outage_start`` was last alerted (DOWN or REMINDER)."""
        found = self.table.last_outage_alert(monitor, outage_start)
        held = [
            r.created_at
            for r in self.held.rows.values()
            if r.monitor == monitor
            and r.kind in (AlertKind.DOWN, AlertKind.REMINDER)
            and r.outage_start == outage_start
        ]
        return max([t for t in (found, *held) if t is not None], default=None)

    def cert_marks(self, monitor: str) -> CertMarks:
        found = self.held.marks.get(monitor) or self.table.cert_marks(monitor)
        if found is None:
            return CertMarks()
        return CertMarks(found[0], frozenset(json.loads(found[1])))

    def save_cert_marks(self, monitor: str, marks: CertMarks) -> None:
        saved = (marks.expires_at, json.dumps(sorted(marks.passed)))
        if monitor in self.held.marks or self.behind():
            # An older mark still waits: writing this one first would let persist() undo it.
            self.held.mark(monitor, saved)
            return

        def keep() -> None:
            self.held.mark(monitor, saved)

        try:
            with self.store.transaction():
                self.store.if_not_written(keep)
                self.table.save_cert_marks(monitor, *saved)
        except StoreWriteError as exc:
            self._failed(exc)


def _row(r: OutboxRecord, payload: Payload) -> OutboxRow:
    return OutboxRow(
        id=r.id,
        monitor=r.monitor,
        kind=AlertKind(r.kind),
        channel=r.channel,
        created_at=r.created_at,
        payload=payload,
        message_id=r.message_id,
        status=AlertStatus(r.status),
        digest=r.digest,
        attempts=r.attempts,
        next_attempt_at=r.next_attempt_at,
        last_error=r.last_error,
    )
