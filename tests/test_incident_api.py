"""The incidents API (docs/design.md §6.2, §17) on the real app and store: the list with its
filters and paging, one incident with its timeline and evidence (token only), acknowledging,
and the monitor object's open incident."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from probed.config import EmailChannel
from probed.evidence import Evidence
from tests.kit.clock import FakeClock
from tests.kit.configs import TOKEN, make_config
from tests.kit.harness import Harness, failed, good
from tests.kit.monitors import make_monitor

AUTH = {"Authorization": f"Bearer {TOKEN}"}
EMAIL = EmailChannel(host="127.0.0.1", port=9, sender="p@example.test", to=("o@example.test",))
BASE = "https://probed.example.test"
BODY = '{"error": "database unreachable", "trace": "leaked-stack-frame"}'


def answer(result, body: str = BODY):
    return replace(
        result,
        evidence=Evidence(
            url="http://127.0.0.1:1/health",
            address="127.0.0.1:1",
            http_version="HTTP/1.1",
            status_line="HTTP/1.1 503 Service Unavailable",
            headers=(("Content-Type", "application/json"), ("Set-Cookie", "***")),
            body=body,
            body_bytes=len(body),
        ),
    )


async def outage(h: Harness, name: str, checks: int = 3) -> None:
    for _ in range(checks):
        await h.feed(name, answer(failed(h.clock())))
        h.clock.advance(10)


@pytest.fixture
async def harness(harnesses, tmp_path):
    clock = FakeClock(datetime(2026, 5, 4, 10, 0, tzinfo=UTC))
    config = make_config(
        tmp_path,
        [
            make_monitor("api", severity="critical", runbook="https://wiki.example.test/api"),
            make_monitor("db", id=7),
        ],
        EMAIL,
        external_url=BASE,
    )
    h = harnesses(config, clock)
    # api: one closed incident, then an open one; db: one open incident in between.
    await h.feed("api", good(clock()))
    clock.advance(60)
    await outage(h, "api")
    clock.advance(90)
    await h.feed("api", good(clock()))
    clock.advance(3600)
    await outage(h, "db")
    clock.advance(3600)
    await outage(h, "api")
    return h


async def test_the_list_is_newest_first_with_times_acknowledgement_and_links(harness, client):
    resp = await client.get("/api/v1/incidents")
    assert resp.status == 200
    body = await resp.json()
    assert (body["total"], body["limit"], body["offset"]) == (3, 50, 0)
    assert [i["id"] for i in body["incidents"]] == ["INC-2026-003", "INC-2026-002", "INC-2026-001"]
    closed = body["incidents"][2]
    assert closed == {
        "id": "INC-2026-001",
        "monitor": "api",
        "monitor_id": harness.tracked("api").id,
        "severity": "critical",
        "runbook": "https://wiki.example.test/api",
        "start": "2026-05-04T10:01:00Z",
        "confirmed": "2026-05-04T10:01:20Z",
        "end": "2026-05-04T10:03:00Z",
        "duration_seconds": 120.0,
        "open": False,
        "acknowledged": None,
        "time_to_ack_seconds": None,
        "time_to_resolve_seconds": 120.0,
        "url": f"{BASE}/api/v1/incidents/INC-2026-001",
        "title": None,
        "manual": False,
        "impact": None,
        "stage": None,
        "updates": [],
    }
    newest = body["incidents"][0]
    assert newest["open"] and newest["end"] is None and newest["time_to_resolve_seconds"] is None
    # An open incident's duration runs to now.
    assert (
        newest["duration_seconds"]
        == (harness.clock() - datetime.fromisoformat(newest["start"])).total_seconds()
    )


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("monitor=api", ["INC-2026-003", "INC-2026-001"]),
        ("monitor=7", ["INC-2026-002"]),
        ("monitor=db&open=true", ["INC-2026-002"]),
        ("open=false", ["INC-2026-001"]),
        ("open=true", ["INC-2026-003", "INC-2026-002"]),
        # Still running at `since` counts; one that ended before it does not.
        ("since=2026-05-04T10:30:00Z", ["INC-2026-003", "INC-2026-002"]),
        ("since=2026-05-04T10:02:00%2B00:00", ["INC-2026-003", "INC-2026-002", "INC-2026-001"]),
        ("limit=1", ["INC-2026-003"]),
        ("limit=2&offset=1", ["INC-2026-002", "INC-2026-001"]),
        ("offset=3", []),
    ],
)
async def test_the_list_filters_and_pages(harness, client, query, ids):
    body = await (await client.get(f"/api/v1/incidents?{query}")).json()
    assert [i["id"] for i in body["incidents"]] == ids
    if "limit" in query or "offset" in query:
        assert body["total"] == 3


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("offset=-5", "offset"),
        ("offset=1_0", "offset"),
        ("open=yes", "open"),
        ("since=yesterday", "since"),
        ("monitor=nosuch", "monitor"),
    ],
)
async def test_a_bad_parameter_is_a_400_naming_it(harness, client, query, parameter):
    resp = await client.get(f"/api/v1/incidents?{query}")
    assert resp.status == 400 and resp.content_type == "application/json"
    body = await resp.json()
    assert body["parameter"] == parameter and body["error"].startswith(f"{parameter}: ")


async def test_one_incident_has_its_timeline_and_its_evidence_only_with_the_token(harness, client):
    path = "/api/v1/incidents/INC-2026-001"
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        body = await (await client.get(path, headers=headers)).json()
        assert body["evidence"] is None and body["evidence_needs_token"] is True
        assert "leaked-stack-frame" not in str(body)
    body = await (await client.get(path, headers=AUTH)).json()
    assert body["id"] == "INC-2026-001" and "evidence_needs_token" not in body
    assert [(e["at"], e["kind"]) for e in body["timeline"]] == [
        ("2026-05-04T10:01:00Z", "failed"),
        ("2026-05-04T10:01:20Z", "down"),
        ("2026-05-04T10:03:00Z", "recovered"),
    ]
    assert body["timeline"][1]["detail"] == {"reason": "HTTP 503, expected 2xx"}
    evidence = body["evidence"]
    assert set(evidence) == {"opened", "confirmed", "last_good"}
    assert evidence["confirmed"]["evidence"]["body"] == BODY
    assert evidence["confirmed"]["evidence"]["headers"][1] == ["Set-Cookie", "***"]
    assert evidence["last_good"]["status_code"] == 200

    resp = await client.get("/api/v1/incidents/INC-2026-099")
    assert resp.status == 404 and (await resp.json()) == {"error": "no incident 'INC-2026-099'"}


async def test_the_status_page_and_status_json_never_carry_evidence(harness, client):
    for path in ("/", "/api/v1/status"):
        for headers in ({}, AUTH):
            resp = await client.get(path, headers=headers)
            assert resp.status == 200
            text = await resp.text()
            assert "INC-2026" not in text and "leaked-stack-frame" not in text


async def test_acknowledging_takes_the_token_and_says_who_and_when(harness, client):
    path = "/api/v1/incidents/INC-2026-003/ack"
    resp = await client.post(path, json={"by": "alice"})
    assert resp.status == 401
    harness.clock.advance(30)
    resp = await client.post(path, json={"by": " alice ", "note": "on it"}, headers=AUTH)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["id"] == "INC-2026-003" and body["already"] is False
    assert body["acknowledged"] == {"at": "2026-05-04T12:04:30Z", "by": "alice", "note": "on it"}
    assert body["time_to_ack_seconds"] == 40.0  # from the confirmed DOWN, 12:03:50
    # A second acknowledgement keeps the first.
    harness.clock.advance(30)
    again = await (await client.post(path, json={"by": "bob"}, headers=AUTH)).json()
    assert again["already"] is True and again["acknowledged"]["by"] == "alice"
    detail = await (await client.get("/api/v1/incidents/INC-2026-003")).json()
    assert [e["kind"] for e in detail["timeline"]] == ["failed", "down", "ack"]
    assert detail["timeline"][2]["detail"] == {"by": "alice", "note": "on it"}

    resp = await client.post("/api/v1/incidents/INC-2026-001/ack", json={"by": "a"}, headers=AUTH)
    assert resp.status == 409 and "closed" in (await resp.json())["error"]
    resp = await client.post("/api/v1/incidents/INC-1999-001/ack", json={"by": "a"}, headers=AUTH)
    assert resp.status == 404 and (await resp.json())["error"] == "no incident 'INC-1999-001'"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"not json", "must be JSON"),
        (b"[]", "JSON object"),
        (b"{}", '"by" must be a non-empty string'),
        (b'{"by": "  "}', '"by" must be a non-empty string'),
        (b'{"by": 5}', '"by" must be a non-empty string'),
        (b'{"by": "' + b"x" * 101 + b'"}', "at most 100"),
        (b'{"by": "eve\\u001b[31m"}', "control characters"),
        (b'{"by": "eve", "note": "' + b"x" * 1001 + b'"}', "at most 1000"),
        (b'{"by": "eve", "note": 3}', '"note" must be a string'),
        (b'{"by": "eve", "when": "now"}', "unknown field 'when'"),
    ],
)
async def test_a_bad_acknowledgement_body_is_a_400_and_changes_nothing(
    harness, client, body, words
):
    resp = await client.post("/api/v1/incidents/INC-2026-003/ack", data=body, headers=AUTH)
    assert resp.status == 400 and words in (await resp.json())["error"]
    assert harness.store.incidents.get("INC-2026-003").acked is None


async def test_a_monitor_shows_its_open_incident_and_who_acknowledged_it(harness, client):
    views = {
        m["name"]: m for m in (await (await client.get("/api/v1/monitors")).json())["monitors"]
    }
    assert views["api"]["incident"] == {"id": "INC-2026-003", "acknowledged_by": None}
    assert views["db"]["incident"] == {"id": "INC-2026-002", "acknowledged_by": None}
    await client.post("/api/v1/incidents/INC-2026-002/ack", json={"by": "bob"}, headers=AUTH)
    db = await (await client.get("/api/v1/monitors/7")).json()
    assert db["incident"] == {"id": "INC-2026-002", "acknowledged_by": "bob"}
    harness.clock.advance(60)
    await harness.feed("db", good(harness.clock()))
    db = await (await client.get("/api/v1/monitors/7")).json()
    assert db["incident"] is None


async def test_an_incident_of_a_removed_monitor_is_found_by_its_name(harness, client, tmp_path):
    harness.parts.apply(replace(harness.config, monitors=harness.config.monitors[:1]))
    assert "db" not in harness.pipeline.monitors
    body = await (await client.get("/api/v1/incidents?monitor=db")).json()
    assert [i["id"] for i in body["incidents"]] == ["INC-2026-002"]
