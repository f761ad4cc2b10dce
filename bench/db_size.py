"""How big the state database gets, and how fast the APIs answer, for N monitors over D days.

N monitors checked every I seconds for D simulated days on a fake clock: every result is written
as ``Store.record_check`` writes it (good ones bulk-inserted every ten minutes, for speed),
outages go through the real state machine and ``Store.record_check``, and the daemon's own
housekeeping (``Housekeeping.maintain``: roll-up and pruning, every 10 simulated minutes) keeps
the history bounded. Then the real aiohttp app serves getMonitors and /api/v1/monitors over that
database, on a fresh connection.

By default only the last 3 days are checked every I seconds and the days before every 10
minutes: their raw results are pruned anyway, and what they leave, one hourly roll-up per monitor
and hour, has the same columns and (up to a byte for the slowest monitors) the same size whether
it counts 6 checks or 60. That keeps the run to a few minutes; ``--full`` checks every I seconds
throughout (about 7 minutes here) and gave the same size to within 1%.

    .venv/bin/python bench/db_size.py [--monitors 1000] [--interval 60] [--days 30] [--full]
"""

from __future__ import annotations

import argparse
import asyncio
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
from probed.config import Monitor
from probed.engine.pauses import Pauses
from probed.engine.pipeline import Pipeline, Tracked
from probed.engine.state import advance
from probed.history import History
from probed.history.jobs import Housekeeping
from probed.metrics import Metrics
from probed.model import CheckResult, MonitorState, Status, Timings
from probed.store import Store
from probed.web import make_app
from probed.web.context import Api

T0 = datetime(2026, 1, 1, tzinfo=UTC)
INSERT = (
    "INSERT INTO checks (monitor_id, at, ok, reason, status_code, duration,"
    " dns, connect, tls, first_byte, cert_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
"""The row ``Store.record_check`` writes, for the good results inserted in bulk."""
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
    """Check times: every ``sparse_interval`` until the last ``dense_days``, then every
    ``interval``."""
    at, end = T0.timestamp(), T0.timestamp() + args.days * 86400
    dense_from = end - args.dense_days * 86400
    while at < end:
        yield at
        at += args.interval if at >= dense_from else args.sparse_interval


async def simulate(store: Store, args: argparse.Namespace, clock: Clock) -> list[Tracked]:
    rng = random.Random(4)
    names = [f"site-{i:04}" for i in range(args.monitors)]
    rows = store.sync_monitors([(n, "k", None) for n in names], clock())
    history = History(store, clock)
    history.start_run()
    metrics = Metrics()
    pipeline = Pipeline(store, metrics, None, clock)  # type: ignore[arg-type]
    tracked = []
    for name in names:
        monitor = Monitor(name=name, url=f"https://{name}.example/", interval=args.interval)
        state = MonitorState(Status.UP, T0)
        tracked.append(Tracked(monitor, rows[name].id, state))
        pipeline.track(tracked[-1])
    jobs = Housekeeping(history, pipeline, metrics)
    # Outage starts and ends as (time, monitor index, down?) events, in time order.
    events = sorted(
        (t, i, down)
        for i, spans in outage_plan(args.monitors, args.days, rng).items()
        for a, b in spans
        for t, down in ((a, True), (b, False))
    )
    cert = (T0 + timedelta(days=80)).timestamp()
    base = [rng.lognormvariate(-2.0, 0.5) for _ in names]  # ~135 ms median per monitor
    jitter = [rng.uniform(0.8, 1.3) for _ in range(args.monitors + 7)]
    ids = [t.id for t in tracked]
    down: set[int] = set()
    busy: set[int] = set()
    """Monitors that were failing or recovering at the last tick."""
    pending: list[tuple[object, ...]] = []
    started = time.monotonic()
    next_flush = next_report = T0.timestamp()
    for tick, at in enumerate(timepoints(args)):
        clock.t = T0 + timedelta(seconds=at - T0.timestamp())
        while events and events[0][0] <= at:
            _, i, is_down = events.pop(0)
            (down.add if is_down else down.discard)(i)
        special = down | {i for i in busy if tracked[i].state.status is not Status.UP}
        busy = special
        for i in special:
            # Outages and recoveries go through the state machine and record_check.
            t, failing = tracked[i], i in down
            result = CheckResult(
                ok=not failing,
                reason="HTTP 503, expected 2xx" if failing else "HTTP 200",
                at=clock.t,
                status_code=503 if failing else 200,
                timings=Timings(total=5.0 if failing else base[i]),
            )
            state, transitions = advance(t.monitor.name, t.state, result, t.monitor.policy)
            store.record_check(t.id, result, state, transitions)
            t.state = state
        shift = tick % len(jitter)
        pending += [
            (ids[i], at, 1, "HTTP 200", 200, d, 0.002, 0.01, 0.02, d * 0.9, cert)
            for i, d in enumerate(
                b * j for b, j in zip(base, jitter[shift:] + jitter[:shift], strict=False)
            )
            if i not in special
        ]
        history.heartbeat()
        if at >= next_flush:
            # As the daemon's housekeeping, every ten minutes; the results of those minutes go
            # in one transaction: the same rows as one per check, without a WAL frame per row.
            with store.transaction():
                store.db.executemany(INSERT, pending)
            pending.clear()
            await jobs.maintain()
            next_flush = at + 600
        if at >= next_report:
            days = (at - T0.timestamp()) / 86400
            print(f"  simulated {days:4.1f} days ({time.monotonic() - started:.0f} s)", flush=True)
            next_report = at + 3 * 86400
    with store.transaction():
        store.db.executemany(INSERT, pending)
    while await jobs.maintain():
        pass
    history.stop_run()
    return tracked


def sizes(store: Store) -> tuple[float, dict[str, float]]:
    db = store.db
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = db.execute("PRAGMA page_size").fetchone()[0]
    total = db.execute("PRAGMA page_count").fetchone()[0] * page / 1e6
    try:
        by_table = {
            name: size / 1e6
            for name, size in db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
        }
    except Exception:  # dbstat is a compile-time option of SQLite
        by_table = {}
    return total, by_table


async def latency(store: Store, tracked: list[Tracked], clock: Clock) -> list[str]:
    history = History(store, clock)
    history.start_run()
    pipeline = Pipeline(store, Metrics(), None, clock)  # type: ignore[arg-type]
    for t in tracked:
        t.last = store.last_check(t.id)
        pipeline.track(t)
    pauses = Pauses(pipeline, store, tuple, clock)
    api = Api(pipeline, history, pauses, lambda: "token", clock)
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
    pages = len(tracked) // 50 + (len(tracked) % 50 > 0)
    lines = [f"latency over {len(tracked)} monitors ({pages} pages of 50 for getMonitors):"]
    async with TestClient(TestServer(make_app(Metrics(), lambda: True, api))) as client:

        async def timed(call: object) -> float:
            started = time.perf_counter()
            resp = await call  # type: ignore[misc]
            body = await resp.json()
            assert resp.status == 200 and body.get("stat", "ok") == "ok", body
            return time.perf_counter() - started

        for label, form in requests:
            # One warm-up pass, then the measured one.
            runs = [
                [
                    await timed(client.post("/v2/getMonitors", data=dict(form, offset=str(i * 50))))
                    for i in range(pages)
                ]
                for _ in range(2)
            ]
            page = statistics.median(runs[-1])
            lines.append(
                f"  {label}: {page * 1000:.0f} ms per page, {sum(runs[-1]) * 1000:.0f} ms for all"
            )
        v1 = [await timed(client.get("/api/v1/monitors")) for _ in range(3)]
        lines.append(
            f"  GET /api/v1/monitors (all, with 1d/7d/30d/all uptime, 24 h mean, incidents):"
            f" {statistics.median(v1) * 1000:.0f} ms"
        )
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--monitors", type=int, default=1000)
    parser.add_argument("--interval", type=int, default=60, help="seconds")
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument(
        "--dense-days", type=float, default=3, help="the last days, checked every --interval"
    )
    parser.add_argument(
        "--sparse-interval", type=int, default=600, help="seconds between checks before them"
    )
    parser.add_argument("--full", action="store_true", help="every --interval for all --days")
    parser.add_argument("--keep", type=Path, help="leave the database in this directory")
    args = parser.parse_args()
    if args.full:
        args.dense_days = args.days
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or Path(scratch)
        store = Store.open(Path(tmp) / "probed.db")
        # A bigger page cache and no fsyncs only speed the simulation up; the file is the same.
        store.db.execute("PRAGMA cache_size = -400000")
        store.db.execute("PRAGMA synchronous = OFF")
        clock = Clock()
        print(f"{args.monitors} monitors every {args.interval} s for {args.days:g} days", end="")
        dense = min(args.dense_days, args.days)
        if dense < args.days:
            print(f" (the first {args.days - dense:g} every {args.sparse_interval} s)", end="")
        print(":")
        started = time.monotonic()
        tracked = await simulate(store, args, clock)
        total, by_table = sizes(store)
        count = {
            t: store.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("checks", "hourly", "transitions")
        }
        print(f"simulated in {time.monotonic() - started:.0f} s")
        print(f"database size: {total:.1f} MB")
        for name in sorted(by_table, key=by_table.__getitem__, reverse=True)[:6]:
            print(f"  {name}: {by_table[name]:.1f} MB")
        print(
            f"  rows: {count['checks']:,} raw results (48 h), {count['hourly']:,} hourly"
            f" roll-ups, {count['transitions']:,} transitions"
        )
        hourly = sum(v for k, v in by_table.items() if k.startswith("hourly"))
        if hourly:
            steady = total + hourly * (400 / args.days - 1)
            print(f"  at the 400-day history retention: about {steady:.0f} MB")
        store.close()
        # Latency on a fresh connection with the daemon's own settings.
        store = Store.open(Path(tmp) / "probed.db")
        for line in await latency(store, tracked, clock):
            print(line)
        store.close()


if __name__ == "__main__":
    asyncio.run(main())
