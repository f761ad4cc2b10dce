"""The alert payload: typed in probed, JSON in the outbox, readable from any release's rows."""

from __future__ import annotations

import json
from datetime import timedelta

from probed.alerts.payload import CheckFacts, Payload
from probed.model import Timings
from tests.kit.clock import T0


def test_a_payload_survives_the_round_trip_through_json():
    payload = Payload(
        monitor="api",
        url="https://api.example.test/health",
        type="http",
        reason="HTTP 503, expected 2xx",
        at=T0,
        outage_start=T0 - timedelta(seconds=30),
        outage_seconds=30.0,
        checks=(CheckFacts(T0, False, "HTTP 503", 503, Timings(dns=0.001, total=0.02)),),
    )
    stored = json.dumps(payload.to_json())
    assert Payload.from_json(json.loads(stored)) == payload


def test_a_pending_alert_written_by_0_1_0_reads_back_with_every_field():
    # The payload exactly as 0.1.0's policy wrote it: a dict with isoformat() times.
    written_by_010 = {
        "monitor": "api",
        "url": "https://api.example.test/",
        "type": "keyword",
        "reason": "keyword not found",
        "at": "2026-03-01T12:00:00.250000+00:00",
        "outage_start": "2026-03-01T11:59:00+00:00",
        "checks": [
            {
                "at": "2026-03-01T11:59:00+00:00",
                "ok": False,
                "reason": "keyword not found",
                "status_code": 200,
                "timings": {
                    "dns": None,
                    "connect": 0.002,
                    "tls": None,
                    "first_byte": 0.03,
                    "total": 0.031,
                },
            }
        ],
    }
    payload = Payload.from_json(written_by_010)
    assert payload.at == T0 + timedelta(milliseconds=250)
    assert payload.outage_start == T0 - timedelta(minutes=1)
    assert payload.checks[0].status_code == 200
    assert payload.checks[0].timings == Timings(connect=0.002, first_byte=0.03, total=0.031)
    assert payload.outage_seconds is None and payload.days_left is None


def test_unset_fields_are_left_out_of_the_stored_json():
    assert Payload(text="hello", fields=(("Sent from", "box"),)).to_json() == {
        "text": "hello",
        "fields": [["Sent from", "box"]],
    }
