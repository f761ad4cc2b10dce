"""The state machine, driven by tables of check results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from probed.engine.state import advance, needs_retry_interval, pause, resume
from probed.model import CheckResult, MonitorState, Policy, Status, TransitionKind

T0 = datetime(2026, 1, 1, tzinfo=UTC)
S = Status


def run(sequence: str, policy: Policy, start: MonitorState | None = None):
    """Feed 'u' (good), 'd' (failed) and 'o' (probe host offline) results, one a minute."""
    state = start or MonitorState()
    states, kinds = [], []
    for i, c in enumerate(sequence):
        at = T0 + timedelta(minutes=i)
        result = CheckResult(ok=c == "u", reason=f"check {i}", at=at, offline=c == "o")
        state, transitions = advance("m", state, result, policy)
        states.append(state.status)
        kinds.extend(t.kind for t in transitions)
    return state, states, kinds


K = TransitionKind


@pytest.mark.parametrize(
    ("sequence", "down_after", "up_after", "states", "kinds"),
    [
        ("u", 3, 1, [S.UP], [K.FIRST_UP]),
        ("d", 3, 1, [S.SEEMS_DOWN], [K.SEEMS_DOWN]),
        ("d", 1, 1, [S.DOWN], [K.DOWN]),
        ("uduu", 3, 1, [S.UP, S.SEEMS_DOWN, S.UP, S.UP], [K.FIRST_UP, K.SEEMS_DOWN, K.BLIP]),
        (
            "uddd",
            3,
            1,
            [S.UP, S.SEEMS_DOWN, S.SEEMS_DOWN, S.DOWN],
            [K.FIRST_UP, K.SEEMS_DOWN, K.DOWN],
        ),
        (
            "udddd",
            3,
            1,
            [S.UP, S.SEEMS_DOWN, S.SEEMS_DOWN, S.DOWN, S.DOWN],
            [K.FIRST_UP, K.SEEMS_DOWN, K.DOWN],
        ),
        ("dddu", 3, 1, [S.SEEMS_DOWN, S.SEEMS_DOWN, S.DOWN, S.UP], [K.SEEMS_DOWN, K.DOWN, K.UP]),
        (
            "ddduu",
            3,
            2,
            [S.SEEMS_DOWN, S.SEEMS_DOWN, S.DOWN, S.DOWN, S.UP],
            [K.SEEMS_DOWN, K.DOWN, K.UP],
        ),
        (
            "ddudu",
            3,
            2,
            [S.SEEMS_DOWN, S.SEEMS_DOWN, S.UP, S.SEEMS_DOWN, S.UP],
            [K.SEEMS_DOWN, K.BLIP, K.SEEMS_DOWN, K.BLIP],
        ),
        (
            "dddudu",
            3,
            2,
            [S.SEEMS_DOWN, S.SEEMS_DOWN, S.DOWN, S.DOWN, S.DOWN, S.DOWN],
            [K.SEEMS_DOWN, K.DOWN],
        ),
        (
            "dudud",
            2,
            1,
            [S.SEEMS_DOWN, S.UP, S.SEEMS_DOWN, S.UP, S.SEEMS_DOWN],
            [K.SEEMS_DOWN, K.BLIP, K.SEEMS_DOWN, K.BLIP, K.SEEMS_DOWN],
        ),
        ("uoooo", 1, 1, [S.UP] * 5, [K.FIRST_UP]),
        (
            "udodd",
            3,
            1,
            [S.UP, S.SEEMS_DOWN, S.SEEMS_DOWN, S.SEEMS_DOWN, S.DOWN],
            [K.FIRST_UP, K.SEEMS_DOWN, K.DOWN],
        ),
    ],
)
def test_result_sequences_lead_to_the_expected_states_and_transitions(
    sequence, down_after, up_after, states, kinds
):
    _, seen_states, seen_kinds = run(sequence, Policy(down_after, up_after))
    assert seen_states == states
    assert seen_kinds == kinds


def test_the_outage_starts_at_the_first_failed_check_not_at_confirmation():
    state, _, _ = run("uuddd", Policy(3, 1))
    assert state.status is S.DOWN
    assert state.outage_start == T0 + timedelta(minutes=2)
    assert state.since == T0 + timedelta(minutes=4)


def test_recovery_reports_the_outage_duration_and_what_recovered():
    state = MonitorState()
    results = [(False, "HTTP 503, expected 2xx")] * 3 + [(True, "HTTP 200")]
    transitions = []
    for i, (ok, reason) in enumerate(results):
        r = CheckResult(ok=ok, reason=reason, at=T0 + timedelta(seconds=30 * i))
        state, ts = advance("m", state, r, Policy(3, 1))
        transitions += ts
    up = transitions[-1]
    assert up.kind is K.UP
    assert up.outage_start == T0
    assert up.outage_seconds == 90
    assert up.reason == "HTTP 200"  # no phases timed: nothing to add (see test_recovery_reason)
    assert state.outage_start is None and state.failures == 0


def test_a_blip_clears_the_failure_streak():
    state, _, _ = run("ddu", Policy(3, 1))
    assert state.failures == 0 and state.outage_start is None
    state, states, _ = run("dd", Policy(3, 1), start=state)
    assert states == [S.SEEMS_DOWN, S.SEEMS_DOWN]


def test_a_paused_monitor_ignores_results_until_resumed_from_pending():
    state, _, _ = run("ddd", Policy(3, 1))
    state, ts = pause("m", state, T0)
    assert state.status is S.PAUSED and [t.kind for t in ts] == [K.PAUSED]
    assert pause("m", state, T0) == (state, [])
    state2, _, kinds = run("ddd", Policy(3, 1), start=state)
    assert state2 == state and kinds == []
    state, ts = resume("m", state, T0)
    assert state.status is S.PENDING and state.outage_start is None
    assert [t.kind for t in ts] == [K.RESUMED]
    assert resume("m", state, T0) == (state, [])


def test_the_retry_interval_applies_while_a_failure_or_a_recovery_is_unconfirmed():
    assert needs_retry_interval(run("d", Policy(3, 1))[0])
    assert not needs_retry_interval(run("ddd", Policy(3, 1))[0])
    assert needs_retry_interval(run("dddu", Policy(3, 2))[0])
    assert not needs_retry_interval(run("u", Policy(3, 1))[0])
