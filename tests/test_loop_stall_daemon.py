"""End to end: ``probed run`` stopped with SIGSTOP for longer than its checks' timeout blames
none of its healthy targets, says once what happened, and still confirms a real outage after."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import time

import aiohttp
import pytest

from tests.kit.processes import DaemonProcess, free_port
from tests.kit.receiver import Receiver
from tests.kit.servers import Switchable, wait_for
from tests.test_api_daemon import monitors
from tests.test_daemon_e2e import write_config

pytestmark = pytest.mark.slow

PUSH_TOKEN = "0123456789abcdef-stall-job"
STOPPED = 5.0
"""Seconds the daemon is stopped: more than the api's timeout and the push deadline."""


async def keep_pinging(base: str) -> None:
    """The job: a ping every half second; one sent while probed is stopped waits for it."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        while True:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(f"{base}/push/{PUSH_TOKEN}") as resp:
                    await resp.read()
            await asyncio.sleep(0.5)


async def healthz(base: str) -> tuple[int, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.get(base + "/healthz") as resp:
        return resp.status, await resp.json()


async def test_a_stopped_daemon_blames_no_target_and_confirms_a_later_outage_in_time(
    tmp_path, switchable: Switchable, receivers
) -> None:
    hook: Receiver = await receivers()
    port = free_port()
    config = write_config(
        tmp_path,
        port,
        f'[alerts.hook]\ntype = "webhook"\nurl = "{hook.url}/hook"\n\n'
        f'[[monitor]]\nname = "api"\nurl = "{switchable.url}"\ninterval = "3s"\n'
        'timeout = "3s"\nretry_interval = "1s"\ndown_after = 2\n\n'
        f'[[monitor]]\nname = "nightly"\ntype = "push"\ntoken = "{PUSH_TOKEN}"\n'
        'interval = "2s"\ngrace = "1s"\n',
    )
    # Slow but healthy: the answer takes 2 s of the 3 s timeout.
    switchable.delay = 2.0
    daemon = DaemonProcess(config, port)
    await daemon.start()
    pinger = asyncio.create_task(keep_pinging(daemon.base))
    try:
        for name in ("api", "nightly"):
            await wait_for(lambda n=name: _is(daemon, n, 2), 15, f"{name} up")
        alerts_before = len(hook.requests)
        # Stopped while a check waits for its answer (which comes during the stop).
        hits = switchable.hits
        await wait_for(lambda: switchable.hits > hits, 10, "a check")
        await asyncio.sleep(0.2)
        daemon.signal(signal.SIGSTOP)
        await asyncio.sleep(STOPPED)
        daemon.signal(signal.SIGCONT)
        status, body = await wait_for(lambda: healthz(daemon.base), 10, "an answer")
        assert status == 503 and body["reason"].startswith("event loop stalled "), body
        await asyncio.sleep(4)  # the re-runs, the queued pings, the deadline's grace
        for name in ("api", "nightly"):
            assert await daemon.metric("probed_monitor_status", name) == 2, daemon.logs()
        async with aiohttp.ClientSession() as session:
            found = await monitors(session, daemon.base)
        for name in ("api", "nightly"):
            uptime = found[name]["uptime"]
            assert isinstance(uptime, dict) and uptime["all"] == 1.0, found[name]
        assert len(hook.requests) == alerts_before
        text = await daemon.metrics()
        buckets = dict(
            re.findall(r'^probed_event_loop_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$', text, re.M)
        )
        assert float(buckets["+Inf"]) - float(buckets["2.5"]) >= 1, buckets  # the stop

        # A real outage after the stall is confirmed in its usual window: the next check (at
        # most an interval and the 2 s answer away) and one retry (1 s, and the answer).
        switchable.status = 503
        broke = time.monotonic()
        await wait_for(lambda: _is(daemon, "api", 9), 15, "api down")
        assert time.monotonic() - broke < 3 + 2 + (1 + 2) + 2
    finally:
        pinger.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pinger
        assert await daemon.stop() == 0
    logs = [json.loads(line) for line in daemon.logs().splitlines() if line.startswith("{")]
    stalled = [e for e in logs if e["event"].startswith("event loop stalled")]
    assert len(stalled) == 1 and stalled[0]["seconds"] >= STOPPED - 1, stalled
    transitions = [(e["monitor"], e["kind"]) for e in logs if e["event"] == "transition"]
    assert sorted(transitions[:2]) == [("api", "first_up"), ("nightly", "first_up")], transitions
    assert transitions[2:] == [("api", "seems_down"), ("api", "down")], transitions
    skipped = [e for e in logs if e["event"].startswith("check skipped")]
    assert skipped == []


async def _is(daemon: DaemonProcess, name: str, status: float) -> bool:
    return await daemon.metric("probed_monitor_status", name) == status
