"""Idle half-open connections against a running probed: do they cost a check, or /healthz?

``probed run`` with the soft descriptor limit systemd gives services by default (1,024), one
healthy loopback monitor checked every second, and N sockets that each send half a request line
and then nothing, held for D seconds (re-opened as probed closes them, as an attacker would).
Printed: failed checks and transitions of the healthy monitor (from probed's own JSON log),
checks done vs intended, and the slowest /healthz answer, polled every 0.2 s throughout.

    .venv/bin/python bench/idle_connections.py [--connections 2000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.kit.processes import DaemonProcess, free_port

TARGET = """
from aiohttp import web
app = web.Application()
app.router.add_get("/", lambda r: web.Response(text="ok"))
web.run_app(app, host="127.0.0.1", port=%d, print=None, access_log=None)
"""
"""The healthy target, in a process of its own: the attack must not slow the target down."""


async def attacker(port: int, count: int, until: float, pause: float) -> int:
    """Keep ``count`` stalled connections open until ``until``, each re-opened ``pause``
    seconds after probed closed it; how many were opened in all."""
    opened = 0

    async def one() -> None:
        nonlocal opened
        while time.monotonic() < until:
            if opened >= count:
                await asyncio.sleep(pause)
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            opened += 1
            writer.write(b"GET /healthz HT")
            with contextlib.suppress(TimeoutError, ConnectionError):
                await asyncio.wait_for(reader.read(), max(0.0, until - time.monotonic()))
            writer.close()

    await asyncio.gather(*(one() for _ in range(count)))
    return opened


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--pause", type=float, default=1.0, help="seconds before a closed one is re-opened"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        target_port = free_port()
        target = await asyncio.create_subprocess_exec(sys.executable, "-c", TARGET % target_port)
        try:
            await asyncio.sleep(1.0)
            port = free_port()
            config = tmp / "monitors.toml"
            config.write_text(
                f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{tmp / "state"}"\n'
                f'[[monitor]]\nname = "healthy"\nurl = "http://127.0.0.1:{target_port}/"\n'
                'interval = "1s"\ntimeout = "1s"\ndown_after = 1\n'
            )
            daemon = DaemonProcess(config, port, open_files=1024)
            await daemon.start()
            started = time.monotonic()
            until = started + args.seconds
            attack = asyncio.create_task(attacker(port, args.connections, until, args.pause))
            slowest, answers, failures = 0.0, 0, 0
            errors: list[str] = []
            async with aiohttp.ClientSession() as session:
                while time.monotonic() < until:
                    asked = time.monotonic()
                    try:
                        async with session.get(
                            daemon.base + "/healthz", timeout=aiohttp.ClientTimeout(total=5)
                        ) as resp:
                            ok = resp.status == 200
                    except (aiohttp.ClientError, TimeoutError) as exc:
                        ok = False
                        errors.append(f"{type(exc).__name__} at {asked - started:.1f} s")
                    slowest = max(slowest, time.monotonic() - asked)
                    answers += ok
                    failures += not ok
                    await asyncio.sleep(0.2)
            opened = await attack
            elapsed = time.monotonic() - started
            await daemon.stop()
            log = daemon.logs()
        finally:
            target.terminate()
            await target.wait()
    events = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    checks = [e for e in events if e.get("event") == "check"]
    failed = [e for e in checks if not e.get("ok")]
    transitions = [e["new"] for e in events if e.get("event") == "transition"]
    print(
        f"{args.connections} stalled connections held for {elapsed:.0f} s"
        f" ({opened} opened in all), probed limited to 1,024 descriptors:"
    )
    print(f"  healthy monitor: {len(checks)} checks (about {elapsed:.0f} intended),")
    print(f"    {len(failed)} failed, transitions {transitions}")
    for reason in sorted({str(e.get("reason")) for e in failed}):
        print(f"    failed: {reason}")
    print(
        f"  /healthz: {answers} answers, {failures} failures {errors},"
        f" slowest answer {slowest * 1000:.0f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
