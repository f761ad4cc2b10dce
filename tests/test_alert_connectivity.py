"""``[probed] connectivity_check``: when the probe host itself is offline, failed checks are
recorded as "probe host offline", no monitor goes down and no alert is written."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from probed.config import load_config
from probed.engine.connectivity import OFFLINE_REASON, ConnectivityCheck
from probed.model import Status
from probed.probes import make_session
from tests.kit.clock import FakeClock
from tests.kit.configs import email_channel, make_config
from tests.kit.harness import Harness, failed
from tests.kit.monitors import make_monitor
from tests.kit.processes import free_port


class Listener:
    """A loopback TCP listener that counts the connections it accepts."""

    def __init__(self) -> None:
        self.accepted = 0

    async def serve(self) -> AsyncIterator[str]:
        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.accepted += 1
            writer.close()

        server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            yield f"127.0.0.1:{port}"


@pytest.fixture
async def listener():
    lst = Listener()
    async for address in lst.serve():
        lst.address = address  # type: ignore[attr-defined]
        yield lst


class Ticks:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


async def test_a_failed_check_counts_when_any_listed_address_is_reachable(listener):
    check = ConnectivityCheck([f"127.0.0.1:{free_port()}", listener.address], timeout=1)
    result = failed(FakeClock()())
    assert await check.confirm(result) is result
    assert listener.accepted == 1


async def test_a_failed_check_is_offline_when_no_listed_address_is_reachable():
    check = ConnectivityCheck([f"127.0.0.1:{free_port()}", f"[::1]:{free_port()}"])
    confirmed = await check.confirm(failed(FakeClock()()))
    assert confirmed.offline and confirmed.reason == OFFLINE_REASON
    assert confirmed.status_code == 503  # the facts of the check itself are kept


async def test_good_checks_are_never_held_up_by_the_connectivity_check(listener):
    check = ConnectivityCheck([listener.address])
    result = failed(FakeClock()())
    ok = replace(result, ok=True, reason="HTTP 200")
    assert await check.confirm(ok) is ok
    assert listener.accepted == 0


async def test_the_answer_is_cached_briefly_and_shared_by_concurrent_failures(listener):
    ticks = Ticks()
    check = ConnectivityCheck([listener.address], ttl=5.0, clock=ticks)
    results = await asyncio.gather(*(check.confirm(failed(FakeClock()())) for _ in range(20)))
    assert not any(r.offline for r in results)
    assert listener.accepted == 1
    ticks.t = 4.9
    await check.online()
    assert listener.accepted == 1
    ticks.t = 5.1
    await check.online()
    assert listener.accepted == 2


async def test_while_the_probe_host_is_offline_no_monitor_goes_down_and_nothing_is_alerted(
    tmp_path,
):
    """A real pipeline checks a dead target with the connectivity check pointing nowhere."""
    dead = f"http://127.0.0.1:{free_port()}/"
    mon = make_monitor("api", url=dead, down_after=1, timeout=2.0)
    config = make_config(tmp_path, [mon], email_channel(free_port()))
    async with make_session() as session:
        h = Harness(config, FakeClock(), session)
        pipeline = h.pipeline
        pipeline.connectivity = ConnectivityCheck([f"127.0.0.1:{free_port()}"], ttl=0)
        for _ in range(3):
            tracked = await pipeline.check("api")
            assert tracked is not None and tracked.last is not None
            assert tracked.last.offline and tracked.last.reason == OFFLINE_REASON
        assert tracked.state.status is Status.PENDING
        assert h.rows() == []
        # Back online: the same failure now counts, and alerts.
        pipeline.connectivity = None
        await pipeline.check("api")
        assert tracked.state.status is Status.DOWN
        assert [r.kind for r in h.rows()] == ["down"]
    await h.close()


def test_connectivity_check_is_read_from_the_probed_table(tmp_path):
    path = tmp_path / "monitors.toml"
    path.write_text('[probed]\nconnectivity_check = ["1.1.1.1:443", "[2606:4700::1111]:443"]\n')
    settings = load_config(path, {}).settings
    assert settings.connectivity_check == ("1.1.1.1:443", "[2606:4700::1111]:443")
    assert (settings.storm_threshold, settings.storm_window) == (3, 60.0)
    assert settings.alert_max_age == 86400.0
