"""probed_uptime_ratio is on /metrics from a monitor's first check, every time: a scrape right
after the first transition finds it even while the batched uptime refresh is held back."""

from __future__ import annotations

import asyncio
import re

from aiohttp.test_utils import TestClient, TestServer

from probed.history.jobs import REFRESH_GAP
from tests.kit.clock import FakeClock
from tests.kit.configs import make_config
from tests.kit.harness import Harness, failed, good
from tests.kit.monitors import make_monitor as monitor

NAMES = [f"new {i}" for i in range(20)]


def ratios(text: str, name: str) -> dict[str, float]:
    """The monitor's probed_uptime_ratio samples by window."""
    pattern = rf'^probed_uptime_ratio\{{monitor="{re.escape(name)}",window="(\w+)"\}} (\S+)$'
    return {w: float(v) for w, v in re.findall(pattern, text, re.M)}


async def test_a_scrape_right_after_each_first_check_sees_the_uptime_ratio(tmp_path):
    clock = FakeClock()
    config = make_config(tmp_path, [monitor(n) for n in NAMES], None)
    h = Harness(config, clock)
    client = TestClient(TestServer(h.parts.app, host="127.0.0.1"))
    await client.start_server()
    try:
        for i, name in enumerate(NAMES):  # 20 first checks well within one REFRESH_GAP
            ok = i % 2 == 0
            result = good(clock()) if ok else failed(clock())
            assert await h.feed(name, result) == ["first_up" if ok else "seems_down"]
            async with client.get("/metrics") as resp:
                text = await resp.text()
            # Nothing observed yet: up, and seems down (unconfirmed), both read as up.
            assert ratios(text, name) == {"1d": 1.0, "7d": 1.0, "30d": 1.0}, (i, name)
            clock.advance(1)
        # The held refresh then reads the store and agrees.
        await asyncio.sleep(REFRESH_GAP * 2)
        async with client.get("/metrics") as resp:
            text = await resp.text()
        for name in NAMES:
            assert ratios(text, name) == {"1d": 1.0, "7d": 1.0, "30d": 1.0}, name
    finally:
        await client.close()
        await h.close()


async def test_a_monitor_whose_first_checks_confirm_it_down_reads_zero_at_once(tmp_path):
    clock = FakeClock()
    config = make_config(tmp_path, [monitor("warm-up"), monitor("broken", down_after=1)], None)
    h = Harness(config, clock)
    try:
        await h.feed("warm-up", good(clock()))  # a refresh just ran: the next one is held
        assert await h.feed("broken", failed(clock())) == ["down"]
        for window in ("1d", "7d", "30d"):
            value = h.metrics.registry.get_sample_value(
                "probed_uptime_ratio", {"monitor": "broken", "window": window}
            )
            assert value == 0.0
    finally:
        await h.close()
