"""The keyword probe: a streamed, bounded, decoded search of the body."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest

from probed.config import Monitor
from probed.probes import run_probe
from tests.kit.figures import PeakRss, report
from tests.kit.monitors import make_monitor
from tests.kit.servers import HUGE, Target

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
MiB = 1024 * 1024


def keyword(url: str, word: str, **options: object) -> Monitor:
    options.setdefault("timeout", 5)
    return make_monitor(kind="keyword", url=url, keyword=word, **options)


async def test_a_page_containing_the_keyword_is_up(
    target: Target, session: aiohttp.ClientSession
) -> None:
    target.parts = [b'{"status": "success"}']

    result = await run_probe(keyword(target.url("/parts"), "success"), session, NOW)

    assert (result.ok, result.reason, result.status_code) == (True, 'keyword "success" found', 200)


async def test_a_page_without_the_keyword_is_down(
    target: Target, session: aiohttp.ClientSession
) -> None:
    target.parts = [b'{"status": "failure"}']

    result = await run_probe(keyword(target.url("/parts"), "success"), session, NOW)

    assert (result.ok, result.reason) == (False, 'keyword "success" not found')


async def test_a_keyword_split_across_two_chunks_is_found(
    target: Target, session: aiohttp.ClientSession
) -> None:
    target.parts = [b"x" * 1000 + b"suc", b"cess" + b"y" * 1000]

    result = await run_probe(keyword(target.url("/parts"), "success"), session, NOW)

    assert (result.ok, result.reason) == (True, 'keyword "success" found')


async def test_a_multibyte_character_split_across_chunks_still_matches(
    target: Target, session: aiohttp.ClientSession
) -> None:
    encoded = "Grüße aus Köln".encode()
    split = encoded.index("ö".encode()) + 1  # in the middle of "ö"
    target.parts = [encoded[:split], encoded[split:]]

    result = await run_probe(keyword(target.url("/parts"), "köln"), session, NOW)

    assert (result.ok, result.reason) == (True, 'keyword "köln" found')


async def test_the_body_is_decoded_with_the_charset_the_server_declares(
    target: Target, session: aiohttp.ClientSession
) -> None:
    target.parts = ["Ça marche très bien".encode("latin-1")]
    target.content_type = "text/plain; charset=ISO-8859-1"

    result = await run_probe(keyword(target.url("/parts"), "très"), session, NOW)

    assert result.ok


async def test_an_undecodable_body_does_not_fail_the_check(
    target: Target, session: aiohttp.ClientSession
) -> None:
    target.parts = [b"\xff\xfe broken bytes then OK"]
    target.content_type = "text/plain; charset=no-such-charset"

    result = await run_probe(keyword(target.url("/parts"), "ok"), session, NOW)

    assert (result.ok, result.reason) == (True, 'keyword "ok" found')


async def test_matching_ignores_case_by_default_and_respects_it_when_asked(
    target: Target, session: aiohttp.ClientSession
) -> None:
    target.parts = [b"Status: SUCCESS"]
    url = target.url("/parts")

    loose = await run_probe(keyword(url, "success"), session, NOW)
    strict = await run_probe(keyword(url, "success", keyword_case_sensitive=True), session, NOW)
    exact = await run_probe(keyword(url, "SUCCESS", keyword_case_sensitive=True), session, NOW)

    assert (loose.ok, strict.ok, exact.ok) == (True, False, True)
    assert strict.reason == 'keyword "success" not found'


async def test_in_absent_mode_the_keyword_being_there_is_down(
    target: Target, session: aiohttp.ClientSession
) -> None:
    url = target.url("/parts")
    target.parts = [b"fatal ERROR in module"]
    present = await run_probe(keyword(url, "error", keyword_absent=True), session, NOW)
    target.parts = [b"all good"]
    absent = await run_probe(keyword(url, "error", keyword_absent=True), session, NOW)

    assert (present.ok, present.reason) == (False, 'keyword "error" found')
    assert (absent.ok, absent.reason) == (True, 'keyword "error" not found')


async def test_an_unexpected_status_fails_before_the_body_is_searched(
    target: Target, session: aiohttp.ClientSession
) -> None:
    result = await run_probe(keyword(target.url("/status/503"), "status page"), session, NOW)

    assert (result.ok, result.reason, result.status_code) == (False, "HTTP 503, expected 2xx", 503)


async def test_a_keyword_beyond_max_body_is_not_found_and_the_reason_names_the_limit(
    target: Target, session: aiohttp.ClientSession
) -> None:
    target.parts = [b"x" * 2048, b"success"]

    result = await run_probe(keyword(target.url("/parts"), "success", max_body=2048), session, NOW)

    assert (result.ok, result.reason) == (False, 'keyword "success" not found in first 2 KiB')


async def test_a_keyword_check_sends_get_whatever_the_method(
    target: Target, session: aiohttp.ClientSession
) -> None:
    result = await run_probe(keyword(target.url("/parts"), "hello", method="HEAD"), session, NOW)

    assert result.ok
    assert [seen.method for seen in target.seen] == ["GET"]


async def test_a_huge_body_is_streamed_and_only_max_body_of_it_is_read(
    target: Target, session: aiohttp.ClientSession, request: pytest.FixtureRequest
) -> None:
    monitor = keyword(target.url("/huge"), "success", max_body=10 * MiB, timeout=20)

    async with PeakRss() as rss:
        result = await run_probe(monitor, session, NOW)

    report(
        request,
        "huge body (keyword check, max_body 10 MiB)",
        [f"RSS growth reading a {HUGE // MiB} MiB body: {rss.growth / MiB:.1f} MiB"],
    )
    assert (result.ok, result.reason) == (False, 'keyword "success" not found in first 10 MiB')
    assert rss.growth < 40 * MiB
    assert result.timings.total < 5
