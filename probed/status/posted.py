"""The incidents the status page tells people about (docs/design.md §18.1): manual ones and
those with updates, of public monitors, with their updates; and the marks open manual
incidents put on their monitors and on the banner. Never an incident's evidence or who posted."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from probed.engine.pipeline import Tracked
from probed.status.banner import Overall
from probed.status.report import PostedIncident, PostedUpdate
from probed.store.incidents import IncidentRow, Incidents

MAX_POSTED = 20
"""Incidents on the page at most (newest first, ongoing ones before them)."""
_RANK = (
    Overall.OPERATIONAL,
    Overall.MAINTENANCE,
    Overall.DEGRADED,
    Overall.PARTIAL_OUTAGE,
    Overall.MAJOR_OUTAGE,
)
"""The banner's states, mildest first (``overall`` puts degraded above maintenance)."""
_BANNER = {"minor": Overall.DEGRADED, "major": Overall.PARTIAL_OUTAGE}


def posted(
    incidents: Incidents, public: Sequence[Tracked], since: datetime
) -> tuple[list[PostedIncident], dict[int, str]]:
    """The incidents not over before ``since`` to show (ongoing first, then newest first), and
    the mark (impact) of each public monitor an open manual incident names, by monitor id.

    An automatic incident shows when its monitor is public; a manual one when it names no
    monitor or a public one, naming only the public ones."""
    names = {t.id: t.monitor.name for t in public}
    # Ongoing ones first, so that closed ones never push an older ongoing one off the page.
    rows, _ = incidents.find(open=True, told=True, limit=MAX_POSTED)
    if len(rows) < MAX_POSTED:
        closed, _ = incidents.find(open=False, since=since, told=True, limit=MAX_POSTED - len(rows))
        rows += closed
    updates: dict[int, list[PostedUpdate]] = {}
    for u in incidents.updates([r.id for r in rows]) if rows else ():
        updates.setdefault(u.incident_id, []).append(PostedUpdate(u.at, u.stage, u.text))
    shown: list[PostedIncident] = []
    marks: dict[int, str] = {}
    for row in rows:
        affected = incidents.affected(row.id)
        ours = [m for m in affected if m in names]
        if not ours and (affected or not row.manual):
            continue  # a hidden monitor's incident stays hidden
        if row.manual and row.open and row.impact is not None:
            for m in ours:
                if marks.get(m) != "major":
                    marks[m] = row.impact
        shown.append(_posted(row, tuple(names[m] for m in ours), updates.get(row.id, [])))
    shown.sort(key=lambda p: (p.open, p.start), reverse=True)
    return shown, marks


def _posted(
    row: IncidentRow, monitors: tuple[str, ...], updates: list[PostedUpdate]
) -> PostedIncident:
    title = row.title if row.manual and row.title else f"{row.monitor} down"
    return PostedIncident(
        title=title,
        stage=row.stage,
        open=row.open,
        manual=row.manual,
        impact=row.impact if row.manual else None,
        monitors=monitors,
        start=row.started,
        end=row.ended,
        updates=updates,
        code=row.code,
    )


def banner(measured: Overall, shown: Iterable[PostedIncident]) -> Overall:
    """The banner: the measured state, or what open manual incidents on the page say if that
    is worse (minor: degraded, major: partial outage)."""
    worst = measured
    for p in shown:
        if p.open and p.manual and (said := _BANNER.get(p.impact or "")) is not None:
            worst = max(worst, said, key=_RANK.index)
    return worst
