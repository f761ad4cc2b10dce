"""Unmodified UptimeRobot v2 client libraries from PyPI, pointed at probed by base URL only.

``uptimerobotpy`` 0.1.5 posts JSON bodies and pages through ``getMonitors``; ``lazyuptimerobot.py``
2.0.0 posts form-encoded bodies with ``format=json``, as UptimeRobot's own examples do. Both are
blocking (requests), so they run in a thread while the event loop serves the real app.
"""

from __future__ import annotations

import asyncio

import pytest
from lazyuptimerobot import UptimeRobot as LazyClient
from uptimerobotpy import UptimeRobot as PyClient

from probed.model import Status
from tests.kit.configs import TOKEN
from tests.kit.harness import api_client
from tests.kit.monitors import make_monitor


@pytest.fixture
async def harness(make_harness):
    monitors = [make_monitor(f"site-{i:02}", url=f"https://site{i}.test/") for i in range(55)]
    return make_harness(monitors)


@pytest.fixture
async def base(harness):
    async for client in api_client(harness):
        yield str(client.make_url("/v2/"))


async def test_uptimerobotpy_lists_every_monitor_across_pages_and_pauses_one(harness, base):
    for _ in range(3):
        await harness.check("site-02")
        harness.clock.advance(60)
    ur = PyClient(endpoint=base, api_key=TOKEN)
    body = await asyncio.to_thread(ur.get_all_monitors, custom_uptime_ratios="1-30", logs=1)
    assert body["stat"] == "ok" and body["pagination"]["total"] == 55
    monitors = {m["friendly_name"]: m for m in body["monitors"]}
    assert len(monitors) == 55  # two pages of at most 50, joined by the library
    site = monitors["site-02"]
    assert (site["status"], site["custom_uptime_ratio"]) == (2, "100.000-100.000")
    assert [log["type"] for log in site["logs"]] == [2]

    answer = await asyncio.to_thread(ur.edit_monitor, site["id"], status=0)
    assert answer == {"stat": "ok", "monitor": {"id": site["id"]}}
    assert harness.tracked("site-02").state.status is Status.PAUSED
    wrong = PyClient(endpoint=base, api_key="not-the-token")
    failed = await asyncio.to_thread(wrong.get_monitors)
    assert failed["stat"] == "fail" and failed["error"]["message"] == "api_key not found."


async def test_lazyuptimerobot_sends_forms_and_resumes_a_paused_monitor(harness, base):
    harness.pauses.pause(harness.tracked("site-07"), None, "API")
    site_id = harness.tracked("site-07").id
    ur = LazyClient(TOKEN, api_url=base)
    response = await asyncio.to_thread(ur.getMonitors, statuses="0", all_time_uptime_ratio=1)
    body = response.json()
    assert [(m["id"], m["status"]) for m in body["monitors"]] == [(site_id, 0)]
    assert body["monitors"][0]["all_time_uptime_ratio"] == "100.000"

    response = await asyncio.to_thread(ur.editMonitor, id=site_id, status=1)
    assert response.json() == {"stat": "ok", "monitor": {"id": site_id}}
    assert harness.tracked("site-07").state.status is Status.PENDING
    account = (await asyncio.to_thread(ur.getAccountDetails)).json()
    assert account["account"]["monitor_limit"] == 55
