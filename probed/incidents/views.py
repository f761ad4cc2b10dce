"""Incidents as the API answers them (docs/design.md §17, docs/api.md): plain JSON values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from probed.incidents.links import incident_path
from probed.store.incidents import Event, IncidentRow, UpdateRow
from probed.units import iso


def update_json(update: UpdateRow) -> dict[str, Any]:
    """One posted update: when, its stage, its text and who posted it."""
    return {"at": iso(update.at), "stage": update.stage, "text": update.text, "by": update.by}


def incident_json(
    row: IncidentRow,
    now: datetime,
    external_url: str | None,
    updates: Sequence[UpdateRow] = (),
) -> dict[str, Any]:
    """One incident: its times, acknowledgement, time to acknowledge and resolve, its URL on
    ``external_url`` (None without one), and a manual incident's title and impact, the stage
    and the ``updates`` (given newest first)."""
    end = row.ended or now
    acked = None
    if row.acked is not None:
        acked = {"at": iso(row.acked), "by": row.acked_by, "note": row.ack_note}
    return {
        "id": row.code,
        "monitor": row.monitor,
        "monitor_id": row.monitor_id,
        "severity": row.severity,
        "runbook": row.runbook,
        "start": iso(row.started),
        "confirmed": iso(row.confirmed),
        "end": iso(row.ended),
        "duration_seconds": round(max(0.0, (end - row.started).total_seconds()), 3),
        "open": row.open,
        "acknowledged": acked,
        "time_to_ack_seconds": _seconds(row.ack_seconds()),
        "time_to_resolve_seconds": _seconds(row.resolve_seconds()),
        "url": external_url + incident_path(row.code) if external_url else None,
        "title": row.title,
        "manual": row.manual,
        "impact": row.impact,
        "stage": row.stage,
        "updates": [update_json(u) for u in updates],
    }


def timeline_json(events: Sequence[Event]) -> list[dict[str, Any]]:
    return [{"at": iso(e.at), "kind": e.kind, "detail": dict(e.detail)} for e in events]


def detail_json(
    row: IncidentRow,
    events: Sequence[Event],
    evidence: Mapping[str, Any] | None,
    now: datetime,
    external_url: str | None,
    updates: Sequence[UpdateRow] = (),
) -> dict[str, Any]:
    """The incident with its updates and timeline, and its evidence (``opened``,
    ``confirmed``, ``last_good``) when given; None means the reader may not see it (no API
    token)."""
    out = incident_json(row, now, external_url, updates)
    out["timeline"] = timeline_json(events)
    if evidence is None:
        out["evidence"] = None
        out["evidence_needs_token"] = True
    else:
        out["evidence"] = {
            role: evidence.get(role) for role in ("opened", "confirmed", "last_good")
        }
    return out


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(max(0.0, value), 3)
