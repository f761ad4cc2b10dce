"""What checking costs: probed vs blackbox_exporter, side by side, on the same local target.

N HTTP monitors at interval I for D seconds. probed runs them itself; blackbox_exporter (Debian's
prometheus-blackbox-exporter) is driven the way Prometheus drives it, one /probe request per
target per interval, spread evenly, by a loader in this process whose own cost is not counted.
Figures: checks done, CPU seconds per 1,000 checks, peak RSS. Loopback only.

    apt-get install prometheus-blackbox-exporter
    .venv/bin/python bench/cost.py [--monitors 1000] [--interval 10] [--duration 60]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import psutil  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.kit.processes import free_port

TARGET = """
from aiohttp import web
app = web.Application()
app.router.add_route("*", "/{tail:.*}", lambda r: web.Response(text="status: success"))
web.run_app(app, host="127.0.0.1", port=%d, print=None, access_log=None)
"""


class Sampler:
    """Peak RSS and CPU seconds of one process, sampled while the bench runs."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.cpu0 = self._cpu()
        self.peak = 0

    def _cpu(self) -> float:
        t = self.proc.cpu_times()
        return float(t.user + t.system)

    def sample(self) -> None:
        self.peak = max(self.peak, self.proc.memory_info().rss)

    def cpu(self) -> float:
        return self._cpu() - self.cpu0


async def wait_http(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as s:
        while True:
            try:
                async with s.get(url) as r:
                    if r.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not come up")
            await asyncio.sleep(0.1)


async def sample_for(sampler: Sampler, duration: float) -> None:
    end = time.monotonic() + duration
    while time.monotonic() < end:
        sampler.sample()
        await asyncio.sleep(0.2)


async def bench_probed(n: int, interval: int, duration: float, url: str, tmp: Path) -> dict:
    port = free_port()
    config = tmp / "monitors.toml"
    config.write_text(
        f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{tmp / "state"}"\n'
        + "".join(
            f'[[monitor]]\nname = "m{i}"\nurl = "{url}?m={i}"\ninterval = "{interval}s"\n'
            f'timeout = "{min(interval, 5)}s"\n'
            for i in range(n)
        )
    )
    with (tmp / "probed.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "probed", "--log-level", "warning", "run", "-c", str(config)],
            stdout=log,
            stderr=log,
        )
    try:
        await wait_http(f"http://127.0.0.1:{port}/healthz")
        # One full interval first, so every monitor is past its spread-out first check.
        await asyncio.sleep(interval)
        before = await checks_done(port)
        sampler = Sampler(proc.pid)
        await sample_for(sampler, duration)
        done = await checks_done(port) - before
        lag = await schedule_lag(port)
        return {"checks": done, "cpu": sampler.cpu(), "rss": sampler.peak, "lag": lag}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def checks_done(port: int) -> int:
    async with (
        aiohttp.ClientSession() as s,
        s.get(f"http://127.0.0.1:{port}/metrics") as r,
    ):
        text = await r.text()
    return int(sum(float(v) for v in re.findall(r"^probed_checks_total\{.*\} (\S+)$", text, re.M)))


async def schedule_lag(port: int) -> tuple[float, float]:
    """Mean schedule lag and the smallest histogram bucket holding 99% of checks, in seconds."""
    async with (
        aiohttp.ClientSession() as s,
        s.get(f"http://127.0.0.1:{port}/metrics") as r,
    ):
        text = await r.text()
    total = float(re.search(r"^probed_schedule_lag_seconds_sum (\S+)$", text, re.M)[1])  # type: ignore[index]
    count = float(re.search(r"^probed_schedule_lag_seconds_count (\S+)$", text, re.M)[1])  # type: ignore[index]
    buckets = re.findall(r'^probed_schedule_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$', text, re.M)
    p99 = next(float(le) for le, n in buckets if float(n) >= 0.99 * count)
    return total / count if count else 0.0, p99


async def bench_blackbox(n: int, interval: int, duration: float, url: str, tmp: Path) -> dict:
    binary = shutil.which("prometheus-blackbox-exporter")
    if binary is None:
        return {}
    port = free_port()
    config = tmp / "blackbox.yml"
    config.write_text("modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n")
    proc = subprocess.Popen(
        [binary, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/probe?module=http_2xx&target="
    try:
        await wait_http(f"http://127.0.0.1:{port}/metrics")
        sampler = Sampler(proc.pid)
        done = 0
        limit = asyncio.Semaphore(64)

        async def scrape(session: aiohttp.ClientSession, i: int) -> None:
            nonlocal done
            async with limit, session.get(base + f"{url}?m={i}") as r:
                body = await r.text()
            done += "probe_success 1" in body

        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
            start = time.monotonic()
            tasks = []
            sampling = asyncio.create_task(sample_for(sampler, duration))
            k = 0
            # Like Prometheus: each target once per interval, spread over the interval.
            while (elapsed := time.monotonic() - start) < duration:
                due = int(elapsed / interval * n)
                while k < due:
                    tasks.append(asyncio.create_task(scrape(session, k % n)))
                    k += 1
                await asyncio.sleep(0.01)
            await asyncio.gather(*tasks, return_exceptions=True)
            await sampling
        return {"checks": done, "cpu": sampler.cpu(), "rss": sampler.peak}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def main(n: int, interval: int, duration: float) -> None:
    target_port = free_port()
    target = subprocess.Popen([sys.executable, "-c", TARGET % target_port])
    url = f"http://127.0.0.1:{target_port}/health"
    try:
        await wait_http(url)
        with tempfile.TemporaryDirectory() as tmp:
            probed = await bench_probed(n, interval, duration, url, Path(tmp))
            blackbox = await bench_blackbox(n, interval, duration, url, Path(tmp))
    finally:
        target.terminate()
        target.wait()
    print(f"{n} HTTP monitors every {interval}s, measured over {duration:.0f}s on loopback")
    print(f"{'':24}{'checks':>10}{'CPU s / 1,000 checks':>24}{'peak RSS MiB':>16}")
    for name, r in (("probed", probed), ("blackbox_exporter", blackbox)):
        if not r:
            print(f"{name:24}not installed (apt-get install prometheus-blackbox-exporter)")
            continue
        per = r["cpu"] / r["checks"] * 1000 if r["checks"] else float("nan")
        print(f"{name:24}{r['checks']:>10}{per:>24.2f}{r['rss'] / 2**20:>16.1f}")
    mean, p99 = probed["lag"]
    print(f"probed schedule lag: mean {mean * 1000:.1f} ms, 99% within {p99 * 1000:.0f} ms")
    print("(blackbox_exporter's figure leaves out the Prometheus server that would drive it;")
    print(" probed's includes its SQLite writes, state machine and metrics.)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--monitors", type=int, default=1000)
    parser.add_argument("--interval", type=int, default=10)
    parser.add_argument("--duration", type=float, default=60)
    a = parser.parse_args()
    asyncio.run(main(a.monitors, a.interval, a.duration))
