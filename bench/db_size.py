"""How big the state database gets, and how fast the APIs answer, for N monitors over D days.

N monitors checked every I seconds for D simulated days on a fake clock: every result is written
as ``Store.record_check`` writes it (bulk-inserted per tick, for speed), outages go through the
real state machine and ``Store.record_check``, and the daemon's own housekeeping
(``Housekeeping.maintain``: roll-up and pruning, every 10 simulated minutes) keeps the history
bounded. Then the real aiohttp app serves getMonitors and /api/v1/monitors over that database.

    .venv/bin/python bench/db_size.py [--monitors 1000] [--interval 60] [--days 30]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from probed.config import Monitor
from probed.history import History
from probed.history.jobs import Housekeeping
from probed.metrics import Metrics
from probed.model import CheckResult, MonitorState, Status, Timings
from probed.pauses import Pauses
from probed.pipeline import Pipeline, Tracked
from probed.state import advance
from probed.store import Store
from probed.web import make_app
from probed.web.context import Api

T0 = datetime(2026, 1, 1, tzinfo=UTC)
INSERT = (
    "INSERT INTO checks (monitor_id, at, ok, reason, status_code, duration,"
    " dns, connect, tls, first_byte, cert_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
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
    jitter = [rng.uniform(0.8, 1.3) for _ in range(997)]
    down: set[int] = set()
    pending: list[tuple[object, ...]] = []
    ticks = int(args.days * 86400 / args.interval)
    started = time.monotonic()
    for tick in range(ticks):
        clock.t = T0 + timedelta(seconds=tick * args.interval)
        at = clock.t.timestamp()
        while events and events[0][0] <= at:
            _, i, is_down = events.pop(0)
            (down.add if is_down else down.discard)(i)
        for i, t in enumerate(tracked):
            if i in down or t.state.status is not Status.UP:
                # Outages and recoveries go through the state machine and record_check.
                failing = i in down
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
                continue
            total = base[i] * jitter[(tick + i) % 997]
            pending.append(
                (t.id, at, 1, "HTTP 200", 200, total, 0.002, 0.01, 0.02, total * 0.9, cert)
            )
        if tick % max(1, int(60 / args.interval)) == 0:
            history.heartbeat()
        if tick % max(1, int(600 / args.interval)) == 0:
            # Ten minutes of results per transaction: the same rows as one per check, written
            # without a WAL frame per row.
            with store.transaction():
                store.db.executemany(INSERT, pending)
            pending.clear()
            await jobs.maintain()
        if tick % (ticks // 10 or 1) == 0:
            print(
                f"  simulated {tick * args.interval / 86400:5.1f} days"
                f" ({time.monotonic() - started:.0f} s)",
                flush=True,
            )
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
    form = {
        "api_key": "token",
        "custom_uptime_ratios": "1-7-30",
        "all_time_uptime_ratio": "1",
        "logs": "1",
        "response_times": "1",
        "ssl": "1",
    }
    lines = []
    async with TestClient(TestServer(make_app(Metrics(), lambda: True, api))) as client:

        async def timed(call: object) -> float:
            started = time.perf_counter()
            resp = await call  # type: ignore[misc]
            body = await resp.json()
            assert resp.status == 200 and body.get("stat", "ok") == "ok", body
            return time.perf_counter() - started

        page = [await timed(client.post("/v2/getMonitors", data=form)) for _ in range(5)]
        lines.append(
            f"getMonitors, one page of 50 with ratios, logs, response times, ssl:"
            f" {statistics.median(page) * 1000:.0f} ms (median of 5)"
        )
        pages = len(tracked) // 50 + (len(tracked) % 50 > 0)
        started = time.perf_counter()
        for i in range(pages):
            await timed(client.post("/v2/getMonitors", data=dict(form, offset=str(i * 50))))
        lines.append(
            f"getMonitors, all {len(tracked)} monitors ({pages} pages):"
            f" {(time.perf_counter() - started) * 1000:.0f} ms"
        )
        plain = [
            await timed(client.post("/v2/getMonitors", data={"api_key": "token"})) for _ in range(5)
        ]
        lines.append(
            f"getMonitors, one page of 50, no extras: {statistics.median(plain) * 1000:.0f} ms"
        )
        v1 = [await timed(client.get("/api/v1/monitors")) for _ in range(3)]
        lines.append(
            f"GET /api/v1/monitors, all {len(tracked)} with 1d/7d/30d/all uptime:"
            f" {statistics.median(v1) * 1000:.0f} ms (median of 3)"
        )
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--monitors", type=int, default=1000)
    parser.add_argument("--interval", type=int, default=60, help="seconds")
    parser.add_argument("--days", type=float, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "probed.db")
        # A bigger page cache and no fsyncs only speed the simulation up; the file is the same.
        store.db.execute("PRAGMA cache_size = -400000")
        store.db.execute("PRAGMA synchronous = OFF")
        clock = Clock()
        print(f"{args.monitors} monitors every {args.interval} s for {args.days:g} days:")
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
        for line in await latency(store, tracked, clock):
            print(line)
        store.close()


if __name__ == "__main__":
    asyncio.run(main())
