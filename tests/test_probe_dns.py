"""The dns kind: dns:// URLs and expect in monitors.toml, and the probe against Debian's
dnsmasq started here on loopback, a server answering SERVFAIL and one that never answers."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import aiohttp
import dns.message
import dns.rcode
import pytest

from probed.config import DnsCheck, Monitor
from probed.metrics import Metrics
from probed.model import CheckResult, Status, Timings
from probed.probes import run_probe
from tests.kit.configs import load_monitors, load_problems, monitor_problem
from tests.kit.monitors import make_monitor
from tests.kit.processes import probed
from tests.kit.tools import tool

TXT = "v=spf1 -all"


def free_port() -> int:
    """A loopback port free for both UDP and TCP (dnsmasq listens on both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port: int = udp.getsockname()[1]
            with socket.socket() as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
        return port


@pytest.fixture(scope="module")
def dnsmasq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """dnsmasq on 127.0.0.1 answering only from its command line; yields its port."""
    binary = tool("dnsmasq")
    port = free_port()
    pid_file = tmp_path_factory.mktemp("dnsmasq") / "dnsmasq.pid"
    proc = subprocess.Popen(
        [
            binary,
            "--keep-in-foreground",
            f"--port={port}",
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--no-resolv",  # no upstream: nothing leaves this host
            "--no-hosts",
            "--conf-file=/dev/null",
            f"--pid-file={pid_file}",
            "--address=/example.test/10.0.0.1",
            "--address=/example.test/::1",
            "--local=/missing.test/",  # answered here, and nothing is there: NXDOMAIN
            f"--txt-record=example.test,{TXT}",
            "--mx-host=example.test,mail.example.test,10",
            "--cname=www.example.test,example.test",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while not _answers(port):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            assert time.monotonic() < deadline, "dnsmasq did not start answering"
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stderr:
            proc.stderr.close()


def _answers(port: int) -> bool:
    query = dns.message.make_query("example.test", "A")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        try:
            sock.sendto(query.to_wire(), ("127.0.0.1", port))
            return bool(sock.recv(512))
        except OSError:
            return False


class _Answering(asyncio.DatagramProtocol):
    """Answers every query with ``rcode`` (None: reads it and never answers)."""

    def __init__(self, rcode: dns.rcode.Rcode | None) -> None:
        self.rcode = rcode
        self.transport: asyncio.DatagramTransport | None = None
        self.queries = 0
        self.senders: list[object] = []
        """The address each query came from."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector loop's datagram transport does not subclass DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        self.queries += 1
        self.senders.append(addr[0])
        if self.rcode is not None and self.transport is not None:
            response = dns.message.make_response(dns.message.from_wire(data))
            response.set_rcode(self.rcode)
            self.transport.sendto(response.to_wire(), addr)


@asynccontextmanager
async def udp_server(rcode: dns.rcode.Rcode | None) -> AsyncIterator[tuple[int, _Answering]]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: _Answering(rcode), local_addr=("127.0.0.1", 0)
    )
    try:
        yield transport.get_extra_info("sockname")[1], protocol
    finally:
        transport.close()


async def lookup(
    session: aiohttp.ClientSession, port: int, name: str, type_: str = "A", **settings: object
) -> CheckResult:
    settings.setdefault("timeout", 5)
    url = f"dns://127.0.0.1:{port}/{name}?type={type_}"
    return await run_probe(
        make_monitor(kind="dns", url=url, **settings), session, datetime.now(UTC)
    )


@pytest.mark.parametrize(
    ("name", "type_", "answer"),
    [
        ("example.test", "A", "10.0.0.1"),
        ("example.test", "AAAA", "::1"),
        ("example.test", "TXT", TXT),
        ("example.test", "MX", "10 mail.example.test"),
        ("www.example.test", "CNAME", "example.test"),
    ],
)
async def test_an_answer_holding_the_expected_value_is_up(
    dnsmasq: int, session: aiohttp.ClientSession, name: str, type_: str, answer: str
) -> None:
    result = await lookup(session, dnsmasq, name, type_, expect=(answer,))
    assert (result.ok, result.reason) == (True, f"answer {answer}")
    assert result.timings.dns is not None and result.timings.dns > 0


async def test_expected_values_match_as_written_in_zone_files(
    dnsmasq: int, session: aiohttp.ClientSession
) -> None:
    # A final dot, another case, another spelling of the same address: the same values.
    mx = await lookup(session, dnsmasq, "example.test", "MX", expect=("10 MAIL.example.test.",))
    aaaa = await lookup(session, dnsmasq, "example.test", "AAAA", expect=("0:0::0:1",))
    assert (mx.ok, aaaa.ok) == (True, True)


async def test_an_answer_lacking_an_expected_value_is_down_naming_both(
    dnsmasq: int, session: aiohttp.ClientSession
) -> None:
    result = await lookup(session, dnsmasq, "example.test", expect=("10.0.0.1", "93.184.215.14"))
    assert (result.ok, result.reason) == (False, "answer 10.0.0.1 lacks 93.184.215.14")


async def test_without_expect_any_noerror_answer_is_up(
    dnsmasq: int, session: aiohttp.ClientSession
) -> None:
    result = await lookup(session, dnsmasq, "example.test")
    assert (result.ok, result.reason) == (True, "answer 10.0.0.1")


async def test_a_name_that_does_not_exist_is_nxdomain(
    dnsmasq: int, session: aiohttp.ClientSession
) -> None:
    result = await lookup(session, dnsmasq, "gone.missing.test")
    assert (result.ok, result.reason) == (False, "NXDOMAIN")


async def test_a_server_failure_is_servfail(session: aiohttp.ClientSession) -> None:
    async with udp_server(dns.rcode.SERVFAIL) as (port, server):
        result = await lookup(session, port, "example.test")
    assert (result.ok, result.reason) == (False, "SERVFAIL")
    assert server.queries >= 1


async def test_a_server_that_never_answers_is_a_timeout_within_the_checks_timeout(
    session: aiohttp.ClientSession,
) -> None:
    async with udp_server(None) as (port, server):
        started = time.monotonic()
        result = await lookup(session, port, "example.test", timeout=1)
    assert (result.ok, result.reason) == (False, "timeout")
    assert time.monotonic() - started < 1.5 and server.queries >= 1


def test_the_lookup_time_is_a_metric_of_dns_monitors_only() -> None:
    metrics = Metrics()
    result = CheckResult(ok=True, reason="answer 10.0.0.1", at=datetime.now(UTC))
    timed = CheckResult(
        ok=True,
        reason="answer 10.0.0.1",
        at=result.at,
        timings=Timings(dns=0.25, total=0.3),
    )
    metrics.add_monitor("dns", Status.UP, None, "dns")
    metrics.add_monitor("web", Status.UP, None, "http")
    metrics.observe_check("dns", timed, Status.UP)
    metrics.observe_check("web", timed, Status.UP)
    text = metrics.render().decode()
    assert 'probe_dns_lookup_time_seconds{monitor="dns"} 0.25' in text
    assert 'probe_dns_lookup_time_seconds{monitor="web"}' not in text


NS = '[[monitor]]\nname = "ns"\ntype = "dns"\n'


def load(tmp_path: Path, keys: str) -> list[Monitor]:
    return load_monitors(tmp_path, NS + keys)


def test_a_dns_monitor_reads_its_url_and_expected_values(tmp_path: Path) -> None:
    [monitor] = load(tmp_path, 'url = "dns://1.1.1.1/example.com?type=A"\nexpect = ["10.0.0.1"]\n')
    assert monitor.check == DnsCheck(expect=("10.0.0.1",))
    [system] = load(tmp_path, 'url = "dns:///example.com?type=mx"\n')
    assert system.check == DnsCheck()


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        (
            'url = "dns://ns.example/example.com"',
            'url: the server must be an IP address, got "ns.example"',
        ),
        (
            'url = "dns://1.1.1.1/example.com?type=PTR"',
            'url: type must be one of A, AAAA, CNAME, MX, TXT, NS, SOA; got "PTR"',
        ),
        (
            'url = "dns://1.1.1.1/"',
            'url: URL needs one name to look up after the server: "dns://1.1.1.1/"',
        ),
        (
            'url = "https://example.com/"',
            'url: must be a dns://[server[:port]]/name?type=A URL, got "https://example.com/"',
        ),
        (
            'url = "dns:///example.com"\nexpect = []',
            "expect: must list at least one value (or leave expect out)",
        ),
    ],
)
def test_dns_monitor_problems_name_the_monitor_and_key(
    tmp_path: Path, keys: str, problem: str
) -> None:
    assert load_problems(tmp_path, f"{NS}{keys}\n") == [monitor_problem(tmp_path, "ns", problem)]


async def test_probe_and_check_on_the_command_line(dnsmasq: int, tmp_path: Path) -> None:
    config = tmp_path / "monitors.toml"
    config.write_text('[[monitor]]\nname = "ns"\ntype = "dns"\nurl = "dns:///example.com"\n')
    url = f"dns://127.0.0.1:{dnsmasq}/example.test?type=TXT"
    up = await asyncio.to_thread(probed, "probe", "--type", "dns", url)
    down = await asyncio.to_thread(probed, "probe", "--type", "dns", "--expect", "v=spf1 ~all", url)
    check = await asyncio.to_thread(probed, "check", "-c", str(config))
    assert up.returncode == 0 and f"reason:      answer {TXT}" in up.stdout, up.stderr
    assert "dns:         " in up.stdout and "dns:         -" not in up.stdout
    assert down.returncode == 2 and f"answer {TXT} lacks v=spf1 ~all" in down.stdout
    assert check.returncode == 0 and "ns    dns   5m" in check.stdout
