"""History in SQLite: runs, hourly roll-ups, bounded pruning and the reads built on them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from probed.history import Retention, rollup
from probed.history.jobs import REFRESH_GAP
from probed.history.uptime import Change, Timeline, timeline
from probed.model import Status
from tests.kit.clock import T0, FakeClock
from tests.kit.harness import Harness
from tests.kit.monitors import make_monitor
from tests.kit.tools import promtool_lint

T0_MS = round(T0.timestamp() * 1000)
HOUR = 3600


@pytest.fixture
async def harness(make_harness):
    return make_harness([make_monitor("a", down_after=2), make_monitor("b", down_after=2)])


async def every_minute(h: Harness, name: str, minutes: int, **check: object) -> None:
    for _ in range(minutes):
        await h.check(name, **check)
        h.clock.advance(60)


def hourly(h: Harness, name: str) -> list[tuple[int, int, int, int, int, int]]:
    """The monitor's hourly rows, hours as seconds after T0."""
    return [
        ((hour - T0_MS) // 1000, *rest)
        for hour, *rest in h.store.rollups.rows("hourly", h.tracked(name).id)
    ]


def raw_results(h: Harness) -> tuple[int, int | None]:
    """(count, seconds from T0 to the oldest) of the raw results kept for monitor "a"."""
    times = h.store.checks.times(h.tracked("a").id)
    return len(times), (times[0] - T0_MS) // 1000 if times else None


def timeline_reads(h: Harness) -> list[list[int]]:
    """From now on, the monitor ids of each timelines read ``h``'s history makes, in order;
    the reads themselves still go to the store."""
    reads: list[list[int]] = []
    timelines = h.history.timelines

    def counted(
        ids: Sequence[int], since: datetime | None = None
    ) -> dict[int, tuple[list[Change], Timeline]]:
        reads.append(sorted(ids))
        return timelines(ids, since)

    h.history.timelines = counted  # type: ignore[method-assign]
    return reads


def rollup_all(h: Harness) -> int:
    steps = 0
    while h.history.rollup_step():
        steps += 1
    return steps + 1


async def test_hourly_rollups_count_checks_failures_and_good_response_times(harness):
    h = harness
    await every_minute(h, "a", 60, duration=0.1)  # hour 0: 60 good at 100 ms
    for i in range(60):  # hour 1: alternating good (200/300 ms) and failed (5 s timeouts)
        await h.check(
            "a", ok=i % 2 == 0, duration=(0.2 if i % 4 == 0 else 0.3) if i % 2 == 0 else 5
        )
        h.clock.advance(60)
    await every_minute(h, "a", 10)  # hour 2: not over yet
    h.clock.t = T0 + timedelta(hours=2, minutes=20)  # hour 1 ended 20 min ago (> SETTLE)
    rollup_all(h)
    assert hourly(h, "a") == [(0, 60, 0, 6000, 100, 100), (3600, 60, 30, 7500, 200, 300)]
    assert h.history.rolled_up_to() == T0 + timedelta(hours=2)
    # Rolling up again changes nothing: each hour is rolled once.
    assert h.history.rollup_step() is False
    assert hourly(h, "a")[1] == (3600, 60, 30, 7500, 200, 300)


async def test_an_hour_is_rolled_up_only_after_it_has_settled(harness):
    h = harness
    await every_minute(h, "a", 60)
    h.clock.t = T0 + timedelta(hours=1, minutes=5)
    assert h.history.rollup_step() is False and hourly(h, "a") == []
    h.clock.t = T0 + timedelta(hours=1, minutes=16)
    h.history.rollup_step()
    assert [row[:2] for row in hourly(h, "a")] == [(0, 60)]


async def test_the_rollup_jumps_over_the_hours_the_daemon_was_stopped(harness):
    h = harness
    await every_minute(h, "a", 5)
    h.clock.t = T0 + timedelta(days=20)
    await every_minute(h, "a", 5)
    h.clock.advance(2 * HOUR)
    # hour 0, then one empty hour that looks up the next results, then hour 480: not 480 steps
    assert rollup_all(h) == 3
    assert [row[0] // HOUR for row in hourly(h, "a")] == [0, 480]


async def test_raw_results_are_pruned_after_raw_retention_but_only_once_rolled_up(
    tmp_path, monkeypatch
):
    h = Harness.of(
        tmp_path / "db", [make_monitor("a", down_after=2)], retention=Retention(raw=3 * HOUR)
    )
    await every_minute(h, "a", 6 * 60)  # 6 hours of results, 0h-6h
    h.history.prune_step()
    assert raw_results(h)[0] == 360  # nothing rolled up
    rollup_all(h)  # hours 0-4 (hour 5 ended less than SETTLE ago)
    h.history.prune_step()
    # now is 6h: raw older than 3h goes; hours 3-5 stay
    assert raw_results(h) == (180, 3 * HOUR)
    assert [row[1] for row in hourly(h, "a")] == [60] * 5
    await h.close()


async def test_pruning_keeps_each_monitors_last_result_and_works_in_bounded_batches(
    tmp_path, monkeypatch
):
    h = Harness.of(
        tmp_path / "db", [make_monitor("a", down_after=2)], retention=Retention(raw=2 * HOUR)
    )
    await h.check("a")
    last = h.store.last_check(h.tracked("a").id)
    h.clock.advance(10 * HOUR)  # paused, say: no results for 10 hours
    rollup_all(h)
    h.history.prune_step()
    assert h.store.last_check(h.tracked("a").id) == last

    await every_minute(h, "a", 120)
    h.clock.advance(4 * HOUR)
    rollup_all(h)
    monkeypatch.setattr(rollup, "BATCH", 50)
    assert h.history.prune_step() is True  # a full batch: more to do
    calls = 1
    while h.history.prune_step():
        calls += 1
    assert calls + 1 == 3  # 120 old results, 50 at a time (the newest stays): 50, 50, 20
    assert raw_results(h)[0] == 1
    await h.close()


async def test_history_retention_prunes_rollups_transitions_and_runs_but_keeps_the_state(
    tmp_path, monkeypatch
):
    clock = FakeClock()
    retention = Retention(raw=2 * HOUR, history=10 * 86400)
    h = Harness.of(tmp_path / "db", [make_monitor("a", down_after=2)], clock, retention=retention)
    await h.check("a")
    for _ in range(3):  # three short outages on day 0
        await every_minute(h, "a", 2, ok=False)
        await every_minute(h, "a", 30)
    assert h.kinds("a")[:3] == ["first_up", "seems_down", "down"]
    h.history.stop_run()
    clock.advance(20 * 86400)  # the daemon was stopped for 20 days
    h.history.start_run()
    await every_minute(h, "a", 30)
    clock.advance(HOUR)
    rollup_all(h)
    while h.history.prune_step():
        pass
    # Only the last transition before the cut survives: it says the monitor was up.
    assert h.kinds("a") == ["up"]
    assert [row[0] // 86400 for row in hourly(h, "a")] == [20]
    assert len(h.history.runs()) == 1
    line = timeline(h.history.changes(None)[h.tracked("a").id], h.history.runs(), clock())
    assert line.ratio(T0, clock()) == 1.0
    await h.close()


async def test_mean_response_combines_rollups_and_raw_results(harness):
    h = harness
    await every_minute(h, "a", 60, duration=0.1)
    await every_minute(h, "a", 60, duration=0.3)
    await every_minute(h, "a", 30, duration=0.5)
    await every_minute(h, "a", 10, ok=False, duration=9.0)  # failures do not count
    rollup_all(h)  # hours 0 and 1 rolled; hour 2 stays raw
    assert h.history.rolled_up_to() == T0 + timedelta(hours=2)
    means = h.history.mean_response(None, T0, h.clock())
    expected = (60 * 0.1 + 60 * 0.3 + 30 * 0.5) / 150
    assert means[h.tracked("a").id] == pytest.approx(expected)
    assert h.tracked("b").id not in means
    last_hour = h.history.mean_response(None, T0 + timedelta(hours=2), h.clock())
    assert last_hour[h.tracked("a").id] == pytest.approx(0.5)


async def test_response_series_are_per_check_where_raw_results_are_kept_and_hourly_before(
    tmp_path, monkeypatch
):
    h = Harness.of(
        tmp_path / "db", [make_monitor("a", down_after=2)], retention=Retention(raw=HOUR)
    )
    await every_minute(h, "a", 120, duration=0.2)
    await every_minute(h, "a", 30, duration=0.4)
    rollup_all(h)  # hours 0, 1 rolled up
    mid = h.tracked("a").id
    series = h.history.response_series(mid, T0, h.clock())
    # raw horizon: floor_hour(min(now - 1h, 2h)) = 1h → hour 0 is one hourly point
    assert series[0] == (T0.timestamp(), pytest.approx(0.2))
    assert len(series) == 1 + 60 + 30
    assert series[-1] == (T0.timestamp() + 149 * 60, 0.4)
    per_half_hour = h.history.response_series(mid, T0, h.clock(), bucket=1800)
    assert [round(v, 3) for _, v in per_half_hour] == [0.2, 0.2, 0.2, 0.4]
    await h.close()


async def test_a_crashed_run_ends_at_its_last_heartbeat_and_the_current_one_at_now(
    tmp_path, monkeypatch
):
    clock = FakeClock()
    h = Harness.of(tmp_path / "db", [], clock)
    clock.advance(120)
    h.history.heartbeat()
    clock.advance(30)  # crash: no stop recorded
    h.history.run_id = None
    h.history.start_run()
    clock.advance(60)
    assert h.history.runs() == [
        (T0, T0 + timedelta(seconds=120)),
        (clock.t - timedelta(seconds=60), None),
    ]
    h.history.stop_run()
    assert h.history.runs()[-1] == (T0 + timedelta(seconds=150), clock())
    await h.close()


async def test_a_pinned_id_takes_the_rollups_along(harness):
    h = harness
    await every_minute(h, "a", 60)
    h.clock.advance(HOUR)
    rollup_all(h)
    moved = h.store.sync_monitors([("a", "k", 4242), ("b", "k", None)], h.clock())["a"]
    assert moved.id == 4242
    assert len(h.store.rollups.rows("hourly", 4242)) == 1


async def test_timelines_from_the_store_match_the_states_the_pipeline_went_through(harness):
    h = harness
    await every_minute(h, "a", 60)
    await every_minute(h, "a", 30, ok=False)  # down from 1h (2 failures confirm)
    await every_minute(h, "a", 30)
    changes, line = h.history.timelines([h.tracked("a").id])[h.tracked("a").id]
    assert [c.new for c in changes] == [Status.UP, Status.SEEMS_DOWN, Status.DOWN, Status.UP]
    assert line.ratio(T0, h.clock()) == pytest.approx(1.5 / 2)
    assert changes[2].outage_start.timestamp() // HOUR * HOUR == T0.timestamp() + HOUR


async def test_housekeeping_refreshes_uptime_ratio_metrics_and_keeps_history_bounded(
    harness, tmp_path
):
    h = harness
    await every_minute(h, "a", 90)  # a: up 1h30m …
    await every_minute(h, "a", 30, ok=False)  # … then down 30 min: 75% in every window
    jobs = h.parts.housekeeping
    jobs.refresh_uptime()
    sample = h.metrics.registry.get_sample_value
    for window in ("1d", "7d", "30d"):
        assert sample("probed_uptime_ratio", {"monitor": "a", "window": window}) == 0.75
    # b was never checked: no ratio rather than a made-up one
    assert sample("probed_uptime_ratio", {"monitor": "b", "window": "1d"}) is None
    text = h.metrics.render()
    h.clock.advance(20 * 60)
    assert await jobs.maintain() is False  # hours 0 and 1 rolled up, nothing left to prune
    assert [row[1] for row in hourly(h, "a")] == [60, 60]
    h.pipeline.untrack("a")
    assert b'probed_uptime_ratio{monitor="a"' not in h.metrics.render()
    promtool_lint(text)  # last: without promtool the rest is still checked


async def test_a_new_monitor_has_its_uptime_ratio_from_its_first_check(harness):
    sample = harness.metrics.registry.get_sample_value
    assert sample("probed_uptime_ratio", {"monitor": "a", "window": "1d"}) is None
    await harness.check("a")  # pending → up, the very first check: no time observed yet
    for window in ("1d", "7d", "30d"):
        assert sample("probed_uptime_ratio", {"monitor": "a", "window": window}) == 1.0
    harness.clock.advance(60)
    await harness.check("a", ok=False)
    harness.clock.advance(60)
    await harness.check("a", ok=False)  # down (down_after 2), backdated a minute
    # Transitions this close together share one refresh, at most REFRESH_GAP later.
    await asyncio.sleep(REFRESH_GAP * 2)
    assert sample("probed_uptime_ratio", {"monitor": "a", "window": "1d"}) == 0.5


async def test_a_burst_of_transitions_is_refreshed_in_one_read_soon_after(harness):
    h = harness
    sample = h.metrics.registry.get_sample_value
    await h.check("a")
    await h.check("b")
    await asyncio.sleep(REFRESH_GAP * 2)
    reads = timeline_reads(h)
    h.clock.advance(60)
    for _ in range(2):  # down_after 2: seems down, then down, for both
        await h.check("a", ok=False)
        await h.check("b", ok=False)
        h.clock.advance(60)
    first = reads[:]
    await asyncio.sleep(REFRESH_GAP * 2)
    ida, idb = h.tracked("a").id, h.tracked("b").id
    # One read at the first transition, then one for everything that changed after it.
    assert first == [[ida]]
    assert reads == [[ida], sorted([ida, idb])]
    for name in ("a", "b"):
        assert sample("probed_uptime_ratio", {"monitor": name, "window": "1d"}) == pytest.approx(
            1 / 3
        )


async def test_hourly_rollups_older_than_90_days_become_daily_ones_and_reads_use_them(harness):
    h = harness
    await every_minute(h, "a", 60, duration=0.1)
    await every_minute(h, "a", 60, duration=0.3)
    await every_minute(h, "a", 60, ok=False, duration=9.0)
    h.clock.t = T0 + timedelta(days=92)
    await every_minute(h, "a", 30, duration=0.5)
    while h.history.rollup_step():
        pass
    # Hours caught up; now each call folds one day older than 90 days into a daily row.
    steps = 1
    while h.history.rollup_step():
        steps += 1
    assert steps <= 3
    mid = h.tracked("a").id
    day = T0_MS - 12 * HOUR * 1000  # T0 is noon
    assert h.store.rollups.rows("daily", mid) == [(day, 180, 60, 60 * 100 + 60 * 300, 100, 300)]
    assert [hour for hour, *_ in hourly(h, "a")] == []  # the 30 minutes on day 92 are still raw
    means = h.history.mean_response([mid], T0, h.clock())
    assert means[mid] == pytest.approx((60 * 0.1 + 60 * 0.3 + 30 * 0.5) / 150)
    assert h.history.mean_response([mid], T0, T0 + timedelta(days=1))[mid] == pytest.approx(0.2)
    series = h.history.response_series(mid, T0, T0 + timedelta(days=1))
    assert series == [(day / 1000, pytest.approx(0.2))]


async def test_two_checks_in_the_same_millisecond_are_both_kept(harness):
    h = harness
    await h.check("a", duration=0.1)
    await h.check("a", duration=0.2)  # the clock did not move
    times = h.store.checks.times(h.tracked("a").id)
    assert times == [T0_MS, T0_MS + 1]
    last = h.store.last_check(h.tracked("a").id)
    assert last is not None and last.duration == 0.2


async def test_the_minute_refresh_skips_monitors_up_without_downtime_until_they_change(harness):
    h = harness
    sample = h.metrics.registry.get_sample_value
    jobs = h.parts.housekeeping
    await every_minute(h, "a", 60)  # a: up for an hour, no downtime
    await every_minute(h, "b", 30)
    await every_minute(h, "b", 30, ok=False)  # b: down for the last half hour
    jobs.refresh_uptime()
    reads = timeline_reads(h)
    h.clock.advance(60)
    jobs.refresh_uptime()
    # a reads 100 % in every window until a transition: only b is read again.
    assert reads == [[h.tracked("b").id]]
    assert sample("probed_uptime_ratio", {"monitor": "a", "window": "1d"}) == 1.0
    await h.check("a", ok=False)
    await h.check("a", ok=False)  # a goes down: the transition refreshes it, and it is read again
    await asyncio.sleep(REFRESH_GAP * 2)
    reads.clear()
    h.clock.advance(60)
    jobs.refresh_uptime()
    assert reads == [sorted([h.tracked("a").id, h.tracked("b").id])]
    assert sample("probed_uptime_ratio", {"monitor": "a", "window": "1d"}) < 1.0
