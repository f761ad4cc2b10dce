"""The scheduler against real loopback targets: spread, retry interval, isolation, drain."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime

from probed.config import Config, Monitor, Settings
from probed.engine.pipeline import Pipeline
from probed.engine.scheduler import phase_offset
from probed.model import Status
from probed.service.build import Parts, build
from tests.kit.figures import report
from tests.kit.servers import Target, serve


def now() -> datetime:
    return datetime.now(UTC)


def test_phase_offsets_are_stable_and_spread_over_the_interval():
    offsets = [phase_offset(f"monitor {i}", 300) for i in range(1000)]
    assert offsets == [phase_offset(f"monitor {i}", 300) for i in range(1000)]
    assert all(0 <= o < 300 for o in offsets)
    # Evenly spread: each of ten 30 s slots gets 100 ± 40 of the 1,000 monitors.
    slots = [0] * 10
    for o in offsets:
        slots[int(o // 30)] += 1
    assert all(60 <= n <= 140 for n in slots), slots


def start(tmp_path, monitors: list[Monitor], max_concurrent: int = 8, schedule=True) -> Parts:
    """probed as ``build()`` makes it, on the real clock; unscheduled when ``schedule`` is off."""
    settings = Settings(state_dir=tmp_path, max_concurrent_checks=max_concurrent)
    parts = build(Config(tmp_path / "monitors.toml", settings, tuple(monitors)), now)
    for m in monitors if not schedule else ():
        parts.scheduler.remove(m.name)
    return parts


def checks_of(pipeline: Pipeline, name: str) -> list[float]:
    """When the monitor's stored checks started, in unix seconds, oldest first."""
    return [ms / 1000 for ms in pipeline.store.checks.times(pipeline.monitors[name].id)]


async def test_a_hanging_target_does_not_delay_a_healthy_monitors_checks(tmp_path, request):
    async with serve(Target()) as target:
        hanging = Monitor(name="hanging", url=target.url("/hang"), interval=1, timeout=1)
        healthy = Monitor(name="healthy", url=target.url("/status/200"), interval=1, timeout=1)
        # One concurrent slot per monitor: the cap must not let the hang starve the other.
        parts = start(tmp_path, [hanging, healthy], 2)
        pipeline, scheduler = parts.pipeline, parts.scheduler
        scheduler.start()
        await asyncio.sleep(4.2)
        await scheduler.drain(2)
    ats = checks_of(pipeline, "healthy")
    gaps = [b - a for a, b in itertools.pairwise(ats)]
    assert len(ats) >= 3, ats
    # The first check of a new monitor comes early (FIRST_SPREAD), then the phase: 1 s apart.
    assert all(0.8 < g < 1.2 for g in gaps[1:]) and 0 < gaps[0] < 1.2, gaps
    assert pipeline.monitors["hanging"].last is not None
    assert pipeline.monitors["hanging"].last.reason == "timeout after 1s"
    lag = pipeline.metrics.schedule_lag.collect()[0]
    total = next(s.value for s in lag.samples if s.name.endswith("_sum"))
    count = next(s.value for s in lag.samples if s.name.endswith("_count"))
    report(
        request,
        "scheduling beside a hanging target (1 s intervals)",
        [
            f"schedule lag: {count:.0f} checks, mean {total / count * 1000:.1f} ms",
            "healthy monitor's gaps between checks: " + ", ".join(f"{g:.3f} s" for g in gaps),
        ],
    )
    assert count >= len(ats)
    await parts.aclose()


async def test_a_seems_down_monitor_is_rechecked_at_the_retry_interval(tmp_path):
    async with serve(Target()) as target:
        m = Monitor(
            name="flaky",
            url=target.url("/status/503"),
            interval=3600,
            timeout=1,
            retry_interval=1,
            down_after=3,
        )
        parts = start(tmp_path, [m])
        pipeline, scheduler = parts.pipeline, parts.scheduler
        scheduler.start()
        # Run the first check now instead of waiting for its phase in the 30 s interval.
        await scheduler._run("flaky")
        assert pipeline.monitors["flaky"].state.status is Status.SEEMS_DOWN
        next_run = scheduler.next_run("flaky")
        assert next_run is not None and (next_run - now()).total_seconds() <= 1.0
        await asyncio.sleep(2.5)
        assert pipeline.monitors["flaky"].state.status is Status.DOWN
        # Once down, back to the phased hourly interval.
        next_run = scheduler.next_run("flaky")
        assert next_run is not None
        assert abs(next_run.timestamp() % 3600 - phase_offset("flaky", 3600)) < 0.01
        await scheduler.drain(1)
    assert len(checks_of(pipeline, "flaky")) == 3
    await parts.aclose()


async def test_drain_waits_for_checks_in_flight_and_cancels_what_outlasts_the_bound(tmp_path):
    async with serve(Target()) as target:
        m = Monitor(name="hang", url=target.url("/hang"), interval=30, timeout=30)
        parts = start(tmp_path, [m], schedule=False)
        scheduler = parts.scheduler
        scheduler.start()
        task = asyncio.create_task(scheduler._run("hang"))
        await asyncio.sleep(0.2)
        assert len(scheduler.in_flight) == 1
        started = time.monotonic()
        cancelled = await scheduler.drain(0.5)
        assert cancelled == 1
        assert 0.4 < time.monotonic() - started < 2
        await asyncio.gather(task, return_exceptions=True)
    await parts.aclose()
