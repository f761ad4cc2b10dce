"""Incidents, their timeline and evidence (docs/design.md §17): typed methods over the
``incidents``, ``incident_events``, ``incident_evidence`` and ``incident_sequences`` tables.

Details and evidence are JSON objects the caller builds; this module only keeps them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from probed.units import from_ms, to_ms


class AckOutcome(StrEnum):
    DONE = "acknowledged"
    ALREADY = "already acknowledged"
    CLOSED = "closed"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """One stored incident (times UTC; ``ended`` None while open)."""

    id: int
    code: str
    monitor_id: int | None
    """The monitor whose outage it is; None for a manual incident."""
    monitor: str
    """That monitor's name; for a manual incident its affected monitors, comma separated."""
    severity: str | None
    runbook: str | None
    started: datetime
    confirmed: datetime
    ended: datetime | None
    acked: datetime | None
    acked_by: str | None
    ack_note: str | None
    title: str | None = None
    """A manual incident's title (``Voice calls failing``)."""
    manual: bool = False
    """Opened by a person (``probed incident open``) for a problem no monitor sees."""
    impact: str | None = None
    """A manual incident's effect on its monitors' shown state: ``minor`` or ``major``."""
    stage: str | None = None
    """The latest update's stage: investigating, identified, monitoring, resolved."""

    @property
    def open(self) -> bool:
        return self.ended is None

    def resolve_seconds(self) -> float | None:
        """From the first failed check to the end."""
        return None if self.ended is None else (self.ended - self.started).total_seconds()

    def ack_seconds(self) -> float | None:
        """From the confirmed DOWN to the acknowledgement."""
        return None if self.acked is None else (self.acked - self.confirmed).total_seconds()


@dataclass(frozen=True, slots=True)
class UpdateRow:
    """An update people posted to an incident."""

    id: int
    incident_id: int
    code: str
    at: datetime
    stage: str
    text: str
    by: str | None


STAGES = ("investigating", "identified", "monitoring", "resolved")
IMPACT_TEXT = {"minor": "Degraded", "major": "Partial outage"}
"""How a manual incident's monitors show on the status page, by its impact."""


@dataclass(frozen=True, slots=True)
class Event:
    """A timeline entry."""

    at: datetime
    kind: str
    detail: Mapping[str, Any]


_COLUMNS = (
    "i.id, i.code, i.monitor_id,"
    " COALESCE(m.name, (SELECT group_concat(a.name, ', ') FROM incident_monitors x"
    " JOIN monitors a ON a.id = x.monitor_id WHERE x.incident_id = i.id), ''),"
    " i.severity, i.runbook, i.started_ms, i.confirmed_ms,"
    " i.ended_ms, i.acked_ms, i.acked_by, i.ack_note, i.title, i.manual, i.impact, i.stage"
)
_FROM = " FROM incidents i LEFT JOIN monitors m ON m.id = i.monitor_id"


def _row(r: Sequence[Any]) -> IncidentRow:
    started, confirmed = from_ms(r[6]), from_ms(r[7])
    assert started is not None and confirmed is not None
    return IncidentRow(
        r[0], r[1], r[2], r[3], r[4], r[5], started, confirmed, from_ms(r[8]), from_ms(r[9]),
        r[10], r[11], r[12], bool(r[13]), r[14], r[15],
    )  # fmt: skip


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Incidents:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def last_number(self, year: int) -> int:
        """The highest number given out in ``year`` (0: none)."""
        row = self._db.execute(
            "SELECT last FROM incident_sequences WHERE year = ?", (year,)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def open(
        self,
        monitor_id: int,
        *,
        code: str,
        year: int,
        number: int,
        started: datetime,
        confirmed: datetime,
        severity: str,
        runbook: str | None,
    ) -> int:
        """Store a new incident numbered ``number`` of ``year`` (the sequence never goes back);
        its row id. Inside the caller's transaction."""
        self._db.execute(
            "INSERT INTO incident_sequences (year, last) VALUES (?, ?)"
            " ON CONFLICT (year) DO UPDATE SET last = MAX(last, excluded.last)",
            (year, number),
        )
        cur = self._db.execute(
            "INSERT INTO incidents (code, monitor_id, severity, runbook, started_ms, confirmed_ms)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (code, monitor_id, severity, runbook, to_ms(started), to_ms(confirmed)),
        )
        return int(cur.lastrowid or 0)

    def open_manual(
        self,
        *,
        code: str,
        year: int,
        number: int,
        title: str,
        monitor_ids: Sequence[int],
        impact: str,
        stage: str,
        at: datetime,
    ) -> int:
        """Store a manual incident (its stage is its first update's, written by the caller)."""
        self._db.execute(
            "INSERT INTO incident_sequences (year, last) VALUES (?, ?)"
            " ON CONFLICT (year) DO UPDATE SET last = MAX(last, excluded.last)",
            (year, number),
        )
        at_ms = to_ms(at)
        cur = self._db.execute(
            "INSERT INTO incidents (code, title, manual, impact, stage, started_ms, confirmed_ms)"
            " VALUES (?, ?, 1, ?, ?, ?, ?)",
            (code, title, impact, stage, at_ms, at_ms),
        )
        incident_id = int(cur.lastrowid or 0)
        self._db.executemany(
            "INSERT OR IGNORE INTO incident_monitors (incident_id, monitor_id) VALUES (?, ?)",
            [(incident_id, m) for m in monitor_ids],
        )
        return incident_id

    def affected(self, incident_id: int) -> list[int]:
        """The monitors a manual incident names (an automatic one: its monitor)."""
        rows = self._db.execute(
            "SELECT monitor_id FROM incident_monitors WHERE incident_id = ?"
            " UNION SELECT monitor_id FROM incidents WHERE id = ? AND monitor_id IS NOT NULL",
            (incident_id, incident_id),
        )
        return sorted(int(r[0]) for r in rows)

    def add_update(
        self, incident_id: int, at: datetime, stage: str, text: str, by: str | None
    ) -> int:
        """Store an update and make its stage the incident's; "resolved" ends a manual one."""
        cur = self._db.execute(
            "INSERT INTO incident_updates (incident_id, at_ms, stage, text, by)"
            " VALUES (?, ?, ?, ?, ?)",
            (incident_id, to_ms(at), stage, text, by),
        )
        self._db.execute("UPDATE incidents SET stage = ? WHERE id = ?", (stage, incident_id))
        if stage == "resolved":
            self._db.execute(
                "UPDATE incidents SET ended_ms = ? WHERE id = ? AND manual AND ended_ms IS NULL",
                (to_ms(at), incident_id),
            )
        return int(cur.lastrowid or 0)

    def updates(
        self, incident_ids: Sequence[int] | None = None, since: datetime | None = None
    ) -> list[UpdateRow]:
        """Updates, newest first: of these incidents (None: all), from ``since`` on."""
        where: list[str] = ["1"]
        args: list[object] = []
        if incident_ids is not None:
            where.append("u.incident_id IN (SELECT value FROM json_each(?))")
            args.append(json.dumps(list(incident_ids)))
        if since is not None:
            where.append("u.at_ms >= ?")
            args.append(to_ms(since))
        out = []
        for id_, incident_id, code, at_ms, stage, text, by in self._db.execute(
            "SELECT u.id, u.incident_id, i.code, u.at_ms, u.stage, u.text, u.by"
            " FROM incident_updates u JOIN incidents i ON i.id = u.incident_id"
            f" WHERE {' AND '.join(where)} ORDER BY u.at_ms DESC, u.id DESC",
            args,
        ):
            at = from_ms(at_ms)
            assert at is not None
            out.append(UpdateRow(id_, incident_id, code, at, stage, text, by))
        return out

    def last_update_id(self) -> int:
        """The newest update's id (0: none): it changes with every incident told to people."""
        (last,) = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM incident_updates").fetchone()
        return int(last)

    def close(self, incident_id: int, ended: datetime) -> None:
        self._db.execute(
            "UPDATE incidents SET ended_ms = ? WHERE id = ? AND ended_ms IS NULL",
            (to_ms(ended), incident_id),
        )

    def get(self, code: str) -> IncidentRow | None:
        row = self._db.execute(f"SELECT {_COLUMNS}{_FROM} WHERE i.code = ?", (code,)).fetchone()
        return None if row is None else _row(row)

    def open_ones(self) -> list[IncidentRow]:
        """Every open incident, oldest first."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS}{_FROM} WHERE i.ended_ms IS NULL ORDER BY i.confirmed_ms, i.id"
        )
        return [_row(r) for r in rows]

    def latest(self, monitor_id: int) -> IncidentRow | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS}{_FROM} WHERE i.monitor_id = ?"
            " ORDER BY i.confirmed_ms DESC, i.id DESC LIMIT 1",
            (monitor_id,),
        ).fetchone()
        return None if row is None else _row(row)

    def find(
        self,
        *,
        monitor_id: int | None = None,
        open: bool | None = None,
        since: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
        told: bool = False,
    ) -> tuple[list[IncidentRow], int]:
        """Newest first, filtered (``told``: only manual ones and those with updates); the page
        asked for and how many match in all."""
        where: list[str] = ["1"]
        args: list[object] = []
        if told:
            where.append(
                "(i.manual OR EXISTS (SELECT 1 FROM incident_updates u WHERE u.incident_id = i.id))"
            )
        if monitor_id is not None:
            where.append(
                "(i.monitor_id = ? OR EXISTS (SELECT 1 FROM incident_monitors x"
                " WHERE x.incident_id = i.id AND x.monitor_id = ?))"
            )
            args.extend((monitor_id, monitor_id))
        if open is not None:
            where.append("i.ended_ms IS NULL" if open else "i.ended_ms IS NOT NULL")
        if since is not None:
            # An incident still running at ``since`` counts: it is not over before it.
            where.append("(i.ended_ms IS NULL OR i.ended_ms >= ?)")
            args.append(to_ms(since))
        cond = " WHERE " + " AND ".join(where)
        (total,) = self._db.execute(f"SELECT COUNT(*){_FROM}{cond}", args).fetchone()
        rows = self._db.execute(
            f"SELECT {_COLUMNS}{_FROM}{cond} ORDER BY i.confirmed_ms DESC, i.id DESC"
            " LIMIT ? OFFSET ?",
            [*args, limit, offset],
        )
        return [_row(r) for r in rows], int(total)

    def fill_severity(self, severities: Mapping[int, str]) -> None:
        """Give incidents an upgrade brought in (no severity stored) their monitor's severity
        (``severities`` by monitor id); a read and nothing else once they all have one."""
        missing = [
            int(mid)
            for (mid,) in self._db.execute(
                "SELECT DISTINCT monitor_id FROM incidents"
                " WHERE severity IS NULL AND monitor_id IS NOT NULL"
            )
        ]
        self._db.executemany(
            "UPDATE incidents SET severity = ? WHERE monitor_id = ? AND severity IS NULL",
            [(severities[m], m) for m in missing if m in severities],
        )

    def ack(self, code: str, by: str, note: str | None, at: datetime) -> AckOutcome:
        row = self.get(code)
        if row is None:
            return AckOutcome.UNKNOWN
        if row.ended is not None:
            return AckOutcome.CLOSED
        if row.acked is not None:
            return AckOutcome.ALREADY
        self._db.execute(
            "UPDATE incidents SET acked_ms = ?, acked_by = ?, ack_note = ? WHERE id = ?",
            (to_ms(at), by, note, row.id),
        )
        self.add_event(row.id, at, "ack", {"by": by, "note": note} if note else {"by": by})
        return AckOutcome.DONE

    def add_event(
        self, incident_id: int, at: datetime, kind: str, detail: Mapping[str, Any]
    ) -> None:
        self._db.execute(
            "INSERT INTO incident_events (incident_id, seq, at_ms, kind, detail)"
            " SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ? FROM incident_events"
            " WHERE incident_id = ?",
            (incident_id, to_ms(at), kind, _json(detail), incident_id),
        )

    def events(self, incident_id: int) -> list[Event]:
        """The timeline, in time order (entries of one moment in the order written)."""
        out = []
        for at_ms, kind, detail in self._db.execute(
            "SELECT at_ms, kind, detail FROM incident_events WHERE incident_id = ?"
            " ORDER BY at_ms, seq",
            (incident_id,),
        ):
            at = from_ms(at_ms)
            assert at is not None
            out.append(Event(at, kind, json.loads(detail)))
        return out

    def has_event(self, incident_id: int, kind: str, key: str, value: object) -> bool:
        """Whether the timeline has a ``kind`` entry whose detail has ``key`` = ``value``."""
        row = self._db.execute(
            "SELECT 1 FROM incident_events WHERE incident_id = ? AND kind = ?"
            " AND json_extract(detail, '$.' || ?) = ? LIMIT 1",
            (incident_id, kind, key, value),
        ).fetchone()
        return row is not None

    def add_evidence(self, incident_id: int, role: str, data: Mapping[str, Any]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO incident_evidence (incident_id, role, data) VALUES (?, ?, ?)",
            (incident_id, role, _json(data)),
        )

    def evidence(self, incident_id: int) -> dict[str, dict[str, Any]]:
        """The incident's evidence by role (``opened``, ``confirmed``, ``last_good``)."""
        return {
            role: json.loads(data)
            for role, data in self._db.execute(
                "SELECT role, data FROM incident_evidence WHERE incident_id = ?", (incident_id,)
            )
        }

    def evidence_bytes(self) -> int:
        """Bytes of evidence stored in all (the bound of docs/design.md §16)."""
        (size,) = self._db.execute(
            "SELECT COALESCE(SUM(LENGTH(CAST(data AS BLOB))), 0) FROM incident_evidence"
        ).fetchone()
        return int(size)

    def prune(self, before_ms: int, batch: int) -> int:
        """Delete up to ``batch`` incidents that ended before ``before_ms`` (never an open one)."""
        return self._db.execute(
            "DELETE FROM incidents WHERE id IN (SELECT id FROM incidents"
            " WHERE ended_ms IS NOT NULL AND ended_ms < ? LIMIT ?)",
            (before_ms, batch),
        ).rowcount

    def monitor_id(self, name: str) -> int | None:
        """The id of the monitor called ``name`` that has incidents (it may be removed now)."""
        row = self._db.execute(
            "SELECT m.id FROM monitors m WHERE m.name = ?"
            " AND EXISTS (SELECT 1 FROM incidents i WHERE i.monitor_id = m.id) LIMIT 1",
            (name,),
        ).fetchone()
        return None if row is None else int(row[0])
