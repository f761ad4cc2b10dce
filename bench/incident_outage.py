"""What a 1,000-monitor outage stores (issue 22): 1,000 http monitors (down_after = 2) on a
loopback target in another process that answers 503 with a 2 KiB JSON body, a Set-Cookie and a
few headers; every monitor is checked twice through the real pipeline (build(), real probes,
real store), so every one opens an incident with its evidence in the same minute.

Figures, for `evidence_bytes` = 4 KiB (the default) and 64 KiB (the maximum): incidents
opened, evidence stored in all (bytes of JSON in incident_evidence; the bound is 10 MB), the
same per incident, how many kept their body (the rest were trimmed by the mass-outage budget),
the outbox's payload bytes, and the CPU spent per check.

    .venv/bin/python bench/incident_outage.py [--monitors 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.evidence_cost import serve_target
from probed import logs
from probed.config import EmailChannel
from probed.probes import make_session
from tests.kit.clock import FakeClock
from tests.kit.configs import make_config
from tests.kit.harness import Harness
from tests.kit.monitors import make_monitor

NOWHERE = EmailChannel(host="127.0.0.1", port=9, sender="p@example.test", to=("o@example.test",))


async def outage(port: int, monitors: int, evidence_bytes: int) -> None:
    url = f"http://127.0.0.1:{port}/down"
    with tempfile.TemporaryDirectory() as state:
        config = make_config(
            Path(state),
            [
                make_monitor(f"m{i}", url=url, down_after=2, evidence_bytes=evidence_bytes)
                for i in range(monitors)
            ],
            NOWHERE,
        )
        async with make_session() as session:
            h = Harness(config, FakeClock(), session)
            try:
                names = list(h.pipeline.monitors)
                cpu = time.process_time()
                for _ in range(2):
                    await asyncio.gather(*(h.pipeline.check(n) for n in names))
                    h.clock.advance(1)
                spent = time.process_time() - cpu
                incidents = h.store.incidents
                rows, total = incidents.find(open=True, limit=monitors)
                stored = incidents.evidence_bytes()
                whole = sum(
                    "body" in (incidents.evidence(r.id).get("confirmed", {}).get("evidence") or {})
                    for r in rows
                )
                outbox = sum(len(str(r.payload.to_json())) for r in h.rows())
            finally:
                await h.close()
    print(
        f"evidence_bytes {evidence_bytes:>6}: {total} incidents, evidence stored"
        f" {stored / 1e6:5.2f} MB ({stored / max(1, total) / 1000:5.1f} kB each; bound 10 MB),"
        f" {whole} with their body, outbox payloads {outbox / 1e6:4.2f} MB,"
        f" {spent / (2 * monitors) * 1000:.2f} CPU ms per check"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--monitors", type=int, default=1000)
    args = parser.parse_args()
    logs.configure("error")  # a line per transition and incident is not the figure
    ports: multiprocessing.SimpleQueue[int] = multiprocessing.SimpleQueue()
    target = multiprocessing.Process(target=serve_target, args=(ports,), daemon=True)
    target.start()
    try:
        port = ports.get()
        for size in (4096, 65536):
            asyncio.run(outage(port, args.monitors, size))
    finally:
        target.terminate()
        target.join()


if __name__ == "__main__":
    main()
