"""Monitors never checked get their first check within seconds of the start (spread over at most
FIRST_SPREAD, never more at once than the check slots), then settle into their phase; monitors
with a stored state keep their phase from the start."""

from __future__ import annotations

import asyncio
import math
import re
import time
from datetime import datetime

import pytest

from probed.config import Config, Monitor, Settings
from probed.engine.scheduler import FIRST_SPREAD, phase_offset
from probed.model import CheckResult, Status
from probed.service.build import Parts, build
from tests.kit.clock import T0, FakeClock
from tests.kit.harness import good
from tests.kit.processes import DaemonProcess, free_port, run_cli


def phase_after(name: str, interval: float, t: float) -> float:
    """The monitor's first phase time strictly after ``t`` (unix seconds)."""
    anchor = phase_offset(name, interval)
    return anchor + (math.floor((t - anchor) / interval) + 1) * interval


def make(tmp_path, clock: FakeClock, names: list[str], slots: int = 8, probe=None) -> Parts:
    monitors = tuple(
        Monitor(name=n, url=f"http://{i}.example.test/", interval=300) for i, n in enumerate(names)
    )
    settings = Settings(state_dir=tmp_path, max_concurrent_checks=slots)
    return build(Config(tmp_path / "monitors.toml", settings, monitors), clock, probe=probe)


async def test_first_checks_are_spread_over_the_first_seconds_not_the_interval(tmp_path):
    clock = FakeClock()
    names = [f"monitor {i}" for i in range(1000)]
    parts = make(tmp_path, clock, names, slots=100)
    try:
        due = [(parts.scheduler.next_run(n) - T0).total_seconds() for n in names]
    finally:
        await parts.aclose()
    assert all(0 <= d < FIRST_SPREAD for d in due), max(due)
    # Evenly spread: each second of the ten gets 100 ± 40 of the 1,000 first checks.
    seconds = [0] * int(FIRST_SPREAD)
    for d in due:
        seconds[int(d)] += 1
    assert all(60 <= n <= 140 for n in seconds), seconds


async def test_more_new_monitors_than_the_slots_take_in_ten_seconds_spread_wider(tmp_path):
    # 5,000 new monitors and 50 slots: at most 50 first checks a second, so 100 s, not 10.
    clock = FakeClock()
    names = [f"monitor {i}" for i in range(5000)]
    parts = make(tmp_path, clock, names, slots=50)
    parts.scheduler.start()
    try:
        due = [(parts.scheduler.next_run(n) - T0).total_seconds() for n in names]
    finally:
        await parts.aclose()
    assert 95 <= max(due) < 100, max(due)
    tens = [0] * 10
    for d in due:
        tens[int(d // 10)] += 1
    assert all(350 <= n <= 650 for n in tens), tens


async def test_after_the_first_check_a_monitor_keeps_its_phase_and_a_restart_keeps_it_too(
    tmp_path,
):
    clock = FakeClock()
    names = [f"m{i}" for i in range(30)]
    running, most = 0, 0

    async def probe(monitor: Monitor, now: datetime) -> CheckResult:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.02)
        running -= 1
        return good(now)

    parts = make(tmp_path, clock, names, slots=3, probe=probe)
    parts.scheduler.first_spread = 0.3  # the same spreading, in a test's time
    parts.scheduler.first_rate = 1000
    parts.scheduler.start()
    try:
        deadline = time.monotonic() + 5
        pipeline = parts.pipeline
        while any(pipeline.monitors[n].last is None for n in names):
            assert time.monotonic() < deadline, "first checks did not all come"
            await asyncio.sleep(0.02)
        assert most <= 3  # no more at once than the check slots
        assert all(pipeline.monitors[n].state.status is Status.UP for n in names)
        now = T0.timestamp()
        for n in names:  # then each settles into its phase
            expected = phase_after(n, 300, now)
            assert parts.scheduler.next_run(n).timestamp() == pytest.approx(expected, abs=1e-3), n
    finally:
        await parts.scheduler.drain(2)
        await parts.aclose()
    later = FakeClock(clock.advance(1234.5))
    again = make(tmp_path, later, names)
    try:  # a stored state: the phase, from the start
        for n in names:
            expected = phase_after(n, 300, later().timestamp())
            assert again.scheduler.next_run(n).timestamp() == pytest.approx(expected, abs=1e-3), n
    finally:
        await again.aclose()


async def test_the_shipped_monitors_are_up_within_seconds_of_a_first_start(tmp_path):
    port = free_port()
    config = tmp_path / "monitors.toml"
    config.write_text(  # the shipped monitors.toml, on a free port
        f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{tmp_path / "state"}"\n\n'
        '[[monitor]]\nname = "probed self (healthz)"\n'
        f'url = "http://127.0.0.1:{port}/healthz"\nmethod = "HEAD"\ninterval = "1m"\n\n'
        '[[monitor]]\nname = "probed self (metrics keyword)"\n'
        f'url = "http://127.0.0.1:{port}/metrics"\ntype = "keyword"\n'
        'keyword = "probed_monitor_status"\ninterval = "1m"\n',
        encoding="utf-8",
    )
    daemon = DaemonProcess(config, port)
    started = time.monotonic()
    await daemon.start()
    try:
        while True:
            code, out, err = await run_cli("status", "--url", daemon.base)
            states = re.findall(r"probed self \((?:healthz|metrics keyword)\)\s+(\w+)", out)
            if code == 0 and states == ["up", "up"]:
                break
            assert time.monotonic() - started < FIRST_SPREAD + 5, (states, out, err)
            await asyncio.sleep(0.5)
    finally:
        await daemon.stop()
