"""A push token flooding ``/push``: rows stored and WAL written for N pings in S seconds.

``probed run`` with one push monitor; N pings (plain ``GET /push/<token>``, keep-alive, a few
at a time) paced evenly over S seconds by the token holder. Printed per checkout: the answers
by status, the result rows the monitor got in ``checks``, and the WAL file's largest size
during the flood (sampled every 50 ms). ``--before DIR`` runs a checkout of probed from before
the change in the same run (its ``probed`` package is imported from DIR), then this one.

    .venv/bin/python bench/push_flood.py [--pings 5000] [--seconds 5] [--before /path/to/old]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.kit.processes import DaemonProcess, free_port

HERE = Path(__file__).resolve().parent.parent

TOKEN = "bench-push-flood-0123456789"
WORKERS = 16


async def flood(url: str, pings: int, seconds: float) -> tuple[Counter[int], float]:
    """Send ``pings`` requests to ``url``, the i-th not before i × seconds / pings; the answers
    by status and how long it took."""
    answers: Counter[int] = Counter()
    started = time.monotonic()
    step = seconds / pings
    queue = iter(range(pings))

    async def worker(session: aiohttp.ClientSession) -> None:
        for i in queue:
            wait = started + i * step - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                async with session.get(url) as resp:
                    await resp.read()
                    answers[resp.status] += 1
            except aiohttp.ClientError:
                answers[0] += 1

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(WORKERS)))
    return answers, time.monotonic() - started


def size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


async def sample_wal(wal: Path, stop: asyncio.Event) -> int:
    largest = 0
    while not stop.is_set():
        largest = max(largest, size(wal))
        await asyncio.sleep(0.05)
    return largest


async def one(source: Path, pings: int, seconds: float) -> str:
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        port = free_port()
        config = tmp / "monitors.toml"
        config.write_text(
            f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{tmp / "state"}"\n'
            f'[[monitor]]\nname = "job"\ntype = "push"\ntoken = "{TOKEN}"\ninterval = "1h"\n'
        )
        daemon = DaemonProcess(config, port, env={"PYTHONPATH": str(source)})
        # ``python -m probed`` looks in its working directory first: not in a checkout.
        os.chdir(tmp)
        await daemon.start()
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_wal(tmp / "state" / "probed.db-wal", stop))
        try:
            answers, took = await flood(f"{daemon.base}/push/{TOKEN}", pings, seconds)
            await asyncio.sleep(1.5)  # the last coalescing window and write batch
        finally:
            stop.set()
            wal = await sampler
            await daemon.stop()
        db = sqlite3.connect(tmp / "state" / "probed.db")
        try:
            (rows,) = db.execute(
                "SELECT COUNT(*) FROM checks c JOIN monitors m ON m.id = c.monitor_id"
                " WHERE m.name = 'job'"
            ).fetchone()
        finally:
            db.close()
    by_status = ", ".join(f"{n} × {status or 'error'}" for status, n in sorted(answers.items()))
    return (
        f"{pings} pings in {took:.1f} s: {by_status}; {rows} result rows stored,"
        f" WAL up to {wal / 1e6:.2f} MB"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pings", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--before", type=Path, help="a checkout of probed from before the change")
    args = parser.parse_args()
    runs = [("before", args.before)] if args.before else []
    for label, source in [*runs, ("after", HERE)]:
        print(f"{label:>6} ({source}): {await one(source, args.pings, args.seconds)}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
