"""Malformed requests get a 4xx, one WARNING line each without a traceback, a summary per kind
past a few a minute, and never put a token in the log."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web
from structlog.testing import capture_logs

from probed.redact import redact_request
from probed.service.listener import ConnectionGuard, listen
from probed.service.malformed import MalformedLog
from tests.kit.clock import FakeClock
from tests.kit.configs import TOKEN
from tests.kit.figures import report
from tests.kit.malformed import PUSH, SHAPES, send
from tests.kit.monitors import make_monitor
from tests.kit.processes import DaemonProcess, free_port
from tests.test_daemon_e2e import write_config


def records(daemon: DaemonProcess) -> list[dict[str, object]]:
    return [json.loads(line) for line in daemon.logs().splitlines()]


@pytest.fixture
async def daemon(tmp_path):
    port = free_port()
    config = write_config(
        tmp_path,
        port,
        f'api_token = "{TOKEN}"\n[[monitor]]\nname = "job"\ntype = "push"\ntoken = "{PUSH}"\n'
        'interval = "1h"\n',
    )
    daemon = DaemonProcess(config, port)
    await daemon.start()
    yield daemon
    assert await daemon.stop() == 0


@pytest.mark.slow
async def test_each_malformed_shape_is_a_4xx_and_one_warning_without_the_token(daemon):
    for name, data in SHAPES.items():
        status, body = await send(daemon.port, data)
        # UptimeRobot's API answers a body it cannot read as a failed call (HTTP 200).
        assert status == 400 or (name.startswith("multipart") and status == 200), (name, status)
        if not name.startswith("push"):
            answer = json.loads(body)
            assert answer.get("stat") == "fail" or "error" in answer, (name, answer)
    await asyncio.sleep(0.3)
    logs = daemon.logs()
    assert TOKEN not in logs and PUSH not in logs
    assert "Traceback" not in logs and '"level": "error"' not in logs
    warned = [r for r in records(daemon) if r["event"] == "malformed request"]
    # Every shape but the multipart body is refused by the parser: one line each (5 a kind).
    assert len(warned) == len(SHAPES) - 1, [r.get("problem") for r in warned]
    assert all(r["level"] == "warning" and r["client"] == "127.0.0.1" for r in warned)
    assert any(r.get("request") == "GET /v2/getMonitors?api_key=*** HTTP/1.1" for r in warned)


@pytest.mark.slow
async def test_5000_malformed_requests_write_a_bounded_log(daemon, request):
    shapes = list(SHAPES.values())
    before = daemon.log_path.stat().st_size
    gate = asyncio.Semaphore(32)

    async def one(i: int) -> int:
        async with gate:
            return (await send(daemon.port, shapes[i % len(shapes)]))[0]

    statuses = await asyncio.gather(*(one(i) for i in range(5000)))
    await asyncio.sleep(0.3)
    written = daemon.log_path.stat().st_size - before
    assert all(s < 500 for s in statuses)
    assert TOKEN not in daemon.logs() and PUSH not in daemon.logs()
    assert written < 50_000, written
    report(
        request,
        "5,000 malformed requests (10 shapes) against a daemon",
        [f"log bytes {written:,} (goal < 50,000)"],
    )


def test_past_the_burst_one_summary_line_per_kind_when_the_window_ends():
    clock = FakeClock()
    malformed = MalformedLog(now=lambda: clock().timestamp())
    with capture_logs() as logs:
        for _ in range(1209):
            malformed.record("invalid header", "127.0.0.1", problem="Invalid header token")
        for client in ("10.0.0.1", "10.0.0.2", "10.0.0.2"):
            malformed.record("line too long", client)
        for _ in range(6):
            malformed.record("invalid URL", "10.0.0.3")
        clock.advance(59)
        assert len(logs) == 5 + 3 + 5  # the burst of each kind, nothing more yet
        clock.advance(1)
        malformed.record("invalid URL", "10.0.0.3")  # a new window: flushed first
    events = [e["event"] for e in logs[13:]]
    assert events == [
        "1,204 malformed requests from 127.0.0.1 in the last minute: invalid header",
        "1 malformed requests from 10.0.0.3 in the last minute: invalid URL",
        "malformed request",
    ]
    assert all(e["log_level"] == "warning" and "exc_info" not in e for e in logs)


def test_a_summary_names_the_busiest_of_several_clients():
    clock = FakeClock()
    malformed = MalformedLog(now=lambda: clock().timestamp(), burst=1)
    with capture_logs() as logs:
        for client in ("10.0.0.1", "10.0.0.9", "10.0.0.2", "10.0.0.2"):
            malformed.record("invalid header", client)
        malformed.flush()
    assert logs[-1]["event"] == (
        "3 malformed requests from 2 clients, most from 10.0.0.2 in the last minute: invalid header"
    )
    assert logs[-1]["count"] == 3 and logs[-1]["clients"] == 2


async def test_the_summary_goes_out_when_the_window_ends_without_another_request(
    unused_tcp_port,
):
    guard = ConnectionGuard()
    guard.malformed = MalformedLog(window=0.3)
    app = web.Application(middlewares=[guard.middleware])
    runner = web.AppRunner(app)
    await runner.setup()
    server = await listen(runner, guard, "127.0.0.1", unused_tcp_port)
    try:
        with capture_logs() as logs:
            for _ in range(20):
                status, _ = await send(unused_tcp_port, b"GET / HTTP/1.1\r\nBad Line\r\n\r\n")
                assert status == 400
            await asyncio.sleep(0.6)
    finally:
        server.close()
        await runner.cleanup()
    assert [e["event"] for e in logs] == ["malformed request"] * 5 + [
        "15 malformed requests from 127.0.0.1 in the last 0.3 s: invalid header"
    ]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("GET /v2/getMonitors?api_key=T\\x01 HTTP/1.1", "GET /v2/getMonitors?api_key=*** HTTP/1.1"),
        ("b'Authorization: Bearer T\\x01'", "b'Authorization: Bearer ***'"),
        ("authorization=Basic dTpw", "authorization=Basic ***"),
        ("Proxy-Authorization: T", "Proxy-Authorization: ***"),
        ("/x?a=1&Token=T&b=2", "/x?a=1&Token=***&b=2"),
        ("/x?monitor_secret=T;y=1", "/x?monitor_secret=***;y=1"),
        ("https://u:T@h/?api_key=T", "https://u:***@h/?api_key=***"),
        ("GET /status?page=2 HTTP/1.1", "GET /status?page=2 HTTP/1.1"),
    ],
)
def test_request_lines_and_headers_are_redacted(text, shown):
    assert redact_request(text) == shown


@pytest.fixture
async def harness(make_harness):
    return make_harness([make_monitor("web", id=7)])


@pytest.mark.parametrize(
    "part",
    [
        b"not a header line\r\n",  # aiohttp: InvalidHeader
        b"Content-Disposition: form-data; name=a\r\nContent-Transfer-Encoding: bogus\r\n",
        b"Content-Disposition: form-data; name=a\r\nContent-Type: text/plain; charset=bogus\r\n",
        b"Content-Disposition: form-data\r\n",  # a field without a name
    ],
)
async def test_an_unreadable_multipart_body_to_getmonitors_is_a_failed_call_not_a_500(client, part):
    body = b"--zz\r\n" + part + b"\r\nx\r\n--zz--\r\n"
    with capture_logs() as logs:
        resp = await client.post(
            "/v2/getMonitors",
            data=body,
            headers={"Content-Type": "multipart/form-data; boundary=zz"},
        )
    assert resp.status == 200
    assert (await resp.json())["error"] == {
        "type": "invalid_parameter",
        "message": "the body is not a valid form",
    }
    assert logs == []
