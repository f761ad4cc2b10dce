"""``GET /api/v1/status/summary`` (docs/design.md §18.3): the banner's data (overall state,
open incidents with their latest update, announcements, maintenance running or ahead, each
public monitor's state by group), small for 500 monitors, cached, CORS, ETag and 304, on both
listeners."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from probed.config.maintenance import MaintenanceWindow
from probed.units import iso, to_ms
from tests.kit.clock import FakeClock
from tests.kit.configs import make_config
from tests.kit.figures import report
from tests.kit.harness import failed, good
from tests.kit.monitors import make_monitor

BASE = "https://status.example.test"


async def _client(app: Any) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


async def test_the_summary_carries_what_a_banner_needs(harnesses, tmp_path):
    clock = FakeClock()
    now = clock()
    hour, days = timedelta(hours=1), timedelta(days=2)
    windows = (
        MaintenanceWindow(
            "Now", frozenset({"Web", "Internal DB"}), start=now - hour / 12, end=now + hour
        ),
        MaintenanceWindow("Soon", None, start=now + days, end=now + days + hour),
        MaintenanceWindow("Done", None, start=now - days, end=now - days + hour),
    )
    monitors = [
        make_monitor("Voice API", group="Calls"),
        make_monitor("Web", group="Front"),
        make_monitor("Internal DB", public=False),
    ]
    config = make_config(tmp_path, monitors, windows=windows, external_url=BASE)
    h = harnesses(config, clock)
    h.pauses.tick()
    for _ in range(3):
        await h.feed("Voice API", failed(clock()))
        await h.feed("Internal DB", failed(clock(), reason="private words"))
    book = h.parts.incidents
    row = book.open_manual(
        "Voice calls <failing>", ["Voice API"], stage="investigating", impact="major"
    )
    clock.advance(60)
    book.add_update(row.code, "identified", "A carrier & its trunk.")
    h.store.announcements.add("Upgrade tonight", "info", to_ms(clock()), None)
    async for client in _client(h.parts.app):
        response = await client.get("/api/v1/status/summary")
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.content_type == "application/json"
        body = await response.json()
    automatic = h.store.incidents.find(monitor_id=h.tracked("Voice API").id, open=True)[0]
    auto_code = next(r.code for r in automatic if not r.manual)
    assert body["overall"] == {"status": "major_outage", "text": "Major outage"}
    assert body["page"] == f"{BASE}/" and body["incidents_open"] == 2
    assert body["incidents"] == [
        {
            "title": "Voice calls <failing>",
            "stage": "identified",
            "impact": "major",
            "started": iso(now),
            "monitors": ["Voice API"],
            "url": f"{BASE}/#incident-{row.code}",
            "update": {"at": iso(clock()), "stage": "identified", "text": "A carrier & its trunk."},
        },
        {
            "title": "Voice API down",
            "stage": None,
            "impact": None,
            "started": iso(now),
            "monitors": ["Voice API"],
            "url": f"{BASE}/#incident-{auto_code}",
            "update": None,
        },
    ]
    assert body["announcements"] == [
        {"message": "Upgrade tonight", "level": "info", "created": iso(clock())}
    ]
    assert [(m["name"], m["monitors"], m["state"]) for m in body["maintenance"]] == [
        ("Now", ["Web"], "in_progress"),
        ("Soon", None, "upcoming"),
    ]
    assert body["groups"] == [
        {"name": "Calls", "monitors": [["Voice API", "down"]]},
        {"name": "Front", "monitors": [["Web", "paused"]]},
    ]
    text = json.dumps(body)
    assert "Internal DB" not in text and "private words" not in text


async def test_etags_answer_304_and_news_changes_the_summary_at_once(harnesses, tmp_path):
    clock = FakeClock()
    config = make_config(tmp_path, [make_monitor("Web")])
    h = harnesses(config, clock)
    for app in (h.parts.app, h.parts.public_app):
        async for client in _client(app):
            first = await client.get("/api/v1/status/summary")
            etag = first.headers["ETag"]
            assert first.headers["Cache-Control"] == "public, max-age=15"
            assert (await first.json())["page"].startswith("http://127.0.0.1:")
            same = await client.get("/api/v1/status/summary", headers={"If-None-Match": etag})
            assert same.status == 304 and same.headers["ETag"] == etag
            assert same.headers["Access-Control-Allow-Origin"] == "*"
            clock.advance(60)  # rendered again, nothing changed: the same ETag
            again = await client.get("/api/v1/status/summary", headers={"If-None-Match": etag})
            assert again.status == 304
    row = h.parts.incidents.open_manual("Slow", ["Web"], stage="investigating", impact="minor")
    async for client in _client(h.parts.public_app):
        fresh = await client.get("/api/v1/status/summary", headers={"If-None-Match": etag})
        assert fresh.status == 200
        assert [i["title"] for i in (await fresh.json())["incidents"]] == ["Slow"]
    h.parts.incidents.add_update(row.code, "resolved", "Fine again.")
    async for client in _client(h.parts.app):
        done = await client.get("/api/v1/status/summary")
        assert (await done.json())["incidents"] == []


async def test_the_summary_of_500_monitors_stays_under_20_kb(harnesses, tmp_path, request):
    clock = FakeClock()
    monitors = [
        make_monitor(f"Service {n:03d} API", group=f"Region {n % 20:02d}", down_after=1)
        for n in range(500)
    ]
    h = harnesses(make_config(tmp_path, monitors), clock)
    for m in monitors:
        await h.feed(m.name, good(clock()))
    clock.advance(60)
    for n in range(0, 500, 4):
        await h.feed(f"Service {n:03d} API", failed(clock()))
    book = h.parts.incidents
    row = book.open_manual(
        "We're experiencing issues with voice calls", ["Service 001 API"], stage="investigating",
        impact="major", text="Our team is investigating.",
    )  # fmt: skip
    book.add_update(row.code, "identified", "A carrier dropped our trunk; rerouting. " * 5)
    h.store.announcements.add("Maintenance tonight at 02:00 UTC.", "info", to_ms(clock()), None)
    async for client in _client(h.parts.public_app):
        response = await client.get("/api/v1/status/summary")
        raw = await response.read()
        gzipped = await client.get(
            "/api/v1/status/summary", headers={"Accept-Encoding": "gzip"}, auto_decompress=False
        )
        packed = await gzipped.read()
    body = json.loads(raw)
    assert sum(len(g["monitors"]) for g in body["groups"]) == 500
    # The one people wrote about first, then the newest automatic ones; all counted.
    assert [i["title"] for i in body["incidents"]][:2] == [
        "We're experiencing issues with voice calls",
        "Service 496 API down",
    ]
    assert len(body["incidents"]) == 10
    assert body["incidents_open"] == 1 + len(range(0, 500, 4))
    assert body["incidents"][0]["update"]["stage"] == "identified"
    assert len(raw) <= 20 * 1024, len(raw)
    report(request, "summary of 500 monitors", [f"{len(raw):,} bytes, {len(packed):,} gzipped"])
