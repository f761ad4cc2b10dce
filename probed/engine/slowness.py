"""Degraded performance (docs/design.md §4): a monitor whose last good checks were slow (pure).

The mean response time of the last ``SAMPLE`` good checks above ``slow_threshold`` makes an up
monitor degraded; it is shown beside the state, never instead of it. Failed checks have no
response time and leave the sample as it was. ``probed.engine.state.step`` judges it, once per
result, together with the state.
"""

from __future__ import annotations

from collections.abc import Sequence

from probed.model import CheckResult

SAMPLE = 3


def sample_after(recent: Sequence[float], result: CheckResult) -> tuple[float, ...]:
    """The response times (seconds) of the last good checks, oldest first, after ``result``."""
    if not result.ok:
        return tuple(recent)
    return (*recent, result.duration)[-SAMPLE:]


def mean(recent: Sequence[float]) -> float | None:
    return sum(recent) / len(recent) if recent else None


def is_degraded(slow_threshold: float | None, recent: Sequence[float]) -> bool:
    """Whether a full sample's mean is above ``slow_threshold`` (seconds; None: never)."""
    return (
        slow_threshold is not None
        and len(recent) >= SAMPLE
        and sum(recent) / len(recent) > slow_threshold
    )
