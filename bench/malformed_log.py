"""Log bytes per 5,000 malformed requests of each kind, before and after issue 21's fix.

For each shape of ``tests/kit/malformed.SHAPES`` (one a kind of problem, each carrying the API
token or a push token), a fresh ``probed run`` of each version gets N such requests on new
connections, 32 at a time; printed per shape and version: bytes the daemon's log grew, its
lines, whether a token appears in it, and the answers' statuses. "before" is the commit before
the fix (``--before REF`` to choose another), exported with ``git archive``; "after" is this
checkout. Goal: < 50 KB per 5,000 and no token.

    .venv/bin/python bench/malformed_log.py [--requests 5000] [--before REF] [--only after]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.kit.configs import TOKEN
from tests.kit.malformed import PUSH, SHAPES, send
from tests.kit.processes import DaemonProcess, free_port

ROOT = Path(__file__).resolve().parent.parent

FIX = "probed/service/malformed.py"
"""The file the fix added: "before" is the commit before it."""


def before_ref() -> str:
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", FIX],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not added:
        raise SystemExit(f"no commit adds {FIX}: pass --before REF")
    return added[-1] + "^"


def export(ref: str, into: Path) -> Path:
    """The ``probed`` package of ``ref`` under ``into``."""
    archive = subprocess.run(
        ["git", "archive", ref, "probed"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def write_config(work: Path, port: int) -> Path:
    """The API token and a push monitor holding the push token."""
    work.mkdir(parents=True)
    config = work / "monitors.toml"
    config.write_text(
        f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{work / "state"}"\n'
        f'api_token = "{TOKEN}"\n[[monitor]]\nname = "job"\ntype = "push"\n'
        f'token = "{PUSH}"\ninterval = "1h"\n'
    )
    return config


async def measure(code: Path, work: Path, shape: bytes, requests: int) -> dict[str, object]:
    """One fresh daemon importing probed from ``code``, ``requests`` copies of ``shape``."""
    port = free_port()
    config = write_config(work, port)
    # python -m puts the working directory first on sys.path: run where no probed is.
    daemon = DaemonProcess(config, port, env={"PYTHONPATH": str(code)})
    os.chdir(work)
    await daemon.start()
    gate = asyncio.Semaphore(32)

    async def one() -> int | str:
        async with gate:
            try:
                return (await send(port, shape))[0]
            except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                return type(exc).__name__

    try:
        before = daemon.log_path.stat().st_size
        statuses = Counter(await asyncio.gather(*(one() for _ in range(requests))))
        await asyncio.sleep(0.5)
        text = daemon.log_path.read_bytes()[before:]
    finally:
        await daemon.stop()
    logs = text.decode(errors="replace")
    return {
        "bytes": len(text),
        "lines": text.count(b"\n"),
        "token": TOKEN in logs or PUSH in logs,
        "statuses": dict(statuses),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--before", help="git ref of the version before (default: before the fix)")
    parser.add_argument("--only", choices=["before", "after"], help="measure one version only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="malformed-log-") as tmp:
        versions = {"after": ROOT}
        if args.only != "after":
            versions = {"before": export(args.before or before_ref(), Path(tmp) / "before")} | (
                {} if args.only == "before" else versions
            )
        print(f"log bytes per {args.requests:,} malformed requests of each kind (goal < 50 KB)")
        print(f"{'shape':40} {'version':7} {'log bytes':>11} {'lines':>6} token  answers")
        for s, (name, shape) in enumerate(SHAPES.items()):
            for version, code in versions.items():
                r = await measure(code, Path(tmp) / f"{version}-{s}", shape, args.requests)
                print(
                    f"{name:40} {version:7} {r['bytes']:>11,} {r['lines']:>6}"
                    f" {'YES' if r['token'] else 'no':5}  {r['statuses']}",
                    flush=True,
                )


if __name__ == "__main__":
    asyncio.run(main())
