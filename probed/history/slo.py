"""Service level objectives: the 30-day error budget of an uptime objective (pure)."""

from __future__ import annotations

from dataclasses import dataclass

WINDOW_SECONDS = 30 * 86400.0
"""The objective's window; the budget is measured over the time monitored in it."""
YOUNG_BUDGET_SECONDS = 10.0
"""Below this budget (99.9 % over its first 2.8 h) a monitor is too young to judge: a budget of
"0s left (100.0%)" reads as a contradiction."""


@dataclass(frozen=True, slots=True)
class Budget:
    objective: float
    """0–1, e.g. 0.999."""
    result: float | None
    """Uptime over the window as 0–1; None while nothing was monitored."""
    allowed_seconds: float
    """Downtime the objective allows over the time monitored in the window."""
    spent_seconds: float
    monitored_seconds: float = 0.0
    """Time monitored in the window."""

    @property
    def young(self) -> bool:
        """Monitored too briefly for its budget to mean much (``YOUNG_BUDGET_SECONDS``)."""
        return self.allowed_seconds < YOUNG_BUDGET_SECONDS

    @property
    def window_allowed_seconds(self) -> float:
        """Downtime the objective allows over a whole 30-day window."""
        return (1 - self.objective) * WINDOW_SECONDS

    @property
    def remaining_seconds(self) -> float:
        """Negative once the objective is missed."""
        return self.allowed_seconds - self.spent_seconds

    @property
    def remaining_ratio(self) -> float:
        """Share of the budget left: 1 untouched, 0 spent, below 0 overspent."""
        if self.allowed_seconds <= 0:
            return 1.0 if self.spent_seconds <= 0 else 0.0
        return self.remaining_seconds / self.allowed_seconds


def budget(objective: float, up_seconds: float, down_seconds: float) -> Budget:
    """The budget of ``objective`` over a window observed up and down for these seconds.

    The budget scales with the monitored time, not the calendar: a monitor watched for 10 days
    of the 30 has a third of the month's budget, so a young monitor is not judged as generous.
    """
    monitored = up_seconds + down_seconds
    result = up_seconds / monitored if monitored > 0 else None
    return Budget(objective, result, (1 - objective) * monitored, down_seconds, monitored)
