"""The ``transitions`` table: every state change, the source of incidents, uptime and logs.

Rows keep an integer id (UptimeRobot log ids, the alert recorder's references) and are read
through the (monitor_id, at_ms) index; several transitions of one check share a time.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from probed.model import Status, Transition, TransitionKind
from probed.store.checks import ids_filter
from probed.store.reasons import Reasons
from probed.units import from_ms, to_ms

# Stored values to members by dict look-up: the status page reads thousands of rows, and an
# Enum call per value costs several times a look-up.
_KINDS = {k.value: k for k in TransitionKind}
_STATUSES = {s.value: s for s in Status}


class ChangeRow(NamedTuple):
    """One stored transition, as history reads it."""

    id: int
    kind: TransitionKind
    new: Status
    at: datetime
    reason: str
    outage_start: datetime | None


class Transitions:
    def __init__(self, db: sqlite3.Connection, reasons: Reasons) -> None:
        self._db = db
        self._reasons = reasons
        self._generation = 0

    @property
    def generation(self) -> int:
        """Counts this connection's prunes of the table (``Store.stamp`` covers the rest): a
        reader that keeps the rows it has seen (``history.changelog``) reads them all again
        when either changes, and otherwise only rows with higher ids (``after``): while no
        row is deleted, SQLite gives a new row the highest id plus one."""
        return self._generation

    def changed(self) -> None:
        """Rows were deleted."""
        self._generation += 1

    def after(self, last_id: int) -> list[tuple[int, int, str, int, int, str, int | None]]:
        """Every transition with an id above ``last_id``, in id order: (monitor id, id, kind,
        new status, at ms, reason, outage start ms)."""
        return self._db.execute(
            "SELECT t.monitor_id, t.id, t.kind, t.new, t.at_ms, r.text, t.outage_start_ms"
            " FROM transitions t JOIN reasons r ON r.id = t.reason_id WHERE t.id > ?"
            " ORDER BY t.id",
            (last_id,),
        ).fetchall()

    def add(self, monitor_id: int, transitions: Sequence[Transition]) -> list[int]:
        """Store transitions inside the caller's transaction; their ids."""
        ids = []
        for t in transitions:
            cur = self._db.execute(
                "INSERT INTO transitions"
                " (monitor_id, kind, old, new, at_ms, reason_id, outage_start_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    monitor_id,
                    str(t.kind),
                    int(t.old),
                    int(t.new),
                    to_ms(t.at),
                    self._reasons.reason_id(t.reason),
                    to_ms(t.outage_start),
                ),
            )
            ids.append(int(cur.lastrowid or 0))
        return ids

    def recent(self, monitor_id: int, limit: int) -> list[Transition]:
        """A monitor's newest transitions first."""
        rows = self._db.execute(
            "SELECT m.name, t.kind, t.old, t.new, t.at_ms, r.text, t.outage_start_ms"
            " FROM transitions t JOIN monitors m ON m.id = t.monitor_id"
            " JOIN reasons r ON r.id = t.reason_id"
            " WHERE t.monitor_id = ? ORDER BY t.at_ms DESC, t.id DESC LIMIT ?",
            (monitor_id, limit),
        ).fetchall()
        out = []
        for name, kind, old, new, at_ms, reason, outage_ms in rows:
            at = from_ms(at_ms)
            assert at is not None
            out.append(
                Transition(
                    monitor=name,
                    kind=TransitionKind(kind),
                    old=Status(old),
                    new=Status(new),
                    at=at,
                    reason=reason,
                    outage_start=from_ms(outage_ms),
                )
            )
        return out

    def changes(
        self, ids: Sequence[int] | None, since: datetime | None = None
    ) -> dict[int, list[ChangeRow]]:
        """Each monitor's transitions, oldest first: all of them, or those from ``since`` on
        plus the last one before it (the state the monitor was in at ``since``)."""
        where, params = ids_filter("monitor_id", ids)
        columns = "monitor_id, id, kind, new, at_ms, reason_id, outage_start_ms"
        if since is None:
            inner, args = f"SELECT {columns} FROM transitions WHERE 1{where}", params
        else:
            # SQLite fills the bare columns of a MAX() aggregate from the row holding the maximum.
            inner = (
                f"SELECT {columns} FROM transitions WHERE at_ms >= ?{where} UNION ALL"
                " SELECT monitor_id, id, kind, new, MAX(at_ms), reason_id, outage_start_ms"
                f" FROM transitions WHERE at_ms < ?{where} GROUP BY monitor_id"
            )
            cut = to_ms(since)
            args = [cut, *params, cut, *params]
        out: dict[int, list[ChangeRow]] = defaultdict(list)
        for mid, id_, kind, new, at_ms, reason, outage_ms in self._db.execute(
            "SELECT t.monitor_id, t.id, t.kind, t.new, t.at_ms, r.text, t.outage_start_ms"
            f" FROM ({inner}) t JOIN reasons r ON r.id = t.reason_id"
            " ORDER BY t.monitor_id, t.at_ms, t.id",
            args,
        ):
            at = from_ms(at_ms)
            assert at is not None
            out[mid].append(
                ChangeRow(id_, _KINDS[kind], _STATUSES[new], at, reason, from_ms(outage_ms))
            )
        return out

    def prune(self, before_ms: int, batch: int) -> int:
        """Delete up to ``batch`` transitions older than ``before_ms`` except each monitor's last
        one before it, which says what state the monitor was in then; how many went."""
        deleted = self._db.execute(
            "DELETE FROM transitions WHERE id IN ("
            " SELECT t.id FROM monitors m CROSS JOIN transitions t"
            " ON t.monitor_id = m.id AND t.at_ms < ?"
            " WHERE EXISTS (SELECT 1 FROM transitions n"
            "               WHERE n.monitor_id = m.id AND n.at_ms > t.at_ms AND n.at_ms < ?)"
            " LIMIT ?)",
            (before_ms, before_ms, batch),
        ).rowcount
        if deleted:
            self.changed()
        return deleted
