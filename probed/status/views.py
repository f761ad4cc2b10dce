"""The status report as JSON (``GET /api/v1/status``): the page's data, for embedding."""

from __future__ import annotations

from probed.status.report import MonitorReport, PostedIncident, StatusReport
from probed.units import iso, utc


def status_json(report: StatusReport) -> dict[str, object]:
    return {
        "title": report.title,
        "updated": iso(report.now),
        "overall": {"status": report.overall.value, "text": report.overall.text},
        "announcements": [
            {
                "id": a.id,
                "message": a.message,
                "level": a.level,
                "created": iso(a.created),
                "expires": iso(a.expires),
            }
            for a in report.announcements
        ],
        "monitors": [_monitor(m) for m in report.monitors],
        "incidents": [
            {
                "monitor": i.monitor,
                "start": iso(i.start),
                "end": iso(i.end),
                "duration_seconds": round(i.duration, 3),
                "reason": i.reason,
            }
            for i in report.incidents
        ],
        "incident_updates": [_posted(p) for p in report.posted],
        "maintenance": [
            {
                "id": w.key,
                "name": w.name,
                "monitors": list(w.monitors),
                "start": iso(w.start),
                "end": iso(w.end),
                "state": str(w.state),
            }
            for w in report.maintenance
        ],
    }


def _posted(p: PostedIncident) -> dict[str, object]:
    return {
        "title": p.title,
        "stage": p.stage,
        "open": p.open,
        "manual": p.manual,
        "impact": p.impact,
        "monitors": list(p.monitors),
        "start": iso(p.start),
        "end": iso(p.end),
        "updates": [{"at": iso(u.at), "stage": u.stage, "text": u.text} for u in p.updates],
    }


def _monitor(m: MonitorReport) -> dict[str, object]:
    view: dict[str, object] = {
        "id": m.id,
        "name": m.name,
        "group": m.group,
        "status": int(m.status),
        "state": m.status.label,
        "state_text": m.state_text,
        "degraded": m.degraded,
        "impact": m.marked,
        "since": iso(m.since),
        "uptime": m.uptime,
        "avg_response_seconds_24h": m.avg_response,
        "response_24h": [{"at": iso_ts(t), "seconds": round(s, 4)} for t, s in m.response],
        "days": [
            {
                "date": d.date.isoformat(),
                "ratio": d.ratio,
                "down_seconds": round(d.down_seconds, 3),
            }
            for d in m.days
        ],
        "slo": None
        if m.slo is None
        else {
            "objective": m.slo.objective,
            "result": m.slo.result,
            "error_budget_remaining_seconds": round(m.slo.remaining_seconds, 3),
            "error_budget_remaining_ratio": m.slo.remaining_ratio,
        },
    }
    if m.url is not None:
        view["url"] = m.url
    return view


def iso_ts(ts: float) -> str | None:
    return iso(utc(ts))
