"""Targets that fail: each failure becomes a down result with a reason, never an exception."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import aiohttp
import pytest

from probed.config import KINDS, Monitor
from probed.probes import make_session, run_probe
from probed.probes.reasons import format_size
from probed.units import format_duration
from tests.kit.monitors import make_monitor
from tests.kit.processes import free_port
from tests.kit.servers import StaticResolver, Target, raw_server, read_request, reset_connection

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def monitor(url: str, kind: str = "http", **options: object) -> Monitor:
    options.setdefault("timeout", 5)
    return make_monitor(kind=kind, url=url, **options)


async def test_a_server_that_never_answers_times_out_after_the_configured_timeout(
    target: Target, session: aiohttp.ClientSession
) -> None:
    started = time.monotonic()

    result = await run_probe(monitor(target.url("/hang"), timeout=1), session, NOW)

    elapsed = time.monotonic() - started
    assert (result.ok, result.reason) == (False, "timeout after 1s")
    assert 1 <= elapsed < 1.8
    assert 1 <= result.timings.total < 1.8
    assert result.status_code is None


async def test_the_timeout_bounds_reading_the_body_of_a_slow_drip(
    target: Target, session: aiohttp.ClientSession
) -> None:
    started = time.monotonic()
    slow = monitor(target.url("/drip"), "keyword", keyword="never", timeout=1)

    result = await run_probe(slow, session, NOW)

    assert (result.ok, result.reason) == (False, "timeout after 1s")
    assert time.monotonic() - started < 1.8
    assert result.status_code == 200  # what was learned before the deadline is kept
    assert result.timings.first_byte is not None and result.timings.first_byte < 0.5


async def test_the_timeout_bounds_a_tls_handshake_that_never_completes(
    session: aiohttp.ClientSession,
) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # swallow the ClientHello, never answer

    async with raw_server(silent) as port:
        result = await run_probe(
            monitor(f"https://127.0.0.1:{port}/", "ssl", timeout=0.5), session, NOW
        )

    assert (result.ok, result.reason) == (False, "timeout after 500ms")
    # The handshake phase lasts until the deadline; what comes before it (loading the system's
    # CA bundle on a first TLS check) can take a tenth of a second on a busy machine.
    tls = result.timings.tls
    assert tls is not None and 0.25 < tls <= result.timings.total < 0.8


async def test_a_closed_port_is_connection_refused(session: aiohttp.ClientSession) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    for kind in ("http", "ssl"):
        result = await run_probe(monitor(url, kind), session, NOW)
        assert (result.ok, result.reason) == (False, "connection refused")
        assert result.timings.connect is not None


async def garbage(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HELLO\r\n\r\n")
    await writer.drain()
    writer.close()


async def hang_up(writer: asyncio.StreamWriter) -> None:
    writer.close()


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        pytest.param(
            reset_connection,
            "connection reset",
            id="a server that resets the connection is connection reset",
        ),
        pytest.param(
            garbage,
            "invalid HTTP response",
            id="garbage instead of HTTP is an invalid HTTP response",
        ),
        pytest.param(
            hang_up,
            "server closed the connection without a response",
            id="a server that closes without answering is down",
        ),
    ],
)
async def test_a_server_that_reads_the_request_then_misbehaves_is_down_with_the_reason(
    session: aiohttp.ClientSession,
    answer: Callable[[asyncio.StreamWriter], Awaitable[None]],
    reason: str,
) -> None:
    async def serve_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await answer(writer)

    async with raw_server(serve_request) as port:
        result = await run_probe(monitor(f"http://127.0.0.1:{port}/"), session, NOW)

    assert (result.ok, result.reason) == (False, reason)


async def test_a_name_that_does_not_resolve_is_dns_lookup_failed(target: Target) -> None:
    assert target.server is not None
    url = f"http://nowhere.test:{target.server.port}/status/200"
    async with make_session(resolver=StaticResolver("probed.test")) as session:
        result = await run_probe(monitor(url), session, NOW)

    assert (result.ok, result.reason) == (False, "DNS lookup failed")
    assert result.timings.dns is not None


async def test_tls_spoken_to_a_plain_http_server_is_a_tls_error(
    target: Target, session: aiohttp.ClientSession
) -> None:
    assert target.server is not None
    url = f"https://127.0.0.1:{target.server.port}/status/200"
    for kind in ("http", "ssl"):
        result = await run_probe(monitor(url, kind), session, NOW)
        assert not result.ok
        assert result.reason.startswith("TLS error: "), result.reason


async def test_a_missing_ca_file_is_reported_as_the_reason(
    target: Target, session: aiohttp.ClientSession
) -> None:
    result = await run_probe(
        monitor(target.url("/status/200"), ca_file="/nonexistent/ca.pem"), session, NOW
    )

    assert (result.ok, result.reason) == (
        False,
        "cannot read ca_file /nonexistent/ca.pem: No such file or directory",
    )


async def test_a_url_without_a_host_is_an_invalid_url(session: aiohttp.ClientSession) -> None:
    # Push has no URL and no probe: nothing is sent to its job.
    for kind in (k for k in KINDS.values() if k.probe is not None):
        required = dict.fromkeys(kind.required, "x")
        result = await run_probe(monitor("http:///nohost", kind.name, **required), session, NOW)
        assert (result.ok, result.reason) == (False, "invalid URL")


async def test_cancellation_from_outside_propagates_instead_of_becoming_a_result(
    target: Target, session: aiohttp.ClientSession
) -> None:
    check = asyncio.create_task(run_probe(monitor(target.url("/hang")), session, NOW))
    await asyncio.sleep(0.2)
    check.cancel()

    with pytest.raises(asyncio.CancelledError):
        await check


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (30, "30s"),
        (1.5, "1.5s"),
        (1, "1s"),
        (0.25, "250ms"),
        (120, "2m"),
        (90, "1m30s"),
        (3600, "1h"),
        (5400, "1h30m"),
        (172800, "2d"),
    ],
)
def test_timeouts_are_written_the_way_the_config_writes_durations(
    seconds: float, text: str
) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("size", "text"),
    [(10 * 1024 * 1024, "10 MiB"), (1536, "1.5 KiB"), (100, "100 bytes"), (1 << 30, "1 GiB")],
)
def test_body_limits_are_written_in_binary_units(size: int, text: str) -> None:
    assert format_size(size) == text


async def test_running_out_of_descriptors_is_the_probe_hosts_failure_not_the_targets(target):
    import os
    import resource

    from probed.engine.state import advance
    from probed.model import MonitorState, Policy

    m = monitor(target.url("/status/200"), timeout=2)
    async with make_session() as session:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        # A new descriptor takes the lowest free number: below it every number is in use.
        lowest_free = os.dup(0)
        os.close(lowest_free)
        resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free, hard))
        try:
            result = await run_probe(m, session, datetime.now(UTC))
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert (result.ok, result.offline) == (False, True)
    assert result.reason == "probe host: too many open files"
    state, transitions = advance("api", MonitorState(), result, Policy(down_after=1))
    assert transitions == [] and state.failures == 0


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (OSError(24, "Too many open files"), "probe host: too many open files"),
        (OSError(105, "No buffer space available"), "probe host: no buffer space"),
        (OSError(101, "Network is unreachable"), "probe host: no route to the network"),
        (OSError(111, "Connection refused"), None),
    ],
)
def test_local_resource_errors_are_told_apart_from_the_targets(error, reason):
    from probed.probes.reasons import local_failure

    wrapped = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey("x.test", 443, True, True, None, None, None), error
    )
    assert local_failure(wrapped) == reason
