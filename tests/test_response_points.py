"""getMonitors' response_times come from a bulk read (``History.response_points``): it must give
the very points and values of the plain series (``History.response_series``) it replaced, as
UptimeRobot's whole seconds and milliseconds, newest first, for any range and bucket."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from probed.history import Retention
from probed.model import CheckResult, Timings
from probed.store.checks import newest_first
from tests.kit.clock import T0
from tests.kit.configs import TOKEN
from tests.kit.harness import Harness, api_client
from tests.kit.monitors import make_monitor

HOURS = 3600.0


def reference(h: Harness, mid: int, start: datetime, end: datetime, bucket: float) -> list:
    """What getMonitors answered before: the series reversed, int(t) and round(s * 1000)."""
    series = h.history.response_series(mid, start, end, bucket)
    return [(int(t), round(s * 1000)) for t, s in reversed(series)]


def fast(h: Harness, mid: int, start: datetime, end: datetime, bucket: float) -> list:
    points = h.history.response_points(mid, start, end, bucket)
    assert len(points.times) == len(points.values)
    return [(t // 1000, v) for t, v in zip(points.times, points.values, strict=True)]


def result(at: datetime, ok: bool, ms: int) -> CheckResult:
    return CheckResult(
        ok=ok,
        reason="HTTP 200" if ok else "HTTP 503, expected 2xx",
        at=at,
        status_code=200 if ok else 503,
        timings=Timings(total=ms / 1000),
    )


@pytest.fixture
async def history(tmp_path, monkeypatch):
    """Three days 93 days ago (daily roll-ups by now), hours of results every 10 minutes (hourly
    ones) and a last day every 7 to 13 s, some pairs within one second (raw results, kept
    for 6 hours); one in nine failed."""
    h = Harness.of(tmp_path / "db", [make_monitor("a")], retention=Retention(raw=6 * HOURS))
    mid = h.tracked("a").id
    rng = random.Random(13)
    times = [T0 + timedelta(minutes=10 * i) for i in range(3 * 144)]
    times += [T0 + timedelta(days=88, minutes=10 * i) for i in range(4 * 144)]
    at = T0 + timedelta(days=92)
    while at < T0 + timedelta(days=93):
        times.append(at)
        if rng.random() < 0.05:
            times.append(at + timedelta(milliseconds=rng.randrange(1, 999)))
        at += timedelta(milliseconds=rng.randrange(7000, 13000))
    with h.store.transaction():
        h.store.checks.add_many(
            (mid, result(t, rng.random() > 1 / 9, rng.randrange(1, 3000))) for t in times
        )
    h.clock.t = T0 + timedelta(days=93)
    while h.history.rollup_step() or h.history.rollup_step():
        pass
    while h.history.prune_step():
        pass
    yield h, mid
    await h.close()


async def test_the_bulk_read_gives_the_series_points_for_every_range_and_bucket(history):
    h, mid = history
    now = h.clock()
    assert h.store.rollups.rows("daily", mid) and h.store.rollups.rows("hourly", mid)
    ranges = [
        (now - timedelta(days=1), now),  # getMonitors' default: hourly means, then raw
        (now - timedelta(days=7), now),
        (T0 - timedelta(days=1), now),  # daily, hourly and raw
        (T0 + timedelta(days=1, seconds=17.5), T0 + timedelta(days=88, hours=5, seconds=3.25)),
        (now - timedelta(hours=5, milliseconds=333), now - timedelta(hours=1, milliseconds=1)),
        (now - timedelta(hours=2), now - timedelta(hours=2)),
        (now + timedelta(hours=1), now + timedelta(hours=3)),
    ]
    for bucket in (0.0, 1.0, 37.0, 60.0, 1800.0, 86400.0, 7 * 86400.0):
        for start, end in ranges:
            expected = reference(h, mid, start, end, bucket)
            assert fast(h, mid, start, end, bucket) == expected, (start, end, bucket)
        assert len(fast(h, mid, now - timedelta(days=1), now, bucket)) > (
            10 if bucket < 3600 else 0
        )


async def test_raw_results_are_each_a_point_newest_first(history):
    h, mid = history
    now = h.clock()
    raw = fast(h, mid, now - timedelta(hours=5), now, 0.0)
    assert len(raw) > 1000
    assert [t for t, _ in raw] == sorted((t for t, _ in raw), reverse=True)
    # Means of several: some fall on half a millisecond, which must round as before.
    means = [
        total / count
        for _, total, count in h.store.checks.good_bucket_sums(
            mid,
            round((now - timedelta(hours=5)).timestamp() * 1000),
            round(now.timestamp() * 1000),
            60_000,
        )
    ]
    assert any(mean % 1 == 0.5 for mean in means)


def test_results_out_of_order_are_put_newest_first_each_with_its_duration():
    assert newest_first([1000, 3000, 2000, 2999], [1, 3, 2, 4]) == (
        [3000, 2999, 2000, 1000],
        [3, 4, 2, 1],
    )
    assert newest_first([3000, 2999, 5], [3, 4, 2]) == ([3000, 2999, 5], [3, 4, 2])
    assert newest_first([], []) == ([], [])


async def test_get_monitors_answers_the_series_points(history):
    h, mid = history
    now = h.clock()
    async for client in api_client(h):
        for form, start, bucket in [
            ({}, now - timedelta(days=1), 0.0),
            ({"response_times_average": "30"}, now - timedelta(days=1), 1800.0),
            (
                {
                    "response_times_start_date": str(int(now.timestamp()) - 3 * 86400 - 17),
                    "response_times_end_date": str(int(now.timestamp())),
                    "response_times_average": "7",
                },
                now - timedelta(days=3, seconds=17),
                420.0,
            ),
        ]:
            resp = await client.post(
                "/v2/getMonitors", data={"api_key": TOKEN, "response_times": "1", **form}
            )
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
            (answer,) = (await resp.json())["monitors"]
            expected = reference(h, mid, start, now, bucket)
            assert len(expected) > 10
            assert answer["response_times"] == [{"datetime": t, "value": v} for t, v in expected]
            assert [list(point) for point in answer["response_times"][:2]] == [
                ["datetime", "value"]
            ] * 2


async def test_an_offset_beyond_64_bits_still_answers_an_empty_page(tmp_path, monkeypatch):
    # orjson encodes no integer beyond 64 bits: the json module answers such a page.
    h = Harness.of(tmp_path / "db", [make_monitor("a")])
    async for client in api_client(h):
        resp = await client.post("/v2/getMonitors", data={"api_key": TOKEN, "offset": "9" * 30})
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
        body = await resp.json()
        assert body["pagination"] == {"offset": int("9" * 30), "limit": 50, "total": 1}
        assert body["monitors"] == []
    await h.close()
