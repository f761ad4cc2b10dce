"""Alert payloads of an incident as the record hook fills them (docs/design.md §17): a DOWN of
an API answering 503 with a JSON body, its links and runbook, and the last good check."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from probed.alerts.payload import CheckFacts, Payload
from probed.evidence import MASK, Evidence
from probed.model import Status, Timings
from tests.kit.clock import T0

INCIDENT = "INC-2026-014"
BASE = "https://probed.example.test"
ACK = f"{BASE}/ack/{INCIDENT}?expires=1772370000&sig=9f2c4e"
RUNBOOK = "https://wiki.example.test/runbooks/api-503"
BODY = json.dumps(
    {
        "error": "upstream_unavailable",
        "message": "no healthy upstream in pool api-v2",
        "request_id": "7d1e0c5a-2b44-4f0e-9a51-3c8e2f6b1a90",
        "retry_after": 30,
        "upstreams": [{"host": f"10.0.3.{i}:8080", "state": "unhealthy"} for i in range(1, 9)],
    },
    indent=2,
)
TIMINGS = Timings(dns=0.0012, connect=0.0021, tls=0.0183, first_byte=0.0418, total=0.0431)


def evidence(body: str = BODY, **changes: object) -> Evidence:
    ev = Evidence(
        url="https://api.example.test/health",
        address="127.0.0.1:8443",
        http_version="HTTP/1.1",
        status_line="HTTP/1.1 503 Service Unavailable",
        headers=(
            ("Content-Type", "application/json"),
            ("Retry-After", "30"),
            ("Set-Cookie", MASK),
            ("Server", "envoy"),
        ),
        body=body,
        body_bytes=len(body.encode()),
    )
    return replace(ev, **changes)  # type: ignore[arg-type]


def down(name: str = "API", **changes: object) -> Payload:
    """The DOWN of ``name`` with everything an incident adds; ``changes`` replace fields."""
    start = T0 - timedelta(seconds=60)
    checks = tuple(
        CheckFacts(start + timedelta(seconds=30 * i), False, "HTTP 503, expected 2xx", 503, TIMINGS)
        for i in range(3)
    )
    good = CheckFacts(
        T0 - timedelta(minutes=1, seconds=30), True, "HTTP 200", 200, Timings(total=0.084)
    )
    payload = Payload(
        monitor=name,
        url="https://api.example.test/health",
        type="http",
        reason="HTTP 503, expected 2xx",
        at=T0,
        outage_start=start,
        checks=checks,
        monitor_id=7,
        severity="critical",
        tags=(("team", "core"),),
        status=Status.DOWN,
        incident=INCIDENT,
        incident_url=f"{BASE}/api/v1/incidents/{INCIDENT}",
        ack_url=ACK,
        runbook=RUNBOOK,
        evidence=evidence(),
        last_good=good,
    )
    return replace(payload, **changes)  # type: ignore[arg-type]
