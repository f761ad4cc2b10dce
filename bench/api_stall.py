"""How long the heaviest getMonitors request takes, and whether /healthz keeps answering during it.

50 monitors with flapping history (a transition every check interval for ``--hours``) on a fake
clock, served by the real aiohttp app on 127.0.0.1. One getMonitors request for every monitor
with ``--ratios`` custom_uptime_ratios, ``--ranges`` custom_uptime_ranges, the all-time ratio,
every log, 7 days of response times and ssl; meanwhile /healthz is asked every 10 ms. Figures:
the request's time, its answer's size, and the slowest and median /healthz answers during it.

    .venv/bin/python bench/api_stall.py [--ratios 10] [--ranges 10] [--hours 48]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from probed import logs
from tests.kit.configs import TOKEN
from tests.kit.harness import Harness
from tests.kit.monitors import make_monitor

MONITORS = 50


async def fill(h: Harness, hours: int) -> None:
    for step in range(hours * 12):  # every 5 minutes, down one check in three
        for i in range(MONITORS):
            await h.check(f"m{i}", ok=step % 3 != 0, duration=0.1 + i / 1000)
        h.clock.advance(300)


POLLER = """
import http.client, sys, time
while True:
    started = time.time()
    conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=60)
    conn.request("GET", "/healthz")
    conn.getresponse().read()
    conn.close()
    print(started, time.time() - started, flush=True)
    time.sleep(0.01)
"""


async def watch_health(port: int) -> asyncio.subprocess.Process:
    """Asks /healthz from another process: a client in the server's own loop would stall with
    it, and one in another thread would wait for the GIL as well as for the loop."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", POLLER, str(port), stdout=asyncio.subprocess.PIPE
    )


async def main(ratios: int, ranges: int, hours: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        monitors = [make_monitor(f"m{i}", id=i + 1) for i in range(MONITORS)]
        h = Harness.of(Path(tmp) / "probed.db", monitors)
        await fill(h, hours)
        now = int(h.clock().timestamp())
        form = {
            "api_key": TOKEN,
            "custom_uptime_ratios": "-".join(str(1 + d % 36500) for d in range(ratios)),
            "custom_uptime_ranges": "-".join(
                f"{now - (d + 1) * 3600}_{now - d * 3600}" for d in range(ranges)
            ),
            "all_time_uptime_ratio": "1",
            "logs": "1",
            "response_times": "1",
            "response_times_start_date": str(now - 7 * 86400),
            "response_times_end_date": str(now),
            "ssl": "1",
        }
        async with TestClient(TestServer(h.parts.app, host="127.0.0.1")) as client:
            port = client.server.port
            assert port is not None
            poller = await watch_health(port)
            await asyncio.sleep(0.5)
            began = time.time()
            started = time.perf_counter()
            resp = await client.post("/v2/getMonitors", data=form)
            raw = await resp.read()
            took = time.perf_counter() - started
            ended = time.time()
            await asyncio.sleep(0.2)
            poller.kill()
            out, _ = await poller.communicate()
        latencies = []
        for line in out.decode().splitlines():
            at, latency = (float(x) for x in line.split())
            # Every /healthz asked while the request ran, or answered after it began.
            if at <= ended and at + latency >= began:
                latencies.append(latency)
        await h.close()
    body = json.loads(raw)
    print(f"ratios={ratios} ranges={ranges} monitors={len(body.get('monitors', []))} hours={hours}")
    if body["stat"] != "ok":
        print(f"refused: {body['error'].get('message', body['error']['type'])}")
    print(f"getMonitors: {took:.2f} s, {len(raw) / 1e6:.1f} MB")
    print(
        f"/healthz during it: {len(latencies)} answers, slowest {max(latencies) * 1000:.0f} ms,"
        f" median {statistics.median(latencies) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratios", type=int, default=10)
    parser.add_argument("--ranges", type=int, default=10)
    parser.add_argument("--hours", type=int, default=48)
    args = parser.parse_args()
    logs.configure("error")
    asyncio.run(main(args.ratios, args.ranges, args.hours))
