"""Delivery latency per alert channel: from the moment an alert is decided (the DOWN transition
and its outbox rows committed) to the moment each receiver has it, through build()'s real
dispatcher loop, on loopback: an aiosmtpd server (email), an aiohttp receiver (webhook, the
Alertmanager API, and apprise's json:// service).

Figures: median, 95th percentile and maximum per channel over N alerts, one at a time.

    .venv/bin/python bench/channels.py [--alerts 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from probed.config.channels import AlertmanagerChannel, AppriseChannel, WebhookChannel
from probed.config.channels.apprise import apprise_problem
from probed.units import utcnow
from tests.kit.configs import email_channel, make_config
from tests.kit.harness import Harness, failed
from tests.kit.monitors import make_monitor
from tests.kit.receiver import Receiver
from tests.kit.smtp import SmtpServer


class WallClock:
    def __call__(self):  # type: ignore[no-untyped-def]
        return utcnow()


async def main(count: int) -> None:
    smtp = await SmtpServer().start()
    hook, am, chat = [await Receiver([200]).start() for _ in range(3)]
    alerts = {
        "webhook": WebhookChannel(url=hook.url + "/hook"),
        "alertmanager": AlertmanagerChannel(urls=(am.url,)),
        "apprise": AppriseChannel(urls=(f"json://{chat.url.removeprefix('http://')}/chat",)),
    }
    # As the daemon does when it reads monitors.toml: checking each apprise URL loads apprise's
    # plugins before the first alert (a config built here would skip it).
    for url in alerts["apprise"].urls:
        if problem := apprise_problem(url):
            sys.exit(problem)
    names = [f"m{i}" for i in range(count)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        config = make_config(
            path,
            [make_monitor(n, down_after=1) for n in names],
            email_channel(smtp.port),
            alerts,
            storm_threshold=count + 1,
        )
        clock = WallClock()
        h = Harness(config, clock)  # type: ignore[arg-type]
        h.dispatcher.start()
        latency: dict[str, list[float]] = {c: [] for c in ("email", *alerts)}
        try:
            for i, name in enumerate(names, 1):
                await h.feed(name, failed(clock()))
                decided = time.monotonic()
                await smtp.wait_for(i, 10)
                for receiver in (hook, am, chat):
                    await receiver.wait_for(i, 10)
                latency["email"].append(smtp.inbox[-1].at - time.time() + time.monotonic())
                latency["webhook"].append(hook.requests[-1].at)
                latency["alertmanager"].append(am.requests[-1].at)
                latency["apprise"].append(chat.requests[-1].at)
                for channel in latency:
                    latency[channel][-1] -= decided
        finally:
            await h.dispatcher.stop(2)
            await h.close()
            for r in (hook, am, chat):
                await r.stop()
            await smtp.stop()
    print(f"alert decided → receiver has it, {count} DOWN alerts one at a time (ms):")
    for channel, values in latency.items():
        ms = sorted(v * 1000 for v in values)
        p95 = ms[max(0, round(0.95 * len(ms)) - 1)]
        median = statistics.median(ms)
        print(f"  {channel:<13} median {median:6.1f}  p95 {p95:6.1f}  max {ms[-1]:6.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=50)
    asyncio.run(main(parser.parse_args().alerts))
