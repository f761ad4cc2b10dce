"""The ``domain_expiry`` table: each registrable domain's last RDAP answer (docs/design.md
§19.2)."""

from __future__ import annotations

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
