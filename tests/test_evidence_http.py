"""Evidence of failed http, keyword and json checks (docs/design.md §17.2): what the target
answered, masked and bounded, against real aiohttp servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from probed.config.http import BasicAuth, StatusRange
from probed.evidence import MASK, Evidence
from probed.model import CheckResult
from probed.probes import run_probe
from tests.kit.monitors import make_monitor
from tests.kit.servers import HUGE, Target, raw_server, read_request

API_KEY = "s3cret-header-value"
PASSWORD = "basic-pa55word"
DOWN_BODY = json.dumps({"error": "database unavailable", "retry_in": 30, "pad": "x" * 2000})
BINARY = bytes(range(256)) * 64
NOT_FOUND = StatusRange(404, 404, "404")
SERVER_ERROR = StatusRange(500, 500, "500")


async def _down(request: web.Request) -> web.Response:
    response = web.Response(status=503, text=DOWN_BODY, content_type="application/json")
    response.set_cookie("session", "cookie-secret-value")
    return response


async def _echo(request: web.Request) -> web.Response:
    # A target that repeats the request's credentials, in headers and in the body.
    echoed = "\n".join(f"{k}: {v}" for k, v in request.headers.items())
    headers = {k: v for k, v in request.headers.items() if k.lower().startswith(("x-", "auth"))}
    return web.Response(status=500, text=echoed, headers=headers)


async def _binary(request: web.Request) -> web.Response:
    return web.Response(status=500, body=BINARY, content_type="application/octet-stream")


async def _accents(request: web.Request) -> web.Response:
    return web.Response(status=500, text="é" * 3000)


async def _long_header(request: web.Request) -> web.Response:
    return web.Response(status=500, text="long header", headers={"X-Long": "v" * 65536})


async def _wrong_json(request: web.Request) -> web.Response:
    return web.json_response({"status": "degraded", "checks": ["db"] * 600})


@asynccontextmanager
async def answering() -> AsyncIterator[TestServer]:
    app = web.Application()
    app.router.add_get("/down", _down)
    app.router.add_get("/echo", _echo)
    app.router.add_get("/binary", _binary)
    app.router.add_get("/accents", _accents)
    app.router.add_get("/long-header", _long_header)
    app.router.add_get("/wrong", _wrong_json)
    app.router.add_get("/moved", _moved)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


async def _moved(request: web.Request) -> web.Response:
    raise web.HTTPFound("/down")


async def probe(session: aiohttp.ClientSession, url: str, **settings: object) -> CheckResult:
    settings.setdefault("timeout", 5)
    return await run_probe(make_monitor(url=url, **settings), session, datetime.now(UTC))


async def both(
    session: aiohttp.ClientSession, url: str, **settings: object
) -> tuple[CheckResult, CheckResult]:
    """The check with capture on, and again with it off."""
    settings.setdefault("timeout", 5)
    monitor = make_monitor(url=url, **settings)
    on = await run_probe(monitor, session, datetime.now(UTC))
    off = await run_probe(monitor, session, datetime.now(UTC), capture=False)
    assert off.evidence is None
    return on, off


def evidence(result: CheckResult) -> Evidence:
    assert not result.ok
    assert result.evidence is not None
    return result.evidence


def size(ev: Evidence) -> int:
    return len(json.dumps(ev.to_json()))


async def test_a_503_keeps_its_status_line_masked_cookie_body_address_and_timings(
    session: aiohttp.ClientSession,
) -> None:
    async with answering() as server:
        url = str(server.make_url("/down"))
        result = await probe(session, url)
    ev = evidence(result)
    assert result.reason == "HTTP 503, expected 2xx"
    assert ev.status_line == "HTTP/1.1 503 Service Unavailable"
    assert ev.http_version == "HTTP/1.1"
    assert ev.address == url.split("/")[2]
    assert ev.url == url
    headers = dict(ev.headers)
    assert headers["Set-Cookie"] == MASK
    assert headers["Content-Type"].startswith("application/json")
    assert ev.body == DOWN_BODY
    assert ev.body_bytes == len(DOWN_BODY) and not ev.body_truncated
    assert "cookie-secret-value" not in json.dumps(ev.to_json())
    assert result.timings.first_byte is not None and result.timings.connect is not None
    assert ev.first_line().startswith("HTTP/1.1 503 Service Unavailable: {")


async def test_a_good_check_carries_no_evidence(
    target: Target, session: aiohttp.ClientSession
) -> None:
    result = await probe(session, target.url("/status/200"))
    assert result.ok and result.evidence is None


async def test_secrets_the_monitor_sends_never_appear_in_evidence(
    session: aiohttp.ClientSession,
) -> None:
    async with answering() as server:
        with_key = await probe(
            session, str(server.make_url("/echo")), headers=(("X-Api-Key", API_KEY),)
        )
        with_auth = await probe(
            session, str(server.make_url("/echo")), basic_auth=BasicAuth("alice", PASSWORD)
        )
        in_url = await probe(
            session, str(server.make_url("/echo")).replace("//", f"//bob:{PASSWORD}@")
        )
    key_ev, auth_ev, url_ev = evidence(with_key), evidence(with_auth), evidence(in_url)
    # The target did echo them: the headers it sent back are masked, the body scrubbed.
    assert dict(key_ev.headers)["X-Api-Key"] == MASK
    assert f"X-Api-Key: {MASK}" in key_ev.body
    assert dict(auth_ev.headers)["Authorization"] == MASK
    assert API_KEY not in json.dumps(key_ev.to_json())
    for ev in (auth_ev, url_ev):
        text = json.dumps(ev.to_json())
        assert PASSWORD not in text
        assert "YWxpY2U6YmFzaWMtcGE1NXdvcmQ" not in text  # base64 of alice:basic-pa55word
    assert "bob:***@" in url_ev.url


async def test_evidence_bytes_bounds_the_body_shown(session: aiohttp.ClientSession) -> None:
    async with answering() as server:
        result = await probe(session, str(server.make_url("/down")), evidence_bytes=1024)
    ev = evidence(result)
    assert ev.body_bytes == 1024 and ev.body_truncated
    assert len(ev.body.encode()) <= 1024
    assert ev.body == DOWN_BODY[:1024]


async def test_a_character_cut_at_the_limit_is_left_out_not_escaped(
    session: aiohttp.ClientSession,
) -> None:
    async with answering() as server:
        result = await probe(session, str(server.make_url("/accents")), evidence_bytes=1025)
    ev = evidence(result)
    assert ev.body == "é" * 512 and ev.body_bytes == 1024 and ev.body_truncated


async def test_a_binary_body_is_shown_escaped_and_bounded(session: aiohttp.ClientSession) -> None:
    async with answering() as server:
        on, off = await both(session, str(server.make_url("/binary")))
    ev = evidence(on)
    assert (on.ok, on.reason) == (off.ok, off.reason)
    assert ev.body_bytes == 4096 and ev.body_truncated
    assert "\\xff" in ev.body and "\\x80" in ev.body
    assert ev.body.startswith("\x00\x01")  # valid UTF-8 (ASCII) stays as it is
    assert size(ev) <= 4096 * 4 + 200 * 1024


async def test_a_64_kib_header_value_leaves_the_check_as_it_was(
    session: aiohttp.ClientSession,
) -> None:
    async with answering() as server:
        on, off = await both(session, str(server.make_url("/long-header")))
    assert (on.ok, on.reason) == (off.ok, off.reason)
    ev = evidence(on)
    assert size(ev) <= 4096 * 4 + 200 * 1024
    assert all(len(value) <= 1024 for _, value in ev.headers)


async def test_a_200_mb_body_is_never_read_for_evidence(
    target: Target, session: aiohttp.ClientSession
) -> None:
    on, off = await both(session, target.url("/huge"), expect_status=(NOT_FOUND,))
    keyword_on, keyword_off = await both(
        session, target.url("/huge"), kind="keyword", keyword="zzz", max_body=1 << 20
    )
    assert HUGE > 100 * 1024 * 1024
    for result, without in ((on, off), (keyword_on, keyword_off)):
        assert (result.ok, result.reason) == (without.ok, without.reason)
        ev = evidence(result)
        assert ev.body_bytes == 4096 and ev.body == "a" * 4096 and ev.body_truncated
        assert size(ev) <= 4096 * 4 + 200 * 1024
    assert keyword_on.reason == 'keyword "zzz" not found in first 1 MiB'


async def test_a_header_list_that_never_ends_leaves_the_check_as_it_was(
    session: aiohttp.ClientSession,
) -> None:
    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n")
        n = 0
        while not writer.is_closing():
            writer.write(b"".join(b"X-Header-%d: %s\r\n" % (n + i, b"v" * 100) for i in range(100)))
            n += 100
            try:
                await writer.drain()
            except ConnectionError:
                return

    async with raw_server(endless) as port:
        on, off = await both(session, f"http://127.0.0.1:{port}/", timeout=2)
    assert (on.ok, on.reason) == (off.ok, off.reason)
    ev = evidence(on)
    assert ev.error == on.reason
    assert len(ev.headers) <= 100
    assert size(ev) <= 4096 * 4 + 200 * 1024


async def test_a_keyword_check_shows_what_it_read(session: aiohttp.ClientSession) -> None:
    async with answering() as server:
        result = await probe(
            session,
            str(server.make_url("/binary")),
            kind="keyword",
            keyword="zzz",
            expect_status=(SERVER_ERROR,),
        )
    ev = evidence(result)
    assert result.reason == 'keyword "zzz" not found'
    assert ev.status_line == "HTTP/1.1 500 Internal Server Error"
    assert ev.body_bytes == 4096 and ev.body_truncated  # 16 KiB read, 4 KiB kept


async def test_a_redirect_shows_the_last_response(session: aiohttp.ClientSession) -> None:
    async with answering() as server:
        result = await probe(session, str(server.make_url("/moved")))
    ev = evidence(result)
    assert ev.status_line == "HTTP/1.1 503 Service Unavailable"
    assert ev.body == DOWN_BODY


async def test_a_json_check_shows_its_query_result_and_body(
    session: aiohttp.ClientSession,
) -> None:
    async with answering() as server:
        result = await probe(
            session,
            str(server.make_url("/wrong")),
            kind="json",
            json_query="checks",
            json_expect=[],
        )
    ev = evidence(result)
    facts = dict(ev.facts)
    assert facts["json_query"] == "checks"
    assert facts["result"].startswith('["db", "db"') and len(facts["result"]) == 1024
    assert ev.body.startswith('{"status": "degraded"') and ev.status_line is not None
    assert ev.body_bytes == len(ev.body) > 3000 and not ev.body_truncated


async def test_connection_refused_names_the_errno_and_the_address(
    session: aiohttp.ClientSession,
) -> None:
    async with raw_server(read_request) as port:  # a port that was just free
        pass
    result = await probe(session, f"http://127.0.0.1:{port}/")
    ev = evidence(result)
    assert result.reason == "connection refused"
    assert ev.error == "ECONNREFUSED: Connection refused"
    assert ev.address == f"127.0.0.1:{port}"
    assert ev.status_line is None and ev.body == ""


async def test_a_target_that_never_answers_shows_the_timeout_and_the_address(
    target: Target, session: aiohttp.ClientSession
) -> None:
    url = target.url("/hang")
    result = await probe(session, url, timeout=0.5)
    ev = evidence(result)
    assert result.reason.startswith("timeout after")
    assert ev.error == result.reason
    assert ev.address == url.split("/")[2]
    assert ev.status_line is None and ev.headers == ()
