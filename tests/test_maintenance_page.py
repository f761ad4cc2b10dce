"""Scheduled maintenance on the status page and in /api/v1/status (docs/design.md §18.2): a
window stored through the API shows from 7 days before it starts, runs (pausing its monitor)
and goes to the history; monitors.toml's weekly windows show their next run."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from probed.config.maintenance import MaintenanceWindow
from probed.model import Status
from probed.status.maintenance import MaintenanceState, public_maintenance, windows_between
from probed.store.maintenance import MaintenanceRow
from tests.kit.clock import FakeClock
from tests.kit.configs import TOKEN
from tests.kit.harness import api_client, good
from tests.kit.monitors import make_monitor
from tests.test_status_page import Page

START = datetime(2026, 12, 12, 2, 0, tzinfo=UTC)  # a Saturday
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MIGRATION = {
    "name": "Database migration",
    "monitors": ["Backend API", "Internal"],
    "start": "2026-12-12T02:00Z",
    "duration": "1h",
}
NOTE = "Scheduled maintenance, Sat 12 Dec 02:00–03:00 UTC: Backend API Database migration"


@pytest.fixture
async def harness(make_harness):
    h = make_harness(
        [
            make_monitor("Backend API"),
            make_monitor("Frontend"),
            make_monitor("Internal", public=False),
        ],
        clock=FakeClock(START - timedelta(days=8)),
    )
    for name in ("Backend API", "Frontend", "Internal"):
        await h.feed(name, good(h.clock()))
    return h


async def shown(client) -> tuple[str, list[dict[str, object]]]:
    resp = await client.get("/")
    assert resp.status == 200
    text = Page(await resp.text()).all_text
    status = await (await client.get("/api/v1/status")).json()
    return text, status["maintenance"]


async def test_a_stored_window_shows_from_7_days_before_runs_and_goes_to_the_history(
    harness, client
):
    resp = await client.post("/api/v1/maintenance", json=MIGRATION, headers=AUTH)
    assert resp.status == 201, await resp.text()
    stored = await resp.json()
    assert stored["state"] == "upcoming" and stored["end"] == "2026-12-12T03:00:00Z"
    text, listed = await shown(client)
    assert "maintenance" not in text.lower() and listed == []

    harness.clock.t = START - timedelta(days=6)
    text, listed = await shown(client)
    assert NOTE in text
    assert listed == [
        {
            "id": f"api-{stored['id']}@20261212T0200Z",
            "name": "Database migration",
            "monitors": ["Backend API"],  # never the hidden monitor
            "start": "2026-12-12T02:00:00Z",
            "end": "2026-12-12T03:00:00Z",
            "state": "upcoming",
        }
    ]
    assert "Internal" not in text

    harness.clock.t = START + timedelta(minutes=30)
    harness.pauses.tick()
    assert harness.tracked("Backend API").state.status is Status.PAUSED
    assert harness.tracked("Internal").state.status is Status.PAUSED
    assert harness.tracked("Frontend").state.status is Status.UP
    text, listed = await shown(client)
    assert "Maintenance in progress, Sat 12 Dec 02:00–03:00 UTC: Backend API" in text
    assert "Backend API Maintenance" in text  # the monitor's own state
    assert [w["state"] for w in listed] == ["in_progress"]

    harness.clock.t = START + timedelta(hours=1, minutes=30)
    harness.pauses.tick()
    assert harness.tracked("Backend API").state.status is Status.PENDING
    text, listed = await shown(client)
    assert "Scheduled maintenance" not in text and "in progress" not in text
    assert "Maintenance, last 30 days (1) When Work Monitors" in text
    assert "Sat 12 Dec 02:00–03:00 UTC Database migration Backend API" in text
    assert [w["state"] for w in listed] == ["completed"]

    harness.clock.t = START + timedelta(days=31)
    text, listed = await shown(client)
    assert "Database migration" not in text and listed == []


async def test_a_window_of_hidden_monitors_only_is_not_on_the_page_at_all(harness, client):
    hidden = {**MIGRATION, "name": "Secret rework", "monitors": ["Internal"]}
    assert (await client.post("/api/v1/maintenance", json=hidden, headers=AUTH)).status == 201
    harness.clock.t = START
    harness.pauses.tick()
    assert harness.tracked("Internal").state.status is Status.PAUSED
    text, listed = await shown(client)
    assert "Secret rework" not in text and listed == []


async def test_a_window_added_while_it_runs_pauses_at_once_and_removing_it_resumes_at_once(
    harness, client
):
    harness.clock.t = START + timedelta(minutes=10)
    resp = await client.post("/api/v1/maintenance", json=MIGRATION, headers=AUTH)
    window = await resp.json()
    assert window["state"] == "in_progress"
    assert harness.tracked("Backend API").state.status is Status.PAUSED
    assert harness.tracked("Backend API").state.reason == 'maintenance window "Database migration"'
    monitors = await (await client.get("/api/v1/monitors")).json()
    api = next(m for m in monitors["monitors"] if m["name"] == "Backend API")
    assert api["paused_until"] == "2026-12-12T03:00:00Z"

    resp = await client.delete(f"/api/v1/maintenance/{window['id']}", headers=AUTH)
    assert (resp.status, await resp.json()) == (
        200,
        {"deleted": 1, "id": window["id"], "name": "Database migration"},
    )
    assert harness.tracked("Backend API").state.status is Status.PENDING
    text, listed = await shown(client)
    assert "Database migration" not in text and listed == []


async def test_stored_windows_pause_again_after_a_restart(make_harness, tmp_path):
    monitors = [make_monitor("Backend API")]
    first = make_harness(monitors, clock=FakeClock(START - timedelta(days=1)))
    first.pauses.add_window(
        "Database migration", ("Backend API",), START, START + timedelta(hours=1)
    )
    await first.close()
    second = make_harness(monitors, clock=FakeClock(START + timedelta(minutes=5)))
    second.pauses.tick()
    assert second.tracked("Backend API").state.status is Status.PAUSED
    assert [r.name for r in second.pauses.stored] == ["Database migration"]


WEEKLY = MaintenanceWindow(
    "Nightly backup",
    frozenset({"Frontend"}),
    days=frozenset(range(7)),
    time=time(2, 0),
    duration=1800.0,
    timezone="Europe/Berlin",
)


async def test_a_weekly_window_from_monitors_toml_shows_only_its_next_run(make_harness):
    # Tuesday 8 Dec 2026 at noon: every day has a run, the page shows tomorrow's only.
    h = make_harness(
        [make_monitor("Frontend")],
        clock=FakeClock(datetime(2026, 12, 8, 12, tzinfo=UTC)),
        windows=[WEEKLY],
    )
    async for client in api_client(h):
        text, listed = await shown(client)
    assert "Scheduled maintenance, Wed 9 Dec 01:00–01:30 UTC: Frontend Nightly backup" in text
    assert [(w["start"], w["state"]) for w in listed] == [("2026-12-09T01:00:00Z", "upcoming")]
    assert listed[0]["id"] == "toml-Nightly backup@20261209T0100Z"


def test_windows_between_dates_every_run_that_overlaps_the_span_config_and_stored():
    ms = [int(t.timestamp() * 1000) for t in (START, START + timedelta(hours=1), START)]
    row = MaintenanceRow(4, "Database migration", ("Backend API",), *ms)
    weekly = MaintenanceWindow(
        "Sunday backup", None, days=frozenset({6}), time=time(23, 30), duration=7200.0
    )
    # From Monday 7 Dec 00:30: the run that began on Sunday at 23:30 still overlaps it.
    runs = windows_between(
        [weekly],
        [row],
        datetime(2026, 12, 7, 0, 30, tzinfo=UTC),
        datetime(2026, 12, 14, tzinfo=UTC),
    )
    assert [(o.name, o.start.isoformat(), o.end.isoformat(), o.stored_id) for o in runs] == [
        ("Sunday backup", "2026-12-06T23:30:00+00:00", "2026-12-07T01:30:00+00:00", None),
        ("Database migration", "2026-12-12T02:00:00+00:00", "2026-12-12T03:00:00+00:00", 4),
        ("Sunday backup", "2026-12-13T23:30:00+00:00", "2026-12-14T01:30:00+00:00", None),
    ]
    assert [o.state(START) for o in runs] == [
        MaintenanceState.COMPLETED,
        MaintenanceState.IN_PROGRESS,
        MaintenanceState.UPCOMING,
    ]
    # The page names only public monitors, and "*" means all of them.
    page = public_maintenance([weekly], [row], ["Frontend"], START - timedelta(hours=1))
    assert [(o.name, names) for o, names in page] == [("Sunday backup", ("Frontend",))]
