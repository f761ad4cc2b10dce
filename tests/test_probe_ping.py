"""The ``ping`` kind: its keys and URL, the verdict on lost requests, real echo requests to the
loopback addresses, and a daemon that pings them."""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from probed.config import Monitor, PingCheck
from probed.config.ping import parse_loss, ping_host
from probed.metrics import Metrics
from probed.model import CheckResult, IcmpFacts, Status
from probed.probes import run_probe
from probed.probes.ping import judge
from tests.kit.configs import load_monitors, load_problems, monitor_problem
from tests.kit.monitors import make_monitor
from tests.kit.processes import DaemonProcess, free_port, probed


def default_hop_limit(address: str) -> int:
    if ":" in address:
        return int(Path("/proc/sys/net/ipv6/conf/lo/hop_limit").read_text())
    return int(Path("/proc/sys/net/ipv4/ip_default_ttl").read_text())


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


LOOPBACKS = [
    "127.0.0.1",
    pytest.param(
        "::1", marks=pytest.mark.skipif(not has_ipv6_loopback(), reason="no ::1 on this host")
    ),
]


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("icmp://127.0.0.1", "127.0.0.1"),
        ("icmp://[::1]", "::1"),
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("10.0.0.1", "10.0.0.1"),
        ("router.example.test", "router.example.test"),
        ("icmp://Router.Example.Test/", "router.example.test"),
    ],
)
def test_the_host_comes_from_an_icmp_url_or_stands_alone(url: str, host: str) -> None:
    assert ping_host(url) == host


@pytest.mark.parametrize(
    ("value", "ratio"), [(0, 0.0), (0.25, 0.25), (1, 1.0), ("20%", 0.2), (" 100 % ", 1.0)]
)
def test_loss_max_is_a_ratio_or_a_percentage(value: object, ratio: float) -> None:
    assert parse_loss(value) == pytest.approx(ratio)


@pytest.mark.parametrize("value", [-0.1, 1.5, "20", "lots%", "150%", True, float("nan")])
def test_loss_max_outside_zero_to_one_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="expected a ratio from 0 to 1"):
        parse_loss(value)


@pytest.mark.parametrize(
    ("received", "loss_max", "ok", "reason"),
    [
        (3, None, True, "3/3 replies, rtt 1.5 ms"),
        (1, None, True, "1/3 replies, rtt 1.5 ms"),
        (0, None, False, "no reply to 3 echo requests"),
        (0, 1.0, False, "no reply to 3 echo requests"),
        (2, 1 / 3, True, "2/3 replies, rtt 1.5 ms"),
        (1, 1 / 3, False, "2 of 3 echo requests lost (1/3 replies, rtt 1.5 ms; loss_max 0.333333)"),
        (2, 0.0, False, "1 of 3 echo requests lost (2/3 replies, rtt 1.5 ms; loss_max 0)"),
    ],
)
def test_the_verdict_counts_lost_requests_against_loss_max(
    received: int, loss_max: float | None, ok: bool, reason: str
) -> None:
    facts = IcmpFacts(sent=3, received=received, rtt=0.0015 if received else None)
    assert (judge(facts, loss_max).ok, judge(facts, loss_max).reason) == (ok, reason)
    assert facts.loss == pytest.approx((3 - received) / 3)


PING = '[[monitor]]\nname = "gw"\ntype = "ping"\n'


def test_a_ping_monitor_reads_its_keys(tmp_path: Path) -> None:
    [plain] = load_monitors(tmp_path, PING + 'url = "icmp://192.0.2.1"\n')
    assert plain.check == PingCheck(count=3, loss_max=None, ip_version="auto")
    [tuned] = load_monitors(
        tmp_path, PING + 'url = "gw.example.test"\ncount = 5\nloss_max = "40%"\nip_version = 6\n'
    )
    assert tuned.check == PingCheck(count=5, loss_max=0.4, ip_version="6")


def test_every_bad_ping_key_is_named_at_once(tmp_path: Path) -> None:
    keys = 'url = "icmp://gw:80/"\ncount = 0\nloss_max = "lots"\nip_version = "5"\n'
    assert load_problems(tmp_path, PING + keys) == [
        monitor_problem(tmp_path, "gw", 'url: an icmp:// URL is only a host, got "icmp://gw:80/"'),
        monitor_problem(tmp_path, "gw", "count: must be between 1 and 100, got 0"),
        monitor_problem(
            tmp_path,
            "gw",
            'loss_max: expected a ratio from 0 to 1 (0.2) or a percentage ("20%"), got a string',
        ),
        monitor_problem(tmp_path, "gw", 'ip_version: must be one of 4, 6, "auto"; got a string'),
    ]


@pytest.mark.parametrize("url", ["https://gw.example.test/", "gw example", "icmp://gw?x=1"])
def test_a_url_that_names_no_host_to_ping_is_a_problem(tmp_path: Path, url: str) -> None:
    [problem] = load_problems(tmp_path, f'{PING}url = "{url}"\n')
    assert 'monitor "gw" (#1) url: ' in problem


def ping(url: str, **settings: object) -> Monitor:
    settings.setdefault("timeout", 5)
    return make_monitor(kind="ping", url=url, **settings)


@pytest.mark.parametrize("address", LOOPBACKS)
async def test_a_loopback_address_answers_every_request(
    session: aiohttp.ClientSession, address: str
) -> None:
    result = await run_probe(
        ping(f"icmp://[{address}]" if ":" in address else address, count=2),
        session,
        datetime.now(UTC),
    )
    assert result.ok, result.reason
    assert result.reason.startswith("2/2 replies, rtt ")
    assert result.icmp is not None and result.icmp.loss == 0
    assert result.icmp.rtt is not None and 0 < result.icmp.rtt < 1
    # A loopback reply arrives with the hop limit it was sent with: this host's default.
    assert result.icmp.hop_limit == default_hop_limit(address)
    assert result.timings.dns is None  # an address needs no lookup


async def test_a_name_is_pinged_at_the_address_of_the_family_asked(
    session: aiohttp.ClientSession,
) -> None:
    # localhost is in /etc/hosts: the lookup never leaves this host.
    result = await run_probe(ping("localhost", count=1, ip_version="4"), session, datetime.now(UTC))
    assert (result.ok, result.reason[:10]) == (True, "1/1 replie")
    assert result.timings.dns is not None


async def test_a_name_that_does_not_exist_is_one_failed_check(
    session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The system resolver would send the question off this host: answer it here instead.
    async def nxdomain(*args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", nxdomain)
    started = time.monotonic()
    result = await run_probe(ping("gw.example.test"), session, datetime.now(UTC))
    assert (result.ok, result.reason) == (False, "no such host: gw.example.test")
    assert result.icmp is None and time.monotonic() - started < 1
    assert result.evidence is not None


def test_round_trip_and_loss_are_metrics_of_ping_monitors() -> None:
    metrics = Metrics()
    at = datetime.now(UTC)
    metrics.add_monitor("gw", Status.UP, None, "ping")
    metrics.add_monitor("web", Status.UP, None, "http")
    metrics.observe_check(
        "gw", CheckResult(True, "2/4", at, icmp=IcmpFacts(4, 2, 0.002, 61)), Status.UP
    )
    metrics.observe_check("web", CheckResult(True, "HTTP 200", at), Status.UP)
    text = metrics.render().decode()
    assert 'probe_icmp_duration_seconds{monitor="gw",phase="rtt"} 0.002' in text
    assert 'probed_icmp_packet_loss_ratio{monitor="gw"} 0.5' in text
    assert 'probe_icmp_reply_hop_limit{monitor="gw"} 61.0' in text
    assert 'monitor="web"' not in "".join(
        line for line in text.splitlines() if "icmp" in line and not line.startswith("#")
    )
    metrics.observe_check("gw", CheckResult(False, "no reply", at, icmp=IcmpFacts(4, 0)), Status.UP)
    text = metrics.render().decode()
    assert 'probed_icmp_packet_loss_ratio{monitor="gw"} 1.0' in text
    assert 'probe_icmp_duration_seconds{monitor="gw"' not in text
    assert 'probe_icmp_reply_hop_limit{monitor="gw"}' not in text
    metrics.add_monitor("gw", Status.UP, None, "http")  # a reload made it another kind
    assert "probed_icmp_packet_loss_ratio{" not in metrics.render().decode()


async def test_probe_on_the_command_line(tmp_path: Path) -> None:
    up = await asyncio.to_thread(probed, "probe", "--type", "ping", "--count", "2", "127.0.0.1")
    bad = await asyncio.to_thread(probed, "probe", "--type", "ping", "--loss-max", "2", "::1")
    assert up.returncode == 0 and "reason:      2/2 replies, rtt " in up.stdout, up.stderr
    assert bad.returncode != 0 and "--loss-max: expected a ratio from 0 to 1" in bad.stderr


@pytest.mark.slow
async def test_a_daemon_pings_the_loopback_addresses(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "monitors.toml"
    targets = {"v4": "icmp://127.0.0.1", "name": "localhost"}
    if has_ipv6_loopback():
        targets["v6"] = "::1"
    config.write_text(
        f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{tmp_path / "state"}"\n'
        + "".join(
            f'[[monitor]]\nname = "{name}"\ntype = "ping"\nurl = "{url}"\ninterval = "1s"\n'
            "count = 2\n"
            for name, url in targets.items()
        ),
        encoding="utf-8",
    )
    checked = await asyncio.to_thread(probed, "check", "-c", str(config))
    assert checked.returncode == 0, checked.stderr
    daemon = DaemonProcess(config, port)
    await daemon.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            found = {name: await daemon.metric("probe_success", name) for name in targets}
            if all(value is not None for value in found.values()):
                break
            await asyncio.sleep(0.2)
        assert found == dict.fromkeys(targets, 1.0), daemon.logs()
        for name in targets:
            assert await daemon.metric("probed_icmp_packet_loss_ratio", name) == 0.0
            assert await daemon.metric("probe_icmp_reply_hop_limit", name) == 64.0
        text = await daemon.metrics()
        assert 'probe_icmp_duration_seconds{monitor="v4",phase="rtt"}' in text
    finally:
        await daemon.stop()


def test_a_source_address_of_the_other_family_than_a_bare_address_is_a_problem(
    tmp_path: Path,
) -> None:
    keys = 'url = "::1"\nsource_address = "127.0.0.1"\n'
    assert load_problems(tmp_path, PING + keys) == [
        monitor_problem(
            tmp_path,
            "gw",
            'source_address: "127.0.0.1" is an IPv4 address but the URL\'s host "::1" is IPv6',
        )
    ]


async def test_a_ping_leaves_from_its_source_address(session: aiohttp.ClientSession) -> None:
    monitor = ping("127.0.0.1", count=1, source_address="127.0.0.1")
    result = await run_probe(monitor, session, datetime.now(UTC))
    assert (result.ok, result.offline) == (True, False), result.reason
    # An address of no interface here: binding fails before anything is sent.
    elsewhere = ping("127.0.0.1", count=1, source_address="198.51.100.7")
    result = await run_probe(elsewhere, session, datetime.now(UTC))
    assert (result.ok, result.offline) == (False, True)
    assert result.reason.startswith("probe host: cannot send from source_address 198.51.100.7")
