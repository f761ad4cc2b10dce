"""Reload timing with 1,000 monitors: start time, SIGHUP reload (100 added, 100 removed, 100
changed, 700 kept), RSS, against a local target. Prints its figures.

    .venv/bin/python bench/reload.py [--monitors 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import tempfile
import time
from pathlib import Path

import psutil  # type: ignore[import-untyped]
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.kit.processes import DaemonProcess, free_port


def config_text(port: int, state: Path, names: list[str], url: str, changed: set[str]) -> str:
    parts = [f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{state}"\n']
    for name in names:
        target = url + ("?v=2" if name in changed else "")
        parts.append(f'[[monitor]]\nname = "{name}"\nurl = "{target}"\ninterval = "60s"\n')
    return "".join(parts)


async def wait_log(daemon: DaemonProcess, event: str, count: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = [
            json.loads(line)
            for line in daemon.logs().splitlines()
            if line.startswith("{") and f'"event": "{event}"' in line
        ]
        if len(events) >= count:
            return events[count - 1]
        await asyncio.sleep(0.02)
    raise SystemExit(f"no {event} after {timeout}s:\n{daemon.logs()[-2000:]}")


async def main(n: int) -> None:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", lambda r: web.Response(text="ok"))
    runner = web.AppRunner(app)
    await runner.setup()
    target_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", target_port).start()
    url = f"http://127.0.0.1:{target_port}/health"
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        port = free_port()
        names = [f"monitor {i:04d}" for i in range(n)]
        config = tmp_path / "monitors.toml"
        config.write_text(config_text(port, tmp_path / "state", names, url, set()))
        daemon = DaemonProcess(config, port)
        started = time.monotonic()
        await daemon.start()
        ready = time.monotonic() - started
        assert daemon.proc is not None
        proc = psutil.Process(daemon.proc.pid)
        rss_start = proc.memory_info().rss
        tenth = n // 10
        new_names = names[tenth:] + [f"new monitor {i:04d}" for i in range(tenth)]
        changed = set(names[tenth : 2 * tenth])
        config.write_text(config_text(port, tmp_path / "state", new_names, url, changed))
        sent = time.monotonic()
        daemon.signal(signal.SIGHUP)
        reloaded = await wait_log(daemon, "reloaded", 1)
        wall = time.monotonic() - sent
        # The same file again: nothing to add, remove or restart.
        sent = time.monotonic()
        daemon.signal(signal.SIGHUP)
        again = await wait_log(daemon, "reloaded", 2)
        wall_again = time.monotonic() - sent
        await asyncio.sleep(2)
        rss_end = proc.memory_info().rss
        await daemon.stop()
    await runner.cleanup()
    print(f"monitors:                         {n}")
    print(f"start to healthy:                 {ready:.2f} s")
    print(
        f"reload, {tenth} added/{tenth} removed/{tenth} changed: "
        f"{reloaded['seconds']:.3f} s in the daemon, {wall:.3f} s SIGHUP to log line"
    )
    print(
        f"reload, unchanged file:           {again['seconds']:.3f} s in the daemon,"
        f" {wall_again:.3f} s SIGHUP to log line"
    )
    print(f"RSS after start / after reloads:  {rss_start / 2**20:.1f} / {rss_end / 2**20:.1f} MiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--monitors", type=int, default=1000)
    asyncio.run(main(parser.parse_args().monitors))
