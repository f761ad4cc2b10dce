"""The tcp kind: tcp:// URLs in monitors.toml, the probe against real loopback listeners (plain
and TLS with a trustme certificate), and the kind in the CLI and the APIs."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import trustme

from probed.config import Monitor, TcpCheck
from probed.probes import run_probe
from probed.web.uptimerobot_monitor import type_code
from tests.kit.certs import EXPIRIES, Expiry, issue, not_after, server_context, write_ca
from tests.kit.configs import load_monitors, load_problems, monitor_problem
from tests.kit.monitors import make_monitor
from tests.kit.processes import free_port, probed


@asynccontextmanager
async def listener(context: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    """A loopback listener that holds each connection until the client leaves; yields its port."""
    writers: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        try:
            await reader.read()
        except ConnectionError:
            pass  # a client that aborts its TLS connection
        finally:
            writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        # A connection the probe has just closed may not be accepted yet: let the loop accept
        # it so its transport is closed here rather than leaked.
        await asyncio.sleep(0.05)
        server.close()
        for writer in writers:
            writer.transport.abort()
        await server.wait_closed()


def tcp(port: int, **settings: object) -> Monitor:
    settings.setdefault("timeout", 5)
    return make_monitor(kind="tcp", url=f"tcp://127.0.0.1:{port}", **settings)


async def test_an_open_port_is_up_with_its_connect_time(session: aiohttp.ClientSession) -> None:
    async with listener() as port:
        result = await run_probe(tcp(port), session, datetime.now(UTC))
    assert (result.ok, result.reason) == (True, "connected")
    assert result.timings.connect is not None and result.timings.tls is None
    assert result.timings.dns is None  # an address literal needs no lookup
    assert result.cert_expires_at is None and result.status_code is None


async def test_a_closed_port_is_connection_refused(session: aiohttp.ClientSession) -> None:
    result = await run_probe(tcp(free_port()), session, datetime.now(UTC))
    assert (result.ok, result.reason) == (False, "connection refused")


async def test_an_ipv6_literal_is_connected_to(session: aiohttp.ClientSession) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this host")
    server = await asyncio.start_server(lambda r, w: w.close(), "::1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        monitor = make_monitor(kind="tcp", url=f"tcp://[::1]:{port}", timeout=5)
        result = await run_probe(monitor, session, datetime.now(UTC))
    finally:
        server.close()
        await server.wait_closed()
    assert (result.ok, result.reason) == (True, "connected")


async def test_a_name_that_does_not_exist_is_no_such_host(
    session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The system resolver would send the question off this host: answer it here instead.
    async def nxdomain(*args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", nxdomain)
    monitor = make_monitor(kind="tcp", url="tcp://db.example.test:5432", timeout=5)
    result = await run_probe(monitor, session, datetime.now(UTC))
    assert (result.ok, result.reason) == (False, "no such host")


@pytest.mark.parametrize("expiry", EXPIRIES)
async def test_a_certificate_is_judged_on_its_days_left_with_its_expiry_and_tls_time(
    ca: trustme.CA, tmp_path: Path, session: aiohttp.ClientSession, expiry: Expiry
) -> None:
    cert = issue(ca, expires_in=timedelta(days=expiry.lifetime))
    async with listener(server_context(cert)) as port:
        now = datetime.now(UTC)
        monitor = tcp(port, tls=True, ca_file=write_ca(ca, tmp_path), **expiry.settings)
        result = await run_probe(monitor, session, now)
    assert (result.ok, result.reason) == expiry.verdict(cert, now)
    assert result.cert_expires_at == not_after(cert)
    assert result.timings.connect is not None and result.timings.tls is not None


async def test_an_untrusted_certificate_fails_as_the_ssl_probe_says_unless_unverified(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    cert = issue(trustme.CA(), expires_in=timedelta(days=90))
    async with listener(server_context(cert)) as port:
        now = datetime.now(UTC)
        ssl_monitor = make_monitor(kind="ssl", url=f"https://127.0.0.1:{port}/", timeout=5)
        verified = await run_probe(tcp(port, tls=True), session, now)
        as_ssl = await run_probe(ssl_monitor, session, now)
        unverified = await run_probe(tcp(port, tls=True, verify_tls=False), session, now)
    assert not verified.ok and verified.reason.startswith("certificate verify failed: ")
    assert verified.reason == as_ssl.reason
    assert unverified.ok and unverified.cert_expires_at == not_after(cert)


async def test_without_tls_a_tls_listener_is_just_an_open_port(
    ca: trustme.CA, session: aiohttp.ClientSession
) -> None:
    cert = issue(ca, expires_in=timedelta(days=1))
    async with listener(server_context(cert)) as port:
        result = await run_probe(tcp(port), session, datetime.now(UTC))
    assert (result.ok, result.reason) == (True, "connected")
    assert result.cert_expires_at is None


async def test_a_listener_that_never_completes_the_handshake_times_out(
    session: aiohttp.ClientSession,
) -> None:
    async with listener() as port:  # plain TCP: the ClientHello is never answered
        result = await run_probe(tcp(port, tls=True, timeout=1), session, datetime.now(UTC))
    assert (result.ok, result.reason) == (False, "timeout after 1s")
    assert result.timings.tls is not None


DB = '[[monitor]]\nname = "db"\n'


def test_a_tcp_monitor_reads_its_url_and_tls_settings(tmp_path: Path) -> None:
    text = 'type = "tcp"\nurl = "tcp://db.internal:5432"\ntls = true\nssl_expiry_days = 7\n'
    [monitor] = load_monitors(tmp_path, DB + text)
    assert monitor.check == TcpCheck(tls=True, ssl_expiry_days=7)
    assert monitor.url == "tcp://db.internal:5432"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (
            "https://db.internal:5432",
            'must be a tcp://host:port URL, got "https://db.internal:5432"',
        ),
        ("tcp://db.internal", 'URL needs a host and a port: "tcp://db.internal"'),
        ("tcp://:5432", 'URL needs a host and a port: "tcp://:5432"'),
        ("tcp://db:99999", 'invalid URL "tcp://db:99999": Port out of range 0-65535'),
        ("tcp://db:5432/x", 'a tcp:// URL is only host and port, got "tcp://db:5432/x"'),
    ],
)
def test_a_tcp_monitor_needs_a_tcp_url_with_host_and_port(
    tmp_path: Path, url: str, problem: str
) -> None:
    problems = load_problems(tmp_path, f'{DB}type = "tcp"\nurl = "{url}"\n')
    assert problems == [monitor_problem(tmp_path, "db", f"url: {problem}")]


def test_a_tcp_url_on_an_http_monitor_keeps_the_http_rule(tmp_path: Path) -> None:
    assert load_problems(tmp_path, DB + 'url = "tcp://db:5432"\n') == [
        monitor_problem(
            tmp_path, "db", 'url: must be an http:// or https:// URL, got "tcp://db:5432"'
        )
    ]


def test_uptimerobot_calls_tcp_monitors_port_monitors() -> None:
    assert type_code(make_monitor(kind="tcp", url="tcp://db:5432").check) == 4


async def test_probe_and_check_on_the_command_line(tmp_path: Path) -> None:
    config = tmp_path / "monitors.toml"
    config.write_text('[[monitor]]\nname = "db"\ntype = "tcp"\nurl = "tcp://db.internal:5432"\n')
    async with listener() as port:
        up = await asyncio.to_thread(probed, "probe", "--type", "tcp", f"tcp://127.0.0.1:{port}")
    down = await asyncio.to_thread(
        probed, "probe", "--type", "tcp", "--tls", f"tcp://127.0.0.1:{free_port()}"
    )
    check = await asyncio.to_thread(probed, "check", "-c", str(config))
    assert up.returncode == 0 and up.stdout.startswith("UP  tcp tcp://127.0.0.1:"), up.stderr
    assert "reason:      connected" in up.stdout
    assert down.returncode == 2 and "reason:      connection refused" in down.stdout
    assert check.returncode == 0, check.stderr
    assert "db    tcp " in check.stdout and "tcp://db.internal:5432" in check.stdout
