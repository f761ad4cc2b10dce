"""An UP transition says what recovered (``HTTP 200 in 84 ms``); the UP alert still says what
the target was down for, and DOWN reasons are the failed check's."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from probed.alerts.messages import render
from probed.alerts.policy import AlertKind
from probed.engine.state import advance
from probed.model import CheckResult, MonitorState, Policy, Timings, TransitionKind
from probed.probes import make_session
from probed.probes.push import PING_REASON
from tests.kit.clock import FakeClock
from tests.kit.configs import email_channel, make_config
from tests.kit.harness import Harness
from tests.kit.monitors import make_monitor as monitor

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def outage_then(good: CheckResult) -> tuple[MonitorState, list]:
    """Three timeouts (down), then ``good``: the final state and every transition."""
    state, seen = MonitorState(), []
    for i in range(3):
        bad = CheckResult(ok=False, reason="timeout after 10s", at=T0 + timedelta(minutes=i))
        state, ts = advance("m", state, bad, Policy(3, 1))
        seen += ts
    state, ts = advance("m", state, good, Policy(3, 1))
    return state, seen + ts


@pytest.mark.parametrize(
    ("reason", "timings", "expected"),
    [
        ("HTTP 200", Timings(connect=0.002, first_byte=0.080, total=0.0841), "HTTP 200 in 84 ms"),
        ("HTTP 200", Timings(first_byte=0.0004, total=0.00042), "HTTP 200 in 0.4 ms"),
        ("connected", Timings(dns=0.001, connect=0.002, total=0.003), "connected in 3 ms"),
        (
            "certificate valid for 80 days",
            Timings(connect=0.001, tls=0.01, total=0.0123),
            "certificate valid for 80 days in 12 ms",
        ),
        ("A 127.0.0.1", Timings(dns=0.005, total=0.0051), "A 127.0.0.1 in 5 ms"),
        # A push's time is its job's run, not a response: the ping is what recovered.
        (PING_REASON, Timings(total=125.0), "ping received"),
        (PING_REASON, Timings(), "ping received"),
    ],
)
def test_the_up_transition_says_what_recovered_and_how_fast(reason, timings, expected):
    good = CheckResult(ok=True, reason=reason, at=T0 + timedelta(minutes=5), timings=timings)
    state, transitions = outage_then(good)
    down, up = transitions[-2], transitions[-1]
    assert (down.kind, down.reason) == (TransitionKind.DOWN, "timeout after 10s")
    assert (up.kind, up.reason) == (TransitionKind.UP, expected)
    assert up.outage_seconds == 300
    assert state.reason == reason  # the state keeps the last check's reason as it is


async def test_a_real_recovery_stores_the_good_result_and_the_up_mail_still_says_why_it_was_down(
    tmp_path,
    switchable,
):
    clock = FakeClock()
    mon = monitor("api", url=switchable.url, down_after=2)
    config = make_config(tmp_path, [mon], email_channel(9))
    async with make_session() as session:
        h = Harness(config, clock, session)
        try:
            switchable.status = 503
            for _ in range(2):
                await h.pipeline.check("api")
                clock.advance(30)
            switchable.status = 200
            await h.pipeline.check("api")
            tracked = h.tracked("api")
            stored = h.store.transitions(tracked.id, 10)
            rows = h.rows()
        finally:
            await h.close()
    kinds = [(str(t.kind), t.reason) for t in stored]
    assert ("down", "HTTP 503, expected 2xx") in kinds
    (up,) = [t for t in stored if t.kind is TransitionKind.UP]
    assert re.fullmatch(r"HTTP 200 in \d+(\.\d)? ms", up.reason), up.reason
    (row,) = [r for r in rows if r.kind is AlertKind.UP]
    assert row.payload.reason == "HTTP 503, expected 2xx"
    message = render(row.kind, [row.payload], row.message_id, row.created_at)
    assert "Down because:  HTTP 503, expected 2xx" in message.text
    assert "is UP again after 1m down" in message.text
