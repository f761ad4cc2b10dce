"""The post-mortem draft (docs/design.md §17.4): the guide's template filled in from the
incident, its timeline, evidence, 30-day uptime and SLO budget; and its API route."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from probed.history.slo import budget
from probed.incidents.postmortem import NEEDS_TOKEN, postmortem
from probed.store.incidents import Event, IncidentRow
from tests.kit.clock import FakeClock
from tests.kit.configs import TOKEN, make_config
from tests.kit.harness import failed, good
from tests.kit.monitors import make_monitor

T = datetime(2026, 11, 2, 13, 5, tzinfo=UTC)
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def at(minutes: float) -> datetime:
    return T + timedelta(minutes=minutes)


ROW = IncidentRow(
    id=1,
    code="INC-2026-014",
    monitor_id=3,
    monitor="Checkout API",
    severity="critical",
    runbook="https://wiki.example.test/checkout",
    started=T,
    confirmed=at(1),
    ended=at(21.6),
    acked=at(5),
    acked_by="alice",
    ack_note="on it",
)
EVENTS = [
    Event(at(0), "failed", {"reason": "HTTP 503, expected 2xx"}),
    Event(at(1), "down", {"reason": "HTTP 503 | upstream"}),
    Event(at(1), "alert", {"channel": "email", "kind": "down"}),
    Event(at(1), "alert", {"channel": "sms", "kind": "down"}),
    Event(at(5), "ack", {"by": "alice", "note": "on it"}),
    Event(at(16), "escalated", {"step": 2, "channels": ["pagerduty"]}),
    Event(at(21.6), "recovered", {"reason": "HTTP 200"}),
    Event(at(21.6), "alert", {"channel": "email", "kind": "up"}),
]
BODY = "trace:\n```\nboom\n`````\n"
EVIDENCE = {
    "opened": {"at": "2026-11-02T13:05:00Z", "reason": "HTTP 503, expected 2xx"},
    "confirmed": {
        "at": "2026-11-02T13:06:00Z",
        "reason": "HTTP 503, expected 2xx",
        "evidence": {
            "url": "https://checkout.example.test/health",
            "address": "192.0.2.7:443",
            "http_version": "HTTP/1.1",
            "status_line": "HTTP/1.1 503 Service Unavailable",
            "headers": [["Content-Type", "text/plain"], ["Set-Cookie", "***"]],
            "body": BODY,
            "body_bytes": len(BODY),
            "body_truncated": True,
        },
    },
    "last_good": {"at": "2026-11-02T13:04:00Z", "status_code": 200, "reason": "HTTP 200",
                  "response_seconds": 0.123},
}  # fmt: skip


def test_the_draft_fills_the_guides_template_from_the_incident():
    # Watched all 30 days at 99.9 %: a budget of 43m 12s, of which the 21m 36s were half.
    slo = budget(0.999, 30 * 86400 - 1296, 1296)
    text = postmortem(ROW, EVENTS, EVIDENCE, 0.9995, slo, at(60))
    lines = text.splitlines()
    assert lines[0] == "# Post-mortem: INC-2026-014"
    for line in (
        "- **Incident ID:** INC-2026-014",
        "- **Severity:** critical",
        "- **Start:** 2026-11-02 13:05:00 UTC (first failed check)",
        "- **End:** 2026-11-02 13:26:36 UTC",
        "- **Duration:** 21m 36s",
        "- **Impact:** monitor Checkout API down for 21m 36s; 30-day uptime 99.95%;"
        " SLO 99.9%: this incident used 50.0% of the error budget",
        "- **Time to acknowledge:** 4m (by alice)",
        "- **Time to resolve:** 21m 36s",
        "- **Runbook:** https://wiki.example.test/checkout",
    ):
        assert line in lines, line
    start = lines.index("## Timeline")
    table = lines[start + 2 : lines.index("## Evidence") - 1]
    assert table == [
        "| Time (UTC) | Event |",
        "|---|---|",
        "| 2026-11-02 13:05:00 UTC | First failed check: HTTP 503, expected 2xx |",
        "| 2026-11-02 13:06:00 UTC | Confirmed down: HTTP 503 \\| upstream |",
        "| 2026-11-02 13:06:00 UTC | DOWN alert sent via email |",
        "| 2026-11-02 13:06:00 UTC | DOWN alert sent via sms |",
        "| 2026-11-02 13:10:00 UTC | Acknowledged by alice: on it |",
        "| 2026-11-02 13:21:00 UTC | Escalated (step 2) to pagerduty |",
        "| 2026-11-02 13:26:36 UTC | Recovered: HTTP 200 |",
        "| 2026-11-02 13:26:36 UTC | UP alert sent via email |",
    ]
    for line in (
        "- **Status line:** HTTP/1.1 503 Service Unavailable",
        "- **Address:** 192.0.2.7:443",
        "Set-Cookie: ***",
        f"Body (first {len(BODY)} bytes, more followed):",
        "- 2026-11-02T13:04:00Z: HTTP 200, 123 ms",
    ):
        assert line in lines, line
    # The body's own fences cannot close the block: its fence is longer than any run in it.
    fence = lines.index("``````")
    assert lines[fence + 1 : fence + 6] == ["trace:", "```", "boom", "`````", ""]
    assert lines[fence + 6] == "``````"
    for heading in ("## Root cause", "## Resolution", "## Prevention"):
        i = lines.index(heading)
        assert lines[i + 2].startswith("_To be written: ")
    assert lines.index("## Evidence") < lines.index("## Root cause") < lines.index("## Prevention")


def test_without_the_token_there_is_no_evidence_and_without_an_slo_no_budget():
    text = postmortem(ROW, EVENTS, None, None, None, at(60))
    assert NEEDS_TOKEN in text and "Set-Cookie" not in text and "boom" not in text
    assert "30-day uptime: no data" in text and "SLO" not in text


def test_an_open_incident_lasts_until_now_and_is_not_resolved():
    row = IncidentRow(**{**{f: getattr(ROW, f) for f in ROW.__slots__}, "ended": None,
                         "acked": None, "acked_by": None})  # fmt: skip
    text = postmortem(row, EVENTS[:2], {}, 1.0, None, at(90))
    assert "- **End:** ongoing" in text and "- **Duration:** 1h 30m so far" in text
    assert "- **Time to acknowledge:** not acknowledged" in text
    assert "- **Time to resolve:** open" in text and "30-day uptime 100%" in text
    assert "_No evidence was kept for this incident._" in text


@pytest.fixture
async def harness(harnesses, tmp_path):
    clock = FakeClock(datetime(2026, 5, 4, 10, 0, tzinfo=UTC))
    config = make_config(tmp_path, [make_monitor("api", slo=0.99, severity="critical")])
    h = harnesses(config, clock)
    for _ in range(60):  # up an hour
        await h.feed("api", good(clock()))
        clock.advance(60)
    for _ in range(3):
        await h.feed("api", failed(clock()))
        clock.advance(10)
    clock.advance(570)
    await h.feed("api", good(clock()))  # down 10 minutes in all
    clock.advance(60)
    return h


async def test_the_api_serves_the_draft_as_markdown_with_the_monitors_uptime(harness, client):
    resp = await client.get("/api/v1/incidents/INC-2026-001/postmortem")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/markdown; charset=utf-8"
    text = await resp.text()
    assert text.startswith("# Post-mortem: INC-2026-001\n") and NEEDS_TOKEN in text
    monitor = (await (await client.get("/api/v1/monitors")).json())["monitors"][0]
    ratio = monitor["uptime"]["30d"]
    assert 0 < ratio < 1
    # 10 minutes of 71 monitored; 1 % of those 71 minutes is the budget.
    assert f"30-day uptime {int(ratio * 10000) / 100:.2f}%" in text
    assert "SLO 99%: this incident used 1408.5% of the error budget" in text
    with_token = await (
        await client.get("/api/v1/incidents/INC-2026-001/postmortem", headers=AUTH)
    ).text()
    assert NEEDS_TOKEN not in with_token and "### Check that confirmed the outage" in with_token
    resp = await client.get("/api/v1/incidents/INC-2026-404/postmortem")
    assert resp.status == 404 and resp.content_type == "application/json"
