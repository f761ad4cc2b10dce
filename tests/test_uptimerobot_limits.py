"""getMonitors' input is bounded and its work is done in steps, so one request cannot hold the
event loop (and /healthz, and the checks) for seconds."""

from __future__ import annotations

import asyncio

import pytest

from probed.web import uptimerobot
from probed.web.uptimerobot import MAX_CUSTOM
from tests.kit.clock import T0
from tests.kit.configs import TOKEN
from tests.kit.monitors import make_monitor

MONITORS = 12
START = int(T0.timestamp())


@pytest.fixture
async def harness(make_harness):
    h = make_harness(
        [make_monitor(f"m{i}", id=i + 1) for i in range(MONITORS)],
    )
    for step in range(6):
        for i in range(MONITORS):
            await h.check(f"m{i}", ok=step % 3 != 2)
        h.clock.advance(600)
    return h


def ratios(count: int) -> str:
    return "-".join(str(1 + d % 365) for d in range(count))


def ranges(count: int) -> str:
    return "-".join(f"{START + d * 60}_{START + (d + 1) * 60}" for d in range(count))


async def get_monitors(client, **form: str) -> dict[str, object]:
    resp = await client.post("/v2/getMonitors", data={"api_key": TOKEN, **form})
    assert resp.status == 200
    return dict(await resp.json())


@pytest.mark.parametrize(
    ("name", "make"), [("custom_uptime_ratios", ratios), ("custom_uptime_ranges", ranges)]
)
async def test_at_most_max_custom_ratios_and_ranges_are_answered(client, name, make):
    body = await get_monitors(client, **{name: make(MAX_CUSTOM)})
    assert body["stat"] == "ok"
    field = "custom_uptime_ratio" if name == "custom_uptime_ratios" else name
    for m in body["monitors"]:  # type: ignore[attr-defined]
        assert len(m[field].split("-")) == MAX_CUSTOM

    body = await get_monitors(client, **{name: make(MAX_CUSTOM + 1)})
    assert body["stat"] == "fail"
    assert body["error"] == {
        "type": "invalid_parameter",
        "parameter_name": name,
        "passed_value": make(MAX_CUSTOM + 1),
        "message": f"{name} takes at most {MAX_CUSTOM} values",
    }


async def test_forty_thousand_ratios_are_refused_before_any_work(client, monkeypatch):
    def never(*args: object) -> object:
        raise AssertionError("history read for a refused request")

    monkeypatch.setattr(uptimerobot.Api, "facts", never)
    body = await get_monitors(client, custom_uptime_ratios=ratios(40_000))
    assert body["stat"] == "fail" and body["error"]["parameter_name"] == "custom_uptime_ratios"  # type: ignore[index]


async def test_each_monitor_of_a_page_is_built_in_its_own_step_of_the_event_loop(
    client, monkeypatch
):
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    seen: list[int] = []
    real = uptimerobot.monitor_fields

    def counted(*args: object) -> dict[str, object]:
        seen.append(ticks)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(uptimerobot, "monitor_fields", counted)
    task = asyncio.create_task(ticker())
    try:
        body = await get_monitors(
            client,
            custom_uptime_ratios=ratios(MAX_CUSTOM),
            custom_uptime_ranges=ranges(MAX_CUSTOM),
            logs="1",
            all_time_uptime_ratio="1",
        )
    finally:
        task.cancel()
    assert body["stat"] == "ok" and len(seen) == MONITORS
    # Other tasks (here the ticker; in the daemon /healthz and the checks) ran between monitors.
    assert len(set(seen)) == MONITORS
