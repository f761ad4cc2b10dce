"""Incidents as the public may see them (feeds, summary): of public monitors, or manual ones
that name a public monitor or none; titles, stages and updates, never evidence or notes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from probed.store.incidents import IncidentRow, Incidents, UpdateRow

_PAGE = 200


@dataclass(frozen=True, slots=True)
class PublicIncident:
    code: str
    title: str
    """A manual incident's title, else ``<monitor> down``."""
    manual: bool
    monitors: tuple[str, ...]
    """The public monitors it concerns (never a private one's name)."""
    started: datetime
    """The confirmed DOWN (when a manual one was opened)."""
    ended: datetime | None
    stage: str | None
    impact: str | None
    updates: tuple[UpdateRow, ...]
    """Newest first."""


def public_incidents(
    incidents: Incidents,
    public: Mapping[int, str],
    *,
    limit: int | None = None,
    open_only: bool = False,
) -> list[PublicIncident]:
    """Up to ``limit`` (None: all) public incidents, newest first; ``public`` maps monitor ids
    to names."""
    chosen: list[tuple[IncidentRow, tuple[str, ...]]] = []
    offset = 0
    while limit is None or len(chosen) < limit:
        rows, total = incidents.find(open=True if open_only else None, limit=_PAGE, offset=offset)
        for row in rows:
            names = _shown(incidents, row, public)
            if names is not None and (limit is None or len(chosen) < limit):
                chosen.append((row, names))
        offset += _PAGE
        if offset >= total:
            break
    by_incident: dict[int, list[UpdateRow]] = {}
    for u in incidents.updates([row.id for row, _ in chosen]) if chosen else []:
        by_incident.setdefault(u.incident_id, []).append(u)
    return [
        PublicIncident(
            code=row.code,
            title=row.title if row.manual and row.title else f"{', '.join(names)} down",
            manual=row.manual,
            monitors=names,
            started=row.confirmed,
            ended=row.ended,
            stage=row.stage,
            impact=row.impact,
            updates=tuple(by_incident.get(row.id, ())),
        )
        for row, names in chosen
    ]


def _shown(
    incidents: Incidents, row: IncidentRow, public: Mapping[int, str]
) -> tuple[str, ...] | None:
    """The public monitor names of an incident the public may see, else None."""
    if not row.manual:
        name = public.get(row.monitor_id) if row.monitor_id is not None else None
        return None if name is None else (name,)
    affected = incidents.affected(row.id)
    names = tuple(public[m] for m in affected if m in public)
    # A manual incident about private monitors only is an internal matter.
    return names if names or not affected else None
