"""Degraded (docs/design.md §4) is judged once per result, in the pure state step, and the alert
recorder reads that verdict: it holds however late the recorder runs (a batched write runs it
after the pipeline has moved on), which a second judgement from the monitor's runtime view
did not."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from probed.alerts.policy import AlertKind
from probed.engine.state import step
from probed.model import CheckResult, MonitorState, Policy, Status, Timings
from tests.kit.clock import T0, FakeClock
from tests.kit.configs import email_channel, make_config
from tests.kit.harness import Harness, failed, good
from tests.kit.monitors import make_monitor as make

SLOW = Policy(down_after=1, up_after=1, slow_threshold=0.5)


def timed(seconds: float, total: float) -> CheckResult:
    return good(T0 + timedelta(seconds=seconds), timings=Timings(total=total))


def test_the_state_step_judges_the_speed_with_the_state_and_says_when_it_changed() -> None:
    state, recent, degraded = MonitorState(), (), False
    verdicts = []
    results = [timed(0, 0.1), timed(60, 0.9), timed(120, 0.9), timed(180, 0.9)]
    results += [failed(T0 + timedelta(seconds=240)), timed(300, 0.1), timed(360, 0.1)]
    for result in results:
        judged = step("api", state, result, SLOW, recent, degraded)
        state, recent, degraded = judged.state, judged.recent_good, judged.degraded
        verdicts.append((state.status, degraded, judged.slowness))
    mean_slow, mean_back = (0.1 + 0.9 + 0.9) / 3, (0.9 + 0.1 + 0.1) / 3
    assert verdicts == [
        (Status.UP, False, None),
        (Status.UP, False, None),
        (Status.UP, True, (True, mean_slow)),  # three good checks: a sample, above 0.5 s
        (Status.UP, True, None),
        (Status.DOWN, True, None),  # a failure has no response time: the sample stands
        (Status.UP, True, None),  # still 0.63 s on average
        (Status.UP, False, (False, mean_back)),
    ]
    assert recent == (0.9, 0.1, 0.1)


def test_without_a_threshold_no_sample_makes_a_monitor_degraded() -> None:
    judged = step("api", MonitorState(), timed(0, 9.0), Policy(), (9.0, 9.0), False)
    assert (judged.degraded, judged.slowness, judged.recent_good) == (False, None, (9.0,) * 3)


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    """A probed whose monitor "api" is degraded above 0.5 s, alerting by email."""
    api = make("api", slow_threshold=0.5, down_after=1)
    harness = Harness(make_config(tmp_path, [api], email_channel(2525)), FakeClock())
    yield harness
    await harness.close()


async def test_slow_checks_alert_degraded_once_while_checks_are_written_in_batches(
    h: Harness,
) -> None:
    # The daemon runs the backlog, which batches checks without transitions: their record
    # hook (the alerts) runs at the next flush, after the pipeline has updated the monitor.
    batching = asyncio.create_task(h.parts.backlog.run())
    await asyncio.sleep(0)  # it starts batching
    try:
        for i, total in enumerate((0.1, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1)):
            await h.feed("api", timed(60 * (i + 1), total))
            h.clock.advance(60)
        h.parts.backlog.write_pending()  # what its next flush would do
        assert [r.kind for r in h.rows()] == [AlertKind.DEGRADED, AlertKind.RECOVERED]
        degraded, recovered = h.rows()
        assert "mean response time 633 ms" in degraded.payload.reason
        assert recovered.monitor == "api" and not h.tracked("api").degraded
    finally:
        batching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await batching


async def test_the_recorder_alerts_on_the_verdict_it_is_given_not_on_its_own(h: Harness) -> None:
    tracked = h.tracked("api")
    # A single fast check: judged again from it, nothing would be slow.
    with h.store.transaction():
        h.recorder(tracked, timed(0, 0.01), [], (True, 0.75))
    (row,) = h.rows()
    assert row.kind == AlertKind.DEGRADED
    assert "mean response time 750 ms" in row.payload.reason
    with h.store.transaction():
        h.recorder(tracked, timed(60, 0.01), [], None)
    assert len(h.rows()) == 1
