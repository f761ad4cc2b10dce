"""The ``domain_expiry`` and ``domain_marks`` tables: each registrable domain's last RDAP
answer, and the expiry warnings each monitor gave (docs/design.md §19.2)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DomainRecord:
    """What the registry last said of a domain: its expiry (unix ms), or why it is unknown."""

    domain: str
    checked_ms: int
    expires_ms: int | None
    reason: str | None = None


class DomainExpiries:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def get(self, domain: str) -> DomainRecord | None:
        row = self._db.execute(
            "SELECT checked_ms, expires_ms, reason FROM domain_expiry WHERE domain = ?", (domain,)
        ).fetchone()
        if row is None:
            return None
        return DomainRecord(domain, int(row[0]), None if row[1] is None else int(row[1]), row[2])

    def put(self, record: DomainRecord) -> None:
        """Replace the domain's record; inside the caller's transaction."""
        self._db.execute(
            "INSERT OR REPLACE INTO domain_expiry (domain, checked_ms, expires_ms, reason)"
            " VALUES (?, ?, ?, ?)",
            (record.domain, record.checked_ms, record.expires_ms, record.reason),
        )

    def marks(self, monitor: str) -> tuple[int, frozenset[int]] | None:
        """The registration's expiry (unix ms) the monitor warned about, and at which
        thresholds; None when it gave no warning."""
        row = self._db.execute(
            "SELECT expires_ms, passed FROM domain_marks WHERE monitor = ?", (monitor,)
        ).fetchone()
        return None if row is None else (int(row[0]), frozenset(json.loads(row[1])))

    def save_marks(self, monitor: str, expires_ms: int, passed: frozenset[int]) -> None:
        """Inside the caller's transaction (with the alerts' outbox rows)."""
        self._db.execute(
            "INSERT OR REPLACE INTO domain_marks (monitor, expires_ms, passed) VALUES (?, ?, ?)",
            (monitor, expires_ms, json.dumps(sorted(passed))),
        )
