"""A crowd of keep-alive readers on ``public_listen``: are a cron job's push pings accepted?

``probed run`` (1,024 descriptors, as systemd gives it) with ``public_listen`` and one push
monitor. First the issue's attack, 256 connections from 127.0.0.2 fetching the favicon every
10 s; 10 s later N keep-alive readers of the status page from 127.0.0.1 (the job's own address,
each re-reading every 10 s, re-opening an idle connection the server closed as browsers do);
10 s later the README's cron line (``curl -fsS -m 10 --retry 3``) pings once a second, a fresh
client GETs the page every 0.5 s and /healthz on ``listen`` every 0.2 s. Run twice in one go:
with the guard of ``--before`` (by default the commit before the push reserve) and with this
tree's. Printed: pings accepted, slowest page and /healthz, readers' answers.

    .venv/bin/python bench/reader_crowd.py [--readers 2000] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.kit.crowd import cron_pings, push_job_config, readers, slowest_get
from tests.kit.processes import DaemonProcess, free_port

ROOT = Path(__file__).resolve().parent.parent

TOKEN = "bench-crowd-token-0123456789"
LISTENER = "probed/service/listener.py"


def before_commit() -> str:
    """The parent of the commit that brought the push reserve into the listener."""
    found = subprocess.run(
        ["git", "log", "-n1", "--format=%H", "-S", "PUSH_RESERVE", "--", LISTENER],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return f"{found}~1"


def tree_with_old_guard(scratch: Path, rev: str) -> Path:
    """A copy of this tree's ``probed`` whose listener is the one at ``rev``."""
    shutil.copytree(ROOT / "probed", scratch / "probed")
    old = subprocess.run(
        ["git", "show", f"{rev}:{LISTENER}"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    (scratch / LISTENER).write_bytes(old)
    return scratch


async def run(label: str, tmp: Path, code: Path, args: argparse.Namespace) -> None:
    port, public = free_port(), free_port()
    config = push_job_config(tmp, port, public, TOKEN)
    env = {"PYTHONPATH": str(code)}
    daemon = DaemonProcess(config, port, env=env, open_files=1024)
    await daemon.start()
    try:
        until = time.monotonic() + args.seconds + 20
        attack = asyncio.create_task(
            readers(public, 256, 10, until, "/static/favicon.svg", source="127.0.0.2")
        )
        await asyncio.sleep(10)  # the attack holds its connections, as in the issue
        crowd = readers(public, args.readers, 10, until, "/")
        await asyncio.sleep(10)  # every reader has connected once before the first ping
        pings, page, healthz, attacked, crowded = await asyncio.gather(
            cron_pings(f"http://127.0.0.1:{public}/push/{TOKEN}", until),
            slowest_get(f"http://127.0.0.1:{public}/", until),
            slowest_get(f"{daemon.base}/healthz", until, every=0.2),
            attack,
            crowd,
        )
    finally:
        await daemon.stop()
    print(f"{label}:")
    print(f"  pings accepted {pings.accepted}/{len(pings.codes)} (curl exit codes {pings.codes})")
    print(f"  page: slowest {page[0] * 1000:.0f} ms, {page[1]} polls not answered 200")
    print(f"  /healthz on listen: slowest {healthz[0] * 1000:.0f} ms, {healthz[1]} failures")
    for name, seen in (("readers", crowded), ("attack", attacked)):
        total = seen.answered + seen.failed
        print(
            f"  {name}: {seen.answered}/{total} requests answered"
            f" ({seen.failed / max(total, 1):.0%} refused), {seen.connections} connections"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=30.0, help="of pinging")
    parser.add_argument("--before", default=None, help="the commit whose guard is 'before'")
    args = parser.parse_args()
    rev = args.before or before_commit()
    print(
        f"{args.readers} keep-alive readers + 256 favicon connections on public_listen,"
        f" a ping a second for {args.seconds:.0f} s, daemon limited to 1,024 descriptors"
    )
    with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(scratch):
        # Out of the checkout: ``python -m probed`` would import the package in the cwd first.
        tmp = Path(scratch)
        (tmp / "before").mkdir()
        (tmp / "after").mkdir()
        old = tree_with_old_guard(tmp / "before" / "code", rev)
        await run(f"before ({rev})", tmp / "before", old, args)
        await run("after (this tree)", tmp / "after", ROOT, args)


if __name__ == "__main__":
    asyncio.run(main())
