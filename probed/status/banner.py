"""The overall banner of the status page, from the public monitors' states (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from probed.model import Status


class Overall(StrEnum):
    """The page's overall state, worst first in ``ORDER``."""

    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    MAINTENANCE = "maintenance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"

    @property
    def text(self) -> str:
        return _TEXT[self]


_TEXT = {
    Overall.OPERATIONAL: "All systems operational",
    Overall.DEGRADED: "Degraded performance",
    Overall.MAINTENANCE: "Maintenance",
    Overall.PARTIAL_OUTAGE: "Partial outage",
    Overall.MAJOR_OUTAGE: "Major outage",
}


def overall(monitors: Iterable[tuple[Status, bool]]) -> Overall:
    """From (state, degraded) of each public monitor.

    Every checked monitor down is a major outage, some down a partial one. A failure not yet
    confirmed (seems down) or a slow monitor is degraded performance: the service answers, but
    not as it should. Paused monitors (planned work) make it maintenance when nothing is worse.
    Pending monitors have said nothing yet and count for nothing.
    """
    states = list(monitors)
    checked = [s for s, _ in states if s in (Status.UP, Status.SEEMS_DOWN, Status.DOWN)]
    down = sum(1 for s in checked if s is Status.DOWN)
    if down and down == len(checked):
        return Overall.MAJOR_OUTAGE
    if down:
        return Overall.PARTIAL_OUTAGE
    if any(s is Status.SEEMS_DOWN or (s is Status.UP and slow) for s, slow in states):
        return Overall.DEGRADED
    if any(s is Status.PAUSED for s, _ in states):
        return Overall.MAINTENANCE
    return Overall.OPERATIONAL
