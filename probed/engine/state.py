"""The monitor state machine (docs/design.md §3) as pure functions.

``advance(state, result, policy)`` → ``(new_state, transitions)``; ``step`` adds the speed
verdict (degraded, docs/design.md §4), so each result is judged once, here, and everyone downstream
(the pipeline, the alert recorder) reads that one verdict. Nothing here reads a clock, touches
the store or sends anything: callers persist the transitions, then act on them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from probed.engine.slowness import is_degraded, mean, sample_after
from probed.model import CheckResult, MonitorState, Policy, Status, Transition, TransitionKind


@dataclass(frozen=True, slots=True)
class Step:
    """What one check result makes of a monitor (``step``)."""

    state: MonitorState
    transitions: list[Transition]
    recent_good: tuple[float, ...]
    """Response times (seconds) of the last good checks, oldest first, after this result."""
    degraded: bool
    """Their mean is above the policy's ``slow_threshold``."""
    slowness: tuple[bool, float] | None = None
    """(degraded, mean seconds) when this result changed ``degraded``; None when it did not."""


def step(
    monitor: str,
    state: MonitorState,
    result: CheckResult,
    policy: Policy,
    recent_good: tuple[float, ...] = (),
    degraded: bool = False,
) -> Step:
    """Apply one check result to a monitor's state and to its speed (``recent_good``, whether
    ``degraded``), the latter as they were before ``result``."""
    new, transitions = advance(monitor, state, result, policy)
    recent = sample_after(recent_good, result)
    now_degraded = is_degraded(policy.slow_threshold, recent)
    average = mean(recent)
    changed = now_degraded != degraded and average is not None
    slowness = (now_degraded, average or 0.0) if changed else None
    return Step(new, transitions, recent, now_degraded, slowness)


def advance(
    monitor: str, state: MonitorState, result: CheckResult, policy: Policy
) -> tuple[MonitorState, list[Transition]]:
    """Apply one check result to a monitor's state."""
    if state.status is Status.PAUSED:
        # A check that was already running when the monitor was paused must not un-pause it.
        return state, []
    if result.offline:
        # The probe host had no network: this says nothing about the target.
        return replace(state, reason=result.reason), []
    if result.ok:
        return _good(monitor, state, result, policy)
    return _bad(monitor, state, result, policy)


def _good(
    monitor: str, state: MonitorState, result: CheckResult, policy: Policy
) -> tuple[MonitorState, list[Transition]]:
    at, reason = result.at, result.reason
    if state.status is Status.UP:
        return replace(state, failures=0, successes=0, reason=reason), []
    if state.status is Status.DOWN:
        successes = state.successes + 1
        if successes < policy.up_after:
            return replace(state, failures=0, successes=successes, reason=reason), []
        kind = TransitionKind.UP
    elif state.status is Status.SEEMS_DOWN:
        kind = TransitionKind.BLIP
    else:
        kind = TransitionKind.FIRST_UP
    new = MonitorState(status=Status.UP, since=at, reason=reason)
    transition = Transition(
        monitor=monitor,
        kind=kind,
        old=state.status,
        new=Status.UP,
        at=at,
        reason=reason,
        # UP carries the outage it closes and says what recovered (the alert policy takes the
        # outage's reason from the state before it).
        outage_start=state.outage_start if kind is not TransitionKind.FIRST_UP else None,
    )
    if kind is TransitionKind.UP:
        transition = replace(transition, reason=recovered(result))
    return new, [transition]


def recovered(result: CheckResult) -> str:
    """The reason of an UP transition: the good result and, for checks that went over the
    network, how long it took (``HTTP 200 in 84 ms``, ``connected in 3 ms``, ``ping received``)."""
    t = result.timings
    if t.dns is None and t.connect is None and t.tls is None and t.first_byte is None:
        return result.reason  # a push: its time is the job's run, not a response
    ms = t.total * 1000
    return f"{result.reason} in {ms:.0f} ms" if ms >= 1 else f"{result.reason} in {ms:.1f} ms"


def _bad(
    monitor: str, state: MonitorState, result: CheckResult, policy: Policy
) -> tuple[MonitorState, list[Transition]]:
    at, reason = result.at, result.reason
    failures = state.failures + 1
    outage_start = state.outage_start or at
    if state.status is Status.DOWN:
        return replace(state, failures=failures, successes=0, reason=reason), []
    if failures >= policy.down_after:
        new_status, kind = Status.DOWN, TransitionKind.DOWN
    elif state.status is Status.SEEMS_DOWN:
        return replace(state, failures=failures, outage_start=outage_start, reason=reason), []
    else:
        new_status, kind = Status.SEEMS_DOWN, TransitionKind.SEEMS_DOWN
    new = MonitorState(
        status=new_status, since=at, failures=failures, outage_start=outage_start, reason=reason
    )
    return new, [
        Transition(
            monitor=monitor,
            kind=kind,
            old=state.status,
            new=new_status,
            at=at,
            reason=reason,
            outage_start=outage_start,
        )
    ]


def pause(
    monitor: str, state: MonitorState, at: datetime, reason: str = "paused"
) -> tuple[MonitorState, list[Transition]]:
    """Stop checking a monitor; any outage in progress is forgotten, not alerted."""
    if state.status is Status.PAUSED:
        return state, []
    new = MonitorState(status=Status.PAUSED, since=at, reason=reason)
    return new, [
        Transition(monitor, TransitionKind.PAUSED, state.status, Status.PAUSED, at, reason)
    ]


def resume(
    monitor: str, state: MonitorState, at: datetime, reason: str = "resumed"
) -> tuple[MonitorState, list[Transition]]:
    """Start checking a paused monitor again, from pending."""
    if state.status is not Status.PAUSED:
        return state, []
    new = MonitorState(status=Status.PENDING, since=at, reason=reason)
    return new, [
        Transition(monitor, TransitionKind.RESUMED, Status.PAUSED, Status.PENDING, at, reason)
    ]


def needs_retry_interval(state: MonitorState) -> bool:
    """Whether the monitor should be re-checked at its shorter retry interval.

    True while a failure is unconfirmed, and while a recovery from DOWN is being confirmed
    (``up_after`` > 1), so both confirmations take seconds rather than whole intervals.
    """
    return state.status is Status.SEEMS_DOWN or (
        state.status is Status.DOWN and state.successes > 0
    )
