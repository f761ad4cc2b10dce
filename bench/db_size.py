"""How big the state database gets, and how fast the APIs answer, for N monitors over a month
and a year.

N monitors checked every I seconds for a simulated year on a fake clock, in a probed made by
``build()`` with its probe replaced: outages and recoveries go through the real pipeline (state
machine, store, alerts), the good results through ``store.checks.add_many`` every ten minutes, for
speed, and the daemon's housekeeping (``Housekeeping.maintain``: roll-ups and pruning, every 10
simulated minutes) keeps the history bounded. After 30 and after 365 days the file size is
measured and the real aiohttp app serves getMonitors and /api/v1/monitors over that database, on
a fresh connection: each request timed until its answer is read, in wall time and in CPU time
(the process's: the server's and the test client's HTTP, not the client's JSON decoding).

Only the 36 hours before each measurement are checked every I seconds, the rest once an hour,
and the days that are only daily roll-ups at the year mark once every 6 hours: raw results older
than the 24 h raw retention are pruned anyway, and what they leave, one roll-up row per monitor
and hour (or day), has the same columns whether it counts 1 check or 60. Only its sums take a
byte or two less: a daily row of 4 checks is up to 2 bytes smaller than one of 1,440, about
0.5 MB over the year's 275,000 daily rows. ``--full`` checks every I seconds throughout (hours).

    .venv/bin/python bench/db_size.py [--monitors 1000] [--interval 60] [--full]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from probed import logs
from probed.config import Config, Monitor, Settings
from probed.engine.pipeline import Tracked
from probed.model import CheckResult, MonitorState, Status, Timings
from probed.service.build import build
from probed.store import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MEASURE_DAYS = (30, 365)
"""Measure after a month and after a year."""
HOURLY_DAYS = 90
"""Hourly roll-ups older than this are folded into daily ones."""
OUTAGES_PER_MONITOR_MONTH = 2.0


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> datetime:
        return self.t


def outage_plan(n: int, days: float, rng: random.Random) -> dict[int, list[tuple[float, float]]]:
    """Per monitor index: (start, end) unix times of its outages, 2 to 30 minutes each."""
    plan: dict[int, list[tuple[float, float]]] = {}
    count = int(n * OUTAGES_PER_MONITOR_MONTH * days / 30)
    for _ in range(count):
        start = T0.timestamp() + rng.uniform(0, days * 86400)
        plan.setdefault(rng.randrange(n), []).append((start, start + rng.uniform(120, 1800)))
    return plan


def timepoints(args: argparse.Namespace) -> Iterator[float]:
    """Check times: every ``interval`` in the ``dense_days`` before each measurement, every
    ``sparse_interval`` otherwise, and every ``daily_interval`` on the days a measurement sees
    only as daily roll-ups (older than 90 days)."""
    at = T0.timestamp()
    for days in MEASURE_DAYS:
        end = T0.timestamp() + days * 86400
        dense_from = end - args.dense_days * 86400
        hourly_from = end - (HOURLY_DAYS + 1) * 86400
        while at < end:
            yield at
            if at >= dense_from:
                at += args.interval
            elif at >= hourly_from or days == MEASURE_DAYS[0]:
                at += args.sparse_interval
            else:
                at += args.daily_interval


def make_config(args: argparse.Namespace, state_dir: Path) -> Config:
    monitors = tuple(
        Monitor(name=f"site-{i:04}", url=f"https://site-{i:04}.example/", interval=args.interval)
        for i in range(args.monitors)
    )
    settings = Settings(state_dir=state_dir, api_token="token")
    return Config(state_dir / "monitors.toml", settings, monitors)


class Simulation:
    """The monitors of a probed made by ``build()``, fed results on a fake clock."""

    def __init__(self, config: Config, args: argparse.Namespace, clock: Clock) -> None:
        self.args, self.clock = args, clock
        self.rng = random.Random(4)
        self.next: CheckResult | None = None
        self.parts = parts = build(config, clock, probe=self.probe)
        self.store = store = parts.store
        store.tune_for_bulk_load()
        self.history, self.jobs = parts.history, parts.housekeeping
        self.tracked: list[Tracked] = list(parts.pipeline.monitors.values())
        for t in self.tracked:
            t.state = MonitorState(Status.UP, T0)  # as if each had had its first check
            store.save_state(t.id, t.state)
        names = [t.monitor.name for t in self.tracked]
        # Outage starts and ends as (time, monitor index, down?) events, in time order.
        self.events = sorted(
            (t, i, down)
            for i, spans in outage_plan(args.monitors, MEASURE_DAYS[-1], self.rng).items()
            for a, b in spans
            for t, down in ((a, True), (b, False))
        )
        self.cert = T0 + timedelta(days=80)
        self.base = [self.rng.lognormvariate(-2.0, 0.5) for _ in names]  # ~135 ms median
        self.jitter = [self.rng.uniform(0.8, 1.3) for _ in range(args.monitors + 7)]

    async def probe(self, monitor: Monitor, now: datetime) -> CheckResult:
        assert self.next is not None
        return self.next

    def good(self, i: int, at: datetime, duration: float) -> CheckResult:
        # An https check on a fresh connection: DNS, connect (with the TLS handshake, which
        # aiohttp reports inside it) and the first byte are measured every time.
        timings = Timings(
            dns=0.002, connect=0.01 + duration * 0.1, first_byte=duration * 0.9, total=duration
        )
        return CheckResult(
            ok=True,
            reason="HTTP 200",
            at=at,
            status_code=200,
            timings=timings,
            cert_expires_at=self.cert,
        )

    async def run(self, until_days: float, points: Iterator[float]) -> None:
        """Simulate until ``until_days`` (taking check times from ``points``)."""
        store, clock, tracked = self.store, self.clock, self.tracked
        down: set[int] = set()
        busy: set[int] = set()
        """Monitors that were failing or recovering at the last tick."""
        pending: list[tuple[int, CheckResult]] = []
        next_flush = next_report = clock.t.timestamp()
        end = T0.timestamp() + until_days * 86400
        started = time.monotonic()
        for tick, at in enumerate(points):
            clock.t = T0 + timedelta(seconds=at - T0.timestamp())
            while self.events and self.events[0][0] <= at:
                _, i, is_down = self.events.pop(0)
                (down.add if is_down else down.discard)(i)
            special = down | {i for i in busy if tracked[i].state.status is not Status.UP}
            busy = special
            for i in special:
                t, failing = tracked[i], i in down
                result = (
                    CheckResult(
                        ok=False,
                        reason="HTTP 503, expected 2xx",
                        at=clock.t,
                        status_code=503,
                        timings=Timings(total=5.0),
                    )
                    if failing
                    else self.good(i, clock.t, self.base[i])
                )
                self.next = result
                await self.parts.pipeline.check(t.monitor.name)
            shift = tick % len(self.jitter)
            jitter = self.jitter[shift:] + self.jitter[:shift]
            pending += [
                (t.id, self.good(i, clock.t, b * j))
                for i, (t, b, j) in enumerate(zip(tracked, self.base, jitter, strict=False))
                if i not in special
            ]
            self.history.heartbeat()
            if at >= next_flush:
                # As the daemon's housekeeping, every ten minutes; the results of those minutes
                # go in one transaction: the same rows as one per check, without a WAL frame each.
                with store.transaction():
                    store.checks.add_many(pending)
                pending.clear()
                await self.jobs.maintain()
                next_flush = at + 600
            if at >= next_report:
                days = (at - T0.timestamp()) / 86400
                print(f"  simulated {days:5.1f} days ({time.monotonic() - started:.0f} s)")
                next_report = at + 30 * 86400
            if at + self.args.interval >= end:
                break
        with store.transaction():
            store.checks.add_many(pending)
        clock.t = T0 + timedelta(days=until_days)
        while await self.jobs.maintain():
            pass


def report_size(store: Store, days: int) -> float:
    store.checkpoint()
    total, by_table = store.sizes()
    print(f"database size after {days} days: {total / 1e6:.1f} MB")
    for name in sorted(by_table, key=by_table.__getitem__, reverse=True)[:6]:
        print(f"  {name}: {by_table[name] / 1e6:.1f} MB")
    return total / 1e6


async def latency(config: Config, clock: Clock, monitors: int) -> tuple[list[str], float]:
    """The latency lines, and the total ms of the dashboard's getMonitors pages, from a probed
    freshly built on the database (a restart)."""
    parts = build(config, clock, probe=_never)
    base = {"api_key": "token"}
    dashboard = dict(
        base, custom_uptime_ratios="1-7-30", all_time_uptime_ratio="1", logs="1", ssl="1"
    )
    requests = [
        ("getMonitors, plain", base),
        ("getMonitors + uptime 1/7/30 d, all-time, logs, ssl", dashboard),
        ("  … + response_times (24 h, one per check)", dict(dashboard, response_times="1")),
        (
            "  … + response_times averaged per 30 min",
            dict(dashboard, response_times="1", response_times_average="30"),
        ),
    ]
    pages = monitors // 50 + (monitors % 50 > 0)
    lines = [f"latency over {monitors} monitors ({pages} pages of 50 for getMonitors):"]
    totals: dict[str, float] = {}
    async with TestClient(TestServer(parts.app)) as client:

        async def timed(call: object) -> tuple[float, float]:
            """Wall and CPU seconds until the whole answer is read (the client's JSON decoding
            is its own affair: 110 ms for a page of response_times with the json module)."""
            wall, cpu = time.perf_counter(), time.process_time()
            resp = await call  # type: ignore[misc]
            raw = await resp.read()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            body = json.loads(raw)
            assert resp.status == 200 and body.get("stat", "ok") == "ok", body
            return wall, cpu

        for label, form in requests:
            # A warm-up pass, then the fastest of three: other work on the machine only ever
            # adds time.
            runs = [
                [
                    await timed(client.post("/v2/getMonitors", data=dict(form, offset=str(i * 50))))
                    for i in range(pages)
                ]
                for _ in range(4)
            ]
            best = min(runs[1:], key=lambda run: sum(wall for wall, _ in run))
            page = statistics.median(wall for wall, _ in best)
            cpu = statistics.median(cpu for _, cpu in best)
            totals[label] = sum(wall for wall, _ in best) * 1000
            lines.append(
                f"  {label}: {page * 1000:.0f} ms per page (CPU {cpu * 1000:.0f} ms),"
                f" {totals[label]:.0f} ms for all"
            )
        v1 = [await timed(client.get("/api/v1/monitors")) for _ in range(4)]
        wall, cpu = min(v1[1:])
        lines.append(
            f"  GET /api/v1/monitors (all, with 1d/7d/30d/all uptime, 24 h mean, incidents):"
            f" {wall * 1000:.0f} ms (CPU {cpu * 1000:.0f} ms)"
        )
    await parts.aclose()
    return lines, totals[requests[1][0]]


async def _never(monitor: Monitor, now: datetime) -> CheckResult:
    raise AssertionError("the latency run checks nothing")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--monitors", type=int, default=1000)
    parser.add_argument("--interval", type=int, default=60, help="seconds")
    parser.add_argument(
        "--dense-days", type=float, default=1.5, help="days before each measurement at --interval"
    )
    parser.add_argument(
        "--sparse-interval", type=int, default=3600, help="seconds between checks otherwise"
    )
    parser.add_argument(
        "--daily-interval",
        type=int,
        default=6 * 3600,
        help="seconds between checks on days older than 90 days at the last measurement",
    )
    parser.add_argument("--full", action="store_true", help="every --interval throughout")
    parser.add_argument("--keep", type=Path, help="leave the database in this directory")
    parser.add_argument("--month-only", action="store_true", help="stop after 30 days")
    args = parser.parse_args()
    if args.full:
        args.dense_days = MEASURE_DAYS[-1]
        args.daily_interval = args.sparse_interval = args.interval
    print(
        f"{args.monitors} monitors every {args.interval} s"
        f" (outside the {args.dense_days:g} days before each measurement every"
        f" {args.sparse_interval} s, every {args.daily_interval} s on days older than"
        f" {HOURLY_DAYS} at the last):"
    )
    logs.configure("error")  # a log line per simulated outage check is not the point here
    with tempfile.TemporaryDirectory() as scratch:
        config = make_config(args, Path(args.keep or scratch))
        clock = Clock()
        sim = Simulation(config, args, clock)
        store = sim.store
        points = timepoints(args)
        summary = []
        started = time.monotonic()
        for days in MEASURE_DAYS[:1] if args.month_only else MEASURE_DAYS:
            await sim.run(days, points)
            print(f"simulated {days} days in {time.monotonic() - started:.0f} s")
            size = report_size(store, days)
            lines, dashboard = await latency(config, clock, args.monitors)
            for line in lines:
                print(line)
            summary.append(
                f"after {days:3} days: {size:5.1f} MB; getMonitors (all {args.monitors},"
                f" uptime ratios, all-time, logs, ssl): {dashboard:.0f} ms"
            )
        await sim.parts.aclose()
        print(f"per {args.monitors} monitors at {args.interval} s:")
        for line in summary:
            print("  " + line)


if __name__ == "__main__":
    asyncio.run(main())
