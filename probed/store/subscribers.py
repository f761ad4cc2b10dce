"""``subscribers``, their confirmation counts, ``subscriber_outbox`` (subscriber messages until
delivered) and ``subscriber_notices`` (docs/design.md §18.4). Message bodies are JSON text here;
probed.subscriptions gives them their types."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from probed.units import from_ms, to_ms

_SUBSCRIBER = "id, address, state, created_ms, confirmed_ms, nonce"
_QUEUED = "id, recipient, kind, created_ms, body, message_id, status, attempts, next_ms, last_error"


@dataclass(frozen=True, slots=True)
class SubscriberRow:
    id: int
    address: str
    state: str
    """``pending`` or ``confirmed``."""
    created: datetime
    confirmed: datetime | None
    nonce: str
    """Signed into every link of this subscription; never shown."""


@dataclass(frozen=True, slots=True)
class QueuedRow:
    id: int
    recipient: str
    kind: str
    created: datetime
    body: str
    message_id: str
    status: str
    attempts: int
    next_attempt: datetime
    last_error: str | None


class Subscribers:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def get(self, address: str) -> SubscriberRow | None:
        row = self._db.execute(
            f"SELECT {_SUBSCRIBER} FROM subscribers WHERE address = ?", (address,)
        ).fetchone()
        return None if row is None else _subscriber(row)

    def by_id(self, subscriber_id: int) -> SubscriberRow | None:
        row = self._db.execute(
            f"SELECT {_SUBSCRIBER} FROM subscribers WHERE id = ?", (subscriber_id,)
        ).fetchone()
        return None if row is None else _subscriber(row)

    def add(self, address: str, nonce: str, at: datetime) -> SubscriberRow:
        self._db.execute(
            "INSERT INTO subscribers (address, state, created_ms, nonce)"
            " VALUES (?, 'pending', ?, ?)",
            (address, to_ms(at), nonce),
        )
        row = self.get(address)
        assert row is not None
        return row

    def confirm(self, subscriber_id: int, at: datetime) -> None:
        self._db.execute(
            "UPDATE subscribers SET state = 'confirmed', confirmed_ms = ? WHERE id = ?"
            " AND state = 'pending'",
            (to_ms(at), subscriber_id),
        )

    def remove(self, address: str) -> bool:
        """Forget ``address`` (and its pending messages); whether it was there."""
        self._db.execute(
            "DELETE FROM subscriber_outbox WHERE recipient = ? AND status = 'pending'", (address,)
        )
        return (
            self._db.execute("DELETE FROM subscribers WHERE address = ?", (address,)).rowcount > 0
        )

    def all(self, state: str | None = None) -> list[SubscriberRow]:
        where, args = ("WHERE state = ?", (state,)) if state else ("", ())
        rows = self._db.execute(f"SELECT {_SUBSCRIBER} FROM subscribers {where} ORDER BY id", args)
        return [_subscriber(r) for r in rows.fetchall()]

    def count_confirmation(self, address: str, day: str) -> int:
        """Count one more confirmation mail to ``address`` on ``day``; the new count."""
        self._db.execute(
            "INSERT INTO subscriber_confirmations (address, day, sent) VALUES (?, ?, 1)"
            " ON CONFLICT (address, day) DO UPDATE SET sent = sent + 1",
            (address, day),
        )
        return self.confirmations(address, day)

    def confirmations(self, address: str, day: str) -> int:
        row = self._db.execute(
            "SELECT sent FROM subscriber_confirmations WHERE address = ? AND day = ?",
            (address, day),
        ).fetchone()
        return 0 if row is None else int(row[0])

    def prune_confirmations(self, before_day: str) -> None:
        self._db.execute("DELETE FROM subscriber_confirmations WHERE day < ?", (before_day,))

    def queue(self, recipient: str, kind: str, at: datetime, body: str, message_id: str) -> int:
        cur = self._db.execute(
            "INSERT INTO subscriber_outbox (recipient, kind, created_ms, body, message_id,"
            " next_ms) VALUES (?, ?, ?, ?, ?, ?)",
            (recipient, kind, to_ms(at), body, message_id, to_ms(at)),
        )
        return int(cur.lastrowid or 0)

    def due(self, now: datetime, limit: int = 100) -> list[QueuedRow]:
        """Pending messages whose time has come, oldest first."""
        rows = self._db.execute(
            f"SELECT {_QUEUED} FROM subscriber_outbox WHERE status = 'pending' AND next_ms <= ?"
            " ORDER BY id LIMIT ?",
            (to_ms(now), limit),
        )
        return [_queued(r) for r in rows.fetchall()]

    def next_due(self) -> datetime | None:
        row = self._db.execute(
            "SELECT min(next_ms) FROM subscriber_outbox WHERE status = 'pending'"
        ).fetchone()
        return from_ms(row[0])

    def pending(self) -> int:
        row = self._db.execute(
            "SELECT count(*) FROM subscriber_outbox WHERE status = 'pending'"
        ).fetchone()
        return int(row[0])

    def mark(self, row_id: int, status: str, at: datetime, error: str | None = None) -> None:
        self._db.execute(
            "UPDATE subscriber_outbox SET status = ?, sent_ms = ?, last_error = ? WHERE id = ?",
            (status, to_ms(at) if status == "sent" else None, error, row_id),
        )

    def retry(self, row_id: int, at: datetime, error: str) -> None:
        self._db.execute(
            "UPDATE subscriber_outbox SET attempts = attempts + 1, next_ms = ?, last_error = ?"
            " WHERE id = ?",
            (to_ms(at), error, row_id),
        )

    def hold(self, receiver: str, until: datetime) -> None:
        """Pending messages of ``receiver`` (``mail``: every address; else a webhook's
        recipient) wait at least ``until``."""
        where = "recipient NOT LIKE 'webhook:%'" if receiver == "mail" else "recipient = ?"
        args: tuple[object, ...] = () if receiver == "mail" else (receiver,)
        self._db.execute(
            f"UPDATE subscriber_outbox SET next_ms = max(next_ms, ?) WHERE status = 'pending'"
            f" AND {where}",
            (to_ms(until), *args),
        )

    def prune_pending(self, before: datetime) -> None:
        """Forget addresses never confirmed while their link was valid."""
        self._db.execute(
            "DELETE FROM subscribers WHERE state = 'pending' AND created_ms < ?", (to_ms(before),)
        )

    def prune(self, before: datetime) -> None:
        self._db.execute(
            "DELETE FROM subscriber_outbox WHERE status != 'pending' AND created_ms < ?",
            (to_ms(before),),
        )

    def was_noticed(self, key: str) -> bool:
        row = self._db.execute("SELECT 1 FROM subscriber_notices WHERE key = ?", (key,))
        return row.fetchone() is not None

    def noticed(self, key: str, at: datetime) -> bool:
        """Record that notice ``key`` went out; False when it had already."""
        cur = self._db.execute(
            "INSERT OR IGNORE INTO subscriber_notices (key, at_ms) VALUES (?, ?)", (key, to_ms(at))
        )
        return cur.rowcount > 0


def _subscriber(r: Sequence[Any]) -> SubscriberRow:
    created = from_ms(r[3])
    assert created is not None
    return SubscriberRow(r[0], r[1], r[2], created, from_ms(r[4]), r[5])


def _queued(r: Sequence[Any]) -> QueuedRow:
    created, due = from_ms(r[3]), from_ms(r[8])
    assert created is not None and due is not None
    return QueuedRow(r[0], r[1], r[2], created, r[4], r[5], r[6], r[7], due, r[9])
