"""``probed maintenance add|list|remove`` as a user runs them (subprocesses against the real
API app on a fake clock), and what ``/api/v1/maintenance`` refuses (docs/design.md §18.2)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, time

import pytest

from probed.config.maintenance import MaintenanceWindow
from probed.model import Status
from tests.kit.clock import FakeClock
from tests.kit.configs import TOKEN
from tests.kit.harness import api_client, good
from tests.kit.monitors import make_monitor
from tests.kit.processes import run_cli

NOW = datetime(2026, 12, 8, 12, tzinfo=UTC)  # a Tuesday
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BACKUP = MaintenanceWindow(
    "Sunday backup", None, days=frozenset({6}), time=time(3, 0), duration=3600.0
)
UPGRADE = MaintenanceWindow(
    "Kernel upgrade",
    frozenset({"Frontend"}),
    start=datetime(2026, 11, 2, 4, tzinfo=UTC),
    end=datetime(2026, 11, 2, 5, tzinfo=UTC),
)


async def probed(*args: str, token: str | None = TOKEN) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PROBED_API_TOKEN", "PROBED_LISTEN")}
    if token is not None:
        env["PROBED_API_TOKEN"] = token
    return await run_cli(*args, env=env)


@pytest.fixture
async def harness(make_harness):
    h = make_harness(
        [make_monitor("Backend API"), make_monitor("Frontend")],
        clock=FakeClock(NOW),
        windows=[BACKUP, UPGRADE],
    )
    await h.feed("Backend API", good(h.clock()))
    return h


@pytest.fixture
async def url(harness):
    async for client in api_client(harness):
        yield str(client.make_url("")).rstrip("/")


async def test_add_list_and_remove_a_window_from_the_command_line(harness, url):
    code, out, err = await probed(
        "maintenance", "add", "Database migration", "--monitor", "Backend API",
        "--monitor", "Frontend", "--start", "2026-12-12T02:00Z", "--duration", "1h", "--url", url,
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out == (
        'maintenance window 1 stored: 1: "Database migration" 2026-12-12T02:00:00Z –'
        " 2026-12-12T03:00:00Z (upcoming): Backend API, Frontend\n"
    )
    assert [(r.id, r.name, r.monitors) for r in harness.store.maintenance.all()] == [
        (1, "Database migration", ("Backend API", "Frontend"))
    ]

    code, out, err = await probed("maintenance", "list", "--url", url, token=None)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        '1: "Database migration" 2026-12-12T02:00:00Z – 2026-12-12T03:00:00Z (upcoming):'
        " Backend API, Frontend",
        'monitors.toml: "Sunday backup" weekly sun 03:00 UTC for 60m; next'
        " 2026-12-13T03:00:00Z – 2026-12-13T04:00:00Z (upcoming): every monitor",
        'monitors.toml: "Kernel upgrade" 2026-11-02T04:00:00Z – 2026-11-02T05:00:00Z'
        " (completed): Frontend",
    ]

    code, out, err = await probed("maintenance", "remove", "1", "--url", url)
    assert (code, out, err) == (0, 'maintenance window 1 ("Database migration") removed\n', "")
    assert harness.store.maintenance.all() == []
    code, out, err = await probed("maintenance", "remove", "1", "--url", url)
    assert code == 1 and out == ""
    assert err.startswith("probed maintenance: no stored maintenance window with id '1'")


async def test_the_command_line_says_what_is_wrong_and_changes_nothing(harness, url):
    code, out, err = await probed(
        "maintenance", "add", "Upgrade", "--monitor", "Backend AP", "--start",
        "2026-12-12T02:00", "--duration", "1h", "--url", url,
    )  # fmt: skip
    assert (code, out) == (1, "")
    assert err == (
        'probed maintenance: "monitors": unknown monitor "Backend AP" (did you mean'
        ' "Backend API"?) (HTTP 400)\n'
    )
    code, out, err = await probed(
        "maintenance", "add", "Upgrade", "--monitor", "Backend API", "--start",
        "2026-12-12T02:00Z", "--duration", "1h", "--url", url, token="wrong",
    )  # fmt: skip
    assert code == 1 and "missing or wrong API token" in err
    code, out, err = await probed("maintenance", "remove", "x1", "--url", url)
    assert code == 1 and "ID must be a number" in err
    assert harness.store.maintenance.all() == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start": "2026-12-12T02:00"}, '"start" needs a UTC offset or Z, e.g. 2026-12-12T02:00Z'),
        ({"start": "Saturday"}, '"start": invalid date-time "Saturday"'),
        ({"duration": "8d"}, '"duration" must be longer than 0 and at most 7d'),
        ({"duration": "0"}, '"duration" must be longer than 0 and at most 7d'),
        ({"duration": "soon"}, '"duration": '),
        ({"monitors": []}, '"monitors" must name at least one monitor'),
        ({"monitors": "Backend API"}, '"monitors" must be a list of monitor names'),
        ({"name": " "}, '"name" must be a non-empty string'),
        ({"name": "a\nb"}, '"name" must be one line of printable text'),
        ({"name": "x" * 201}, '"name" must be at most 200 characters'),
        ({"until": "never"}, "unknown field 'until'"),
        ({"start": "2026-12-01T02:00Z"}, "the window ends at 2026-12-01T03:00:00Z, in the past"),
    ],
)
async def test_the_api_refuses_a_bad_window_saying_why(harness, client, change, message):
    body = {
        "name": "Database migration",
        "monitors": ["Backend API"],
        "start": "2026-12-12T02:00Z",
        "duration": "1h",
        **change,
    }
    resp = await client.post("/api/v1/maintenance", json=body, headers=AUTH)
    assert resp.status == 400
    assert message in (await resp.json())["error"]
    assert harness.store.maintenance.all() == []
    assert harness.tracked("Backend API").state.status is Status.UP


async def test_reading_needs_no_token_and_changing_does(harness, client):
    body = {"name": "x", "monitors": ["Frontend"], "start": "2026-12-12T02:00Z", "duration": "1h"}
    assert (await client.post("/api/v1/maintenance", json=body)).status == 401
    assert (await client.delete("/api/v1/maintenance/1")).status == 401
    resp = await client.post("/api/v1/maintenance", json=body, headers=AUTH)
    created = await resp.json()
    got = await client.get(f"/api/v1/maintenance/{created['id']}")
    assert (got.status, await got.json()) == (200, created)
    assert created["source"] == "api" and created["monitors"] == ["Frontend"]
    for missing in ("99", "abc", "1" * 30):
        assert (await client.get(f"/api/v1/maintenance/{missing}")).status == 404
    assert (await client.delete("/api/v1/maintenance/99", headers=AUTH)).status == 404
    harness.clock.t = datetime(2026, 12, 12, 2, 30, tzinfo=UTC)
    listed = (await (await client.get("/api/v1/maintenance")).json())["maintenance"]
    assert [(w["id"], w["state"]) for w in listed] == [
        (created["id"], "in_progress"),
        (None, "upcoming"),
        (None, "completed"),
    ]


async def test_a_window_the_full_disk_cannot_take_is_a_503_that_stored_nothing(harness, client):
    harness.store.cap_pages(harness.store.page_count())
    body = {"monitors": ["Backend API"], "start": "2026-12-12T02:00Z", "duration": "1h"}
    created = 0
    while True:
        resp = await client.post(
            "/api/v1/maintenance", json={**body, "name": f"{created:03d}" + "x" * 197}, headers=AUTH
        )
        if resp.status != 201:
            break
        created += 1
        assert created < 1000, "the capped database never refused a window"
    assert resp.status == 503
    assert "nothing was changed" in (await resp.json())["error"]
    assert len(harness.store.maintenance.all()) == len(harness.pauses.stored) == created
    harness.store.cap_pages(None)
