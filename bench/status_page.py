"""How fast the public status page renders, and how heavy it is, for N monitors with 90 days
of history.

N monitors on a fake clock in a probed made by ``build()`` with its probe replaced: 90 days of
history go through the real pipeline (state machine, store), one check every 6 hours per
monitor before the last day and every 5 minutes during it, with an outage of a few hours on
about one monitor-day in twenty (``--outage-rate``); the daemon's housekeeping rolls the
results up. Then the real app serves ``GET /`` and ``GET /api/v1/status`` over a real socket:
the time of each answer (reading the store, the uptime maths, rendering) and the page's size,
raw and gzip-compressed as it is sent to a browser that accepts gzip.

    .venv/bin/python bench/status_page.py [--monitors 500] [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gzip
import pstats
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from probed import logs
from probed.config import Config, Monitor, Settings
from probed.history import History
from probed.model import CheckResult, Timings
from probed.service.build import build
from probed.status.collect import collect
from probed.web.public import render_page

DAYS = 90
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.t = start

    def __call__(self) -> datetime:
        return self.t


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--monitors", type=int, default=500)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--state-dir", type=Path, help="keep the database here; reuse it when it is there"
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one page")
    parser.add_argument("--save", type=Path, help="write the page's HTML to this file")
    parser.add_argument(
        "--outage-rate",
        type=float,
        default=0.05,
        help="share of monitor-days with an outage (default 0.05: one in twenty)",
    )
    args = parser.parse_args()
    logs.configure("error")
    rng = random.Random(10)
    with tempfile.TemporaryDirectory() as scratch:
        tmp = str(args.state_dir or scratch)
        reuse = (Path(tmp) / "probed.db").exists()
        monitors = tuple(
            Monitor(
                name=f"service-{i:04d}",
                url=f"https://service-{i}.example.test/health",
                down_after=1,
                group=f"Group {i % 8}",
                slo=0.999 if i % 3 == 0 else None,
            )
            for i in range(args.monitors)
        )
        config = Config(Path(tmp) / "monitors.toml", Settings(state_dir=Path(tmp)), monitors)
        clock = Clock(NOW if reuse else NOW - timedelta(days=DAYS))
        failing: set[str] = set()

        async def probe(monitor: Monitor, now: datetime) -> CheckResult:
            ok = monitor.name not in failing
            duration = 0.05 + rng.random() * 0.3
            reason = "HTTP 200" if ok else "HTTP 503, expected 2xx"
            return CheckResult(ok, reason, now, Timings(total=duration), 200 if ok else 503)

        parts = build(config, clock, probe=probe)
        started = time.perf_counter()
        step = timedelta(hours=6)
        while clock.t < NOW and not reuse:
            if clock.t >= NOW - timedelta(days=1):
                step = timedelta(minutes=5)
            # One failed check per monitor-day in twenty (by default), whatever the step.
            chance = args.outage_rate * step / timedelta(days=1)
            failing = {m.name for m in monitors if rng.random() < chance}
            for m in monitors:
                await parts.pipeline.check(m.name)
            if clock.t.minute == 0:
                while await parts.housekeeping.maintain():
                    pass
            clock.t += step
        clock.t = NOW
        while not reuse and await parts.housekeeping.maintain():
            pass
        print(
            f"history of {args.monitors} monitors over {DAYS} days written in"
            f" {time.perf_counter() - started:.0f} s"
        )
        async with TestClient(TestServer(parts.app, host="127.0.0.1")) as client:
            for path, label in (("/", "GET /"), ("/api/v1/status", "GET /api/v1/status")):
                times, raw, sent = [], 0, 0
                # The first request of each path renders; the others are served from the
                # 15-second cache (nothing changes meanwhile), as most readers' would be.
                for _ in range(args.runs):
                    t = time.perf_counter()
                    resp = await client.get(path, headers={"Accept-Encoding": "gzip"})
                    body = await resp.read()
                    times.append(time.perf_counter() - t)
                    raw = len(body)
                    if args.save is not None and path == "/":
                        args.save.write_bytes(body)
                    sent = len(gzip.compress(body, 6))
                print(
                    f"{label}: first {times[0] * 1000:.0f} ms, then median"
                    f" {statistics.median(times[1:] or times) * 1000:.0f} ms over {args.runs} runs;"
                    f" {raw / 1024:.0f} KiB, {sent / 1024:.0f} KiB gzip-compressed"
                )
            # CPU time as well as wall time: on a shared machine the wall clock also counts
            # the time other processes had the CPU. collect() itself: Public.report() would
            # answer from its 15-second cache. Two cases: the first page after a start, with
            # nothing of history kept in memory (a History of its own, on the same store and
            # run), and a page once the 15-second cache has expired, with the transitions and
            # hourly roll-ups kept since the last one (parts.history, warmed by the GETs).
            tracked = list(parts.pipeline.monitors.values())
            for label, fresh in (("first page after a start", True), ("cache expired", False)):
                collected, rendered = [], []
                for _ in range(args.runs):
                    history = parts.history
                    if fresh:
                        history = History(parts.store, clock, parts.history.retention)
                        history.run_id = parts.history.run_id
                    t = time.process_time()
                    report = collect(
                        tracked, history, clock(), title=parts.public.title, show_urls=False
                    )
                    collected.append(time.process_time() - t)
                    t = time.process_time()
                    render_page(report)
                    rendered.append(time.process_time() - t)
                print(
                    f"  CPU per page, {label} (median of {args.runs}): reading and uptime"
                    f" maths {statistics.median(collected) * 1000:.0f} ms, template"
                    f" {statistics.median(rendered) * 1000:.0f} ms"
                )
            if args.profile:
                profile = cProfile.Profile()
                profile.runcall(
                    lambda: render_page(
                        collect(
                            list(parts.pipeline.monitors.values()),
                            parts.history,
                            clock(),
                            title="",
                            show_urls=False,
                        )
                    )
                )
                pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        await parts.aclose()


if __name__ == "__main__":
    asyncio.run(main())
