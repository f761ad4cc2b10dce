"""The UptimeRobot v2 subset, replaying the request and response shapes of
``docs/interfaces.md`` §1 against the real app and store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from probed.model import Status
from tests.kit.clock import T0
from tests.kit.configs import TOKEN
from tests.kit.harness import Harness, api_client
from tests.kit.monitors import make_monitor

# The official getMonitors example (docs/interfaces.md §1.2), for its field names and value types.
REFERENCE_MONITOR = {
    "id": 777749809,
    "friendly_name": "Google",
    "url": "http://www.google.com",
    "type": 1,
    "sub_type": "",
    "keyword_type": "",
    "keyword_value": "",
    "http_username": "",
    "http_password": "",
    "port": "",
    "interval": 900,
    "status": 1,
    "create_datetime": 1462565497,
    "monitor_group": 0,
    "is_group_main": 0,
}
GOOGLE, PAGE = 777749809, 777712827
FORM = {"api_key": TOKEN, "format": "json"}


@pytest.fixture
async def harness(make_harness):
    return make_harness(
        [
            make_monitor(
                "Google", id=GOOGLE, url="http://www.google.com", interval=900, timeout=30
            ),
            make_monitor(
                "My Web Page",
                "keyword",
                id=PAGE,
                url="https://mywebpage.com/",
                keyword="Welcome",
                interval=60,
                timeout=10,
            ),
        ],
    )


async def post(client, method, data=None, json=None, **kwargs):
    resp = await client.post(f"/v2/{method}", data=data, json=json, **kwargs)
    assert resp.status == 200  # UptimeRobot answers failures with 200 and stat "fail" too
    return await resp.json()


async def history(h: Harness) -> None:
    """Google: up 1 h, down 30 min, up 30 min (then now); My Web Page: never checked."""
    for i in range(120):
        ok = not 60 <= i < 90
        await h.check(
            "Google", ok=ok, duration=0.25 if ok else 5, reason=None if ok else "HTTP 503"
        )
        h.clock.advance(60)


async def test_get_monitors_answers_with_uptimerobots_field_names_and_types(client):
    body = await post(client, "getMonitors", data=FORM)
    assert body["stat"] == "ok"
    assert body["pagination"] == {"offset": 0, "limit": 50, "total": 2}
    page, google = body["monitors"]  # by id
    for m in (google, page):
        assert set(REFERENCE_MONITOR) <= set(m)
        assert set(m) - set(REFERENCE_MONITOR) == {"keyword_case_type", "timeout"}
        for key in ("id", "type", "interval", "status", "create_datetime", "monitor_group"):
            assert type(m[key]) is int, key
    expected = dict(REFERENCE_MONITOR, keyword_type=None, create_datetime=int(T0.timestamp()))
    assert google == dict(expected, keyword_case_type=0, timeout=30)
    assert page == dict(
        expected,
        id=PAGE,
        friendly_name="My Web Page",
        url="https://mywebpage.com/",
        type=2,
        keyword_type=2,  # down when the keyword does not exist
        keyword_case_type=1,  # case-insensitive
        keyword_value="Welcome",
        interval=60,
        timeout=10,
    )


async def test_a_ping_monitor_is_type_3_with_its_host_as_url(make_harness):
    h = make_harness(
        [
            make_monitor("router", "ping", id=5, url="icmp://[2001:db8::1]"),
            make_monitor("gw", "ping", id=6, url="gw.example.test"),
            make_monitor("Google", id=GOOGLE, url="http://www.google.com"),
        ]
    )
    async for client in api_client(h):
        body = await post(client, "getMonitors", data=dict(FORM, types="3"))
        shown = [(m["id"], m["type"], m["url"]) for m in body["monitors"]]
        assert shown == [(5, 3, "2001:db8::1"), (6, 3, "gw.example.test")]


async def test_json_bodies_and_the_api_key_in_the_query_work_too(client):
    body = await post(
        client, "getMonitors", json={"api_key": TOKEN, "monitors": [PAGE], "logs": True}
    )
    assert [m["id"] for m in body["monitors"]] == [PAGE] and body["monitors"][0]["logs"] == []
    body = await post(client, "getMonitors", params={"api_key": TOKEN}, data={"types": "2"})
    assert [m["friendly_name"] for m in body["monitors"]] == ["My Web Page"]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {},
            {
                "type": "missing_parameter",
                "parameter_name": "api_key",
                "message": "api_key is missing.",
            },
        ),
        (
            {"api_key": "bad_key"},
            {
                "type": "invalid_parameter",
                "parameter_name": "api_key",
                "passed_value": "bad_key",
                "message": "api_key not found.",
            },
        ),
        (
            dict(FORM, statuses="7"),
            {
                "type": "invalid_parameter",
                "parameter_name": "statuses",
                "passed_value": "7",
                "message": "each value in statuses must be one of the following values: 0,1,2,8,9",
            },
        ),
        (
            dict(FORM, types="1-6"),
            {
                "type": "invalid_parameter",
                "parameter_name": "types",
                "passed_value": "1-6",
                "message": "each value in types must be one of the following values: 1,2,3,4,5",
            },
        ),
        (
            dict(FORM, custom_uptime_ranges="20_10"),
            {
                "type": "invalid_parameter",
                "parameter_name": "custom_uptime_ranges",
                "passed_value": "20_10",
                "message": "custom_uptime_ranges must be start_end pairs of unix times (start"
                " before end) separated by -",
            },
        ),
        (
            dict(FORM, response_times_start_date="1000"),
            {
                "type": "missing_parameter",
                "parameter_name": "response_times_end_date",
                "message": "response_times_start_date and response_times_end_date must be used"
                " together",
            },
        ),
        (
            dict(FORM, response_times_start_date="0", response_times_end_date=str(8 * 86400)),
            {
                "type": "invalid_parameter",
                "parameter_name": "response_times_end_date",
                "passed_value": str(8 * 86400),
                "message": "response_times_end_date - response_times_start_date must be at most"
                " 7 days",
            },
        ),
        (
            dict(FORM, format="xml"),
            {
                "type": "invalid_parameter",
                "parameter_name": "format",
                "passed_value": "xml",
                "message": "only format=json is supported",
            },
        ),
    ],
)
async def test_errors_have_uptimerobots_shape(client, data, error):
    assert await post(client, "getMonitors", data=data) == {"stat": "fail", "error": error}


async def test_without_a_configured_token_the_api_is_refused_with_how_to_set_one(harness, client):
    harness.token = None
    body = await post(client, "getMonitors", data=FORM)
    assert body["stat"] == "fail" and body["error"]["type"] == "not_authorized"
    assert "set api_token in the [probed] table" in body["error"]["message"]


async def test_uptime_ratios_are_three_decimal_percentages_joined_by_dashes(harness, client):
    await history(harness)
    now = int(harness.clock().timestamp())
    body = await post(
        client,
        "getMonitors",
        data=dict(
            FORM,
            custom_uptime_ratios="1-7-30",
            # the first hour (all up), the whole history, and the two hours before it
            custom_uptime_ranges=f"{int(T0.timestamp())}_{int(T0.timestamp()) + 3600}"
            f"-{int(T0.timestamp())}_{now}-{int(T0.timestamp()) - 7200}_{int(T0.timestamp())}",
            all_time_uptime_ratio="1",
        ),
    )
    page, google = body["monitors"]
    assert google["custom_uptime_ratio"] == "75.000-75.000-75.000"
    assert google["custom_uptime_ranges"] == "100.000-75.000-100.000"
    assert google["all_time_uptime_ratio"] == "75.000"
    # never checked: no downtime seen (clients parse each part as a float)
    assert page["custom_uptime_ratio"] == "100.000-100.000-100.000"


async def test_logs_are_newest_first_with_types_durations_and_reasons(harness, client):
    await history(harness)
    harness.pauses.pause(harness.tracked("Google"), None, "API")
    harness.clock.advance(600)
    harness.pauses.resume(harness.tracked("Google"), "API")
    harness.clock.advance(30)
    body = await post(client, "getMonitors", data=dict(FORM, monitors=str(GOOGLE), logs="1"))
    logs = body["monitors"][0]["logs"]
    t0 = int(T0.timestamp())
    assert [(log["type"], log["datetime"] - t0, log["duration"]) for log in logs] == [
        (98, 7800, 30),  # resumed ("started") at 2h10m, 30 s ago
        (99, 7200, 600),  # paused for 10 minutes
        (2, 5400, 1800),  # up again at 1h30m
        (1, 3600, 1800),  # down for 30 minutes from 1h
        (2, 0, 3600),  # first up
    ]
    assert logs[3]["reason"] == {"code": "503", "detail": "HTTP 503"}
    assert logs[1]["reason"] == {"code": "", "detail": "paused via API"}
    assert all(isinstance(log["id"], int) for log in logs)
    body = await post(
        client,
        "getMonitors",
        data=dict(FORM, monitors=str(GOOGLE), logs="1", logs_limit="1", log_types="1-2"),
    )
    assert [(log["type"], log["datetime"] - t0) for log in body["monitors"][0]["logs"]] == [
        (2, 5400)
    ]


async def test_response_times_and_their_average_are_in_milliseconds(harness, client):
    await history(harness)
    body = await post(
        client, "getMonitors", data=dict(FORM, monitors=str(GOOGLE), response_times="1")
    )
    google = body["monitors"][0]
    points = google["response_times"]
    assert len(points) == 90  # good checks only
    assert points[0] == {"datetime": int(T0.timestamp()) + 119 * 60, "value": 250}
    assert points[0]["datetime"] > points[-1]["datetime"]  # newest first
    assert google["average_response_time"] == "250.000"
    body = await post(
        client,
        "getMonitors",
        data=dict(
            FORM,
            monitors=str(GOOGLE),
            response_times="1",
            response_times_average="30",
            response_times_limit="2",
            response_times_start_date=str(int(T0.timestamp())),
            response_times_end_date=str(int((T0 + timedelta(hours=3)).timestamp())),
        ),
    )
    assert body["monitors"][0]["response_times"] == [
        {"datetime": int(T0.timestamp()) + 5400, "value": 250},
        {"datetime": int(T0.timestamp()) + 1800, "value": 250},
    ]


async def test_ssl_reports_the_certificate_expiry(harness, client):
    await harness.check("My Web Page", cert_expires_at=T0 + timedelta(days=30))
    body = await post(client, "getMonitors", data=dict(FORM, ssl="1"))
    page, google = body["monitors"]
    assert page["ssl"] == {
        "brand": "",
        "product": "",
        "expires": int((T0 + timedelta(days=30)).timestamp()),
        "ignore_errors": 0,
        "disable_notifications": 0,
    }
    assert google["ssl"]["expires"] == ""


async def test_filters_and_pagination(tmp_path, monkeypatch):
    monitors = [make_monitor(f"site-{i:02}", url=f"https://site{i}.test/") for i in range(60)]
    h = Harness.of(tmp_path / "db", monitors)
    await h.check("site-03")
    h.pauses.pause(h.tracked("site-07"), None, "API")
    async for client in api_client(h):
        body = await post(client, "getMonitors", data=dict(FORM, limit="100"))
        assert body["pagination"] == {"offset": 0, "limit": 50, "total": 60}
        assert len(body["monitors"]) == 50
        body = await post(client, "getMonitors", data=dict(FORM, offset="50"))
        assert [m["friendly_name"] for m in body["monitors"]][:2] == ["site-50", "site-51"]
        assert len(body["monitors"]) == 10
        body = await post(client, "getMonitors", data=dict(FORM, statuses="0-2"))
        assert [m["friendly_name"] for m in body["monitors"]] == ["site-03", "site-07"]
        body = await post(client, "getMonitors", data=dict(FORM, search="SITE5.test"))
        assert [m["friendly_name"] for m in body["monitors"]] == ["site-05"]
        ids = f"{h.tracked('site-09').id}-{h.tracked('site-01').id}"
        body = await post(client, "getMonitors", data=dict(FORM, monitors=ids))
        assert [m["friendly_name"] for m in body["monitors"]] == ["site-01", "site-09"]
    await h.close()


async def test_edit_monitor_pauses_with_status_0_and_resumes_with_status_1(harness, client):
    body = await post(client, "editMonitor", data=dict(FORM, id=str(GOOGLE), status="0"))
    assert body == {"stat": "ok", "monitor": {"id": GOOGLE}}
    google = harness.tracked("Google")
    assert google.state.status is Status.PAUSED
    assert google.state.reason == "paused via UptimeRobot API"
    body = await post(client, "editMonitor", json={"api_key": TOKEN, "id": GOOGLE, "status": 1})
    assert body == {"stat": "ok", "monitor": {"id": GOOGLE}}
    assert google.state.status is Status.PENDING


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (FORM, {"type": "missing_parameter", "parameter_name": "id", "message": "id is missing."}),
        (
            dict(FORM, id="12"),
            {
                "type": "invalid_parameter",
                "parameter_name": "id",
                "passed_value": "12",
                "message": "monitor not found.",
            },
        ),
        (
            dict(FORM, id=str(GOOGLE), status="2"),
            {
                "type": "invalid_parameter",
                "parameter_name": "status",
                "passed_value": "2",
                "message": "status must be 0 (pause) or 1 (resume)",
            },
        ),
        (
            dict(FORM, id=str(GOOGLE), friendly_name="x"),
            {
                "type": "invalid_parameter",
                "parameter_name": "friendly_name",
                "passed_value": "x",
                "message": "probed's monitors are configured in monitors.toml; editMonitor can"
                " only pause (status=0) or resume (status=1)",
            },
        ),
    ],
)
async def test_edit_monitor_errors(harness, client, data, error):
    assert await post(client, "editMonitor", data=data) == {"stat": "fail", "error": error}
    assert harness.tracked("Google").state.status is Status.PENDING


async def test_edit_monitor_does_not_take_the_api_key_from_the_query(client):
    body = await post(client, "editMonitor", params={"api_key": TOKEN}, data={"id": str(GOOGLE)})
    assert body["error"]["type"] == "missing_parameter"


async def test_account_details_count_monitors_by_state(harness, client):
    await harness.check("Google")
    body = await post(client, "getAccountDetails", data=FORM)
    assert body == {
        "stat": "ok",
        "account": {
            "email": "",
            "monitor_limit": 2,
            "up_monitors": 1,
            "down_monitors": 0,
            "paused_monitors": 0,
        },
    }


async def test_other_uptimerobot_methods_are_refused_in_the_apis_terms(client):
    body = await post(
        client, "newMonitor", data=dict(FORM, friendly_name="x", url="http://x", type="1")
    )
    assert body["stat"] == "fail"
    assert (
        body["error"]["type"] == "invalid_parameter"
        and body["error"]["passed_value"] == "newMonitor"
    )
    assert "monitors are configured in monitors.toml" in body["error"]["message"]


async def test_absurd_dates_and_day_counts_are_refused_or_clamped_not_a_crash(client):
    body = await post(client, "getMonitors", data=dict(FORM, custom_uptime_ratios="1-99999999"))
    assert body["error"]["message"] == "custom_uptime_ratios must be whole days from 1 to 36500"
    far = f"1_{10**15}"
    body = await post(client, "getMonitors", data=dict(FORM, custom_uptime_ranges=far, logs="1"))
    assert body["stat"] == "ok"
    assert body["monitors"][0]["custom_uptime_ranges"] == "100.000"


async def test_a_tcp_monitor_is_a_custom_port_monitor_and_type_tcp_in_our_api(tmp_path):
    h = Harness.of(tmp_path / "db", [make_monitor("db", "tcp", id=5, url="tcp://db.test:5432")])
    async for client in api_client(h):
        [db] = (await post(client, "getMonitors", data=FORM))["monitors"]
        assert (db["type"], db["sub_type"], db["port"]) == (4, 99, "5432")
        assert db["url"] == "tcp://db.test:5432"
        ours = await client.get("/api/v1/monitors/5", headers={"Authorization": f"Bearer {TOKEN}"})
        assert (await ours.json())["type"] == "tcp"
    await h.close()


async def test_a_json_monitor_is_an_http_monitor_to_uptimerobot_and_type_json_in_our_api(
    tmp_path,
):
    h = Harness.of(tmp_path / "db", [make_monitor("api", "json", id=6, json_query="status")])
    async for client in api_client(h):
        [api] = (await post(client, "getMonitors", data=FORM))["monitors"]
        assert (api["type"], api["sub_type"], api["port"]) == (1, "", "")
        ours = await client.get("/api/v1/monitors/6", headers={"Authorization": f"Bearer {TOKEN}"})
        assert (await ours.json())["type"] == "json"
    await h.close()


async def test_a_dns_monitor_is_type_dns_in_our_api(tmp_path):
    h = Harness.of(
        tmp_path / "db", [make_monitor("ns", "dns", id=8, url="dns:///example.test?type=MX")]
    )
    async for client in api_client(h):
        [ns] = (await post(client, "getMonitors", data=FORM))["monitors"]
        assert (ns["type"], ns["url"]) == (1, "dns:///example.test?type=MX")
        ours = await client.get("/api/v1/monitors/8", headers={"Authorization": f"Bearer {TOKEN}"})
        assert (await ours.json())["type"] == "dns"
    await h.close()
