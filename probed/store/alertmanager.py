"""``alertmanager_alerts``: the alerts each Alertmanager channel keeps firing (or recently
resolved), so they are re-sent across restarts. ``alert`` is the postable alert as JSON text
without ``endsAt``, which each send sets."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from probed.units import from_ts, to_ts


@dataclass(frozen=True, slots=True)
class FiringRecord:
    channel: str
    monitor: str
    alertname: str
    alert: str
    """JSON text: labels, annotations, startsAt."""
    resolved_at: datetime | None
    sent_at: datetime | None


class AlertmanagerTable:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def fire(self, channel: str, monitor: str, alertname: str, alert: str) -> None:
        """Start (or keep) an alert firing; a resolved one of the same name fires again."""
        self._db.execute(
            "INSERT INTO alertmanager_alerts (channel, monitor, alertname, alert)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (channel, monitor, alertname) DO UPDATE"
            " SET alert = excluded.alert, resolved_at = NULL",
            (channel, monitor, alertname, alert),
        )

    def resolve(self, channel: str, monitor: str, alertname: str, at: datetime) -> bool:
        """Mark a firing alert resolved at ``at``; False when it was not firing."""
        return (
            self._db.execute(
                "UPDATE alertmanager_alerts SET resolved_at = ? WHERE channel = ?"
                " AND monitor = ? AND alertname = ? AND resolved_at IS NULL",
                (to_ts(at), channel, monitor, alertname),
            ).rowcount
            > 0
        )

    def sent(self, channel: str, keys: list[tuple[str, str]], at: datetime) -> None:
        self._db.executemany(
            "UPDATE alertmanager_alerts SET sent_at = ? WHERE channel = ? AND monitor = ?"
            " AND alertname = ?",
            [(to_ts(at), channel, monitor, name) for monitor, name in keys],
        )

    def forget(self, channel: str, resolved_before: datetime) -> None:
        """Drop alerts resolved before the time (re-sent long enough)."""
        self._db.execute(
            "DELETE FROM alertmanager_alerts WHERE channel = ? AND resolved_at < ?",
            (channel, to_ts(resolved_before)),
        )

    def rows(self, channel: str) -> list[FiringRecord]:
        found = self._db.execute(
            "SELECT channel, monitor, alertname, alert, resolved_at, sent_at"
            " FROM alertmanager_alerts WHERE channel = ? ORDER BY monitor, alertname",
            (channel,),
        )
        return [
            FiringRecord(r[0], r[1], r[2], r[3], from_ts(r[4]), from_ts(r[5]))
            for r in found.fetchall()
        ]
