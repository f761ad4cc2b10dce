"""probed's own stalls: how late its event loop ran, so that a check whose time was eaten by
probed (a paused VM, a stopped process, a host at load 9, a laptop waking up) is not blamed on
its target.

``LoopWatch`` sets a timer every ``TICK`` seconds and measures how late it fires, on a clock
that keeps counting while the process is stopped or the machine sleeps (``CLOCK_BOOTTIME``).
Every lateness goes to ``probed_event_loop_lag_seconds``; the late stretches are kept, so the
pipeline can ask how much of a check's time the loop spent stalled (``late_during``). A stall
of ``STALL`` seconds or more is logged once (one line per stall, however many checks it hit)
and reported by ``/healthz`` and ``STATUS=`` while it lasts and ``HOLD`` seconds after.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

import structlog
from prometheus_client import Histogram

log = structlog.get_logger("probed")

TICK = 0.5
"""Seconds between two measures of the loop: a stall is known at most this long after it ends."""
NOISE = 0.05
"""Lateness below this is ordinary scheduling jitter: measured, not kept as a stretch."""
STALL = 1.0
"""Lateness from which the loop counts as stalled for the log, /healthz and STATUS=."""
HOLD = 10.0
"""Seconds a stall is still reported after the loop runs on time again: one that lasted less
than a scrape or a person's look would otherwise never be seen."""
KEPT = 10_000
"""Late stretches remembered: at one per tick, more than an hour of a loop late all along."""
SHARE = 0.5
"""A failed check during which the loop was late by more than this share of its timeout is
probed's failure, not its target's: with half its time gone, a healthy target could well have missed
the rest of it."""


def boottime() -> float:
    """Seconds on a clock that counts while probed is stopped or the machine sleeps (Linux's
    CLOCK_BOOTTIME; the monotonic clock elsewhere)."""
    clock_id = getattr(time, "CLOCK_BOOTTIME", None)
    return time.monotonic() if clock_id is None else time.clock_gettime(clock_id)


def stall_reason(late: float) -> str:
    """The reason of a check eaten by a stall: ``probe host: event loop stalled 6.2s``."""
    return f"probe host: event loop stalled {late:.1f}s"


class LoopWatch:
    """Measures the running loop's lateness from ``start()`` to ``stop()``; ``on_change`` runs
    when a stall begins to be reported and when it no longer is."""

    def __init__(
        self,
        lag: Histogram | None = None,
        clock: Callable[[], float] = boottime,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.lag = lag
        self.clock = clock
        self.on_change = on_change
        self._late: deque[tuple[float, float]] = deque(maxlen=KEPT)
        """(when the late tick ran, how late it was), oldest first."""
        self._due: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._stall: tuple[float, float] | None = None
        """The stall being reported: (when its last late tick ran, its longest lateness)."""

    def start(self) -> None:
        self._arm()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._due = None

    def _arm(self) -> None:
        self._due = self.clock() + TICK
        self._timer = asyncio.get_running_loop().call_later(TICK, self._tick)

    def _tick(self) -> None:
        now, due = self.clock(), self._due
        self._arm()
        if due is None:
            return
        self.note(now, max(0.0, now - due))

    def note(self, now: float, late: float) -> None:
        """Record that the loop ran ``late`` seconds late until ``now`` (the timer's measure)."""
        if self.lag is not None:
            self.lag.observe(late)
        if late >= NOISE:
            self._late.append((now, late))
        if late >= STALL:
            if self._stall is None:
                log.warning(
                    "event loop stalled: checks it delayed count neither for nor against their"
                    " targets and run again",
                    seconds=round(late, 1),
                )
                self._stall = (now, late)
                self.on_change()
            else:
                self._stall = (now, max(late, self._stall[1]))
        elif self._stall is not None and now - self._stall[0] >= HOLD:
            self._stall = None
            log.info("event loop on time again")
            self.on_change()

    def late_during(self, start: float, end: float) -> float:
        """Seconds of ``[start, end]`` (this watch's clock) the loop spent stalled, counting a
        tick overdue now as late until now."""
        stretches = list(self._late)
        if self._due is not None and end > self._due:
            stretches.append((end, end - self._due))  # its timer has not run yet
        total = 0.0
        for ran, late in reversed(stretches):
            if ran < start:
                break  # kept in order: older ones end before the span too
            total += max(0.0, min(end, ran) - max(start, ran - late))
        return total

    def problem(self) -> str | None:
        """``event loop stalled 6.2s`` while a stall is reported (``HOLD``), else None."""
        if self._stall is None:
            return None
        if self.clock() - self._stall[0] >= HOLD:
            return None
        return f"event loop stalled {self._stall[1]:.1f}s"
