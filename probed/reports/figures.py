"""A monitoring report's figures as typed values (docs/design.md §18.6): per monitor and in
total, for one period and the one before it. Pure; stored in the outbox as JSON
(``to_json``/``from_json``) so a report rendered after a restart is the one decided."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from probed.units import iso, parse_iso

TARGET_SECONDS = 0.5
"""The response time every monitor is measured against besides its ``slow_threshold``."""


@dataclass(frozen=True, slots=True)
class IncidentFigures:
    """One incident of the period: how long it lasted and how fast people answered it."""

    id: str
    title: str
    """The monitor's name, or a manual incident's title."""
    started: datetime
    duration_seconds: float
    """Until it ended, or until the period's end while it is still open."""
    ongoing: bool
    ack_seconds: float | None
    """From the confirmed DOWN to the acknowledgement; None: never acknowledged."""
    resolve_seconds: float | None
    """From the first failed check to the end; None while open."""


@dataclass(frozen=True, slots=True)
class Response:
    """Response times of a monitor's good checks over a period, in seconds."""

    mean: float | None
    p95: float | None
    p95_exact: bool
    """True when every good check of the period was still kept raw; else hours before the
    raw results count with their hourly mean, once per check."""


@dataclass(frozen=True, slots=True)
class MonitorFigures:
    """One monitor over the period, with the previous period's figures to compare."""

    name: str
    up_seconds: float
    """Observed up in the period (time the daemon did not watch is left out)."""
    down_seconds: float
    uptime_30d: float | None
    """Over the 30 days that end with the period."""
    slo: float | None
    budget_left_seconds: float | None
    """Of the 30-day error budget (history.slo); None without an ``slo``."""
    budget_left_ratio: float | None
    incidents: tuple[IncidentFigures, ...]
    response: Response
    slow_threshold: float | None
    previous_up_seconds: float
    previous_down_seconds: float
    previous_response: Response
    previous_incident_ids: tuple[str, ...]
    """The IDs of the previous period's incidents (a manual one may name several monitors)."""

    @property
    def previous_incidents(self) -> int:
        return len(self.previous_incident_ids)

    @property
    def uptime(self) -> float | None:
        """0–1 over the time observed in the period; None when nothing was observed."""
        return _ratio(self.up_seconds, self.down_seconds)

    @property
    def previous_uptime(self) -> float | None:
        return _ratio(self.previous_up_seconds, self.previous_down_seconds)

    def meets_slo(self) -> bool | None:
        if self.slo is None or self.uptime_30d is None:
            return None
        return self.uptime_30d >= self.slo


@dataclass(frozen=True, slots=True)
class Totals:
    monitors: int
    uptime: float | None
    """Observed up time over observed time, of every monitor together."""
    previous_uptime: float | None
    incidents: int
    previous_incidents: int
    down_seconds: float
    missing_slo: tuple[str, ...]
    """Monitors whose 30-day uptime is below their ``slo``."""
    mean_ack_seconds: float | None
    mean_resolve_seconds: float | None


@dataclass(frozen=True, slots=True)
class Report:
    """The report of [start, end), made at ``made``."""

    start: datetime
    end: datetime
    made: datetime
    label: str
    """``week`` or ``month``."""
    monitors: tuple[MonitorFigures, ...]

    def totals(self) -> Totals:
        up = sum(m.up_seconds for m in self.monitors)
        down = sum(m.down_seconds for m in self.monitors)
        prev_up = sum(m.previous_up_seconds for m in self.monitors)
        prev_down = sum(m.previous_down_seconds for m in self.monitors)
        incidents = [i for m in self.monitors for i in m.incidents]
        acks = [i.ack_seconds for i in incidents if i.ack_seconds is not None]
        fixes = [i.resolve_seconds for i in incidents if i.resolve_seconds is not None]
        return Totals(
            monitors=len(self.monitors),
            uptime=_ratio(up, down),
            previous_uptime=_ratio(prev_up, prev_down),
            incidents=len({i.id for i in incidents}),
            previous_incidents=len({i for m in self.monitors for i in m.previous_incident_ids}),
            down_seconds=down,
            missing_slo=tuple(m.name for m in self.monitors if m.meets_slo() is False),
            mean_ack_seconds=sum(acks) / len(acks) if acks else None,
            mean_resolve_seconds=sum(fixes) / len(fixes) if fixes else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "start": iso(self.start),
            "end": iso(self.end),
            "made": iso(self.made),
            "label": self.label,
            "monitors": [_monitor_json(m) for m in self.monitors],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Report:
        return cls(
            parse_iso(data["start"]),
            parse_iso(data["end"]),
            parse_iso(data["made"]),
            str(data["label"]),
            tuple(_monitor(m) for m in data["monitors"]),
        )


def _response_json(r: Response) -> dict[str, Any]:
    return {"mean": r.mean, "p95": r.p95, "p95_exact": r.p95_exact}


def _response(data: Mapping[str, Any]) -> Response:
    return Response(data["mean"], data["p95"], bool(data["p95_exact"]))


def _monitor_json(m: MonitorFigures) -> dict[str, Any]:
    return {
        "name": m.name,
        "uptime": m.uptime,
        "up_seconds": m.up_seconds,
        "down_seconds": m.down_seconds,
        "uptime_30d": m.uptime_30d,
        "slo": m.slo,
        "budget_left_seconds": m.budget_left_seconds,
        "budget_left_ratio": m.budget_left_ratio,
        "incidents": [
            {
                "id": i.id,
                "title": i.title,
                "started": iso(i.started),
                "duration_seconds": i.duration_seconds,
                "ongoing": i.ongoing,
                "ack_seconds": i.ack_seconds,
                "resolve_seconds": i.resolve_seconds,
            }
            for i in m.incidents
        ],
        "response": _response_json(m.response),
        "slow_threshold": m.slow_threshold,
        "previous": {
            "uptime": m.previous_uptime,
            "up_seconds": m.previous_up_seconds,
            "down_seconds": m.previous_down_seconds,
            "response": _response_json(m.previous_response),
            "incidents": list(m.previous_incident_ids),
        },
    }


def _monitor(data: Mapping[str, Any]) -> MonitorFigures:
    prev = data["previous"]
    return MonitorFigures(
        name=str(data["name"]),
        up_seconds=float(data["up_seconds"]),
        down_seconds=float(data["down_seconds"]),
        uptime_30d=data["uptime_30d"],
        slo=data["slo"],
        budget_left_seconds=data["budget_left_seconds"],
        budget_left_ratio=data["budget_left_ratio"],
        incidents=tuple(_incident(i) for i in data["incidents"]),
        response=_response(data["response"]),
        slow_threshold=data["slow_threshold"],
        previous_up_seconds=float(prev["up_seconds"]),
        previous_down_seconds=float(prev["down_seconds"]),
        previous_response=_response(prev["response"]),
        previous_incident_ids=tuple(str(i) for i in prev["incidents"]),
    )


def _incident(data: Mapping[str, Any]) -> IncidentFigures:
    return IncidentFigures(
        str(data["id"]),
        str(data["title"]),
        parse_iso(data["started"]),
        float(data["duration_seconds"]),
        bool(data["ongoing"]),
        data["ack_seconds"],
        data["resolve_seconds"],
    )


def weighted_p95(points: Sequence[tuple[float, int]]) -> float | None:
    """The 95th percentile (nearest rank) of values each counted ``weight`` times."""
    total = sum(w for _, w in points)
    if total <= 0:
        return None
    rank = 0.95 * total
    seen = 0
    for value, weight in sorted(points):
        seen += weight
        if seen >= rank:
            return value
    return max(v for v, _ in points)


def _ratio(up: float, down: float) -> float | None:
    return None if up + down <= 0 else up / (up + down)
