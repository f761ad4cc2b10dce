"""Malformed requests to both APIs get 4xx JSON answers, never aiohttp's text pages or a 500;
an unexpected failure is a JSON 500 without a traceback, logged once."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from structlog.testing import capture_logs

from probed.web.context import Api
from tests.kit.configs import TOKEN
from tests.kit.monitors import make_monitor

AUTH = {"Authorization": f"Bearer {TOKEN}"}
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture
async def harness(make_harness):
    return make_harness([make_monitor("web", id=7)])


async def raw_request(client, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """Send bytes aiohttp's client would refuse to send (a raw 0xff in a header)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    writer.write(
        head
        + b"Host: 127.0.0.1\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        + body
    )
    await writer.drain()
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


async def test_a_raw_0xff_bearer_token_is_a_json_401(client):
    status, body = await raw_request(
        client, b"POST /api/v1/monitors/7/pause HTTP/1.1\r\nAuthorization: Bearer \xff\r\n"
    )
    assert status == 401
    assert json.loads(body)["error"].startswith("missing or wrong API token")


async def test_a_lone_surrogate_api_key_is_refused_as_a_wrong_key(client):
    resp = await client.post("/v2/getMonitors", data=b'{"api_key": "\\udcff"}', headers=JSON)
    assert resp.status == 200
    body = await resp.json()
    assert body["stat"] == "fail" and body["error"]["parameter_name"] == "api_key"
    assert body["error"]["message"] == "api_key not found."


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("method", ["getMonitors", "editMonitor", "getAccountDetails"])
async def test_json_nested_100000_deep_is_an_invalid_parameter_on_v2(client, method):
    resp = await client.post(f"/v2/{method}", data=DEEP, headers=JSON)
    assert resp.status == 200
    body = await resp.json()
    assert body["stat"] == "fail" and body["error"]["type"] == "invalid_parameter"


async def test_json_nested_100000_deep_is_a_400_on_pause(client):
    resp = await client.post("/api/v1/monitors/7/pause", data=DEEP, headers=AUTH)
    assert resp.status == 400
    assert "JSON" in (await resp.json())["error"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("custom_uptime_ranges", "²_³"),
        ("custom_uptime_ranges", "1_²"),
        ("custom_uptime_ratios", "²"),
        ("monitors", "٧"),
        ("offset", "²"),
        ("limit", "٣"),
        ("logs_limit", "1_0"),
    ],
)
async def test_non_ascii_digits_are_an_invalid_parameter(client, name, value):
    resp = await client.post("/v2/getMonitors", data={"api_key": TOKEN, name: value})
    assert resp.status == 200
    body = await resp.json()
    assert body["stat"] == "fail"
    assert body["error"] == {
        "type": "invalid_parameter",
        "parameter_name": name,
        "passed_value": value,
        "message": body["error"]["message"],
    }


async def test_a_huge_response_times_average_is_an_invalid_parameter(client):
    form = {"api_key": TOKEN, "response_times": "1", "response_times_average": "9" * 400}
    body = await (await client.post("/v2/getMonitors", data=form)).json()
    assert body["stat"] == "fail"
    assert body["error"]["parameter_name"] == "response_times_average"


async def test_v2_method_not_allowed_is_json_with_allow(client):
    resp = await client.get("/v2/getMonitors")
    assert resp.status == 405 and resp.headers["Allow"] == "POST"
    assert await resp.json() == {
        "stat": "fail",
        "error": {"type": "method_not_allowed", "message": "method not allowed"},
    }


@pytest.mark.parametrize("path", ["/v2/getMonitors", "/api/v1/monitors/7/pause"])
async def test_a_body_over_the_size_limit_is_a_json_413(client, path):
    resp = await client.post(path, data=io.BytesIO(b"x" * (1024**2 + 1)), headers={**AUTH, **JSON})
    assert resp.status == 413
    body = await resp.json()
    assert "too large" in json.dumps(body)


@pytest.mark.parametrize("path", ["/v2/getMonitors", "/api/v1/monitors"])
async def test_an_unexpected_failure_is_a_json_500_without_traceback_logged_once(
    client, monkeypatch, path
):
    def broken(self: Api) -> list[object]:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(Api, "monitors", broken)
    with capture_logs() as logged:
        resp = await client.request(
            "POST" if path.startswith("/v2") else "GET", path, data={"api_key": TOKEN}
        )
    assert resp.status == 500
    text = await resp.text()
    assert "secret internals" not in text and "Traceback" not in text
    body = json.loads(text)
    assert "internal" in json.dumps(body)
    errors = [e for e in logged if e["log_level"] == "error"]
    assert len(errors) == 1 and errors[0]["path"] == path
    assert errors[0]["exc_info"] is True


async def test_a_form_body_that_is_not_utf8_is_an_invalid_parameter(client):
    for content_type in (
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=no-such-charset",
    ):
        resp = await client.post(
            "/v2/getMonitors", data=b"api_key=\x80", headers={"Content-Type": content_type}
        )
        assert resp.status == 200
        body = await resp.json()
        assert body["error"] == {
            "type": "invalid_parameter",
            "message": "the body is not a valid form",
        }


async def test_a_pause_for_more_seconds_than_a_float_holds_is_a_400(client):
    resp = await client.post(
        "/api/v1/monitors/7/pause", data=b'{"for": %s}' % (b"9" * 400), headers=AUTH
    )
    assert resp.status == 400
    assert (await resp.json())["error"].startswith('"for" must be longer than 0 and at most 366d')


async def test_a_json_body_in_an_unknown_charset_is_an_invalid_parameter(client):
    resp = await client.post(
        "/v2/getMonitors",
        data=b'{"api_key": "x"}',
        headers={"Content-Type": "application/json; charset=no-such-charset"},
    )
    assert resp.status == 200
    body = await resp.json()
    assert body["error"] == {"type": "invalid_parameter", "message": "the body is not valid JSON"}
