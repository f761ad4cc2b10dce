"""CPU per failed check with evidence capture on and off, side by side in one run (issue 22):
N checks in this process, one at a time, against a loopback aiohttp target in another process
answering 503 with a 2 KiB JSON body, a Set-Cookie and a few headers (so only probed's side is
counted). On and off alternate in rounds, so a neighbour's load falls on both alike.

Figures, per case (http: status only, the body from aiohttp's buffer; keyword: 503
accepted, so the body is read and searched; refused: no answer): CPU ms
(time.process_time) per check with capture on and off, the difference, and the evidence's JSON
size, also as the most 1,000 monitors going down at once store (2 checks each: opened, confirmed).

    .venv/bin/python bench/evidence_cost.py [--checks 2000] [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from probed.config import Monitor
from probed.config.http import StatusRange
from probed.probes import make_session, run_probe
from tests.kit.monitors import make_monitor

BODY = json.dumps({"error": "upstream unavailable", "detail": "x" * 2000})[:2048]


def serve_target(ports: multiprocessing.SimpleQueue[int]) -> None:
    """The target, in a child process: every GET is a 503 with a 2 KiB body."""

    async def down(request: web.Request) -> web.Response:
        response = web.Response(status=503, text=BODY, content_type="application/json")
        response.set_cookie("session", "0123456789abcdef")
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Request-Id"] = "5f0c1d2e-bench"
        return response

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/down", down)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ports.put(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed on return: nothing listens there


async def measure(name: str, monitor: Monitor, checks: int, rounds: int) -> None:
    spent = {True: 0.0, False: 0.0}
    size = 0
    reason = ""
    async with make_session() as session:
        for capture in (True, False) * 10:  # warm-up: imports, first connections
            await run_probe(monitor, session, datetime.now(UTC), capture=capture)
        per_round = max(1, checks // rounds)
        for turn in range(rounds):
            # Each setting goes first in half the rounds: the first of a pair runs warmer or
            # colder (the target's process, caches), and that must not count for one side.
            for capture in (True, False) if turn % 2 else (False, True):
                cpu = time.process_time()
                for _ in range(per_round):
                    result = await run_probe(monitor, session, datetime.now(UTC), capture=capture)
                spent[capture] += time.process_time() - cpu
                assert not result.ok, result.reason
                reason = result.reason
                if capture:
                    assert result.evidence is not None
                    size = len(json.dumps(result.evidence.to_json()).encode())
        done = per_round * rounds
    on, off = spent[True] / done * 1000, spent[False] / done * 1000
    print(
        f"{name:<8} on {on:6.3f}  off {off:6.3f} CPU ms/check  {(on - off) / off * 100:+6.1f} %"
        f"  evidence {size:>5} bytes JSON ({size * 2000 / 1e6:.1f} MB for 1,000 monitors)"
        f"  [{reason}]"
    )


async def run(port: int, checks: int, rounds: int) -> None:
    url = f"http://127.0.0.1:{port}/down"
    await measure("http", make_monitor(url=url, timeout=5), checks, rounds)
    # 503 accepted, so the keyword check reads the body (and keeps its head as it goes).
    accepted = (StatusRange(503, 503, "503"),)
    keyword = make_monitor(
        kind="keyword", url=url, keyword="zzz", expect_status=accepted, timeout=5
    )
    await measure("keyword", keyword, checks, rounds)
    refused = make_monitor(url=f"http://127.0.0.1:{closed_port()}/", timeout=5)
    await measure("refused", refused, checks, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=2000, help="per case and setting")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    ports: multiprocessing.SimpleQueue[int] = multiprocessing.SimpleQueue()
    target = multiprocessing.Process(target=serve_target, args=(ports,), daemon=True)
    target.start()
    try:
        asyncio.run(run(ports.get(), args.checks, args.rounds))
    finally:
        target.terminate()
        target.join()


if __name__ == "__main__":
    main()
