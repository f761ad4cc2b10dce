"""The report's figures for a seeded fortnight (docs/design.md §18.6) against the API's:
uptime for the week and 30 days as /api/v1/monitors gives them, incidents with the times to
acknowledge and resolve of /api/v1/incidents, the mean response time as avg_response_seconds
computes it, p95 by nearest rank over the checks fed, and the change against the week before."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest

from probed.history import Retention
from probed.model import Timings
from probed.reports.collect import collect
from probed.reports.figures import Report
from probed.reports.render import render
from tests.kit.clock import FakeClock
from tests.kit.configs import make_config
from tests.kit.harness import Harness, good
from tests.kit.monitors import make_monitor

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
HOUR = 3600.0


def duration(monitor: str, hour: int) -> float:
    """A response time that varies by hour, so mean and p95 differ."""
    base = 0.12 if monitor == "api" else 0.4
    return round(base + (hour * 37 % 23) / 100, 3)


@pytest.fixture
async def harness(harnesses, tmp_path):
    """Two weeks of hourly checks of api and db; in the second week api is down for
    half an hour, acknowledged after five minutes."""
    clock = FakeClock(START)
    config = make_config(
        tmp_path,
        [
            make_monitor("api", slo=0.999, slow_threshold=0.3),
            make_monitor("db <primary>"),
        ],
    )
    h: Harness = harnesses(config, clock)
    for hour in range(14 * 24):
        for name in ("api", "db <primary>"):
            await h.feed(name, good(clock(), timings=Timings(total=duration(name, hour))))
        if hour == 9 * 24 + 3:
            clock.advance(60)
            await h.go_down("api", every=10)
            clock.advance(300)
            row = h.store.incidents.latest(h.tracked("api").id)
            assert row is not None
            h.parts.incidents.ack(row.code, "alice")
            clock.advance(1500)
            await h.feed("api", good(clock()))
            clock.advance(HOUR - 60 - 300 - 1500)
        else:
            clock.advance(HOUR)
    return h


def week(h: Harness) -> Report:
    now = h.clock()
    return collect(h.history, h.config.monitors, now - timedelta(days=7), now, "week")


async def test_uptime_matches_the_monitors_api(harness, client):
    report = week(harness)
    api = {m["name"]: m for m in (await (await client.get("/api/v1/monitors")).json())["monitors"]}
    for m in report.monitors:
        assert m.uptime == api[m.name]["uptime"]["7d"]
        assert m.uptime_30d == api[m.name]["uptime"]["30d"]
    api_fig = next(m for m in report.monitors if m.name == "api")
    assert api_fig.uptime is not None and api_fig.uptime < 1
    assert api_fig.previous_uptime == 1.0
    db = next(m for m in report.monitors if m.name == "db <primary>")
    assert db.uptime == 1.0 and db.incidents == ()


async def test_incidents_match_the_incidents_api(harness, client):
    report = week(harness)
    body = await (await client.get("/api/v1/incidents?monitor=api")).json()
    (listed,) = body["incidents"]
    (figures,) = next(m for m in report.monitors if m.name == "api").incidents
    assert figures.id == listed["id"]
    assert figures.duration_seconds == listed["duration_seconds"]
    assert figures.ack_seconds == listed["time_to_ack_seconds"] == 300.0
    assert figures.resolve_seconds == listed["time_to_resolve_seconds"]
    assert not figures.ongoing
    totals = report.totals()
    assert (totals.incidents, totals.previous_incidents) == (1, 0)
    assert totals.mean_ack_seconds == 300.0


async def test_the_slo_and_error_budget_follow_the_30_days(harness):
    api = next(m for m in week(harness).monitors if m.name == "api")
    line = harness.history.timelines([harness.tracked("api").id])[harness.tracked("api").id][1]
    now = harness.clock()
    up, down = line.seconds(now - timedelta(days=30), now)
    assert api.budget_left_seconds == pytest.approx(0.001 * (up + down) - down)
    assert api.meets_slo() is (up / (up + down) >= 0.999)


async def test_response_times_match_the_api_mean_and_the_checks_p95(harness, client):
    now = harness.clock()
    day = collect(harness.history, harness.config.monitors, now - timedelta(days=1), now, "day")
    api = {m["name"]: m for m in (await (await client.get("/api/v1/monitors")).json())["monitors"]}
    for m in day.monitors:
        assert m.response.mean == api[m.name]["avg_response_seconds_24h"]
    for m in week(harness).monitors:
        durations = [duration(m.name, hour) for hour in range(7 * 24, 14 * 24)]
        if m.name == "api":
            durations.append(0.02)  # the recovering check
        durations.sort()
        assert m.response.p95 == durations[math.ceil(0.95 * len(durations)) - 1]
        assert m.response.p95_exact
        assert m.response.mean == pytest.approx(sum(durations) / len(durations))


async def test_every_format_says_it_and_escapes_names(harness):
    report = week(harness)
    text = render(report, "text")
    assert "probed weekly report: 2026-11-30 08:00 to 2026-12-07 08:00 UTC" in text
    assert "acknowledged after 5m" in text and "SLO 99.90%" in text
    page = render(report, "html")
    assert "db &lt;primary&gt;" in page and "db <primary>" not in page
    assert "db \\<primary\\>" in render(report, "markdown")
    data = json.loads(render(report, "json"))
    assert data["totals"]["incidents"] == 1
    assert Report.from_json(data) == report


async def test_p95_uses_hourly_means_where_raw_checks_are_pruned(make_harness):
    """Raw results kept for an hour only: the p95 of two days comes from the hourly
    roll-ups, marked as such; every check of an hour took as long, so it is the exact one."""
    clock = FakeClock(START)
    h = make_harness([make_monitor("api")], clock, retention=Retention(raw=HOUR))
    fed: list[float] = []
    for quarter in range(3 * 24 * 4):
        d = duration("api", quarter // 4)
        await h.feed("api", good(clock(), timings=Timings(total=d)))
        if quarter >= 24 * 4:
            fed.append(d)
        clock.advance(HOUR / 4)
    while await h.parts.housekeeping.maintain():
        pass
    now = h.clock()
    assert h.store.checks.good_series(h.tracked("api").id, 0, _ms(now - timedelta(hours=2))) == []
    (m,) = collect(h.history, h.config.monitors, now - timedelta(days=2), now, "week").monitors
    fed.sort()
    assert not m.response.p95_exact
    assert m.response.p95 == fed[math.ceil(0.95 * len(fed)) - 1]
    assert m.response.mean == pytest.approx(sum(fed) / len(fed))


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


async def test_a_manual_incident_shows_under_each_monitor_and_counts_once(harness):
    book = harness.parts.incidents
    harness.clock.advance(600)
    row = book.open_manual("Voice calls <failing>", ["api", "db <primary>"], impact="major")
    harness.clock.advance(1200)
    book.add_update(row.code, "resolved", "Carrier fixed it")
    harness.clock.advance(600)
    report = week(harness)
    for m in report.monitors:
        assert [(i.id, i.title, i.resolve_seconds) for i in m.incidents][-1] == (
            row.code,
            "Voice calls <failing>",
            1200.0,
        )
    assert report.totals().incidents == 2  # api's outage and the manual one
    assert "Voice calls &lt;failing&gt;" in render(report, "html")
