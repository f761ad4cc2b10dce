"""Opening manual incidents and posting updates through the API (docs/design.md §18.1) on the
real app and store: the answers, the incident JSON's title, stage and updates (list and
detail), the token, the 400 that names the field, the 404, and text kept as sent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.kit.clock import FakeClock
from tests.kit.configs import TOKEN, make_config
from tests.kit.harness import failed
from tests.kit.monitors import make_monitor

AUTH = {"Authorization": f"Bearer {TOKEN}"}
XSS = "<script>alert(1)</script>"


@pytest.fixture
async def harness(harnesses, tmp_path):
    clock = FakeClock(datetime(2026, 5, 4, 10, 0, tzinfo=UTC))
    config = make_config(tmp_path, [make_monitor("Voice API"), make_monitor("Web")])
    return harnesses(config, clock)


async def test_open_then_three_updates_newest_first_in_list_and_detail(harness, client):
    body = {
        "title": "Voice calls failing",
        "monitors": ["Voice API"],
        "impact": "major",
        "text": "Calls drop after a few seconds.",
        "by": "alice",
    }
    resp = await client.post("/api/v1/incidents", json=body, headers=AUTH)
    assert resp.status == 201, await resp.text()
    opened = await resp.json()
    code = opened["id"]
    assert code == "INC-2026-001"
    assert (opened["title"], opened["manual"], opened["impact"], opened["stage"]) == (
        "Voice calls failing", True, "major", "investigating",
    )  # fmt: skip
    assert opened["monitor"] == "Voice API" and opened["monitor_id"] is None and opened["open"]
    assert opened["updates"] == [
        {
            "at": "2026-05-04T10:00:00Z",
            "stage": "investigating",
            "text": "Calls drop after a few seconds.",
            "by": "alice",
        }
    ]
    for stage, text in (("identified", "A carrier dropped our trunk."), ("monitoring", "Back.")):
        harness.clock.advance(600)
        resp = await client.post(
            f"/api/v1/incidents/{code}/updates", json={"status": stage, "text": text}, headers=AUTH
        )
        assert resp.status == 201
        answer = await resp.json()
        assert answer["update"]["stage"] == stage and answer["update"]["by"] is None
        assert answer["incident"]["stage"] == stage and answer["incident"]["open"]
    harness.clock.advance(600)
    resp = await client.post(
        f"/api/v1/incidents/{code}/updates",
        json={"status": "resolved", "text": "Fixed by the carrier.", "by": "bob"},
        headers=AUTH,
    )
    done = (await resp.json())["incident"]
    assert not done["open"] and done["end"] == "2026-05-04T10:30:00Z"
    assert done["duration_seconds"] == 1800.0

    detail = await (await client.get(f"/api/v1/incidents/{code}")).json()
    listed = (await (await client.get("/api/v1/incidents")).json())["incidents"][0]
    for seen in (detail, listed, done):
        assert [u["stage"] for u in seen["updates"]] == [
            "resolved", "monitoring", "identified", "investigating",
        ]  # fmt: skip
        assert [u["at"][11:16] for u in seen["updates"]] == ["10:30", "10:20", "10:10", "10:00"]
    assert [e["kind"] for e in detail["timeline"]] == ["opened"] + ["update"] * 4
    assert detail["evidence"] is None  # no token: and a manual incident has none anyway


async def test_an_automatic_incident_takes_updates_and_says_it_in_the_list(harness, client):
    for _ in range(3):
        await harness.feed("Web", failed(harness.clock()))
    (row,), _ = harness.store.incidents.find()
    resp = await client.post(
        f"/api/v1/incidents/{row.code}/updates",
        json={"status": "identified", "text": "A bad deploy; rolling back."},
        headers=AUTH,
    )
    assert resp.status == 201
    listed = (await (await client.get("/api/v1/incidents")).json())["incidents"][0]
    assert (listed["title"], listed["manual"], listed["impact"]) == (None, False, None)
    assert listed["stage"] == "identified" and listed["open"]  # only the UP ends it
    assert [u["text"] for u in listed["updates"]] == ["A bad deploy; rolling back."]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"monitors": ["Voice API"]}, "title", "title: required"),
        ({"title": " "}, "title", "title: must not be empty"),
        ({"title": "x" * 2001}, "title", "title: at most 2000 characters"),
        ({"title": "t", "monitors": "Voice API"}, "monitors", "monitors: must be a list"),
        ({"title": "t", "monitors": ["nope"]}, "monitors", "monitors: no monitor named 'nope'"),
        ({"title": "t", "status": "fixed"}, "status", "status: one of investigating,"),
        ({"title": "t", "status": "resolved"}, "status", "status: a new incident cannot"),
        ({"title": "t", "impact": "huge"}, "impact", "impact: one of minor, major"),
        ({"title": "t", "text": 5}, "text", "text: must be a string"),
        ({"title": "t", "text": "a\x07b"}, "text", "text: control characters"),
        ({"title": "t", "by": "x" * 101}, "by", "by: at most 100 characters"),
        ({"title": "t", "severity": "high"}, "severity", "severity: unknown field"),
        ([], "body", "body: must be a JSON object"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(harness, client, body, field, message):
    resp = await client.post("/api/v1/incidents", json=body, headers=AUTH)
    assert resp.status == 400
    answer = await resp.json()
    assert answer["field"] == field and answer["error"].startswith(message), answer
    assert harness.store.incidents.find()[1] == 0


async def test_updates_need_the_token_an_incident_and_a_good_body(harness, client):
    row = harness.parts.incidents.open_manual("Login slow", ["Web"])
    path = f"/api/v1/incidents/{row.code}/updates"
    good = {"status": "identified", "text": "x"}
    assert (await client.post(path, json=good)).status == 401
    wrong = {"Authorization": "Bearer no"}
    assert (await client.post(path, json=good, headers=wrong)).status == 401
    assert (await client.post("/api/v1/incidents", json={"title": "t"})).status == 401
    resp = await client.post("/api/v1/incidents/INC-1999-001/updates", json=good, headers=AUTH)
    assert resp.status == 404 and "INC-1999-001" in (await resp.json())["error"]
    for body, field in (
        ({"text": "x"}, "status"),
        ({"status": "identified"}, "text"),
        ({"status": "later", "text": "x"}, "status"),
        ({"status": "identified", "text": "x" * 2001}, "text"),
        ({"status": "identified", "text": "x", "note": "y"}, "note"),
    ):
        resp = await client.post(path, json=body, headers=AUTH)
        assert resp.status == 400 and (await resp.json())["field"] == field, body
    assert len(harness.store.incidents.updates([row.id])) == 1  # only the first


async def test_text_is_kept_as_sent_and_json_is_json(harness, client):
    resp = await client.post(
        "/api/v1/incidents",
        json={"title": XSS, "monitors": ["Web"], "text": f'{XSS} & "quotes"\nline two'},
        headers=AUTH,
    )
    raw = await resp.text()
    answer = await resp.json()
    assert answer["title"] == XSS
    assert answer["updates"][0]["text"] == f'{XSS} & "quotes"\nline two'
    assert "<script>" in raw  # JSON, served as application/json, escapes only what JSON needs
    assert resp.content_type == "application/json"


async def test_a_manual_incidents_post_mortem_has_its_updates_and_monitors(harness, client):
    book = harness.parts.incidents
    row = book.open_manual("Voice calls failing", ["Voice API", "Web"], impact="major", by="al")
    harness.clock.advance(900)
    book.add_update(row.code, "identified", "A carrier | dropped our trunk.")
    harness.clock.advance(900)
    book.add_update(row.code, "resolved", "Fixed.")
    resp = await client.get(f"/api/v1/incidents/{row.code}/postmortem", headers=AUTH)
    assert resp.status == 200
    text = await resp.text()
    assert "- **Title:** Voice calls failing" in text
    assert (
        "- **Impact:** manual incident: monitors Voice API, Web shown as Partial outage for 30m"
        in text
    )
    assert "| 2026-05-04 10:00:00 UTC | Opened by al: Voice calls failing |" in text
    assert (
        "| 2026-05-04 10:15:00 UTC | Update (identified): A carrier \\| dropped our trunk. |"
        in (text)
    )
    assert "| Update (resolved): Fixed. |" in text
    assert "_No evidence was kept for this incident._" in text
