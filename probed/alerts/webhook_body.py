"""The webhook's body: the JSON document of docs/design.md §4.5 built from a message, and a
user's Jinja2 template rendered over it, also for a sample alert (``probed check``).

``settings_problem`` is what the channel registry runs on a webhook table at check time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from probed.alerts.messages import Message
from probed.alerts.messages import render as render_message
from probed.alerts.payload import Payload
from probed.config.channels import WebhookChannel
from probed.evidence import Evidence
from probed.model import AlertKind, Status
from probed.units import iso

if TYPE_CHECKING:
    from jinja2 import Template

VERSION = 1


def monitor_fields(p: Payload) -> dict[str, Any]:
    return {
        "id": p.monitor_id,
        "name": p.monitor,
        "url": p.url,
        "type": p.type,
        "severity": p.severity or None,
        "tags": dict(p.tags),
        "group": None,
    }


def event_fields(p: Payload) -> dict[str, Any]:
    """What happened to one monitor: state, reason and times."""
    state = Status(p.status).label if p.status in set(Status) else None
    fields: dict[str, Any] = {
        "status": p.status,
        "state": state,
        "reason": p.reason or None,
        "at": iso(p.at) if p.at else None,
        "outage_start": iso(p.outage_start) if p.outage_start else None,
    }
    if p.outage_seconds is not None:
        fields["outage_seconds"] = round(p.outage_seconds, 3)
    if p.days_left is not None:
        fields["days_left"] = p.days_left
        fields["cert_expires_at"] = iso(p.cert_expires_at) if p.cert_expires_at else None
    return fields | incident_fields(p)


def incident_fields(p: Payload) -> dict[str, Any]:
    """``incident``, ``runbook`` and ``evidence`` of docs/alerts.md, those the alert has."""
    out: dict[str, Any] = {}
    if p.incident:
        out["incident"] = {
            "id": p.incident,
            "url": p.incident_url or None,
            "ack_url": p.ack_url or None,
        }
    if p.runbook:
        out["runbook"] = p.runbook
    if p.evidence is not None:
        # The check that confirmed the outage: its time and timings go with what it saw.
        check = p.checks[-1] if p.checks and not p.checks[-1].ok else None
        facts = check.to_json() if check is not None else {}
        out["evidence"] = p.evidence.to_json() | {
            "at": facts.get("at"),
            "status_code": facts.get("status_code"),
            "timings": facts.get("timings"),
            "last_good": p.last_good.to_json() if p.last_good is not None else None,
        }
    return out


def document(message: Message, location: str | None = None) -> dict[str, Any]:
    """The webhook body (docs/design.md §4); a digest lists its monitors under ``monitors``."""
    first = message.payloads[0] if message.payloads else Payload()
    doc: dict[str, Any] = {
        "version": VERSION,
        "kind": str(message.kind),
        "message_id": message.message_id,
    }
    if message.kind is AlertKind.DIGEST:
        doc["of"] = str(message.digest_of) if message.digest_of else None
        doc["monitors"] = [monitor_fields(p) | event_fields(p) for p in message.payloads]
    elif message.kind in (AlertKind.TEST, AlertKind.REPORT):
        doc["monitor"] = None
    else:
        doc["monitor"] = monitor_fields(first)
        doc |= event_fields(first)
    doc["location"] = first.location or location
    # A report is its text: other channels than email get what the mail's text part says.
    doc["text"] = message.text if message.kind is AlertKind.REPORT else message.subject
    return doc


def render(template: Template, doc: dict[str, Any], message: Message) -> str:
    """The body ``template`` makes of one message; raises whatever the template raises."""
    return template.render(alert=doc, message=message.text, **doc)


def sample_message(at: datetime) -> Message:
    """A DOWN alert with every field a monitor's alert has (an incident's too), to try a
    template on."""
    payload = Payload(
        monitor="sample",
        url="https://example.com/health",
        type="http",
        reason="HTTP 503, expected 2xx",
        at=at,
        outage_start=at,
        monitor_id=1,
        severity="critical",
        tags=(("team", "web"),),
        status=Status.DOWN,
        location="sample-location",
        incident="INC-2026-001",
        incident_url="https://probed.example.com/api/v1/incidents/INC-2026-001",
        ack_url="https://probed.example.com/ack/INC-2026-001?expires=1767312000&sig=0",
        runbook="https://example.com/runbooks/health",
        evidence=Evidence(
            url="https://example.com/health",
            address="192.0.2.10:443",
            http_version="HTTP/1.1",
            status_line="HTTP/1.1 503 Service Unavailable",
            headers=(("Content-Type", "application/json"),),
            body='{"error": "unavailable"}',
            body_bytes=24,
        ),
    )
    return render_message(AlertKind.DOWN, [payload], "<sample@probed>", at)


def settings_problem(settings: WebhookChannel) -> tuple[str, str] | None:
    """(key, problem) when the table reads well but could not be sent: a template that
    compiles yet fails for a sample alert (``{{ 1/0 }}``) would fail every alert."""
    if settings.template is None:
        return None
    problem = template_render_problem(settings.template)
    return None if problem is None else ("template", problem)


def template_render_problem(text: str) -> str | None:
    """Why the body template ``text`` fails when rendered for a sample DOWN alert, or None."""
    from jinja2.sandbox import SandboxedEnvironment

    message = sample_message(datetime(2026, 1, 1, tzinfo=UTC))
    template = SandboxedEnvironment(autoescape=False).from_string(text)
    try:
        render(template, document(message), message)
    except Exception as exc:  # whatever the user's template raises
        return f"fails when rendered for a sample DOWN alert: {type(exc).__name__}: {exc}"
    return None
