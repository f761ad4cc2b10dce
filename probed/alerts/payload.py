"""What an alert says, as a typed value: written to the outbox as JSON with the alert, read
back to render it, so a message rendered after a restart is the one that would have gone out.

The JSON keys are those 0.1.0 stored; ``from_json`` reads rows written by any release, so a
pending alert survives an upgrade.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from probed.evidence import Evidence
from probed.model import CheckResult, Timings
from probed.units import iso, parse_iso

PHASES = ("dns", "connect", "tls", "first_byte")


@dataclass(frozen=True, slots=True)
class CheckFacts:
    """One check as an alert shows it."""

    at: datetime | None
    ok: bool
    reason: str
    status_code: int | None = None
    timings: Timings = field(default_factory=Timings)

    @classmethod
    def of(cls, result: CheckResult) -> CheckFacts:
        return cls(result.at, result.ok, result.reason, result.status_code, result.timings)

    def to_json(self) -> dict[str, object]:
        return {
            "at": iso(self.at),
            "ok": self.ok,
            "reason": self.reason,
            "status_code": self.status_code,
            "timings": self.timings.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CheckFacts:
        t = data.get("timings") or {}
        return cls(
            at=_time(data.get("at")),
            ok=bool(data.get("ok")),
            reason=str(data.get("reason", "")),
            status_code=data.get("status_code"),
            timings=Timings(
                dns=t.get("dns"),
                connect=t.get("connect"),
                tls=t.get("tls"),
                first_byte=t.get("first_byte"),
                total=float(t.get("total") or 0.0),
            ),
        )


@dataclass(frozen=True, slots=True)
class Payload:
    """Everything one alert message shows; which fields are set depends on its kind."""

    monitor: str = ""
    url: str = ""
    type: str = ""
    """The monitor's kind (``http``, ``keyword``, ``ssl`` …)."""
    reason: str = ""
    at: datetime | None = None
    """When it happened: confirmed down, recovered, reminded, or the certificate check."""
    outage_start: datetime | None = None
    outage_seconds: float | None = None
    checks: tuple[CheckFacts, ...] = ()
    """DOWN: the failed checks of the streak, oldest first; UP: the good check."""
    days_left: int | None = None
    cert_expires_at: datetime | None = None
    text: str = ""
    """TEST: the message's one line."""
    fields: tuple[tuple[str, str], ...] = ()
    """TEST: label and value pairs."""
    monitor_id: int | None = None
    severity: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    status: int | None = None
    """The monitor's state code once the event had happened (docs/design.md §3)."""
    location: str | None = None
    """The vantage point that saw it ([probed] location)."""
    incident: str = ""
    """The outage's incident ID (``INC-2026-014``; docs/design.md §17) for DOWN, UP, REMINDER."""
    incident_url: str = ""
    """``<external_url>/api/v1/incidents/<id>``; empty without ``external_url``."""
    ack_url: str = ""
    """The signed one-click acknowledgement link (DOWN, REMINDER); empty without
    ``external_url`` or once acknowledged."""
    runbook: str = ""
    evidence: Evidence | None = None
    """DOWN: what the target answered to the check that confirmed the outage."""
    last_good: CheckFacts | None = None
    """DOWN: the last good check before the outage."""
    report: Mapping[str, Any] | None = None
    """REPORT: the figures (probed.reports.figures ``Report.to_json``) and ``zone``, the
    timezone its times are shown in."""

    def to_json(self) -> dict[str, object]:
        """The JSON object stored in the outbox; unset fields are left out."""
        out: dict[str, object] = {}
        for key in (
            "monitor",
            "url",
            "type",
            "reason",
            "text",
            "severity",
            "location",
            "incident",
            "incident_url",
            "ack_url",
            "runbook",
        ):
            if value := getattr(self, key):
                out[key] = value
        for key in ("at", "outage_start", "cert_expires_at"):
            if (value := getattr(self, key)) is not None:
                out[key] = iso(value)
        if self.outage_seconds is not None:
            out["outage_seconds"] = self.outage_seconds
        if self.days_left is not None:
            out["days_left"] = self.days_left
        for key in ("monitor_id", "status"):
            if (number := getattr(self, key)) is not None:
                out[key] = number
        if self.tags:
            out["tags"] = dict(self.tags)
        if self.checks:
            out["checks"] = [c.to_json() for c in self.checks]
        if self.fields:
            out["fields"] = [list(pair) for pair in self.fields]
        if self.evidence is not None:
            out["evidence"] = self.evidence.to_json()
        if self.last_good is not None:
            out["last_good"] = self.last_good.to_json()
        if self.report is not None:
            out["report"] = dict(self.report)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Payload:
        days_left = data.get("days_left")
        return cls(
            monitor=str(data.get("monitor", "")),
            url=str(data.get("url", "")),
            type=str(data.get("type", "")),
            reason=str(data.get("reason", "")),
            at=_time(data.get("at")),
            outage_start=_time(data.get("outage_start")),
            outage_seconds=data.get("outage_seconds"),
            checks=tuple(CheckFacts.from_json(c) for c in data.get("checks") or ()),
            days_left=None if days_left is None else int(days_left),
            cert_expires_at=_time(data.get("cert_expires_at")),
            text=str(data.get("text", "")),
            fields=tuple((str(k), str(v)) for k, v in data.get("fields") or ()),
            monitor_id=_int(data.get("monitor_id")),
            severity=str(data.get("severity", "")),
            tags=tuple(sorted((str(k), str(v)) for k, v in (data.get("tags") or {}).items())),
            status=_int(data.get("status")),
            location=str(data["location"]) if data.get("location") else None,
            incident=str(data.get("incident", "")),
            incident_url=str(data.get("incident_url", "")),
            ack_url=str(data.get("ack_url", "")),
            runbook=str(data.get("runbook", "")),
            evidence=Evidence.from_json(ev)
            if isinstance(ev := data.get("evidence"), Mapping)
            else None,
            last_good=CheckFacts.from_json(lg)
            if isinstance(lg := data.get("last_good"), Mapping)
            else None,
            report=rp if isinstance(rp := data.get("report"), Mapping) else None,
        )


def _time(value: object) -> datetime | None:
    return parse_iso(value) if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
