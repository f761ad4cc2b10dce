"""The http probe against real loopback servers: status codes, HEAD, redirects, requests sent."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import aiohttp
import pytest

from probed.config import BasicAuth, Monitor, StatusRange
from probed.probes import make_session, run_probe
from tests.kit.monitors import make_monitor
from tests.kit.servers import CREDENTIALS, StaticResolver, Target, serve

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def http(url: str, **options: object) -> Monitor:
    options.setdefault("timeout", 5)
    return make_monitor(kind="http", url=url, **options)


async def test_a_200_is_up_with_the_status_as_reason(
    target: Target, session: aiohttp.ClientSession
) -> None:
    result = await run_probe(http(target.url("/status/200")), session, NOW)

    assert result.ok
    assert result.reason == "HTTP 200"
    assert result.status_code == 200
    assert result.at == NOW
    assert result.cert_expires_at is None


async def test_a_503_is_down_and_the_reason_says_what_was_expected(
    target: Target, session: aiohttp.ClientSession
) -> None:
    result = await run_probe(http(target.url("/status/503")), session, NOW)

    assert not result.ok
    assert result.reason == "HTTP 503, expected 2xx"
    assert result.status_code == 503


@pytest.mark.parametrize(
    ("code", "expect", "ok"),
    [
        (404, (StatusRange(404, 404, "404"),), True),
        (302, (StatusRange(200, 399, "200-399"),), True),
        (401, (StatusRange(200, 299, "2xx"), StatusRange(401, 401, "401")), True),
        (500, (StatusRange(200, 299, "2xx"), StatusRange(401, 401, "401")), False),
        (204, (StatusRange(300, 399, "3xx"),), False),
    ],
)
async def test_expected_status_accepts_codes_classes_and_ranges(
    target: Target, session: aiohttp.ClientSession, code: int, expect: object, ok: bool
) -> None:
    monitor = http(target.url(f"/status/{code}"), expect_status=expect)

    result = await run_probe(monitor, session, NOW)

    assert result.ok is ok
    expected_text = ", ".join(r.text for r in expect)  # type: ignore[attr-defined]
    assert result.reason == (f"HTTP {code}" if ok else f"HTTP {code}, expected {expected_text}")


@pytest.mark.parametrize("refusal", [405, 501])
async def test_a_head_refused_with_405_or_501_is_retried_once_as_get(
    target: Target, session: aiohttp.ClientSession, refusal: int
) -> None:
    monitor = http(target.url(f"/head-refused/{refusal}"), method="HEAD")

    result = await run_probe(monitor, session, NOW)

    assert (result.ok, result.reason) == (True, "HTTP 200")
    assert [seen.method for seen in target.seen] == ["HEAD", "GET"]


async def test_a_head_check_uses_head_alone_when_the_server_answers_it(
    target: Target, session: aiohttp.ClientSession
) -> None:
    # GET would be a 500 here: an up result proves only HEAD was sent.
    result = await run_probe(http(target.url("/head-only"), method="HEAD"), session, NOW)

    assert (result.ok, result.reason) == (True, "HTTP 200")
    assert [seen.method for seen in target.seen] == ["HEAD"]


async def test_a_get_check_is_judged_on_its_own_status_without_a_retry(
    target: Target, session: aiohttp.ClientSession
) -> None:
    result = await run_probe(http(target.url("/head-only")), session, NOW)

    assert result.reason == "HTTP 500, expected 2xx"
    assert [seen.method for seen in target.seen] == ["GET"]


async def test_redirects_are_followed_by_default_for_get_and_for_head(
    target: Target, session: aiohttp.ClientSession
) -> None:
    for method in ("GET", "HEAD"):
        result = await run_probe(http(target.url("/moved"), method=method), session, NOW)
        assert (result.ok, result.reason, result.status_code) == (True, "HTTP 200", 200)
    assert [(seen.method, seen.path) for seen in target.seen] == [
        ("GET", "/moved"),
        ("GET", "/status/200"),
        ("HEAD", "/moved"),
        ("HEAD", "/status/200"),
    ]


async def test_a_redirect_not_followed_is_judged_against_the_expected_status(
    target: Target, session: aiohttp.ClientSession
) -> None:
    down = await run_probe(http(target.url("/moved"), follow_redirects=False), session, NOW)
    up = await run_probe(
        http(
            target.url("/moved"),
            follow_redirects=False,
            expect_status=(StatusRange(302, 302, "302"),),
        ),
        session,
        NOW,
    )

    assert (down.ok, down.reason) == (False, "HTTP 302, expected 2xx")
    assert (up.ok, up.reason) == (True, "HTTP 302")
    assert [seen.path for seen in target.seen] == ["/moved", "/moved"]


async def test_a_redirect_loop_is_down_with_too_many_redirects(
    target: Target, session: aiohttp.ClientSession
) -> None:
    result = await run_probe(http(target.url("/loop"), max_redirects=5), session, NOW)

    assert (result.ok, result.reason) == (False, "too many redirects")
    assert len(target.seen) == 5


async def test_basic_auth_credentials_are_sent_to_the_target(
    target: Target, session: aiohttp.ClientSession
) -> None:
    without = await run_probe(http(target.url("/auth")), session, NOW)
    wrong = await run_probe(
        http(target.url("/auth"), basic_auth=BasicAuth("alice", "guess")), session, NOW
    )
    right = await run_probe(
        http(target.url("/auth"), basic_auth=BasicAuth(*CREDENTIALS)), session, NOW
    )

    assert without.reason == "HTTP 401, expected 2xx"
    assert wrong.reason == "HTTP 401, expected 2xx"
    assert (right.ok, right.reason) == (True, "HTTP 200")


async def test_method_headers_and_body_reach_the_target_as_configured(
    target: Target, session: aiohttp.ClientSession
) -> None:
    monitor = http(
        target.url("/status/201"),
        method="POST",
        headers=(("X-Probe", "yes"), ("Content-Type", "application/json")),
        body='{"ping": 1}',
    )

    result = await run_probe(monitor, session, NOW)

    assert result.reason == "HTTP 201"
    [seen] = target.seen
    assert seen.method == "POST"
    assert seen.headers["X-Probe"] == "yes"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["User-Agent"].startswith("probed/")
    assert seen.body == b'{"ping": 1}'


async def test_an_http_check_does_not_wait_for_a_body_it_does_not_need(
    target: Target, session: aiohttp.ClientSession
) -> None:
    started = time.monotonic()

    result = await run_probe(http(target.url("/drip"), timeout=2), session, NOW)

    assert (result.ok, result.reason) == (True, "HTTP 200")
    assert time.monotonic() - started < 0.5


async def test_timings_cover_dns_connect_and_first_byte_of_a_fresh_connection(
    target: Target,
) -> None:
    assert target.server is not None
    url = f"http://probed.test:{target.server.port}/status/200"
    async with make_session(resolver=StaticResolver("probed.test")) as session:
        first = await run_probe(http(url), session, NOW)
        second = await run_probe(http(url), session, NOW)

    for result in (first, second):  # no DNS cache, no keep-alive: both pay every phase
        timings = result.timings
        assert result.ok
        assert timings.dns is not None and timings.dns >= 0.01
        assert timings.connect is not None and timings.connect < timings.dns
        assert timings.tls is None
        assert timings.first_byte is not None
        assert timings.dns + timings.connect <= timings.first_byte <= timings.total
        assert result.duration == timings.total


async def test_an_ip_address_url_has_no_dns_phase(
    target: Target, session: aiohttp.ClientSession
) -> None:
    result = await run_probe(http(target.url("/status/200")), session, NOW)

    assert result.timings.dns is None
    assert result.timings.connect is not None


async def test_the_total_time_is_measured_on_the_clock_given(
    target: Target, session: aiohttp.ClientSession
) -> None:
    ticks = iter(range(0, 1000, 7))

    result = await run_probe(
        http(target.url("/status/200")), session, NOW, clock=lambda: float(next(ticks))
    )

    assert result.timings.total > 0
    assert result.timings.total % 7 == 0


async def test_configured_headers_follow_a_redirect_within_the_origin_but_not_to_another(
    target: Target, session: aiohttp.ClientSession
) -> None:
    async with serve(Target()) as elsewhere:
        secret = (("X-Secret", "k3y"),)
        within = target.url("/redirect") + "?to=/status/200"
        away = target.url("/redirect") + "?to=" + elsewhere.url("/status/200")
        for url in (within, away):
            result = await run_probe(http(url, headers=secret), session, NOW)
            assert (result.ok, result.status_code) == (True, 200)
        auth = BasicAuth("alice", "pw")
        await run_probe(http(away, basic_auth=auth), session, NOW)
    assert [seen.headers.get("X-Secret") for seen in target.seen] == ["k3y", "k3y", "k3y", None]
    assert [seen.headers.get("X-Secret") for seen in elsewhere.seen] == [None, None]
    assert "Authorization" in target.seen[-1].headers
    assert "Authorization" not in elsewhere.seen[-1].headers


async def test_a_post_redirected_with_302_becomes_a_get_without_its_body(
    target: Target, session: aiohttp.ClientSession
) -> None:
    url = target.url("/redirect") + "?to=/status/200"
    result = await run_probe(http(url, method="POST", body="payload"), session, NOW)
    assert (result.ok, result.status_code) == (True, 200)
    assert [(s.method, s.body) for s in target.seen] == [("POST", b"payload"), ("GET", b"")]
