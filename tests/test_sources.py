"""Results from both sources take one path: what a push job sends over HTTP (inbound) and what
a scheduled check finds (outbound) are judged, stored and alerted on alike, through the real
app, pipeline, store and outbox of a probed made by ``build()``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from probed.config import KINDS, Monitor
from probed.config.kinds import inbound
from probed.model import CheckResult, Status, Timings, Transition
from tests.kit.clock import FakeClock
from tests.kit.configs import email_channel, make_config
from tests.kit.harness import Harness
from tests.kit.monitors import make_monitor as make

TOKEN = "0123456789abcdef-nightly"
Client = TestClient[web.Request, web.Application]


def job() -> Monitor:
    return make("job", "push", url="", token=TOKEN, interval=3600.0, grace=60.0, down_after=1)


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    site = make("site", down_after=1)
    h = Harness(make_config(tmp_path, [job(), site], email_channel(2525)), FakeClock())
    yield h
    await h.close()


def stored(harness: Harness, name: str) -> list[Transition]:
    """The monitor's stored transitions, oldest first, without its name."""
    tracked = harness.tracked(name)
    return [replace(t, monitor="") for t in reversed(harness.store.transitions(tracked.id))]


async def test_a_failure_pushed_and_the_same_failure_checked_store_and_alert_alike(
    harness: Harness, client: Client
) -> None:
    harness.clock.advance(60)
    async with client.get(f"/push/{TOKEN}/fail", params={"msg": "disk full"}) as resp:
        assert resp.status == 200
    pushed = harness.tracked("job").last
    assert pushed == CheckResult(ok=False, reason="disk full", at=harness.clock())
    # The scheduled check of an outbound monitor finds exactly what the job reported.
    assert await harness.feed("site", pushed) == ["down"]
    assert harness.tracked("site").last == pushed
    assert stored(harness, "job") == stored(harness, "site")
    assert [t.kind for t in stored(harness, "job")] == ["down"]
    assert harness.store.checks.last(harness.tracked("job").id) == pushed
    assert harness.store.checks.last(harness.tracked("site").id) == pushed
    # Both went through the record hook: one DOWN alert each, saying the same.
    rows = {row.monitor: row for row in harness.rows()}
    assert sorted(rows) == ["job", "site"]
    assert rows["job"].kind == rows["site"].kind == "down"
    assert rows["job"].payload.reason == rows["site"].payload.reason == "disk full"
    assert harness.metric("probe_success", monitor="job") == 0.0
    assert harness.metric("probe_success", monitor="site") == 0.0


async def test_a_ping_and_the_same_good_result_checked_make_the_same_first_transition(
    harness: Harness, client: Client
) -> None:
    harness.clock.advance(60)
    async with client.post(f"/push/{TOKEN}") as resp:
        assert resp.status == 200
    pushed = harness.tracked("job").last
    assert pushed is not None and pushed.ok and pushed.reason == "ping received"
    assert await harness.feed("site", pushed) == ["first_up"]
    assert stored(harness, "job") == stored(harness, "site")
    assert harness.tracked("job").state == harness.tracked("site").state
    assert harness.tracked("job").state.status is Status.UP


async def test_the_scheduled_check_of_a_push_monitor_asks_the_inbound_source_not_a_probe(
    harness: Harness, client: Client
) -> None:
    # The harness's probe fails the test when asked without a result: push never asks it.
    assert await harness.pipeline.check("job") is None
    async with client.get(f"/push/{TOKEN}") as resp:
        assert resp.status == 200
    harness.clock.advance(3600 + 60)
    tracked = await harness.pipeline.check("job")
    assert tracked is not None and tracked.state.status is Status.DOWN
    assert tracked.state.reason == "no ping for 1h 1m (expected every 1h, grace 1m)"
    assert [t.kind for t in stored(harness, "job")] == ["first_up", "down"]


async def test_a_result_delivered_for_a_paused_or_unknown_monitor_changes_nothing(
    harness: Harness,
) -> None:
    result = CheckResult(ok=True, reason="HTTP 200", at=harness.clock(), timings=Timings())
    assert harness.pipeline.deliver("nobody", result) is None
    harness.pause("site")
    assert harness.pipeline.deliver("site", result) is None
    assert harness.tracked("site").state.status is Status.PAUSED
    assert harness.tracked("site").last is None
    assert harness.pipeline.deliver("job", result) is harness.tracked("job")
    assert harness.tracked("job").last == result


def test_inbound_is_exactly_the_kinds_without_a_probe() -> None:
    for kind in KINDS.values():
        check = kind.check(**dict.fromkeys(kind.required, "a"))
        assert inbound(check) is (check if kind.probe is None else None), kind.name
    assert [k.name for k in KINDS.values() if k.probe is None] == ["push"]
