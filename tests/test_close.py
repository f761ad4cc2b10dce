"""Closing a probed leaves nothing behind that reads the store afterwards."""

from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from probed.history.jobs import REFRESH_GAP
from tests.kit.harness import Harness
from tests.kit.monitors import make_monitor


async def test_an_uptime_refresh_held_back_at_close_never_reads_the_closed_store(tmp_path):
    h = Harness.of(tmp_path / "probed.db", [make_monitor("a"), make_monitor("b")])
    await h.check("a")  # a transition: refreshed at once
    await h.check("b")  # another within REFRESH_GAP: its refresh is held back
    with capture_logs() as logs:
        await h.close()
        await asyncio.sleep(REFRESH_GAP * 2)
    assert [e["event"] for e in logs if e["log_level"] == "error"] == []
