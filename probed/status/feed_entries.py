"""What the feeds (``/feed.atom``, ``/feed.rss``) list: incidents, each of their updates,
announcements and planned maintenance as entries with stable IDs, newest first (pure).

An entry's ID is a name-based UUID (RFC 9562 version 5) of what it is: the incident's code,
the update's row, the announcement's row and creation time, the maintenance window's name and
start. It is the same in every render and after a restart, and never names the instance.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from probed.status.news import PublicIncident
from probed.status.planned import AHEAD, Planned
from probed.store.announcements import AnnouncementRow
from probed.units import from_ms

MAX_ENTRIES = 100
"""Newest first; 1,000 incidents with long updates then stay far below 1 MB."""
NAMESPACE = uuid.UUID("5b0e7c5e-9a3d-4c1e-8f53-6a7d0b1e2f23")
"""probed's namespace for its feed entry IDs (fixed: the IDs must never change)."""
_STAGES = {
    "investigating": "Investigating",
    "identified": "Identified",
    "monitoring": "Monitoring",
    "resolved": "Resolved",
}


@dataclass(frozen=True, slots=True)
class FeedEntry:
    id: str
    """``urn:uuid:…``."""
    kind: str
    """``incident``, ``update``, ``announcement`` or ``maintenance`` (the entry's category)."""
    title: str
    text: str
    """Plain text; the feed escapes it."""
    published: datetime
    updated: datetime
    fragment: str
    """Where on the status page it is shown: ``incident-INC-2026-014`` (empty: the top)."""


def entry_id(name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, name)}"


def feed_entries(
    incidents: Sequence[PublicIncident],
    announcements: Sequence[AnnouncementRow],
    planned: Sequence[Planned],
    now: datetime,
    *,
    public_monitors: frozenset[str],
) -> list[FeedEntry]:
    """Every entry, newest ``updated`` first, at most ``MAX_ENTRIES``."""
    out: list[FeedEntry] = []
    for i in incidents:
        out.append(_incident(i))
        out.extend(_update(i, u.id, u.at, u.stage, u.text) for u in i.updates)
    for a in announcements:
        created = from_ms(a.created_ms)
        assert created is not None
        out.append(
            FeedEntry(
                entry_id(f"announcement/{a.id}/{a.created_ms}"),
                "announcement",
                f"{a.level.capitalize()}: {_line(a.message)}",
                a.message,
                created,
                created,
                "",
            )
        )
    out.extend(_maintenance(p, now, public_monitors) for p in planned)
    # At the same moment an incident's own entry (its new state) comes before its update.
    out.sort(key=lambda e: (e.updated, e.kind == "incident", e.id), reverse=True)
    return out[:MAX_ENTRIES]


def _incident(i: PublicIncident) -> FeedEntry:
    state = "Resolved" if i.ended is not None else _STAGES.get(i.stage or "", "Ongoing")
    lines = [f"{state}. Started {_when(i.started)}."]
    if i.ended is not None:
        lines.append(f"Resolved {_when(i.ended)} after {_span(i.ended - i.started)}.")
    if i.monitors:
        lines.append(f"Affects: {', '.join(i.monitors)}.")
    if i.updates:
        latest = i.updates[0]
        lines.append(f"Latest update ({_STAGES.get(latest.stage, latest.stage)}): {latest.text}")
    return FeedEntry(
        entry_id(f"incident/{i.code}"),
        "incident",
        f"{i.title} ({state.lower()})",
        "\n".join(lines),
        i.started,
        # Its state and latest update are in its text: it changes with each of them.
        max([i.started, *([i.ended] if i.ended else []), *(u.at for u in i.updates[:1])]),
        f"incident-{quote(i.code)}",
    )


def _update(i: PublicIncident, update_id: int, at: datetime, stage: str, text: str) -> FeedEntry:
    return FeedEntry(
        entry_id(f"update/{i.code}/{update_id}"),
        "update",
        f"{i.title}: {_STAGES.get(stage, stage)}",
        text,
        at,
        at,
        f"incident-{quote(i.code)}",
    )


def _maintenance(p: Planned, now: datetime, public: frozenset[str]) -> FeedEntry:
    state = p.state(now)
    heading = {
        "upcoming": "Scheduled maintenance",
        "in_progress": "Maintenance in progress",
        "completed": "Maintenance completed",
    }[state]
    names = [n for n in p.monitors if n in public] if p.monitors is not None else ["all services"]
    span = f"{p.start:%a %d %b %H:%M}–{p.end:%H:%M} UTC"
    if p.end - p.start >= timedelta(days=1) or p.start.date() != p.end.date():
        span = f"{p.start:%a %d %b %H:%M} – {p.end:%a %d %b %H:%M} UTC"
    text = f"{heading}, {span}" + (f": {', '.join(names)}" if names else "")
    return FeedEntry(
        entry_id(f"maintenance/{p.name}/{p.start.isoformat()}"),
        "maintenance",
        f"{heading}: {p.name}",
        text,
        p.start - AHEAD,
        p.changed(now),
        "",
    )


def _line(text: str, limit: int = 80) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _when(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC"


def _span(delta: timedelta) -> str:
    minutes = max(0, round(delta.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days}d"] * bool(days) + [f"{hours}h"] * bool(hours) + [f"{minutes}m"]
    return " ".join(parts[:2]) if days or hours else parts[-1]
