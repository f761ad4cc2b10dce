"""sd_notify client against a real AF_UNIX datagram socket standing in for systemd."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from probed.service.sdnotify import Notifier, WatchdogPinger, monotonic_usec, watchdog_interval


class FakeSystemd:
    """A bound SOCK_DGRAM socket that collects what the notifier sends."""

    def __init__(self, notify_socket: str, bind_address: str) -> None:
        self.notify_socket = notify_socket
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(bind_address)
        self.sock.setblocking(False)

    def messages(self) -> list[str]:
        """Every datagram received so far, decoded."""
        received = []
        while True:
            try:
                received.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return received

    def env(self) -> dict[str, str]:
        return {"NOTIFY_SOCKET": self.notify_socket}


@pytest.fixture(params=["path", "abstract"])
def systemd(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FakeSystemd]:
    if request.param == "path":
        path = str(tmp_path / "notify.sock")
        fake = FakeSystemd(path, path)
    else:
        name = f"probed-test-{uuid.uuid4().hex}"
        fake = FakeSystemd(f"@{name}", f"\0{name}")
    yield fake
    fake.sock.close()


def test_ready_status_reloading_and_stopping_arrive_verbatim(systemd: FakeSystemd) -> None:
    with Notifier(systemd.env()) as notifier:
        assert notifier.enabled
        assert notifier.ready()
        assert notifier.status("12 monitors: 11 up, 1 down")
        assert notifier.reloading(123456789)
        assert notifier.ready()
        assert notifier.stopping()
    assert systemd.messages() == [
        "READY=1",
        "STATUS=12 monitors: 11 up, 1 down",
        "RELOADING=1\nMONOTONIC_USEC=123456789",
        "READY=1",
        "STOPPING=1",
    ]


def test_send_joins_fields_in_order_and_keeps_values_on_one_line(systemd: FakeSystemd) -> None:
    with Notifier(systemd.env()) as notifier:
        assert notifier.send(READY=1, STATUS="first\nsecond")
    assert systemd.messages() == ["READY=1\nSTATUS=first second"]


def test_text_that_is_not_valid_utf8_is_replaced_not_raised(systemd: FakeSystemd) -> None:
    with Notifier(systemd.env()) as notifier:
        assert notifier.status("caf\udce9 up")
    assert systemd.messages() == ["STATUS=caf? up"]


def test_monotonic_usec_is_the_monotonic_clock_in_microseconds() -> None:
    assert abs(monotonic_usec() / 1e6 - time.clock_gettime(time.CLOCK_MONOTONIC)) < 1


def test_without_notify_socket_every_method_does_nothing() -> None:
    with Notifier({}) as notifier:
        assert not notifier.enabled
        assert not notifier.ready()
        assert not notifier.status("x")
        assert not notifier.reloading(1)
        assert not notifier.stopping()
        assert not notifier.watchdog()
        assert not notifier.send(X_PROBED=1)


def test_unsupported_socket_kind_is_logged_and_disabled() -> None:
    with capture_logs() as logs, Notifier({"NOTIFY_SOCKET": "vsock:2:1234"}) as notifier:
        assert not notifier.enabled
        assert not notifier.ready()
    assert [entry["event"] for entry in logs] == ["sd_notify_unsupported_socket"]


def test_a_vanished_socket_is_logged_once_and_never_raises(tmp_path: Path) -> None:
    path = str(tmp_path / "gone.sock")
    with capture_logs() as logs, Notifier({"NOTIFY_SOCKET": path}) as notifier:
        assert not notifier.ready()
        assert not notifier.watchdog()
        assert not notifier.stopping()
    levels = [(entry["event"], entry["log_level"]) for entry in logs]
    assert levels == [
        ("sd_notify_failed", "warning"),
        ("sd_notify_failed", "debug"),
        ("sd_notify_failed", "debug"),
    ]


def test_socket_closed_after_start_then_back_again(systemd: FakeSystemd, tmp_path: Path) -> None:
    with capture_logs() as logs, Notifier(systemd.env()) as notifier:
        assert notifier.ready()
        systemd.sock.close()
        if not systemd.notify_socket.startswith("@"):
            os.unlink(systemd.notify_socket)
        assert not notifier.watchdog()
        again = FakeSystemd(systemd.notify_socket, systemd.notify_socket.replace("@", "\0", 1))
        try:
            assert notifier.watchdog()
            assert again.messages() == ["WATCHDOG=1"]
        finally:
            again.sock.close()
    assert [entry["event"] for entry in logs] == ["sd_notify_failed", "sd_notify_recovered"]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "30000000"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4242"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4243"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({"WATCHDOG_USEC": "1000", "WATCHDOG_PID": "x"}, None),
    ],
)
def test_watchdog_interval_is_half_the_period_for_this_pid(
    env: dict[str, str], expected: float | None
) -> None:
    assert watchdog_interval(env, pid=4242) == expected


def test_watchdog_interval_defaults_to_the_current_pid() -> None:
    env = {"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}
    assert watchdog_interval(env) == 1.0


async def wait_for_pings(systemd: FakeSystemd, count: int, within: float = 2.0) -> list[str]:
    received: list[str] = []
    deadline = asyncio.get_running_loop().time() + within
    while len(received) < count and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
        received += systemd.messages()
    return received


async def test_watchdog_pings_only_while_the_scheduler_makes_progress(
    systemd: FakeSystemd,
) -> None:
    healthy = True
    interval = 0.02
    with capture_logs() as logs, Notifier(systemd.env()) as notifier:
        task = asyncio.create_task(WatchdogPinger(notifier, interval, lambda: healthy).run())
        try:
            pings = await wait_for_pings(systemd, 3)
            assert len(pings) >= 3
            assert set(pings) == {"WATCHDOG=1"}

            healthy = False  # the scheduler is wedged: systemd must stop hearing from us
            await asyncio.sleep(interval * 2)
            systemd.messages()  # drop a ping that may have been in flight at the switch
            await asyncio.sleep(interval * 10)
            assert systemd.messages() == []

            healthy = True
            assert set(await wait_for_pings(systemd, 1)) == {"WATCHDOG=1"}
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    events = [entry["event"] for entry in logs]
    assert events == ["sd_watchdog_withheld", "sd_watchdog_resumed"]


async def test_watchdog_withholds_pings_when_the_health_check_raises(
    systemd: FakeSystemd,
) -> None:
    def broken() -> bool:
        raise RuntimeError("scheduler gone")

    with capture_logs() as logs, Notifier(systemd.env()) as notifier:
        task = asyncio.create_task(WatchdogPinger(notifier, 0.01, broken).run())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert systemd.messages() == []
    assert "sd_watchdog_health_check_failed" in [entry["event"] for entry in logs]


async def test_a_blocked_event_loop_sends_no_pings(systemd: FakeSystemd) -> None:
    with Notifier(systemd.env()) as notifier:
        task = asyncio.create_task(WatchdogPinger(notifier, 0.01, lambda: True).run())
        assert set(await wait_for_pings(systemd, 1)) == {"WATCHDOG=1"}
        # Wedge the loop itself, as a stray blocking call in a check would; that is the point.
        time.sleep(0.2)  # noqa: ASYNC251
        assert systemd.messages() == []
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_pinger_rejects_a_non_positive_interval() -> None:
    with Notifier({}) as notifier, pytest.raises(ValueError, match="positive"):
        WatchdogPinger(notifier, 0, lambda: True)
