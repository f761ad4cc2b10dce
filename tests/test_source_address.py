"""``source_address``: every network kind sends its check from the configured local address
(127.0.0.2-4 and ::1 on loopback), and an address this host cannot send from is the probe
host's failure, said so, never the target's."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import dns.rcode
import pytest
import trustme
from aiohttp.test_utils import TestServer

from probed.model import CheckResult
from probed.probes import ProbeSessions, make_session, run_probe
from tests.kit.certs import issue, server_context, write_ca
from tests.kit.monitors import make_monitor
from tests.kit.servers import Target, serve
from tests.test_probe_dns import udp_server

NOT_HERE = "192.0.2.1"  # TEST-NET-1: never an address of this host
CANNOT = f"probe host: cannot send from source_address {NOT_HERE} (cannot assign requested address)"


@asynccontextmanager
async def peers_of(
    host: str = "127.0.0.1", context: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[int, list[str]]]:
    """A TCP listener (TLS with ``context``) that notes each client's address; yields
    (port, addresses)."""
    seen: list[str] = []

    async def note(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(writer.get_extra_info("peername")[0])
        writer.close()

    server = await asyncio.start_server(note, host, 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1], seen
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def sessions() -> AsyncIterator[ProbeSessions]:
    sessions = ProbeSessions()
    yield sessions
    await sessions.close()


async def check(sessions: ProbeSessions, kind: str, url: str, **settings: object) -> CheckResult:
    settings.setdefault("timeout", 5)
    monitor = make_monitor(kind=kind, url=url, **settings)
    return await run_probe(monitor, sessions.get(monitor.source_address), datetime.now(UTC))


@pytest.mark.parametrize(
    ("kind", "settings"),
    [("http", {}), ("keyword", {"keyword": "hello"}), ("json", {"json_query": "a"})],
)
async def test_http_checks_come_from_the_source_address(sessions, kind, settings):
    target = Target(parts=[b'{"a": "hello"}'])
    async with serve(target):
        url = target.url("/parts")
        result = await check(sessions, kind, url, source_address="127.0.0.2", **settings)
        plain = await check(sessions, kind, url, **settings)
    assert result.ok and plain.ok, (result.reason, plain.reason)
    assert [seen.remote for seen in target.seen] == ["127.0.0.2", "127.0.0.1"]


async def test_monitors_with_one_source_address_share_one_session(sessions):
    assert sessions.get("127.0.0.2") is sessions.get("127.0.0.2")
    assert sessions.get("127.0.0.2") is not sessions.get("127.0.0.3")
    assert sessions.get(None) is not sessions.get("127.0.0.2")


async def test_a_redirect_is_followed_from_the_same_source_address(sessions):
    target = Target()
    async with serve(target):
        result = await check(sessions, "http", target.url("/moved"), source_address="127.0.0.3")
    assert result.ok, result.reason
    assert {seen.remote for seen in target.seen} == {"127.0.0.3"} and len(target.seen) == 2


async def test_an_http_check_given_a_session_of_another_source_address_fails_not_sends():
    target = Target()
    async with serve(target), make_session() as session:
        monitor = make_monitor(
            kind="http", url=target.url("/status/200"), source_address="127.0.0.2"
        )
        result = await run_probe(monitor, session, datetime.now(UTC))
    assert not result.ok and result.reason == "no session for source_address 127.0.0.2"
    assert target.seen == []


async def test_tcp_checks_come_from_the_source_address(sessions):
    async with peers_of() as (port, seen):
        result = await check(sessions, "tcp", f"tcp://127.0.0.1:{port}", source_address="127.0.0.4")
        await asyncio.sleep(0.05)  # let the listener accept it
    assert result.ok, result.reason
    assert seen == ["127.0.0.4"]


async def test_ssl_and_tcp_tls_checks_come_from_the_source_address(sessions, tmp_path):
    ca = trustme.CA()
    context = server_context(issue(ca, expires_in=timedelta(days=90)))
    ca_file = write_ca(ca, tmp_path)
    async with peers_of(context=context) as (port, seen):
        ssl_check = await check(
            sessions,
            "ssl",
            f"https://127.0.0.1:{port}",
            source_address="127.0.0.2",
            ca_file=ca_file,
        )
        tls_check = await check(
            sessions,
            "tcp",
            f"tcp://127.0.0.1:{port}",
            tls=True,
            source_address="127.0.0.3",
            ca_file=ca_file,
        )
        await asyncio.sleep(0.05)
    assert ssl_check.ok and tls_check.ok, (ssl_check.reason, tls_check.reason)
    assert seen == ["127.0.0.2", "127.0.0.3"]


async def test_dns_queries_come_from_the_source_address(sessions):
    async with udp_server(dns.rcode.NOERROR) as (port, server):
        result = await check(
            sessions, "dns", f"dns://127.0.0.1:{port}/example.test", source_address="127.0.0.4"
        )
    assert result.ok, result.reason
    assert server.senders == ["127.0.0.4"]


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback on this host")
async def test_an_ipv6_source_address_works_for_tcp_and_http(sessions):
    async with peers_of("::1") as (port, seen):
        result = await check(sessions, "tcp", f"tcp://[::1]:{port}", source_address="::1")
        await asyncio.sleep(0.05)
    target = Target()
    target.server = TestServer(target.app(), host="::1")
    await target.server.start_server()
    try:
        http = await check(sessions, "http", target.url("/status/200"), source_address="0:0::1")
    finally:
        await target.server.close()
    assert result.ok and http.ok, (result.reason, http.reason)
    assert seen == ["::1"] and [s.remote for s in target.seen] == ["::1"]


@pytest.mark.parametrize(
    ("kind", "url", "settings"),
    [
        ("http", "http://127.0.0.1:{port}/", {}),
        ("keyword", "http://127.0.0.1:{port}/", {"keyword": "x"}),
        ("tcp", "tcp://127.0.0.1:{port}", {}),
        ("ssl", "https://127.0.0.1:{port}", {}),
        ("dns", "dns://127.0.0.1:{port}/example.test", {}),
    ],
)
async def test_a_source_address_this_host_cannot_send_from_is_the_probe_hosts_failure(
    sessions, kind, url, settings
):
    async with peers_of() as (port, seen):
        result = await check(
            sessions, kind, url.format(port=port), source_address=NOT_HERE, **settings
        )
    assert not result.ok
    assert result.reason == CANNOT
    # Not the target's failure: the state machine leaves the monitor as it was.
    assert result.offline
    assert seen == []
