"""Every 400 aiohttp's parser answers and every 404/405 is JSON on the API paths (``/api/…`` as
``{"error": …}``, ``/v2/…`` in UptimeRobot's shape) and plain text elsewhere, on both the
``listen`` and the ``public_listen`` listener of a real daemon."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from tests.kit.processes import DaemonProcess, free_port

TOKEN = "t0ken-for-error-formats"


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes

    def json(self) -> object:
        assert self.content_type == "application/json", (self.content_type, self.body)
        return json.loads(self.body)

    def text(self) -> str:
        assert self.content_type == "text/plain", (self.content_type, self.body)
        return self.body.decode()


@dataclass
class Listeners:
    admin: int
    public: int


@pytest.fixture
async def listeners(tmp_path) -> AsyncIterator[Listeners]:
    port, public = free_port(), free_port()
    config = tmp_path / "monitors.toml"
    config.write_text(
        f'[probed]\nlisten = "127.0.0.1:{port}"\npublic_listen = "127.0.0.1:{public}"\n'
        f'state_dir = "{tmp_path / "state"}"\napi_token = "{TOKEN}"\n\n'
        f'[[monitor]]\nname = "web"\nurl = "http://127.0.0.1:{free_port()}/"\ninterval = "60s"\n',
        encoding="utf-8",
    )
    daemon = DaemonProcess(config, port)
    await daemon.start()
    try:
        yield Listeners(port, public)
    finally:
        await daemon.stop()


async def raw(port: int, data: bytes) -> Answer:
    """Send ``data`` as it is (aiohttp's client would refuse to) and read the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    answer = await read_answer(reader)
    writer.close()
    await writer.wait_closed()
    return answer


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    status_line, *fields = head.decode("latin-1").strip().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (f.partition(":") for f in fields)}
    body = await reader.readexactly(int(headers["content-length"]))
    content_type = headers.get("content-type", "").partition(";")[0]
    return Answer(int(status_line.split()[1]), content_type, body)


async def get(port: int, path: str, method: str = "GET") -> tuple[Answer, str | None]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"http://127.0.0.1:{port}{path}") as resp,
    ):
        body = await resp.read()
        answer = Answer(resp.status, resp.content_type, body)
        return answer, resp.headers.get("Allow")


UR_NOT_FOUND = {"stat": "fail", "error": {"type": "not_found", "message": "not found"}}
MALFORMED = [
    b"GET %s HTTP/1.1 junk\r\nHost: x\r\n\r\n",  # not a request line
    b"GET %s HTTP/9.9\r\nHost: x\r\n\r\n",  # no such version
    b"G\x01T %s HTTP/1.1\r\nHost: x\r\n\r\n",  # no such method
    b"GET %s HTTP/1.1\r\nBad Header: 1\r\n\r\n",  # a header line aiohttp refuses
]


@pytest.mark.parametrize("request_bytes", MALFORMED)
async def test_a_malformed_request_to_an_api_path_is_a_json_400_on_both_listeners(
    listeners, request_bytes
):
    for port in (listeners.admin, listeners.public):
        answer = await raw(port, request_bytes % b"/api/v1/status")
        assert answer.status == 400
        assert answer.json() == {"error": "malformed request"}
        answer = await raw(port, request_bytes % b"/v2/getMonitors?x=1")
        assert answer.status == 400
        error = {"type": "malformed_request", "message": "malformed request"}
        assert answer.json() == {"stat": "fail", "error": error}
        answer = await raw(port, request_bytes % b"/healthz")
        assert answer.status == 400 and answer.text()


async def test_garbage_after_an_api_request_on_a_kept_alive_connection_is_plain_text(listeners):
    for port in (listeners.admin, listeners.public):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await read_answer(reader)).status == 200
        writer.write(b"\x16\x03\x01 no request line at all\r\n\r\n")
        answer = await read_answer(reader)
        writer.close()
        await writer.wait_closed()
        assert answer.status == 400 and answer.text()


async def test_404_and_405_on_the_admin_listener_follow_the_path(listeners):
    port = listeners.admin
    answer, _ = await get(port, "/api/v2/monitors")
    assert (answer.status, answer.json()) == (404, {"error": "not found"})
    answer, _ = await get(port, "/api/v1/nope")
    assert (answer.status, answer.json()) == (404, {"error": "not found"})
    answer, allow = await get(port, "/api/v1/monitors", "DELETE")
    assert (answer.status, answer.json()) == (405, {"error": "method not allowed"})
    assert allow is not None and "GET" in allow
    answer, _ = await get(port, "/v2")
    assert (answer.status, answer.json()) == (404, UR_NOT_FOUND)
    answer, allow = await get(port, "/healthz", "POST")
    assert (answer.status, answer.text()) == (405, "405: Method Not Allowed")
    assert allow is not None and "GET" in allow
    answer, _ = await get(port, "/metrics", "PUT")
    assert (answer.status, answer.text()) == (405, "405: Method Not Allowed")
    answer, _ = await get(port, "/nope")
    assert (answer.status, answer.text()) == (404, "404: Not Found")


async def test_404_and_405_on_the_public_listener_follow_the_path(listeners):
    port = listeners.public
    answer, _ = await get(port, "/api/v1/monitors")
    assert (answer.status, answer.json()) == (404, {"error": "not found"})
    answer, allow = await get(port, "/api/v1/status", "POST")
    assert (answer.status, answer.json()) == (405, {"error": "method not allowed"})
    assert allow is not None and "GET" in allow
    answer, _ = await get(port, "/v2/getMonitors", "POST")
    assert (answer.status, answer.json()) == (404, UR_NOT_FOUND)
    for path in ("/metrics", "/healthz", "/nope"):
        answer, _ = await get(port, path)
        assert (answer.status, answer.text()) == (404, "404: Not Found")
    answer, _ = await get(port, "/", "DELETE")
    assert (answer.status, answer.text()) == (405, "405: Method Not Allowed")
