"""Degraded performance (docs/design.md §14): the mean of the last 3 good checks above
slow_threshold,
through the real pipeline, recorder and outbox of a probed made by ``build()``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from probed.alerts.messages import render
from probed.alerts.policy import AlertKind
from probed.model import CheckResult, Status, Timings
from tests.kit.clock import T0, FakeClock
from tests.kit.configs import email_channel, make_config
from tests.kit.harness import Harness, failed, good
from tests.kit.monitors import make_monitor


def harness(tmp_path: Path, clock: FakeClock) -> Harness:
    api = make_monitor("api", slow_threshold=0.5, down_after=1)
    config = make_config(tmp_path, [api], email_channel(2525))
    return Harness(config, clock)


def slow(at_seconds: float, total: float) -> CheckResult:
    return good(T0 + timedelta(seconds=at_seconds), timings=Timings(total=total))


async def test_slow_checks_alert_degraded_once_then_recovered_and_set_the_metric(tmp_path):
    clock = FakeClock()
    h = harness(tmp_path, clock)
    try:
        # Two checks are not yet a sample; the third makes one of mean 633 ms, past 500 ms.
        for i, total in enumerate((0.1, 0.9, 0.9, 0.9, 0.9)):
            clock.advance(60)
            await h.feed("api", slow(60 * (i + 1), total))
        kinds = [r.kind for r in h.rows()]
        assert kinds == [AlertKind.DEGRADED]
        assert h.metric("probed_monitor_degraded", monitor="api") == 1.0
        assert h.tracked("api").state.status is Status.UP  # beside the state, never instead
        row = h.rows()[0]
        assert "mean response time 633 ms" in row.payload.reason
        message = render(row.kind, [row.payload], row.message_id, row.created_at)
        assert message.subject == "[probed] DEGRADED: api (slow responses)"
        # A failure has no response time and changes nothing; fast checks bring it back.
        await h.feed("api", failed(clock.advance(60)))
        for _ in range(3):
            await h.feed("api", good(clock.advance(60), timings=Timings(total=0.1)))
        kinds = [r.kind for r in h.rows()]
        assert kinds.count(AlertKind.RECOVERED) == 1 and kinds.count(AlertKind.DEGRADED) == 1
        assert h.metric("probed_monitor_degraded", monitor="api") == 0.0
    finally:
        await h.close()


async def test_a_restart_keeps_a_degraded_monitor_degraded_without_a_second_alert(tmp_path):
    clock = FakeClock()
    h = harness(tmp_path, clock)
    for i in range(3):
        await h.feed("api", slow(60 * i, 0.8))
    await h.close()
    h = harness(tmp_path, clock)
    try:
        assert h.tracked("api").degraded
        await h.feed("api", slow(600, 0.8))
        assert [r.kind for r in h.rows()] == [AlertKind.DEGRADED]
    finally:
        await h.close()
