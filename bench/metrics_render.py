"""The cost of probed's metrics at N monitors (issue 13): creating every monitor's series (what
start-up pays) and one ``/metrics`` exposition once each has a result, uptimes and the rest, in
CPU seconds of this process (``time.process_time``) and bytes.

    .venv/bin/python bench/metrics_render.py [--monitors 10000] [--renders 5]

The state is what the daemon holds after its first round of checks: http monitors with a
result each (HTTP facts included), their uptime over the three windows and the degraded flag.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from datetime import UTC, datetime

from probed.metrics import UPTIME_WINDOWS, Metrics
from probed.model import CheckResult, HttpFacts, Status, Timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--monitors", type=int, default=10_000)
    parser.add_argument("--renders", type=int, default=5)
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, N={args.monitors}")
    names = [f"m{i}" for i in range(args.monitors)]
    now = datetime.now(UTC)
    start = time.process_time()
    metrics = Metrics()
    for i, name in enumerate(names):
        metrics.add_monitor(name, Status.PENDING, None, "http", url=f"http://127.0.0.1/p/{i}")
        metrics.set_degraded(name, False)
    added = time.process_time() - start
    start = time.process_time()
    for i, name in enumerate(names):
        facts = HttpFacts(connect=0.0002, processing=0.001, transfer=0.0001, version=1.1)
        result = CheckResult(
            ok=True,
            reason="HTTP 200",
            at=now,
            timings=Timings(connect=0.0002, first_byte=0.0012, total=0.0013 + i * 1e-7),
            status_code=200,
            http=facts,
        )
        metrics.observe_check(name, result, Status.UP)
        for window in UPTIME_WINDOWS:
            metrics.set_uptime(name, window, 1.0)
    checked = time.process_time() - start
    print(f"add_monitor + set_degraded: {added:.2f} CPU s; first results + uptimes {checked:.2f}")
    costs = []
    for _ in range(args.renders):
        start = time.process_time()
        body = metrics.render()
        costs.append(time.process_time() - start)
    lines = body.count(b"\n")
    print(
        f"render: median {statistics.median(costs):.3f} CPU s (min {min(costs):.3f}),"
        f" {len(body) / 1e6:.1f} MB, {lines} lines"
    )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
