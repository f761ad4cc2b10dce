"""The JSON API (/api/v1) on the real aiohttp app and a real store: monitors, pause, resume."""

from __future__ import annotations

from datetime import timedelta

import pytest

from probed.model import Status
from tests.kit.clock import T0
from tests.kit.configs import TOKEN
from tests.kit.harness import Harness, api_client
from tests.kit.monitors import make_monitor

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def harness(make_harness):
    return make_harness(
        [
            make_monitor("web", id=7),
            make_monitor("db", "keyword", keyword="ok", url="http://db.test/"),
        ],
    )


async def test_a_monitor_shows_state_last_check_uptime_response_time_cert_and_incidents(
    harness, client
):
    h = harness
    cert = T0 + timedelta(days=45)
    for _ in range(60):  # up for an hour, 100 ms
        await h.check("web", duration=0.1, cert_expires_at=cert)
        h.clock.advance(60)
    for _ in range(30):  # down for half an hour (first failure backdates the outage)
        await h.check("web", ok=False, duration=5.0)
        h.clock.advance(60)
    for _ in range(30):
        await h.check("web", duration=0.3, cert_expires_at=cert)
        h.clock.advance(60)
    await h.check("web", ok=False, duration=5.0)  # seems down now, and no certificate

    resp = await client.get("/api/v1/monitors/7")
    assert resp.status == 200
    body = await resp.json()
    assert body["id"] == 7 and body["name"] == "web" and body["type"] == "http"
    assert (body["status"], body["state"]) == (8, "seems_down")
    assert body["since"] == "2026-03-01T14:00:00Z"
    assert body["last_check"] == {
        "at": "2026-03-01T14:00:00Z",
        "ok": False,
        "reason": "HTTP 503, expected 2xx",
        "status_code": 503,
        "duration_seconds": 5.0,
        "timings": {"dns": None, "connect": 1.25, "tls": None, "first_byte": None, "total": 5.0},
    }
    # 2 hours monitored, 30 minutes of them down
    assert body["uptime"] == {"1d": 0.75, "7d": 0.75, "30d": 0.75, "all": 0.75}
    assert body["avg_response_seconds_24h"] == pytest.approx((60 * 0.1 + 30 * 0.3) / 90)
    assert body["cert_expires_at"] == "2026-04-15T12:00:00Z"
    assert body["incidents"] == [
        {
            "start": "2026-03-01T13:00:00Z",
            "end": "2026-03-01T13:30:00Z",
            "duration_seconds": 1800.0,
            "reason": "HTTP 503, expected 2xx",
        }
    ]


async def test_the_list_holds_every_configured_monitor_by_id(harness, client):
    resp = await client.get("/api/v1/monitors")
    monitors = (await resp.json())["monitors"]
    assert [m["name"] for m in monitors] == ["web", "db"]  # web has the pinned id 7
    db = monitors[1]
    assert (db["type"], db["state"], db["status"], db["since"]) == (
        "keyword",
        "pending",
        1,
        db["since"],
    )
    assert db["last_check"] is None and db["incidents"] == [] and db["cert_expires_at"] is None
    assert db["uptime"] == {"1d": None, "7d": None, "30d": None, "all": None}


@pytest.mark.parametrize("path", ["/api/v1/monitors/999", "/api/v1/monitors/abc"])
async def test_an_unknown_or_malformed_id_is_a_json_404(client, path):
    resp = await client.get(path)
    assert resp.status == 404
    assert (await resp.json())["error"].startswith("no monitor with id")
    resp = await client.post(path + "/pause", headers=AUTH)
    assert resp.status == 404


async def test_unknown_api_paths_and_methods_answer_json_errors(client):
    resp = await client.get("/api/v1/nothing")
    assert (resp.status, await resp.json()) == (404, {"error": "not found"})
    resp = await client.delete("/api/v1/monitors/7")
    assert (resp.status, await resp.json()) == (405, {"error": "method not allowed"})
    assert resp.headers["Allow"] == "GET,HEAD"


async def test_pause_and_resume_change_the_state_through_the_pipeline(harness, client):
    resp = await client.post("/api/v1/monitors/7/pause", headers=AUTH)
    body = await resp.json()
    assert resp.status == 200
    assert (body["state"], body["reason"], body["paused_until"]) == (
        "paused",
        "paused via API",
        None,
    )
    assert harness.tracked("web").state.status is Status.PAUSED
    resp = await client.post("/api/v1/monitors/7/resume", headers=AUTH)
    assert (await resp.json())["state"] == "pending"
    assert harness.kinds("web") == ["paused", "resumed"]


async def test_a_pause_for_a_while_resumes_by_itself(harness, client):
    resp = await client.post("/api/v1/monitors/7/pause", headers=AUTH, json={"for": "30m"})
    body = await resp.json()
    assert body["paused_until"] == "2026-03-01T12:30:00Z"
    assert body["reason"] == "paused via API for 30m"
    harness.clock.advance(1799)
    harness.pauses.tick()
    assert harness.tracked("web").state.status is Status.PAUSED
    harness.clock.advance(1)
    harness.pauses.tick()
    assert harness.tracked("web").state.status is Status.PENDING


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", 'the body must be JSON, e.g. {"for": "30m"}'),
        (b"[1]", 'the body must be a JSON object, e.g. {"for": "30m"}'),
        (b'{"until": "1h"}', "unknown field 'until' (only \"for\" is accepted)"),
        (
            b'{"for": "soon"}',
            'invalid duration "soon": expected e.g. "30s", "5m", "1h30m", '
            '"2d", "500ms" or integer seconds',
        ),
        (b'{"for": 0}', '"for" must be longer than 0 and at most 366d (else pause without it)'),
        (
            b'{"for": "9999999d"}',
            '"for" must be longer than 0 and at most 366d (else pause without it)',
        ),
    ],
)
async def test_a_bad_pause_body_is_a_400_that_says_what_is_wrong(harness, client, body, message):
    resp = await client.post("/api/v1/monitors/7/pause", headers=AUTH, data=body)
    assert (resp.status, await resp.json()) == (400, {"error": message})
    assert harness.tracked("web").state.status is Status.PENDING


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
    ],
)
async def test_changes_without_the_right_token_are_401(harness, client, headers):
    resp = await client.post("/api/v1/monitors/7/pause", headers=headers)
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in (await resp.json())["error"]
    assert harness.tracked("web").state.status is Status.PENDING


async def test_without_a_configured_token_changes_are_403_with_how_to_set_one(harness, client):
    harness.token = None
    resp = await client.post("/api/v1/monitors/7/resume", headers=AUTH)
    assert resp.status == 403
    error = (await resp.json())["error"]
    assert "no API token is configured" in error and "api_token in the [probed] table" in error
    assert (await client.get("/api/v1/monitors/7")).status == 200  # reading needs no token


async def test_a_monitor_paused_in_monitors_toml_is_a_409(tmp_path, monkeypatch):
    h = Harness.of(tmp_path / "db", [make_monitor("x", id=3, paused=True)])
    async for client in api_client(h):
        resp = await client.post("/api/v1/monitors/3/resume", headers=AUTH)
        assert resp.status == 409
        assert "paused = true in monitors.toml" in (await resp.json())["error"]
    await h.close()


async def test_a_tcp_tls_monitor_keeps_its_recorded_certificate_expiry_after_a_failed_check(
    tmp_path,
):
    h = Harness.of(
        tmp_path / "probed.db",
        [make_monitor("smtps", "tcp", id=3, url="tcp://mail.test:465", tls=True)],
    )
    cert = T0 + timedelta(days=45)
    await h.check("smtps", reason="certificate valid for 45 days", cert_expires_at=cert)
    h.clock.advance(60)
    await h.check("smtps", ok=False, reason="connection refused")  # no certificate seen
    async for client in api_client(h):
        body = await (await client.get("/api/v1/monitors/3")).json()
        assert (body["type"], body["cert_expires_at"]) == ("tcp", "2026-04-15T12:00:00Z")
        form = {"api_key": TOKEN, "format": "json", "ssl": "1"}
        [smtps] = (await (await client.post("/v2/getMonitors", data=form)).json())["monitors"]
        assert smtps["ssl"]["expires"] == int(cert.timestamp())
    await h.close()
