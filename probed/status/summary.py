"""``GET /api/v1/status/summary``: what an in-app banner needs, small enough for every user's
browser to poll (500 monitors in well under 20 KB): no bars, charts or figures (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from probed.status.news import PublicIncident
from probed.status.planned import Planned
from probed.status.report import StatusReport
from probed.units import iso

MAX_INCIDENTS = 10
"""Open incidents listed (``incidents_open`` counts them all): a mass outage of automatic
incidents would otherwise be most of the bytes, and each monitor's state says it anyway."""


def summary_json(
    report: StatusReport,
    incidents: Sequence[PublicIncident],
    planned: Sequence[Planned],
    base: str,
) -> dict[str, object]:
    """The summary of ``report`` with the open ``incidents`` and the ``planned`` work still
    ahead or running; links are on ``base`` (the page's URL without its trailing slash).

    Monitors come by group as ``[name, state]`` pairs (state as ``MonitorReport.state``):
    names take most of the bytes, so nothing is repeated per monitor. No time of rendering:
    the same state is the same body, so a poller's ``If-None-Match`` gets a 304."""
    now = report.now
    public = {m.name for m in report.monitors}
    return {
        "title": report.title,
        "page": f"{base}/",
        "overall": {"status": report.overall.value, "text": report.overall.text},
        "incidents": [_incident(i, base) for i in _told_first(incidents)[:MAX_INCIDENTS]],
        "incidents_open": len(incidents),
        "announcements": [
            {"message": a.message, "level": a.level, "created": iso(a.created)}
            for a in report.announcements
        ],
        "maintenance": [
            {
                "name": p.name,
                "monitors": None if p.monitors is None else [n for n in p.monitors if n in public],
                "start": iso(p.start),
                "end": iso(p.end),
                "state": p.state(now),
            }
            for p in sorted(planned, key=lambda p: p.start)
            if p.state(now) != "completed"
        ],
        "groups": [
            {"name": group, "monitors": [[m.name, m.state] for m in monitors]}
            for group, monitors in report.groups()
        ],
    }


def _told_first(incidents: Sequence[PublicIncident]) -> list[PublicIncident]:
    """Those people wrote about (manual, or with updates) first, each part newest first."""
    return sorted(incidents, key=lambda i: not (i.manual or i.updates))


def _incident(i: PublicIncident, base: str) -> dict[str, object]:
    latest = i.updates[0] if i.updates else None
    return {
        "title": i.title,
        "stage": i.stage,
        "impact": i.impact,
        "started": iso(i.started),
        "monitors": list(i.monitors),
        "url": f"{base}/#incident-{quote(i.code)}",
        "update": None
        if latest is None
        else {"at": iso(latest.at), "stage": latest.stage, "text": latest.text},
    }
