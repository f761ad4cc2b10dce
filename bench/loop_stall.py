"""probed starved of its own CPU (issue 21 item 2): what its healthy targets are blamed for, before
and after the LoopWatch, in the same run.

probed is built in this process (``build()``, real probes, real scheduler) on N monitors of one
healthy target served by a child process (it answers after ``--answer`` seconds, so checks are
in flight much of the time). Every ``--every`` seconds a thread holds the GIL for ``--stall``
seconds: the event loop stands still, as under a paused VM or a host at load 9. The same
schedule of stalls runs twice, first with the pipeline's stall judgement off (as before), then
on. Figures per phase, from the pipeline's own check and transition lines:

- checks done vs intended (monitors × window / interval), so the extra checks are seen;
- failures counted against the (healthy) targets, and checks marked ``probe host: event loop
  stalled`` (counted against nobody, checked again at once);
- seems_down transitions (each a false alarm here) and the event loop stalls logged.

On 2 shared cores (200 monitors every 5 s, timeout 2 s, answers in 0.5 s, 2.5 s stalls every
10 s, 40 s window): before, 1,892 checks of 1,600 intended, 92 failures against the healthy
targets and 92 seems_down; after, 1,876 checks, 0 failures against them, 76 marked stalled and
checked again, 0 seems_down. Both phases count about one check per monitor more than intended
at the window's edges; the rest of the extra checks are the re-checks (retries before, re-runs
after).

    .venv/bin/python bench/loop_stall.py
    .venv/bin/python bench/loop_stall.py --monitors 500 --window 60
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from structlog.testing import capture_logs

from probed.config import load_config
from probed.service.build import build
from tests.kit.processes import free_port
from tests.kit.stalls import hold_gil

TARGET = """
import asyncio, sys
from aiohttp import web
async def ok(request):
    await asyncio.sleep(float(sys.argv[2]))
    return web.Response(text="ok")
app = web.Application()
app.router.add_get("/{tail:.*}", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


async def phase(args: argparse.Namespace, port: int, judge: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "monitors.toml"
        monitors = "".join(
            f'[[monitor]]\nname = "m{i}"\nurl = "http://127.0.0.1:{port}/{i}"\n'
            f'interval = "{args.interval}s"\ntimeout = "{args.timeout}s"\n'
            'retry_interval = "1s"\ndown_after = 2\n\n'
            for i in range(args.monitors)
        )
        config.write_text(f'[probed]\nstate_dir = "{tmp}/state"\n\n{monitors}')
        with capture_logs() as logs:
            parts = build(load_config(config))
            if not judge:
                parts.pipeline.stalls = None  # the pipeline as it was: stalls unseen
            parts.stalls.start()
            parts.scheduler.start()
            await asyncio.sleep(args.warmup)
            counted_from = len(logs)
            window_start = time.monotonic()
            next_stall = window_start + args.every / 2
            while time.monotonic() - window_start < args.window:
                await asyncio.sleep(max(0.0, next_stall - time.monotonic()))
                if time.monotonic() - window_start >= args.window:
                    break
                hold_gil(args.stall)
                next_stall += args.every
            await asyncio.sleep(max(0.0, window_start + args.window - time.monotonic()))
            seen = list(logs[counted_from:])
            await parts.scheduler.drain(5)
            parts.stalls.stop()
            await parts.aclose()
    checks = [e for e in seen if e["event"] == "check"]
    reasons = Counter(
        "stall" if e["reason"].startswith("probe host: event loop stalled") else "target"
        for e in checks
        if not e["ok"]
    )
    return {
        "checks": len(checks),
        "intended": args.monitors * args.window / args.interval,
        "against_targets": reasons["target"],
        "stall_marked": reasons["stall"],
        "seems_down": sum(e["event"] == "transition" and e["new"] == "seems_down" for e in seen),
        "stalls_logged": sum(e["event"].startswith("event loop stalled") for e in seen),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--monitors", type=int, default=200)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--answer", type=float, default=0.5, help="target's answer time, s")
    parser.add_argument("--stall", type=float, default=2.5, help="each stall, s")
    parser.add_argument("--every", type=float, default=10.0, help="a stall every so many s")
    parser.add_argument("--window", type=float, default=40.0)
    parser.add_argument(
        "--warmup", type=float, default=15.0, help="past the first checks (spread over 10 s)"
    )
    args = parser.parse_args()
    port = free_port()
    target = await asyncio.create_subprocess_exec(
        sys.executable, "-c", TARGET, str(port), str(args.answer)
    )
    try:
        await asyncio.sleep(1.5)
        print(
            f"{args.monitors} healthy monitors, every {args.interval:g}s, timeout"
            f" {args.timeout:g}s, target answers in {args.answer:g}s; the loop stands still"
            f" {args.stall:g}s every {args.every:g}s; window {args.window:g}s"
        )
        for name, judge in (("before (stalls unseen)", False), ("after (LoopWatch)", True)):
            r = await phase(args, port, judge)
            extra = r["checks"] / r["intended"] - 1
            print(
                f"{name:24} checks {r['checks']:5} of {r['intended']:.0f} intended"
                f" ({extra:+.1%}); failures against healthy targets {r['against_targets']};"
                f" marked stalled {r['stall_marked']}; seems_down {r['seems_down']};"
                f" stalls logged {r['stalls_logged']}"
            )
    finally:
        target.terminate()
        await target.wait()


if __name__ == "__main__":
    asyncio.run(main())
